"""双报到: a member registers with the community where they live, and may end it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import CLAIMERS, Actor, is_registered
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Community, Member, Registration, RegistrationStatus, Role, utcnow
from ..repository import requests as requests_repo
from ..repository import zones as zones_repo
from ..settings import Settings


def _require_member(actor: Actor) -> None:
    if actor.role not in CLAIMERS or actor.member_id is None:
        raise Forbidden(_("Only members and volunteers register with a community."), code="role_not_allowed")


def _active(session: Session, member_id: int, community_id: int) -> Registration | None:
    return session.scalar(
        select(Registration).where(
            Registration.member_id == member_id,
            Registration.community_id == community_id,
            Registration.status == RegistrationStatus.active,
        )
    )


def register(session: Session, actor: Actor, community_id: int, *, now: datetime | None = None) -> Registration:
    _require_member(actor)
    known = isinstance(community_id, int) and not isinstance(community_id, bool)
    if not known or session.get(Community, community_id) is None:
        raise InvalidInput(_("Unknown community {id}.", id=community_id), code="unknown_community",
                           details={"field": "community_id"})
    if _active(session, actor.member_id, community_id) is not None:
        raise Conflict(_("You are already registered with this community."), code="already_registered")
    registration = Registration(member_id=actor.member_id, community_id=community_id,
                                registered_at=now or utcnow())
    session.add(registration)
    session.flush()
    audit.record(session, actor, "registration.create", f"member:{actor.member_id}", registration.registered_at,
                 {"after": {"community_id": community_id, "status": RegistrationStatus.active.value}})
    return registration


def end_registration(session: Session, actor: Actor, community_id: int, *, now: datetime | None = None) -> Registration:
    _require_member(actor)
    registration = _active(session, actor.member_id, community_id)
    if registration is None:
        raise NotFound(_("You are not registered with this community."), code="registration_not_found")
    registration.status = RegistrationStatus.ended
    registration.ended_at = now or utcnow()
    # Zones in a community one has left would hold new tasks for nobody.
    zones_repo.remove_member_zones(session, actor.member_id, community_id)
    audit.record(session, actor, "registration.end", f"member:{actor.member_id}", registration.ended_at,
                 {"before": {"community_id": community_id, "status": RegistrationStatus.active.value},
                  "after": {"community_id": community_id, "status": RegistrationStatus.ended.value}})
    return registration


def registrations(session: Session, member_id: int) -> list[Registration]:
    return list(session.scalars(
        select(Registration).where(Registration.member_id == member_id).order_by(Registration.id)
    ))


MAX_CLAIM_LIMIT = 50


def set_claim_limit(session: Session, actor: Actor, member_id: int, limit: int | None) -> Member:
    """Staff of a community the member is registered with set how many open claims the member may
    hold at once; None goes back to the default (SHOUBANPING_DEFAULT_CLAIM_LIMIT)."""
    if actor.role != Role.staff or actor.community_id is None:
        raise Forbidden(_("Only community staff set a member's claim limit."), code="role_not_allowed")
    member = session.get(Member, member_id, with_for_update=True)
    if member is None or not is_registered(session, member_id, actor.community_id):
        raise NotFound(_("No member {id} is registered with your community.", id=member_id), code="member_not_found")
    whole = isinstance(limit, int) and not isinstance(limit, bool)
    if limit is not None and not (whole and 1 <= limit <= MAX_CLAIM_LIMIT):
        raise InvalidInput(_("A claim limit is a whole number from 1 to {limit}.", limit=MAX_CLAIM_LIMIT),
                           code="invalid_claim_limit", details={"field": "claim_limit"})
    before = member.claim_limit
    member.claim_limit = limit
    session.flush()
    audit.record(session, actor, "member.claim_limit", f"member:{member.id}", utcnow(),
                 {"before": {"claim_limit": before}, "after": {"claim_limit": limit}})
    return member


def claim_allowance(session: Session, settings: Settings, member_id: int, *, lock: bool = False) -> tuple[int, int]:
    """(open claims the member holds, how many they may hold at once): their own limit set by staff,
    else the configured default. The claim command enforces these figures with ``lock=True``,
    which locks the member's row so that one member's simultaneous claims cannot overrun it."""
    own_limit, held = requests_repo.holding(session, member_id, lock=lock)
    return held, own_limit or settings.default_claim_limit
