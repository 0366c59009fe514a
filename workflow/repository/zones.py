"""Queries on responsibility zones (责任区) and the members they cover."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select
from sqlalchemy.orm import Session

from ..models import (
    Account,
    Member,
    Registration,
    RegistrationStatus,
    Request,
    ResponsibilityZone,
)


def zones_of(session: Session, member_id: int) -> Sequence[ResponsibilityZone]:
    return session.scalars(
        select(ResponsibilityZone).where(ResponsibilityZone.member_id == member_id).order_by(ResponsibilityZone.id)
    ).all()


def covers(member_id: int) -> ColumnElement[bool]:
    """SQL condition: the request lies in one of the member's zones (its building, or its grid)."""
    zone = select(ResponsibilityZone.id).where(
        ResponsibilityZone.member_id == member_id,
        or_(
            and_(ResponsibilityZone.building_id.is_not(None), ResponsibilityZone.building_id == Request.building_id),
            and_(ResponsibilityZone.grid_id.is_not(None), ResponsibilityZone.grid_id == Request.grid_id),
        ),
    )
    return zone.exists()


def covered_request_ids(session: Session, member_id: int, request_ids: Iterable[int]) -> set[int]:
    """Which of ``request_ids`` lie in the member's responsibility zones (the task board's 我的责任区)."""
    ids = list(request_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Request.id).where(Request.id.in_(ids), covers(member_id))))


# Built once (every published task asks it). A NULL building or grid matches no zone by it.
_COVERING = (
    select(Account.id)
    .join(Member, Member.account_id == Account.id)
    .join(ResponsibilityZone, ResponsibilityZone.member_id == Member.id)
    .join(Registration, and_(Registration.member_id == Member.id,
                             Registration.community_id == bindparam("community_id"),
                             Registration.status == RegistrationStatus.active))
    .where(ResponsibilityZone.community_id == bindparam("community_id"),
           or_(ResponsibilityZone.building_id == bindparam("building_id"),
               ResponsibilityZone.grid_id == bindparam("grid_id")),
           Account.is_active.is_(True))
    .distinct()
    .order_by(Account.id)
)


def covering_member_accounts(session: Session, request: Request) -> list[int]:
    """Accounts of the members, still registered with the community, whose zone covers ``request``."""
    if request.building_id is None and request.grid_id is None:
        return []
    return list(session.scalars(_COVERING, {"community_id": request.community_id, "building_id": request.building_id,
                                            "grid_id": request.grid_id}))


def is_covered_by(session: Session, member_id: int | None, request: Request) -> bool:
    if member_id is None:
        return False
    return bool(session.scalar(select(covers(member_id)).where(Request.id == request.id)))


def members_of(session: Session, community_id: int) -> Sequence[tuple[Member, Account]]:
    """Members with an active registration in the community."""
    return session.execute(
        select(Member, Account)
        .join(Account, Account.id == Member.account_id)
        .join(Registration, Registration.member_id == Member.id)
        .where(Registration.community_id == community_id, Registration.status == RegistrationStatus.active)
        .order_by(Member.id)
    ).all()


def remove_member_zones(session: Session, member_id: int, community_id: int) -> None:
    session.execute(delete(ResponsibilityZone).where(
        ResponsibilityZone.member_id == member_id, ResponsibilityZone.community_id == community_id))
