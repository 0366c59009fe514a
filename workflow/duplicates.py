"""Candidate duplicates of a request, for staff to merge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .access import Actor, can_view
from .errors import Forbidden
from .i18n import _
from .models import Request, Role
from .repository import requests as repo
from .similarity import similarity

THRESHOLD = 0.3  # below this, two short complaints are about different things


@dataclass(frozen=True)
class Candidate:
    request: Request
    score: float


def for_request(session: Session, actor: Actor, request_id: int, *, limit: int = 10) -> list[Candidate]:
    """Staff, officers and secretaries: the candidates for a request they can see."""
    if actor.role not in (Role.staff, Role.street_officer, Role.secretary, Role.admin):
        raise Forbidden(_("Only staff, street officers and secretaries look for duplicates."), code="role_not_allowed")
    request = repo.get(session, request_id)
    if request is None or not can_view(session, actor, request):
        raise repo.not_found(request_id)
    return candidates(session, request, limit=limit)


def candidates(session: Session, request: Request, *, limit: int = 10) -> list[Candidate]:
    """Open requests in the same place and category whose text is similar, best first."""
    scored = [Candidate(other, round(similarity(request.description, other.description), 3))
              for other in repo.duplicate_candidates(session, request)]
    scored = [c for c in scored if c.score >= THRESHOLD]
    scored.sort(key=lambda c: (-c.score, -c.request.id))
    return scored[:limit]
