"""Queries on reference data: places, the category taxonomy, routing rules and the working-day calendar."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..db import reference
from ..models import (
    Building,
    CalendarDay,
    Category,
    Community,
    Grid,
    Registration,
    RegistrationStatus,
    Request,
    RoutingRule,
    Street,
)


def kept(session: Session, model, key: int | None):
    """A reference row (category, community, grid, building, account) read once per unit of work:
    the session's identity map holds rows only while something refers to them, so a list keeps them
    here and twenty rows of one community cost one query, not twenty."""
    if key is None:
        return None
    rows = session.info.setdefault("kept_rows", {})
    if (model, key) not in rows:
        rows[(model, key)] = session.get(model, key)
    return rows[(model, key)]


def keep_many(session: Session, model, keys: Iterable[int | None]) -> None:
    """Read the rows of ``keys`` that :func:`kept` does not hold yet, in one query (for a list)."""
    rows = session.info.setdefault("kept_rows", {})
    missing = {k for k in keys if k is not None and (model, k) not in rows}
    if missing:
        for row in session.scalars(select(model).where(model.id.in_(missing))):
            rows[(model, row.id)] = row
        for key in missing:
            rows.setdefault((model, key), None)


def community_name(session: Session, community_id: int | None) -> str | None:
    """A community's name, from the process's copy of every community's name (reference data: see
    :func:`workflow.db.reference`); a community the copy does not hold yet is read directly."""
    if community_id is None:
        return None

    def load() -> dict[int, str]:
        with session.no_autoflush:
            return dict(session.execute(select(Community.id, Community.name)).all())

    name = reference(session, "community_names", ("communities",), load).get(community_id)
    if name is None:
        community = kept(session, Community, community_id)
        name = community.name if community is not None else None
    return name


def categories(session: Session, *, include_retired: bool = False) -> Sequence[tuple[Category, str | None]]:
    parent = aliased(Category)
    stmt = (
        select(Category, parent.code)
        .outerjoin(parent, parent.id == Category.parent_id)
        .order_by(parent.sort_order.nulls_first(), Category.parent_id.nulls_first(), Category.sort_order)
    )
    if not include_retired:
        stmt = stmt.where(Category.active.is_(True))
    return session.execute(stmt).all()


def request_counts_by_category(session: Session) -> dict[int, int]:
    """How many requests were filed under each category that has any."""
    stmt = select(Request.category_id, func.count()).group_by(Request.category_id)
    return dict(session.execute(stmt).all())


def category(session: Session, code: str, *, for_update: bool = False) -> Category | None:
    stmt = select(Category).where(Category.code == code)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def categories_by_code(session: Session, codes: Iterable[str]) -> dict[str, Category]:
    codes = list(codes)
    if not codes:
        return {}
    return {c.code: c for c in session.scalars(select(Category).where(Category.code.in_(codes)))}


def children(session: Session, category_id: int) -> Sequence[Category]:
    stmt = select(Category).where(Category.parent_id == category_id).order_by(Category.sort_order)
    return session.scalars(stmt).all()


def requests_in_category(session: Session, category_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Request).where(Request.category_id == category_id)) or 0


def next_sort_order(session: Session, parent_id: int | None) -> int:
    where = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    return (session.scalar(select(func.max(Category.sort_order)).where(where)) or 0) + 1


def communities(session: Session) -> Sequence[tuple[Community, Street]]:
    stmt = select(Community, Street).join(Street, Street.id == Community.street_id).order_by(Community.id)
    return session.execute(stmt).all()


def member_communities(session: Session, member_id: int | None) -> Sequence[tuple[Community, Street]]:
    """The communities a member is registered with now (双报到), with their streets."""
    if member_id is None:
        return []
    stmt = (
        select(Community, Street).join(Street, Street.id == Community.street_id)
        .join(Registration, Registration.community_id == Community.id)
        .where(Registration.member_id == member_id, Registration.status == RegistrationStatus.active)
        .order_by(Community.id)
    )
    return session.execute(stmt).all()


def community(session: Session, community_id: int) -> Community | None:
    return session.get(Community, community_id)


def grids(session: Session, community_id: int) -> Sequence[Grid]:
    return session.scalars(select(Grid).where(Grid.community_id == community_id).order_by(Grid.id)).all()


def buildings(session: Session, community_id: int) -> Sequence[Building]:
    return session.scalars(select(Building).where(Building.community_id == community_id).order_by(Building.id)).all()


def street(session: Session, street_id: int) -> Street | None:
    return session.get(Street, street_id)


PLACE_MODELS = {"street": Street, "community": Community, "grid": Grid, "building": Building}


def existing_place_ids(session: Session, kind: str, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` name a row of that kind of place (street, community, grid or building)."""
    ids = list(ids)
    if not ids:
        return set()
    model = PLACE_MODELS[kind]
    return set(session.scalars(select(model.id).where(model.id.in_(ids))))


# --- routing rules --------------------------------------------------------------------------------

def rules(session: Session, *, enabled_only: bool = False, for_update: bool = False) -> Sequence[RoutingRule]:
    stmt = select(RoutingRule).order_by(RoutingRule.position)
    if enabled_only:
        stmt = stmt.where(RoutingRule.enabled.is_(True))
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).all()


def rule(session: Session, rule_id: int, *, for_update: bool = False) -> RoutingRule | None:
    stmt = select(RoutingRule).where(RoutingRule.id == rule_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def rule_at(session: Session, position: int) -> RoutingRule | None:
    return session.scalar(select(RoutingRule).where(RoutingRule.position == position))


def next_rule_position(session: Session) -> int:
    return (session.scalar(select(func.max(RoutingRule.position))) or 0) + 1


def rules_naming_category(session: Session, code: str) -> list[RoutingRule]:
    # Conditions are JSON lists, and there are few rules: filtering here works the same on every backend.
    return [r for r in rules(session) if code in (r.categories or [])]


# --- the working-day calendar ---------------------------------------------------------------------

def calendar_days(session: Session, year: int) -> Sequence[CalendarDay]:
    stmt = (
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    return session.scalars(stmt).all()


def calendar_day(session: Session, day: date) -> CalendarDay | None:
    return session.get(CalendarDay, day)
