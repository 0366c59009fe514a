"""Queries of the street office: its departments, whistle calls (吹哨报到) and its queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session

from ..lifecycle import TERMINAL
from ..models import Account, Department, Request, RequestEvent, Status, Supervision, WhistleCall
from .requests import desk_order, running_deadline

# Red marks first, then yellow, then the rest: the same order as every desk's queue.
SUPERVISION_ORDER = case(
    (Request.supervision == Supervision.red.value, 0),
    (Request.supervision == Supervision.yellow.value, 1),
    else_=2,
)


def departments(session: Session, street_id: int | None = None) -> Sequence[Department]:
    """A street's departments (every street's when ``street_id`` is None), by name."""
    stmt = select(Department).order_by(Department.street_id, Department.name, Department.id)
    if street_id is not None:
        stmt = stmt.where(Department.street_id == street_id)
    return session.scalars(stmt).all()


def department_named(session: Session, street_id: int, name: str) -> Department | None:
    return session.scalar(select(Department).where(Department.street_id == street_id, Department.name == name))


def departments_by_id(session: Session, ids: Sequence[int]) -> dict[int, Department]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(ids)))}


def open_calls(session: Session, request_id: int, department_ids: Sequence[int]) -> Sequence[WhistleCall]:
    """Unanswered calls on the request to any of these departments."""
    return session.scalars(
        select(WhistleCall).where(
            WhistleCall.request_id == request_id,
            WhistleCall.department_id.in_(department_ids),
            WhistleCall.responded_at.is_(None),
            WhistleCall.closed_at.is_(None),
        )
    ).all()


def close_open_calls(session: Session, request_id: int, now: datetime) -> int:
    """Close the calls still waiting when the request leaves the street office."""
    result = session.execute(
        update(WhistleCall)
        .where(WhistleCall.request_id == request_id, WhistleCall.responded_at.is_(None),
               WhistleCall.closed_at.is_(None))
        .values(closed_at=now)
    )
    return result.rowcount or 0


def get_call(session: Session, call_id: int, *, for_update: bool = False) -> WhistleCall | None:
    stmt = select(WhistleCall).where(WhistleCall.id == call_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt)


def calls(session: Session, request_id: int) -> Sequence[tuple[WhistleCall, Department]]:
    """Every call on the request, oldest first, with its department."""
    stmt = (
        select(WhistleCall, Department)
        .join(Department, Department.id == WhistleCall.department_id)
        .where(WhistleCall.request_id == request_id)
        .order_by(WhistleCall.id)
    )
    return session.execute(stmt).all()


def street_queue(session: Session, street_id: int | None, now: datetime, *, limit: int = 50,
                 offset: int = 0) -> Sequence[tuple[Request, int, int]]:
    """Requests escalated to a street office (every street's when ``street_id`` is None), each with
    its number of open and overdue whistle calls; supervision marks first, then the nearest deadline
    it is running against (the respond deadline until someone acted on it)."""
    # One grouped pass over the unanswered calls instead of two counts per request.
    waiting = (
        select(
            WhistleCall.request_id.label("request_id"),
            func.count().label("open"),
            func.sum(case((WhistleCall.report_by < now, 1), else_=0)).label("overdue"),
        )
        .where(WhistleCall.responded_at.is_(None), WhistleCall.closed_at.is_(None))
        .group_by(WhistleCall.request_id)
        .subquery()
    )
    stmt = (
        select(Request, func.coalesce(waiting.c.open, 0), func.coalesce(waiting.c.overdue, 0))
        .outerjoin(waiting, waiting.c.request_id == Request.id)
        .where(Request.status == Status.street)
        .order_by(SUPERVISION_ORDER, running_deadline().asc().nulls_last(), Request.id)
        .limit(limit)
        .offset(offset)
    )
    if street_id is not None:
        stmt = stmt.where(Request.street_id == street_id)
    return [(r, int(o), int(d)) for r, o, d in session.execute(stmt).all()]


def supervised(session: Session, scope: ColumnElement[bool], *, limit: int = 50,
               offset: int = 0) -> Sequence[tuple[Request, RequestEvent, Account | None]]:
    """Requests within ``scope`` that carry a yellow or red mark, each with the ``supervise`` event
    that set it (its reason is the note) and who set it; red first, then the nearest deadline."""
    latest = (
        select(RequestEvent.request_id.label("request_id"), func.max(RequestEvent.id).label("event_id"))
        .where(RequestEvent.trigger == "supervise")
        .group_by(RequestEvent.request_id)
        .subquery()
    )
    stmt = (
        select(Request, RequestEvent, Account)
        .join(latest, latest.c.request_id == Request.id)
        .join(RequestEvent, RequestEvent.id == latest.c.event_id)
        .outerjoin(Account, Account.id == RequestEvent.actor_id)
        # Only requests still open: a finished request keeps its mark in its history, but there is
        # nothing left to supervise and the mark can no longer be cleared.
        .where(scope, Request.supervision.in_((Supervision.yellow.value, Supervision.red.value)),
               Request.status.not_in(TERMINAL))
        .order_by(*desk_order())
        .limit(limit)
        .offset(offset)
    )
    return [(r, e, a) for r, e, a in session.execute(stmt).all()]
