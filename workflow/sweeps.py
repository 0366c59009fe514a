"""The deadline sweeps the scheduler runs every minute.

- remind the people responsible when 80 % of a window has passed (once per deadline);
- escalate to the street office when a respond or resolve deadline passes (once per deadline);
- withdraw tasks nobody claimed by ``claim_by``;
- close requests whose evaluation window passed without an evaluation;
- deduct the overdue points of a member who held a task past its resolve deadline (once per deadline).

Each due request is handled in its own unit of work under a row lock taken with SKIP LOCKED, and
re-checked once locked, so several schedulers can sweep at the same moment: each request is acted
on by one of them, and the ``deadline_actions`` row makes a reminder or an escalation happen once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from . import notifications
from .access import Actor
from .commands.handling import fire
from .db import unit_of_work
from .errors import DomainError
from .models import PointReason, Request, Status, utcnow
from .repository import accounts as people
from .repository import deadlines as repo
from .repository import requests as requests_repo
from .scoring import ledger
from .settings import Settings

log = logging.getLogger(__name__)
SWEEPER = Actor.system("sweeper")
ESCALATABLE = (Status.submitted, Status.community, Status.open_task)
# Reminders: window name → (deadline column, reminder column, states in which it still matters).
WINDOWS = {
    "respond": ("respond_by", "respond_remind_at", ESCALATABLE + (Status.street,)),
    "resolve": ("resolve_by", "resolve_remind_at", ESCALATABLE + (Status.street, Status.claimed, Status.verifying)),
    "claim": ("claim_by", "claim_remind_at", (Status.open_task,)),
    "evaluate": ("evaluate_by", "evaluate_remind_at", (Status.resolved,)),
}


@dataclass
class SweepReport:
    reminded: int = 0
    escalated: int = 0
    overdue: int = 0
    withdrawn: int = 0
    expired: int = 0

    def total(self) -> int:
        return self.reminded + self.escalated + self.withdrawn + self.expired + self.overdue


def sweep(sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> SweepReport:
    now = now or utcnow()
    report = SweepReport()
    # Withdrawals first: an unclaimed task goes back to the community before escalation is judged.
    for request_id in _due(sessions, repo.due_withdrawals, now):
        report.withdrawn += _each(sessions, request_id, lambda s, r: _timed(s, settings, r, now, "withdraw",
                                                                           Status.open_task, r.claim_by))
    for request_id in _due(sessions, repo.due_escalations, now):
        report.escalated += _each(sessions, request_id, lambda s, r: _escalate(s, settings, r, now))
    for request_id in _due(sessions, repo.due_overdue_claims, now):
        report.overdue += _each(sessions, request_id, lambda s, r: _overdue(s, settings, r, now))
    for request_id in _due(sessions, repo.due_expiries, now):
        report.expired += _each(sessions, request_id, lambda s, r: _timed(s, settings, r, now, "expire",
                                                                         Status.resolved, r.evaluate_by))
    for window, (deadline_col, remind_col, states) in WINDOWS.items():
        due = _due(sessions, lambda s, n, d=deadline_col, c=remind_col, st=states: repo.due_reminders(s, d, c, st, n),
                   now)
        for request_id in due:
            report.reminded += _each(
                sessions, request_id,
                lambda s, r, w=window, d=deadline_col, c=remind_col, st=states: _remind(s, r, now, w, d, c, st),
            )
    if report.total():
        log.info("sweep at %s: %s", now.isoformat(), report)
    return report


def _due(sessions, query, now) -> list[int]:
    with unit_of_work(sessions) as session:
        return list(query(session, now))


def _each(sessions, request_id: int, act) -> int:
    """Lock one request (skipping it if another scheduler holds it) and act on it."""
    try:
        with unit_of_work(sessions) as session:
            request = repo.lock_if_free(session, request_id)
            return int(bool(request is not None and act(session, request)))
    except DomainError as exc:  # the request moved on between the query and the lock
        log.info("sweep skipped request %s: %s", request_id, exc.code)
        return 0
    except Exception:  # one broken request must not stop the sweep for all the others
        log.exception("sweep failed on request %s", request_id)
        return 0


def _escalate(session: Session, settings: Settings, request: Request, now: datetime) -> bool:
    if request.status not in ESCALATABLE:
        return False
    passed = []
    if request.responded_at is None and request.respond_by is not None and request.respond_by <= now:
        passed.append(("respond", request.respond_by))
    if request.resolved_at is None and request.resolve_by is not None and request.resolve_by <= now:
        passed.append(("resolve", request.resolve_by))
    for which, due in passed:
        # Once per deadline: a request returned to the community is not sent up again for it.
        if repo.record_action(session, request.id, f"escalate_{which}", due, now):
            fire(session, settings, SWEEPER, request.id, "escalate", {"note": f"{which} deadline passed"}, now=now)
            return True
    return False


def _overdue(session: Session, settings: Settings, request: Request, now: datetime) -> bool:
    """The resolve deadline passed while a member held the task: the overdue deduction, once."""
    if request.status != Status.claimed or request.resolve_by is None or request.resolve_by > now:
        return False
    if not repo.record_action(session, request.id, "overdue_claim", request.resolve_by, now):
        return False
    claim = requests_repo.live_claim(session, request.id)
    if claim is not None:
        ledger.add_points(session, settings.timezone, claim.member_id, PointReason.overdue, request,
                          f"overdue:{claim.id}:{request.round}", now)
    return True


def _timed(session: Session, settings: Settings, request: Request, now: datetime, trigger: str,
           status: Status, deadline: datetime | None) -> bool:
    if request.status != status or deadline is None or deadline > now:
        return False
    fire(session, settings, SWEEPER, request.id, trigger, {}, now=now)
    return True


def _remind(session: Session, request: Request, now: datetime, window: str, deadline_col: str,
            remind_col: str, states) -> bool:
    deadline, remind_at = getattr(request, deadline_col), getattr(request, remind_col)
    if request.status not in states or deadline is None or remind_at is None or not (remind_at <= now < deadline):
        return False
    if window == "respond" and request.responded_at is not None:
        return False
    if not repo.record_action(session, request.id, f"remind_{window}", deadline, now):
        return False
    recipients = _responsible(session, request, window)
    notifications.notify(session, f"deadline_{window}", request.id, recipients, due_at=deadline.isoformat())
    return True


def _responsible(session: Session, request: Request, window: str) -> list[int]:
    """Who hears about a deadline: whoever holds the request now."""
    if window == "evaluate":
        if request.reporter_id is not None:
            return [request.reporter_id]
        return people.secretaries_of(session, request.community_id)
    if request.status == Status.street:
        return people.officers_of(session, request.street_id)
    recipients = people.staff_of(session, request.community_id)
    if request.status in (Status.claimed, Status.verifying):
        claimer = repo.live_claimer_account(session, request.id)
        if claimer is not None:
            recipients.append(claimer)
    return recipients
