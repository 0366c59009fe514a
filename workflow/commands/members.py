"""双报到: a member registers with the community where they live, and may end it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Actor
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Community, Registration, RegistrationStatus, Role, utcnow


def _require_member(actor: Actor) -> None:
    if actor.role != Role.member or actor.member_id is None:
        raise Forbidden(_("Only members register with a community."), code="role_not_allowed")


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
    return registration


def end_registration(session: Session, actor: Actor, community_id: int, *, now: datetime | None = None) -> Registration:
    _require_member(actor)
    registration = _active(session, actor.member_id, community_id)
    if registration is None:
        raise NotFound(_("You are not registered with this community."), code="registration_not_found")
    registration.status = RegistrationStatus.ended
    registration.ended_at = now or utcnow()
    return registration


def registrations(session: Session, member_id: int) -> list[Registration]:
    return list(session.scalars(
        select(Registration).where(Registration.member_id == member_id).order_by(Registration.id)
    ))
