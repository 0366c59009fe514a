"""Administering the working-day calendar: the exceptions to "Monday to Friday are working days".

A holiday (放假) is a weekday off; a workday (调休上班) is a weekend day worked. Anything else would
be a no-op entry, so it is refused. Changes apply to deadlines computed from now on; deadlines
already set stay as they were promised.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor
from ..errors import InvalidInput, NotFound
from ..i18n import _
from ..models import CalendarDay, DayKind, utcnow
from ..repository import places
from .taxonomy import enum_field, require_admin

MAX_NAME = 64
MIN_YEAR, MAX_YEAR = 2000, 2100
AUDITED = ("kind", "name")


def listed(session: Session, actor: Actor, year: int) -> list[CalendarDay]:
    require_admin(actor)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(_("year must be from {low} to {high}.", low=MIN_YEAR, high=MAX_YEAR), code="invalid_year",
                           details={"field": "year"})
    return list(places.calendar_days(session, year))


def set_day(session: Session, actor: Actor, day: date, kind: Any, name: Any = "") -> CalendarDay:
    """List ``day`` as a holiday or a worked weekend day, replacing what was listed for it."""
    require_admin(actor)
    kind = enum_field(DayKind, kind, "kind", "unknown_day_kind")
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidInput(_("year must be from {low} to {high}.", low=MIN_YEAR, high=MAX_YEAR), code="invalid_year",
                           details={"field": "day"})
    weekend = day.weekday() >= 5
    if kind == DayKind.holiday and weekend:
        raise InvalidInput(_("{day} is a weekend day, which is off anyway: only a weekday can be a holiday.",
                             day=day.isoformat()), code="not_a_weekday", details={"field": "kind"})
    if kind == DayKind.workday and not weekend:
        raise InvalidInput(_("{day} is a weekday, which is worked anyway: only a weekend day can be a make-up "
                             "working day.", day=day.isoformat()), code="not_a_weekend", details={"field": "kind"})
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise InvalidInput(_("{field} must be text.", field="name"), code="invalid_type", details={"field": "name"})
    name = name.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(_("{field} is longer than {limit} characters.", field="name", limit=MAX_NAME),
                           code="text_too_long", details={"field": "name", "limit": MAX_NAME})
    row = places.calendar_day(session, day)
    before = audit.snapshot(row, AUDITED) if row is not None else {}
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.kind = kind
    row.name = name
    session.flush()
    audit.record(session, actor, "calendar.set", f"calendar_day:{day.isoformat()}", utcnow(),
                 {"before": before or None, "after": audit.snapshot(row, AUDITED)})
    return row


def remove_day(session: Session, actor: Actor, day: date) -> None:
    """Take ``day`` off the list: it follows the weekday rule again."""
    require_admin(actor)
    row = places.calendar_day(session, day)
    if row is None:
        raise NotFound(_("{day} is not listed in the calendar.", day=day.isoformat()), code="calendar_day_not_found")
    before = audit.snapshot(row, AUDITED)
    session.delete(row)
    session.flush()
    audit.record(session, actor, "calendar.remove", f"calendar_day:{day.isoformat()}", utcnow(), {"before": before})
