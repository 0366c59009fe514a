"""The street office as a participant: departments it can call in, whistle calls (吹哨报到) with a
report-in deadline and the departments' answers, and supervision marks (督办).

None of these moves the request through the lifecycle: each leaves an event row whose
``from_status`` and ``to_status`` are both the current status, so the history tells the whole story
while the state machine stays the only way to change status.

Checks run in the same order as lifecycle triggers (:mod:`workflow.commands.handling`): role (403),
visibility (404), state (409), input (422), business guard (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from .. import audit, lifecycle
from ..access import Actor, can_view
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Department, Request, RequestEvent, Role, Status, Street, Supervision, WhistleCall, utcnow
from ..repository import requests as repo
from ..repository import street as street_repo
from ..validation import clean_text

MAX_NAME = 100
MAX_REASON = 500
MAX_TEXT = 2000
MAX_REPORT_HOURS = 720  # 30 days: a department that needs longer is not "reporting in"


# --- departments -------------------------------------------------------------------------------

def _department_street(session: Session, actor: Actor, street_id: int | None) -> int | None:
    """The street whose departments the actor manages: an officer's own, or the one an admin names
    (None: an admin listing every street)."""
    if actor.role == Role.street_officer:
        if street_id is not None and street_id != actor.street_id:
            raise Forbidden(_("You manage only your own street office's departments."), code="out_of_scope")
        return actor.street_id
    if actor.role == Role.admin:
        if street_id is not None and session.get(Street, street_id) is None:
            raise InvalidInput(_("Unknown street {id}.", id=street_id), code="unknown_street",
                               details={"field": "street_id"})
        return street_id
    raise Forbidden(_("Only street officers and administrators manage departments."), code="role_not_allowed")


def create_department(session: Session, actor: Actor, name: Any, street_id: int | None = None) -> Department:
    street = _department_street(session, actor, street_id)
    if street is None:
        raise InvalidInput(_("Name the street office the department serves."), code="street_required",
                           details={"field": "street_id"})
    name = clean_text(name, "name", code="name_required", message=_("Please give the department's name."),
                 limit=MAX_NAME)
    if street_repo.department_named(session, street, name) is not None:
        raise Conflict(_("This street office already has a department named {name}.", name=name),
                       code="department_exists", details={"name": name})
    department = Department(street_id=street, name=name, active=True)
    session.add(department)
    session.flush()
    audit.record(session, actor, "department.create", f"department:{department.id}", utcnow(),
                 {"after": audit.snapshot(department, ("street_id", "name", "active"))})
    return department


def list_departments(session: Session, actor: Actor, street_id: int | None = None) -> list[Department]:
    return list(street_repo.departments(session, _department_street(session, actor, street_id)))


# --- whistle calls -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CallView:
    call: WhistleCall
    department: Department
    status: str  # open, answered, overdue, closed


def call_status(call: WhistleCall, now: datetime) -> str:
    if call.responded_at is not None:
        return "answered"
    if call.closed_at is not None:
        return "closed"  # the request left the street office before the department reported in
    return "overdue" if now >= call.report_by else "open"


def may_whistle(actor: Actor, request: Request) -> bool:
    """Whether ``actor`` may call departments in on ``request`` (one they can see) now: street
    officers, while the street office handles it."""
    return actor.role == Role.street_officer and request.status == Status.street


def whistle(session: Session, actor: Actor, request_id: int, department_ids: Any, report_within_hours: Any,
            note: Any = "", *, now: datetime | None = None) -> list[CallView]:
    """吹哨: call one or more of the street's departments in on an escalated request."""
    now = now or utcnow()
    _require_officer(actor, _("Only street officers can call in departments."))
    request = _visible_for_update(session, actor, request_id)
    if request.status != Status.street:
        raise Conflict(
            _("This request is {status}: departments can be called in only while the street office handles it.",
              status=lifecycle.STATUS_LABELS[request.status]),
            code="not_at_street_office", details={"status": request.status.value},
        )
    ids = _department_ids(department_ids)
    hours = report_within_hours
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_REPORT_HOURS:
        raise InvalidInput(
            _("The report-in deadline must be a whole number of hours from 1 to {limit}.", limit=MAX_REPORT_HOURS),
            code="invalid_report_within", details={"field": "report_within_hours"},
        )
    note = clean_text(note, "note", code="", message=None, limit=MAX_REASON, required=False)
    found = street_repo.departments_by_id(session, ids)
    unknown = [i for i in ids if i not in found or found[i].street_id != request.street_id or not found[i].active]
    if unknown:
        raise InvalidInput(_("Unknown department {ids}.", ids=", ".join(map(str, unknown))),
                           code="unknown_department", details={"field": "department_ids", "ids": unknown})
    already = sorted(c.department_id for c in street_repo.open_calls(session, request.id, ids))
    if already:
        raise Conflict(
            _("Already called in and not yet reported in: {names}.",
              names="、".join(found[i].name for i in already)),
            code="already_whistled", details={"department_ids": already},
        )
    report_by = now + timedelta(hours=hours)
    calls = [WhistleCall(request_id=request.id, department_id=i, called_by_id=actor.account_id, note=note,
                         called_at=now, report_by=report_by) for i in ids]
    session.add_all(calls)
    session.flush()
    # Calling in departments is the street office acting on the request, so it counts as a response.
    if request.responded_at is None:
        request.responded_at = now
    _event(session, actor, request, "whistle", note, now,
           {"department_ids": ids, "report_by": report_by.isoformat(), "call_ids": [c.id for c in calls]})
    return [CallView(c, found[c.department_id], call_status(c, now)) for c in calls]


def record_response(session: Session, actor: Actor, call_id: int, response: Any, *,
                    now: datetime | None = None) -> CallView:
    """报到: a street officer records what a called-in department reported."""
    now = now or utcnow()
    _require_officer(actor, _("Only street officers record a department's report."))
    call = street_repo.get_call(session, call_id)
    if call is None:
        raise _call_not_found(call_id)
    # Lock the request first, as every command does, then the call: two officers recording the same
    # answer at once are serialised and the second hears already_responded.
    request = repo.get_for_update(session, call.request_id)
    if not can_view(session, actor, request):
        raise _call_not_found(call_id)
    call = street_repo.get_call(session, call_id, for_update=True)
    if call.responded_at is not None:
        raise Conflict(_("This department has already reported in."), code="already_responded",
                       details={"responded_at": call.responded_at.isoformat()})
    text = clean_text(response, "response", code="response_required",
                 message=_("Please record what the department reported."), limit=MAX_TEXT)
    call.response = text
    call.responded_at = now
    call.recorded_by_id = actor.account_id
    _event(session, actor, request, "department_response", text, now,
           {"call_id": call.id, "department_id": call.department_id})
    return CallView(call, session.get(Department, call.department_id), call_status(call, now))


def request_calls(session: Session, actor: Actor, request_id: int, *, now: datetime | None = None) -> list[CallView]:
    """The whistle calls on a request, for whoever may see the request."""
    now = now or utcnow()
    request = repo.get(session, request_id)
    if request is None or not can_view(session, actor, request):
        raise repo.not_found(request_id)
    return [CallView(c, d, call_status(c, now)) for c, d in street_repo.calls(session, request_id)]


def street_queue(session: Session, actor: Actor, street_id: int | None = None, *, now: datetime | None = None,
                 limit: int = 50, offset: int = 0) -> list[tuple[Request, int, int]]:
    """The street office's desk: its escalated requests with their open and overdue calls."""
    if actor.role == Role.street_officer:
        if street_id is not None and street_id != actor.street_id:
            raise Forbidden(_("You see only your own street office's queue."), code="out_of_scope")
        street_id = actor.street_id
    elif actor.role != Role.admin:
        raise Forbidden(_("Only street officers have the street office's queue."), code="role_not_allowed")
    return list(street_repo.street_queue(session, street_id, now or utcnow(), limit=limit, offset=offset))


# --- supervision marks -------------------------------------------------------------------------

@dataclass(frozen=True)
class MarkView:
    request: Request
    level: str
    reason: str
    set_at: datetime
    set_by: str  # the display name of who set the mark


def supervision_marks(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> list[MarkView]:
    """The yellow and red marks on the requests a street officer (their street), a secretary (their
    community or street) or an admin (everywhere) oversees, with the reason and who set each."""
    if actor.role not in (Role.street_officer, Role.secretary, Role.admin):
        raise Forbidden(_("Only street officers and secretaries follow supervision marks."),
                        code="role_not_allowed")
    scope, _default = repo.desk_scope(actor)
    return [MarkView(r, r.supervision, e.note or "", e.created_at, a.display_name if a is not None else "")
            for r, e, a in street_repo.supervised(session, scope, limit=limit, offset=offset)]


def may_supervise(actor: Actor, request: Request) -> bool:
    """Whether ``actor`` may set a supervision mark on ``request`` (one they can see) now."""
    return actor.role in (Role.street_officer, Role.secretary) and request.status not in lifecycle.TERMINAL


def supervise(session: Session, actor: Actor, request_id: int, level: Any, reason: Any = "", *,
              now: datetime | None = None) -> Request:
    """督办: a street officer or secretary marks a request normal, yellow or red."""
    now = now or utcnow()
    if actor.role not in (Role.street_officer, Role.secretary):
        raise Forbidden(_("Only street officers and secretaries set supervision marks."), code="role_not_allowed")
    request = _visible_for_update(session, actor, request_id)
    if request.status in lifecycle.TERMINAL:
        raise Conflict(
            _("This request is {status}: it can no longer be supervised.",
              status=lifecycle.STATUS_LABELS[request.status]),
            code="request_finished", details={"status": request.status.value},
        )
    try:
        mark = Supervision(level)
    except ValueError:
        raise InvalidInput(_("The supervision level must be normal, yellow or red."), code="invalid_level",
                           details={"field": "level"}) from None
    reason = clean_text(reason, "reason", code="reason_required", message=_("Please give a reason."),
                   limit=MAX_REASON, required=mark != Supervision.normal)
    previous = request.supervision
    # Marking yellow or red again is a renewed warning and is recorded; clearing a clear request is not.
    if mark == Supervision.normal and previous == Supervision.normal:
        raise Conflict(_("This request has no supervision mark to clear."), code="supervision_unchanged")
    request.supervision = mark.value
    _event(session, actor, request, "supervise", reason, now, {"level": mark.value, "previous_level": previous})
    return request


# --- helpers -----------------------------------------------------------------------------------

def _require_officer(actor: Actor, message) -> None:
    if actor.role != Role.street_officer:
        raise Forbidden(message, code="role_not_allowed")


def _visible_for_update(session: Session, actor: Actor, request_id: int) -> Request:
    request = repo.get_for_update(session, request_id)
    if not can_view(session, actor, request):
        raise repo.not_found(request_id)
    return request


def _call_not_found(call_id: int) -> NotFound:
    return NotFound(_("Whistle call {id} does not exist.", id=call_id), code="whistle_not_found")


def _department_ids(value: Any) -> list[int]:
    if not isinstance(value, list | tuple) or not value or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise InvalidInput(_("Choose at least one department."), code="departments_required",
                           details={"field": "department_ids"})
    return list(dict.fromkeys(value))  # the same department named twice is called once


def _event(session: Session, actor: Actor, request: Request, trigger: str, note: str, now: datetime,
           data: dict) -> RequestEvent:
    """An event that records an act on the request without moving it: from and to are the same."""
    event = RequestEvent(request_id=request.id, trigger=trigger, from_status=request.status.value,
                         to_status=request.status.value, actor_id=actor.account_id, actor_role=actor.role,
                         note=note, data=data, created_at=now)
    session.add(event)
    request.updated_at = now
    session.flush()
    return event
