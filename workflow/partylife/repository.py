"""Queries of party life: activities with their attendance, and the year's figures that the annual
targets are checked against, each one GROUP BY for a whole community."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Account, HoursEntry, Member, MemberKind, Registration, RegistrationStatus
from ..visits.models import Visit
from .models import Activity, AnnualTarget, Attendance


def activities(session: Session, community_id: int, limit: int = 200) -> Sequence[tuple[Activity, int]]:
    """The community's activities, latest day first, with how many attended each."""
    attended = (select(Attendance.activity_id, func.count().label("n")).group_by(Attendance.activity_id)
                .subquery())
    stmt = (select(Activity, func.coalesce(attended.c.n, 0))
            .outerjoin(attended, attended.c.activity_id == Activity.id)
            .where(Activity.community_id == community_id)
            .order_by(Activity.held_on.desc(), Activity.id.desc()).limit(limit))
    return session.execute(stmt).all()


def attendees(session: Session, activity_id: int) -> Sequence[tuple[Attendance, str]]:
    stmt = (select(Attendance, Account.display_name).join(Member, Member.id == Attendance.member_id)
            .join(Account, Account.id == Member.account_id)
            .where(Attendance.activity_id == activity_id).order_by(Attendance.id))
    return session.execute(stmt).all()


def registered_members(session: Session, community_id: int, *, party_only: bool = False) -> Sequence[tuple[int, str]]:
    """(member id, display name) of the members registered with the community now."""
    stmt = (select(Member.id, Account.display_name).join(Registration, Registration.member_id == Member.id)
            .join(Account, Account.id == Member.account_id)
            .where(Registration.community_id == community_id, Registration.status == RegistrationStatus.active)
            .distinct().order_by(Account.display_name, Member.id))
    if party_only:
        stmt = stmt.where(Member.kind == MemberKind.party)
    return session.execute(stmt).all()


def attended_by(session: Session, member_id: int, limit: int = 50) -> Sequence[tuple[Attendance, Activity]]:
    stmt = (select(Attendance, Activity).join(Activity, Activity.id == Attendance.activity_id)
            .where(Attendance.member_id == member_id)
            .order_by(Activity.held_on.desc(), Activity.id.desc()).limit(limit))
    return session.execute(stmt).all()


def own_targets(session: Session, member_ids: Iterable[int], year: int) -> dict[int, AnnualTarget]:
    ids = list(member_ids)
    if not ids:
        return {}
    rows = session.scalars(select(AnnualTarget).where(AnnualTarget.member_id.in_(ids), AnnualTarget.year == year))
    return {t.member_id: t for t in rows}


def year_figures(session: Session, member_ids: Iterable[int], start: date,
                 end: date) -> dict[int, tuple[Decimal, int, int]]:
    """Per member, from ``start`` to ``end`` (local days, both included): hours of verified tasks,
    household visits, activities attended."""
    ids = list(member_ids)
    if not ids:
        return {}
    hours = dict(session.execute(
        select(HoursEntry.member_id, func.sum(HoursEntry.hours))
        .where(HoursEntry.member_id.in_(ids), HoursEntry.local_date >= start, HoursEntry.local_date <= end)
        .group_by(HoursEntry.member_id)).all())
    visits = dict(session.execute(
        select(Visit.member_id, func.count(Visit.id))
        .where(Visit.member_id.in_(ids), Visit.local_date >= start, Visit.local_date <= end)
        .group_by(Visit.member_id)).all())
    attended = dict(session.execute(
        select(Attendance.member_id, func.count(Attendance.id)).join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.member_id.in_(ids), Activity.held_on >= start, Activity.held_on <= end)
        .group_by(Attendance.member_id)).all())
    return {m: (Decimal(hours.get(m) or 0).quantize(Decimal("0.1")), int(visits.get(m) or 0),
                int(attended.get(m) or 0)) for m in ids}
