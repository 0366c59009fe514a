"""Writing the members' ledgers, in the transaction of the command that earns each entry.

Hours: one entry per verified task. Points: one entry per bonus or deduction, valued by the policy
in force for the month it happens in; ``source_key`` makes a retried command count once.
"""

from __future__ import annotations

import json
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..db import insert_once, reference
from ..models import Claim, HoursEntry, PointEntry, PointReason, Request
from ..outcomes import period_19, period_month
from . import policy as policies
from .periods import local_date


@lru_cache(maxsize=64)
def _rules(policy_id: int, rules_json: str) -> policies.PolicyRules:
    return policies.PolicyRules.model_validate_json(rules_json)


def _policy(session: Session, period: str) -> tuple[int, policies.PolicyRules]:
    """The version and rules in force for ``period``, kept per process (workflow.db.reference)."""
    def load() -> tuple[int, policies.PolicyRules]:
        policy = policies.in_force(session, period)
        return policy.version, _rules(policy.id, json.dumps(policy.rules, sort_keys=True))

    return reference(session, ("scoring_policy", period), ("scoring_policies",), load)


def _dated(at: datetime, timezone: str) -> dict:
    day = local_date(at, timezone)
    return {"local_date": day, "period_month": period_month(day), "period_19": period_19(day)}


def credit_task(session: Session, timezone: str, claim: Claim, request: Request, now: datetime) -> None:
    """A verified task: its hours and appraisal (once per claim), and the task bonus."""
    insert_once(session, HoursEntry.__table__, "claim_id", {
        "member_id": claim.member_id, "request_id": request.id, "claim_id": claim.id, "round": claim.round,
        "street_id": request.street_id, "community_id": request.community_id, "hours": claim.hours,
        "appraisal": claim.appraisal, "created_at": now, **_dated(now, timezone)})
    add_points(session, timezone, claim.member_id, PointReason.task_verified, request, f"verified:{claim.id}", now)


def add_points(session: Session, timezone: str, member_id: int, reason: PointReason, request: Request,
               source_key: str, now: datetime) -> bool:
    """Record one bonus or deduction; False when this source was already counted or is worth 0."""
    return _add(session, timezone, member_id, reason, source_key, now, request_id=request.id,
                street_id=request.street_id, community_id=request.community_id)


def credit_visit(session: Session, timezone: str, visit, now: datetime) -> bool:
    """A member's household visit (workflow.visits): the visit bonus, once per member, household and
    month however often they go, dated the day of the visit."""
    if visit.member_id is None:
        return False
    at = datetime.combine(visit.local_date, time(12), ZoneInfo(timezone))
    source = f"visit-household:{visit.member_id}:{visit.household_id}:{period_month(visit.local_date)}"
    return _add(session, timezone, visit.member_id, PointReason.household_visit, source, at, request_id=None,
                street_id=visit.street_id, community_id=visit.community_id, created_at=now)


def credit_attendance(session: Session, timezone: str, activity, member_id: int, now: datetime) -> bool:
    """A member attended a party-life activity (workflow.partylife): the points its kind is worth
    under the policy of the activity's month, once per activity, dated the day it was held."""
    at = datetime.combine(activity.held_on, time(12), ZoneInfo(timezone))
    return _add(session, timezone, member_id, PointReason.activity_attended, f"activity:{activity.id}:{member_id}",
                at, request_id=None, street_id=activity.street_id, community_id=activity.community_id,
                created_at=now, value=lambda rules: rules.party_life.points_for(activity.kind.value))


def _add(session: Session, timezone: str, member_id: int, reason: PointReason, source_key: str, at: datetime, *,
         request_id: int | None, street_id: int, community_id: int, created_at: datetime | None = None,
         value=None) -> bool:
    dated = _dated(at, timezone)
    version, rules = _policy(session, dated["period_month"])
    points = value(rules) if value is not None else rules.point_value(reason.value)
    if points == 0:
        return False
    return insert_once(session, PointEntry.__table__, "source_key", {
        "member_id": member_id, "request_id": request_id, "reason": reason, "points": points,
        "policy_version": version, "source_key": source_key, "street_id": street_id,
        "community_id": community_id, "created_at": created_at or at, **dated})
