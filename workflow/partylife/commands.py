"""Posting an activity, checking members in, and setting a member's annual targets. Each command
flushes and never commits; a refusal is raised before anything is written. Check-ins of one
activity are decided one after the other by the activity's row lock, so a member checked in by the
organiser while typing the code is counted once."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import CLAIMERS, Actor, is_registered, require_keeper
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Member, Role, utcnow
from ..scoring import ledger
from ..scoring.periods import local_date
from ..validation import clean_text
from .models import Activity, ActivityKind, AnnualTarget, Attendance, CheckIn

REFUSAL = _("Party life is kept by the community's staff and secretary.")
# Check-in codes: no 0/O or 1/I/L, so a code read off a wall is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_TITLE = 100
MAX_PLACE = 100
MAX_NOTE = 500
MAX_YEAR_AHEAD = 1


def _kind(value: Any) -> ActivityKind:
    try:
        return ActivityKind(value)
    except ValueError:
        raise InvalidInput(_("Choose the kind of activity."), code="invalid_kind",
                           details={"field": "kind", "allowed": [k.value for k in ActivityKind]}) from None


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.scalar(select(Activity.id).where(Activity.code == code)) is None:
            return code


def post(session: Session, timezone: str, actor: Actor, community_id: Any, fields: dict[str, Any],
         *, now: datetime | None = None) -> Activity:
    """The community's staff or secretary post an activity on a day (past days too: an activity
    recorded afterwards), with a fresh check-in code."""
    now = now or utcnow()
    community = require_keeper(session, actor, community_id, REFUSAL)
    kind = _kind(fields.get("kind"))
    title = clean_text(fields.get("title"), "title", code="title_required",
                       message=_("Please give the activity a title."), limit=MAX_TITLE)
    held_on = fields.get("held_on")
    if not isinstance(held_on, date):
        raise InvalidInput(_("Please give the day of the activity."), code="held_on_required",
                           details={"field": "held_on"})
    today = local_date(now, timezone)
    if held_on.year > today.year + MAX_YEAR_AHEAD or held_on.year < today.year - 1:
        raise InvalidInput(_("An activity is held this year, last year or next year."), code="invalid_date",
                           details={"field": "held_on"})
    place = clean_text(fields.get("place"), "place", limit=MAX_PLACE, required=False)
    activity = Activity(community_id=community.id, street_id=community.street_id, kind=kind, title=title,
                        held_on=held_on, place=place, code=_new_code(session), organiser_id=actor.account_id,
                        created_at=now)
    session.add(activity)
    session.flush()
    audit.record(session, actor, "activity.post", f"activity:{activity.id}", now,
                 {"after": {"kind": kind.value, "title": title, "held_on": held_on.isoformat(),
                            "community_id": community.id}})
    return activity


def _attend(session: Session, timezone: str, actor: Actor, activity: Activity, member_id: int, method: CheckIn,
            now: datetime) -> tuple[Attendance, bool]:
    """Record the attendance once (the caller holds the activity's row lock) and credit its points;
    a second check-in of the same member returns the first, unchanged."""
    existing = session.scalar(select(Attendance).where(Attendance.activity_id == activity.id,
                                                       Attendance.member_id == member_id))
    if existing is not None:
        return existing, False
    attendance = Attendance(activity_id=activity.id, member_id=member_id, method=method,
                            recorded_by=actor.account_id, created_at=now)
    session.add(attendance)
    session.flush()
    ledger.credit_attendance(session, timezone, activity, member_id, now)
    audit.record(session, actor, "activity.check_in", f"activity:{activity.id}", now,
                 {"after": {"member_id": member_id, "method": method.value}})
    return attendance, True


def _locked(session: Session, activity_id: Any) -> Activity:
    known = isinstance(activity_id, int) and not isinstance(activity_id, bool)
    activity = session.get(Activity, activity_id, with_for_update=True) if known else None
    if activity is None:
        raise NotFound(_("There is no activity {id}.", id=activity_id), code="activity_not_found")
    return activity


def check_in(session: Session, timezone: str, actor: Actor, activity_id: Any, member_id: Any,
             *, now: datetime | None = None) -> tuple[Attendance, bool]:
    """The organiser (the community's staff or secretary) checks a registered member in, on the
    day or afterwards, never before."""
    now = now or utcnow()
    activity = _locked(session, activity_id)
    require_keeper(session, actor, activity.community_id, REFUSAL)
    if local_date(now, timezone) < activity.held_on:
        raise Conflict(_("The activity is on {day}: members are checked in from that day.",
                         day=activity.held_on.isoformat()), code="not_yet")
    known = isinstance(member_id, int) and not isinstance(member_id, bool)
    if not known or not is_registered(session, member_id, activity.community_id):
        raise NotFound(_("No member {id} is registered with this community.", id=member_id),
                       code="member_not_found", details={"field": "member_id"})
    return _attend(session, timezone, actor, activity, member_id, CheckIn.organiser, now)


def check_in_with_code(session: Session, timezone: str, actor: Actor, code: Any,
                       *, now: datetime | None = None) -> tuple[Activity, Attendance, bool]:
    """A member (or volunteer) registered with the activity's community types the posted code on
    the day of the activity."""
    now = now or utcnow()
    if actor.role not in CLAIMERS or actor.member_id is None:
        raise Forbidden(_("Members and volunteers check in to activities."), code="role_not_allowed")
    typed = "".join(code.split()).upper() if isinstance(code, str) else ""
    if not typed:
        raise InvalidInput(_("Please type the code posted at the activity."), code="code_required",
                           details={"field": "code"})
    found = session.scalar(select(Activity.id).where(Activity.code == typed)) if len(typed) <= 8 else None
    if found is None:
        raise NotFound(_("No activity has the code {code}: please check it.", code=typed), code="unknown_code",
                       details={"field": "code"})
    activity = _locked(session, found)
    if local_date(now, timezone) != activity.held_on:
        raise Conflict(_("The code checks in on the day of the activity ({day}) only; the organiser can "
                         "check you in afterwards.", day=activity.held_on.isoformat()), code="check_in_closed")
    if not is_registered(session, actor.member_id, activity.community_id):
        raise Forbidden(_("You are not registered with this community."), code="not_registered")
    attendance, created = _attend(session, timezone, actor, activity, actor.member_id, CheckIn.code, now)
    return activity, attendance, created


def _amount(value: Any, field: str, *, decimal: bool = False) -> Any:
    if decimal:
        try:
            number = Decimal(str(value)) if isinstance(value, int | float | str | Decimal) \
                and not isinstance(value, bool) else None
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and 0 <= number <= 10000 and number == number.quantize(
                Decimal("0.1")):
            return number.quantize(Decimal("0.1"))
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10000:
        return value
    raise InvalidInput(_("{field} must be a number from 0 to 10000.", field=field), code="invalid_target",
                       details={"field": field})


def set_target(session: Session, actor: Actor, member_id: Any, year: Any, fields: dict[str, Any],
               *, now: datetime | None = None) -> AnnualTarget:
    """A secretary sets a member's own targets for a year (hours, household visits, activities),
    for a member registered with their community; setting them again replaces them, with the
    change in the audit log."""
    now = now or utcnow()
    if actor.role != Role.secretary or actor.community_id is None:
        raise Forbidden(_("A member's annual targets are set by the community secretary."), code="role_not_allowed")
    if not isinstance(year, int) or isinstance(year, bool) or not now.year - 1 <= year <= now.year + 1:
        raise InvalidInput(_("Targets are set for this year, last year or next year."), code="invalid_year",
                           details={"field": "year"})
    member = session.get(Member, member_id) if isinstance(member_id, int) and not isinstance(member_id, bool) \
        else None
    if member is None or not is_registered(session, member.id, actor.community_id):
        raise NotFound(_("No member {id} is registered with this community.", id=member_id),
                       code="member_not_found")
    hours = _amount(fields.get("hours"), "hours", decimal=True)
    visits = _amount(fields.get("visits"), "visits")
    activities = _amount(fields.get("activities"), "activities")
    note = clean_text(fields.get("note"), "note", limit=MAX_NOTE, required=False)
    target = session.scalar(select(AnnualTarget).where(AnnualTarget.member_id == member.id,
                                                       AnnualTarget.year == year).with_for_update())
    before = None
    if target is None:
        target = AnnualTarget(member_id=member.id, year=year)
        session.add(target)
    else:
        before = {"hours": str(target.hours), "visits": target.visits, "activities": target.activities}
    target.hours, target.visits, target.activities, target.note = hours, visits, activities, note
    target.set_by, target.set_at = actor.account_id, now
    session.flush()
    audit.record(session, actor, "target.set", f"member:{member.id}", now,
                 {"before": before, "after": {"year": year, "hours": str(hours), "visits": visits,
                                              "activities": activities}})
    return target
