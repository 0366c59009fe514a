"""Queries of the deadline sweeps: what is due, and the actions already taken."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from ..db import is_postgresql
from ..models import Account, Claim, DeadlineAction, Member, Request, Status
from .requests import LIVE_CLAIM

BATCH = 500
ESCALATABLE = (Status.submitted, Status.community, Status.open_task)


def _not_done(action: str, due) -> ColumnElement[bool]:
    return ~select(DeadlineAction.id).where(
        DeadlineAction.request_id == Request.id, DeadlineAction.action == action, DeadlineAction.due_at == due,
    ).exists()


def due_escalations(session: Session, now: datetime) -> Sequence[int]:
    """Requests past a respond or resolve deadline they were not yet escalated for, the most
    overdue first. Excluding those already escalated keeps them from filling every batch."""
    return session.scalars(
        select(Request.id)
        .where(
            Request.status.in_(ESCALATABLE),
            or_(
                and_(Request.responded_at.is_(None), Request.respond_by <= now,
                     _not_done("escalate_respond", Request.respond_by)),
                and_(Request.resolved_at.is_(None), Request.resolve_by <= now,
                     _not_done("escalate_resolve", Request.resolve_by)),
            ),
        )
        .order_by(Request.resolve_by, Request.id)
        .limit(BATCH)
    ).all()


def due_withdrawals(session: Session, now: datetime) -> Sequence[int]:
    return session.scalars(
        select(Request.id).where(Request.status == Status.open_task, Request.claim_by <= now)
        .order_by(Request.id).limit(BATCH)
    ).all()


def due_expiries(session: Session, now: datetime) -> Sequence[int]:
    return session.scalars(
        select(Request.id).where(Request.status == Status.resolved, Request.evaluate_by <= now)
        .order_by(Request.id).limit(BATCH)
    ).all()


def due_reminders(session: Session, deadline_col: str, remind_col: str, states, now: datetime) -> Sequence[int]:
    deadline, remind_at = getattr(Request, deadline_col), getattr(Request, remind_col)
    already = select(DeadlineAction.id).where(
        DeadlineAction.request_id == Request.id,
        DeadlineAction.action == f"remind_{deadline_col.removesuffix('_by')}",
        DeadlineAction.due_at == deadline,
    )
    conds = [Request.status.in_(states), remind_at <= now, deadline > now, ~already.exists()]
    if deadline_col == "respond_by":
        conds.append(Request.responded_at.is_(None))
    return session.scalars(
        select(Request.id)
        .where(*conds)
        .order_by(Request.id)
        .limit(BATCH)
    ).all()


def due_overdue_claims(session: Session, now: datetime) -> Sequence[int]:
    """Claimed tasks whose resolve deadline passed while the member held them, not yet counted."""
    return session.scalars(
        select(Request.id)
        .where(Request.status == Status.claimed, Request.resolve_by <= now,
               _not_done("overdue_claim", Request.resolve_by))
        .order_by(Request.resolve_by, Request.id)
        .limit(BATCH)
    ).all()


def lock_if_free(session: Session, request_id: int) -> Request | None:
    """Lock the request unless another transaction holds it (then None: that one is on it)."""
    stmt = select(Request).where(Request.id == request_id).execution_options(populate_existing=True)
    if is_postgresql(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalar(stmt)


def record_action(session: Session, request_id: int, action: str, due_at: datetime, now: datetime) -> bool:
    """Record that ``action`` was taken for the deadline ``due_at``; False if it already was."""
    exists = session.scalar(select(DeadlineAction.id).where(
        DeadlineAction.request_id == request_id, DeadlineAction.action == action, DeadlineAction.due_at == due_at,
    ))
    if exists is not None:
        return False
    session.add(DeadlineAction(request_id=request_id, action=action, due_at=due_at, created_at=now))
    session.flush()
    return True


def live_claimer_account(session: Session, request_id: int) -> int | None:
    return session.scalar(
        select(Account.id)
        .join(Member, Member.account_id == Account.id)
        .join(Claim, Claim.member_id == Member.id)
        .where(Claim.request_id == request_id, Claim.status.in_(LIVE_CLAIM))
    )
