"""The visit reminders the scheduler sends (every ``SHOUBANPING_VISIT_SWEEP_SECONDS``):

- to the members who look after a household, when the visit the plan asks for is due within the
  plan's ``remind_days_before`` days and has not been made (``visit_due``), once per household and
  due day;
- to a community's secretaries, once a day, when some of its households are overdue
  (``coverage_overdue``, with how many), if the plan's ``flag_overdue`` is on.

Each community is swept in its own unit of work; the ``visit_reminders`` row of each reminder is
written with it (``INSERT ... ON CONFLICT DO NOTHING``), so two schedulers sweeping at once send
each reminder once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .. import notifications
from ..db import insert_once, unit_of_work
from ..models import Member, utcnow
from ..repository import accounts as people
from ..scoring import periods
from . import coverage
from .models import Household, VisitReminder

log = logging.getLogger(__name__)


@dataclass
class VisitSweepReport:
    reminded: int = 0  # households whose members were reminded
    flagged: int = 0  # communities whose secretaries were told of overdue households


def sweep(sessions: sessionmaker[Session], timezone: str, now: datetime | None = None) -> VisitSweepReport:
    now = now or utcnow()
    today = periods.local_date(now, timezone)
    report = VisitSweepReport()
    with unit_of_work(sessions, read_only=True) as session:
        community_ids = list(session.scalars(select(Household.community_id).where(Household.active).distinct()))
    for community_id in community_ids:
        try:
            with unit_of_work(sessions) as session:
                reminded, flagged = _community(session, community_id, today, now)
            report.reminded += reminded
            report.flagged += flagged
        except Exception:  # one community's failure must not stop the others' reminders
            log.exception("visit sweep failed on community %s", community_id)
    if report.reminded or report.flagged:
        log.info("visit sweep at %s: %s", now.isoformat(), report)
    return report


def _once(session: Session, key: str, now: datetime) -> bool:
    return insert_once(session, VisitReminder.__table__, "key", {"key": key, "sent_at": now})


def _community(session: Session, community_id: int, today, now: datetime) -> tuple[int, int]:
    period = periods.label_of(today, "month")
    plan = coverage.plan_for(session, period)
    found, _start, _as_of = coverage.states(session, [community_id], period, today)
    soon = today + timedelta(days=plan.remind_days_before)
    reminded = 0
    accounts = _accounts(session, {m for s in found for m, _n in s.members})
    for s in found:
        if s.status != "due" or s.due_on is None or s.due_on > soon or not s.members:
            continue
        if _once(session, f"due:{s.household_id}:{s.due_on.isoformat()}", now):
            notifications.notify(session, "visit_due", None, [accounts[m] for m, _n in s.members if m in accounts],
                                 household_id=s.household_id, door=s.door, due_on=s.due_on.isoformat())
            reminded += 1
    overdue = [s for s in found if s.status == "overdue"]
    flagged = 0
    if plan.flag_overdue and overdue and _once(session, f"overdue:{community_id}:{today.isoformat()}", now):
        notifications.notify(session, "coverage_overdue", None, people.secretaries_of(session, community_id),
                             community_id=community_id, overdue=len(overdue), period=period)
        flagged = 1
    return reminded, flagged


def _accounts(session: Session, member_ids: set[int]) -> dict[int, int]:
    if not member_ids:
        return {}
    return dict(session.execute(select(Member.id, Member.account_id).where(Member.id.in_(member_ids))).all())
