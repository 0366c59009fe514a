"""The outcome row of a closed request (DESIGN.md §5): one fact per request, written once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from .models import Claim, ClaimStatus, Evaluation, Outcome, Request, RequestEvent, Satisfaction, Status, utcnow
from .settings import Settings


def period_month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def period_19(day: date) -> str:
    """19th-to-18th periods are named by the month they end in."""
    if day.day >= 19:
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return f"{year:04d}-{month:02d}"
    return period_month(day)


# The frequent reads of record_outcome, built once; columns, not objects, where only a few are read.
_REQUEST_AND_OUTCOME = (select(Request, Outcome.id).outerjoin(Outcome, Outcome.request_id == Request.id)
                        .where(Request.id == bindparam("request_id")))
_DECISIVE = select(Evaluation.round, Evaluation.solved, Evaluation.satisfaction).where(
    Evaluation.request_id == bindparam("request_id"), Evaluation.decisive.is_(True))
_VERIFIED = (select(Claim.member_id, Claim.appraisal, Claim.hours)
             .where(Claim.request_id == bindparam("request_id"), Claim.status == ClaimStatus.verified)
             .order_by(Claim.id))


def has_outcome(session: Session, request_id: int) -> bool:
    return session.scalar(select(Outcome.id).where(Outcome.request_id == request_id)) is not None


def record_outcome(session: Session, settings: Settings, request_id: int) -> Outcome | None:
    """Write the outcome row; an existing row is the answer to a repeated call."""
    # The request and whether its outcome exists already, in one read.
    found = session.execute(_REQUEST_AND_OUTCOME, {"request_id": request_id}).first()
    if found is None:
        return None
    request, existing = found
    if existing is not None:
        return session.get(Outcome, existing)
    if request.status != Status.closed:
        return None
    # The events that closed it and that resolved it, newest first, in one read.
    events = session.execute(
        select(RequestEvent.trigger, RequestEvent.to_status, RequestEvent.actor_id)
        .where(RequestEvent.request_id == request_id,
               or_(RequestEvent.to_status == Status.closed.value, RequestEvent.trigger.in_(("verify", "resolve"))))
        .order_by(RequestEvent.id.desc())
    ).all()
    closing = next((e for e in events if e.to_status == Status.closed.value), None)
    handler = next((e.actor_id for e in events if e.trigger in ("verify", "resolve")), None)
    # Every decisive verdict: the round's own, and the counts the rates add up.
    decisive = session.execute(_DECISIVE, {"request_id": request_id}).all()
    evaluation = next((e for e in decisive if e.round == request.round), None)
    verdicts = _verdicts(decisive)
    # The member, appraisal and hours of the work that was verified, whichever round it was in:
    # a reopen after a verified task does not erase the member's work.
    verified = session.execute(_VERIFIED, {"request_id": request_id}).all()
    claim = verified[-1] if verified else None
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
        hours=sum(hours) if (hours := [c.hours for c in verified if c.hours is not None]) else None,
        **verdicts,
        reopen_count=request.reopen_count,
        closed_by=closing.trigger if closing else "evaluate",
        closed_at=request.closed_at,
        recorded_at=utcnow(),
    )
    session.add(outcome)
    session.flush()
    return outcome


def _verdicts(decisive) -> dict[str, int]:
    """The decisive verdicts of every round: the one that closed the request and the ones that
    reopened it, which the rates count too."""
    return {"verdicts": len(decisive), "verdicts_solved": sum(1 for e in decisive if e.solved),
            "verdicts_satisfied": sum(1 for e in decisive if e.satisfaction == Satisfaction.satisfied),
            "verdicts_basically": sum(1 for e in decisive if e.satisfaction == Satisfaction.basically_satisfied)}


def _in_time(at: datetime | None, by: datetime | None) -> bool:
    return at is not None and (by is None or at <= by)
