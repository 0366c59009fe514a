"""Deadlines: windows per class, a working-day calendar, and the 80 % reminder points.

Windows after Beijing's DB11/T 2021-2022. How fast someone must respond depends on the category's
urgency (1 h / 2 h / 24 h); how long until the resident gets feedback depends on its deadline
class (2 h / 24 h by the clock, 7 / 15 working days). Working days are Monday to Friday, except the
holidays in ``calendar_days``, plus the weekend days worked in their place (调休).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import reference
from .models import CalendarDay, DayKind, DeadlineClass, Request, Urgency

RESPOND = {
    Urgency.emergency: timedelta(hours=1),
    Urgency.urgent: timedelta(hours=2),
    Urgency.normal: timedelta(hours=24),
    Urgency.complex: timedelta(hours=24),
}
# Feedback windows: a timedelta runs on the clock, an int counts working days.
RESOLVE: dict[DeadlineClass, timedelta | int] = {
    DeadlineClass.h2: timedelta(hours=2),
    DeadlineClass.h24: timedelta(hours=24),
    DeadlineClass.d7: 7,
    DeadlineClass.d15: 15,
}
REMIND_AT = 0.8  # share of a window after which the people responsible are reminded


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day.weekday() < 5 or day in self.workdays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time of day on the ``days``-th working day after ``start``'s date."""
        local = start.astimezone(self.tz)
        day, counted = local.date(), 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        wall = datetime.combine(day, local.time().replace(tzinfo=None))
        return wall.replace(tzinfo=self.tz).astimezone(start.tzinfo)

    def add(self, start: datetime, window: timedelta | int) -> datetime:
        return start + window if isinstance(window, timedelta) else self.add_working_days(start, window)


_CALENDAR = select(CalendarDay.day, CalendarDay.kind)


def load_calendar(session: Session, timezone: str) -> WorkCalendar:
    """The working-day calendar, as kept per process (see :func:`workflow.db.reference`)."""
    def load() -> WorkCalendar:
        # No autoflush: the calendar is not what the caller is changing (the calendar commands
        # flush their own rows), and flushing the caller's request here would write it twice.
        with session.no_autoflush:
            rows = session.execute(_CALENDAR).all()
        return WorkCalendar(
            tz=ZoneInfo(timezone),
            holidays=frozenset(d for d, k in rows if k == DayKind.holiday),
            workdays=frozenset(d for d, k in rows if k == DayKind.workday),
        )

    return reference(session, ("calendar", timezone), ("calendar_days",), load)


def remind_point(start: datetime, deadline: datetime) -> datetime:
    return start + (deadline - start) * REMIND_AT


def set_intake_deadlines(request: Request, calendar: WorkCalendar, urgency: Urgency,
                         deadline_class: DeadlineClass, start: datetime) -> None:
    """A round's deadlines from ``start``; the first round's are also kept as the promise made."""
    request.respond_by = start + RESPOND[urgency]
    request.resolve_by = calendar.add(start, RESOLVE[deadline_class])
    request.respond_remind_at = remind_point(start, request.respond_by)
    request.resolve_remind_at = remind_point(start, request.resolve_by)
    if request.first_respond_by is None:
        request.first_respond_by, request.first_resolve_by = request.respond_by, request.resolve_by


def set_claim_deadline(request: Request, start: datetime, window: timedelta) -> None:
    request.claim_by = start + window
    request.claim_remind_at = remind_point(start, request.claim_by)


def clear_claim_deadline(request: Request) -> None:
    request.claim_by = None
    request.claim_remind_at = None


def set_evaluation_deadline(request: Request, calendar: WorkCalendar, start: datetime, days: int) -> None:
    request.evaluate_by = calendar.add_working_days(start, days)
    request.evaluate_remind_at = remind_point(start, request.evaluate_by)


def clear_evaluation_deadline(request: Request) -> None:
    request.evaluate_by = None
    request.evaluate_remind_at = None


def next_deadline(request: Request) -> tuple[str, datetime] | None:
    """The deadline the request is now running against, for queues and countdowns: ``respond``
    until someone responded, then ``claim`` while a task waits on the board, ``resolve`` while it is
    handled, ``evaluate`` once resolved. None for a request that is over."""
    status = request.status.value
    if status in ("closed", "rejected", "merged"):
        return None
    if status == "resolved":
        return ("evaluate", request.evaluate_by) if request.evaluate_by else None
    if status == "open_task" and request.claim_by is not None:
        return "claim", request.claim_by
    if request.responded_at is None and request.respond_by is not None:
        return "respond", request.respond_by
    return ("resolve", request.resolve_by) if request.resolve_by else None
