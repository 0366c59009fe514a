"""Candidate duplicates of a request, for staff to merge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .models import Request
from .repository import requests as repo
from .similarity import similarity

THRESHOLD = 0.3  # below this, two short complaints are about different things


@dataclass(frozen=True)
class Candidate:
    request: Request
    score: float


def candidates(session: Session, request: Request, *, limit: int = 10) -> list[Candidate]:
    """Open requests in the same place and category whose text is similar, best first."""
    scored = [Candidate(other, round(similarity(request.description, other.description), 3))
              for other in repo.duplicate_candidates(session, request)]
    scored = [c for c in scored if c.score >= THRESHOLD]
    scored.sort(key=lambda c: (-c.score, -c.request.id))
    return scored[:limit]
