"""Queries on places and the category taxonomy."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..models import Building, Category, Community, Grid, Street


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


def communities(session: Session) -> Sequence[tuple[Community, Street]]:
    stmt = select(Community, Street).join(Street, Street.id == Community.street_id).order_by(Community.id)
    return session.execute(stmt).all()


def community(session: Session, community_id: int) -> Community | None:
    return session.get(Community, community_id)


def grids(session: Session, community_id: int) -> Sequence[Grid]:
    return session.scalars(select(Grid).where(Grid.community_id == community_id).order_by(Grid.id)).all()


def buildings(session: Session, community_id: int) -> Sequence[Building]:
    return session.scalars(select(Building).where(Building.community_id == community_id).order_by(Building.id)).all()


def street(session: Session, street_id: int) -> Street | None:
    return session.get(Street, street_id)
