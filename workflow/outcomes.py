"""The outcome row of a closed request (DESIGN.md §5): one fact per request, written once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import Evaluation, Outcome, Request, RequestEvent, Satisfaction, Status, utcnow
from .repository import requests as repo
from .settings import Settings


def period_month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_19(day: date) -> str:
    """19th-to-18th periods are named by the month they end in."""
    if day.day >= 19:
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return f"{year:04d}-{month:02d}"
    return period_month(day)


def has_outcome(session: Session, request_id: int) -> bool:
    return session.scalar(select(Outcome.id).where(Outcome.request_id == request_id)) is not None


def record_outcome(session: Session, settings: Settings, request_id: int) -> Outcome | None:
    """Write the outcome row; an existing row is the answer to a repeated call."""
    existing = session.scalar(select(Outcome).where(Outcome.request_id == request_id))
    if existing is not None:
        return existing
    request = session.get(Request, request_id)
    if request is None or request.status != Status.closed:
        return None
    closing = session.scalar(
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id, RequestEvent.to_status == Status.closed.value)
        .order_by(RequestEvent.id.desc())
    )
    evaluation = repo.evaluation_for_round(session, request_id, request.round)
    # The member, appraisal and hours of the work that was verified, whichever round it was in:
    # a reopen after a verified task does not erase the member's work.
    claim = repo.last_verified_claim(session, request_id)
    handler = session.scalar(
        select(RequestEvent.actor_id)
        .where(RequestEvent.request_id == request_id, RequestEvent.trigger.in_(("verify", "resolve")))
        .order_by(RequestEvent.id.desc())
    )
    verdicts = _verdicts(session, request_id)
    local_day = request.closed_at.astimezone(ZoneInfo(settings.timezone)).date()
    outcome = Outcome(
        request_id=request.id,
        period_month=period_month(local_day),
        period_19=period_19(local_day),
        street_id=request.street_id,
        community_id=request.community_id,
        grid_id=request.grid_id,
        building_id=request.building_id,
        category_id=request.category_id,
        channel=request.channel.value,
        route=request.route.value if request.route else None,
        handler_id=handler,
        member_id=claim.member_id if claim else None,
        responded_in_time=_in_time(request.responded_at, request.first_respond_by),
        resolved_in_time=_in_time(request.resolved_at, request.first_resolve_by),
        evaluated=evaluation is not None,
        solved=evaluation.solved if evaluation else None,
        satisfaction=evaluation.satisfaction if evaluation else None,
        appraisal=claim.appraisal if claim else None,
        hours=repo.verified_hours(session, request_id),
        **verdicts,
        reopen_count=request.reopen_count,
        closed_by=closing.trigger if closing else "evaluate",
        closed_at=request.closed_at,
        recorded_at=utcnow(),
    )
    session.add(outcome)
    session.flush()
    return outcome


def _verdicts(session: Session, request_id: int) -> dict[str, int]:
    """The decisive verdicts of every round: the one that closed the request and the ones that
    reopened it, which the rates count too."""
    def count(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(select(
        func.count(Evaluation.id), count(Evaluation.solved.is_(True)),
        count(Evaluation.satisfaction == Satisfaction.satisfied),
        count(Evaluation.satisfaction == Satisfaction.basically_satisfied),
    ).where(Evaluation.request_id == request_id, Evaluation.decisive.is_(True))).one()
    return dict(zip(("verdicts", "verdicts_solved", "verdicts_satisfied", "verdicts_basically"),
                    (int(n) for n in row), strict=True))


def _in_time(at: datetime | None, by: datetime | None) -> bool:
    return at is not None and (by is None or at <= by)
