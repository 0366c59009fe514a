"""The street office: its queue, whistle calls to departments (吹哨报到), supervision marks (督办)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from workflow.commands import street

from .. import schemas as s
from .. import street_schemas as ss
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["street office"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})
StreetFilter = Query(None, ge=1, le=s.MAX_ID, description="Administrators: one street only.")
WRITE_ERRORS = {404: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}}


@router.post("/street/departments", response_model=ss.DepartmentOut, status_code=201,
             responses={409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def create_department(body: ss.DepartmentIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Add a department the street office can call in (城管, 房管, 派出所, ...). Street officers add
    to their own street office; administrators name the street with `street_id`. Names are unique
    within a street office (409 `department_exists`)."""
    with ctx.transaction() as tx:
        department = street.create_department(tx.session, tx.actor, body.name, body.street_id)
        return ss.department_out(department)


@router.get("/street/departments", response_model=list[ss.DepartmentOut])
def list_departments(street_id: int | None = StreetFilter,
                     ctx: Ctx = Depends(get_auth_ctx)):
    """The departments a street office can call in: a street officer's own street office, or for
    administrators every street's (or the one named by `street_id`)."""
    with ctx.transaction() as tx:
        return [ss.department_out(d) for d in street.list_departments(tx.session, tx.actor, street_id)]


@router.get("/street/queue", response_model=list[ss.StreetQueueOut], tags=["queues"])
def street_queue(street_id: int | None = StreetFilter,
                 limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
                 ctx: Ctx = Depends(get_auth_ctx)):
    """The street office's desk: requests escalated to it from all its communities, red and yellow
    supervision marks first, then the nearest deadline; each with how many called-in departments have
    not reported in yet (`open_whistles`) and how many of those are past their deadline
    (`overdue_whistles`)."""
    with ctx.transaction() as tx:
        rows = street.street_queue(tx.session, tx.actor, street_id, limit=limit, offset=offset)
        return [ss.StreetQueueOut(**s.request_out(tx.session, tx.actor, r, ctx.locale).model_dump(),
                                  open_whistles=open_, overdue_whistles=overdue)
                for r, open_, overdue in rows]


@router.post("/requests/{request_id}/whistles", response_model=list[ss.WhistleCallOut], status_code=201,
             responses=WRITE_ERRORS)
def whistle(request_id: s.RequestId, body: ss.WhistleIn, ctx: Ctx = Depends(get_auth_ctx)):
    """吹哨: a street officer calls one or more of the street office's departments in on a request it is
    handling (status `street`), each to report in within `report_within_hours` (1–720). A department
    already called in and not yet reported in cannot be called again (409 `already_whistled`). The
    request keeps its status; its history gains a `whistle` event."""
    with ctx.transaction() as tx:
        views = street.whistle(tx.session, tx.actor, request_id, body.department_ids, body.report_within_hours,
                               body.note)
        return [ss.whistle_call_out(v) for v in views]


@router.get("/requests/{request_id}/whistles", response_model=list[ss.WhistleCallOut],
            responses={404: {"model": s.ErrorOut}})
def whistles(request_id: s.RequestId, ctx: Ctx = Depends(get_auth_ctx)):
    """The departments called in on a request, oldest first, each `open`, `answered`, or `overdue`
    (past its report-in deadline without an answer), for whoever may see the request."""
    with ctx.transaction() as tx:
        return [ss.whistle_call_out(v) for v in street.request_calls(tx.session, tx.actor, request_id)]


@router.post("/street/whistles/{call_id}/response", response_model=ss.WhistleCallOut, responses=WRITE_ERRORS)
def department_response(call_id: ss.CallId, body: ss.DepartmentResponseIn, ctx: Ctx = Depends(get_auth_ctx)):
    """报到: a street officer records what a called-in department reported. Each call is answered once
    (409 `already_responded`). The request keeps its status; its history gains a
    `department_response` event."""
    with ctx.transaction() as tx:
        return ss.whistle_call_out(street.record_response(tx.session, tx.actor, call_id, body.response))


@router.post("/requests/{request_id}/supervision", response_model=s.RequestDetailOut, responses=WRITE_ERRORS,
             tags=["requests"])
def supervise(request_id: s.RequestId, body: ss.SupervisionIn, ctx: Ctx = Depends(get_auth_ctx)):
    """督办: a street officer (any request of their street) or a secretary (their community or street)
    marks a request that is still open `normal`, `yellow` or `red`; yellow and red need a reason.
    Marked requests come first in every queue. The request keeps its status; its history gains a
    `supervise` event."""
    with ctx.transaction() as tx:
        request = street.supervise(tx.session, tx.actor, request_id, body.level, body.reason)
        return s.request_detail_out(tx.session, tx.actor, request, ctx.locale)
