"""Reads of the volunteer side: which categories volunteers may claim, and the time bank."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from ..db import reference
from ..models import Category, HoursEntry
from .models import TimeBankEntry


def volunteer_categories(session: Session) -> frozenset[int]:
    """Ids of the categories whose tasks volunteers may claim: those that allow volunteers, and the
    subcategories of those. Kept per process like the rest of the taxonomy."""
    def load() -> frozenset[int]:
        parent = aliased(Category)
        rows = session.execute(
            select(Category.id).outerjoin(parent, parent.id == Category.parent_id)
            .where(Category.volunteers.is_(True) | parent.volunteers.is_(True))
        ).scalars()
        return frozenset(rows)

    return reference(session, ("volunteer_categories",), ("categories",), load)


def allows_volunteers(session: Session, category_id: int) -> bool:
    return category_id in volunteer_categories(session)


def balance(session: Session, member_id: int) -> tuple[Decimal, Decimal]:
    """(hours earned, hours spent): earned are the hours of the volunteer's verified tasks (the hours
    ledger), spent the time bank's entries. The balance is their difference."""
    earned = session.scalar(select(func.coalesce(func.sum(HoursEntry.hours), 0))
                            .where(HoursEntry.member_id == member_id))
    spent = session.scalar(select(func.coalesce(func.sum(-TimeBankEntry.hours), 0))
                           .where(TimeBankEntry.member_id == member_id))
    return as_hours(earned), as_hours(spent)


def as_hours(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.1"))


def statement(session: Session, member_id: int, *, limit: int = 50) -> list[dict]:
    """The newest movements of a volunteer's hours, earned and spent together, newest first."""
    earned = (select(literal("earned").label("kind"), HoursEntry.id.label("id"), HoursEntry.hours.label("hours"),
                     HoursEntry.local_date.label("local_date"), HoursEntry.created_at.label("at"),
                     HoursEntry.community_id.label("community_id"), HoursEntry.request_id.label("request_id"),
                     literal("").label("note"))
              .where(HoursEntry.member_id == member_id))
    spent = (select(literal("spent").label("kind"), TimeBankEntry.id, TimeBankEntry.hours, TimeBankEntry.local_date,
                    TimeBankEntry.created_at, TimeBankEntry.community_id, literal(None).label("request_id"),
                    TimeBankEntry.note)
             .where(TimeBankEntry.member_id == member_id))
    both = union_all(earned, spent).subquery()
    rows = session.execute(select(both).order_by(both.c.at.desc(), both.c.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
