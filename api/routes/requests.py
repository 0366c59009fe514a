"""Requests: submit, read, and one endpoint per lifecycle trigger."""

# No `from __future__ import annotations` here: the trigger endpoints are built in a loop and
# FastAPI must see their body types as real classes, not strings.

from fastapi import APIRouter, Body, Depends, Query

from workflow import lifecycle
from workflow.access import can_view, require_desk
from workflow.commands import handling, intake
from workflow.duplicates import for_request as duplicates_of
from workflow.models import Status
from workflow.repository import requests as repo

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["requests"], responses={401: {"model": s.ErrorOut}, 404: {"model": s.ErrorOut}})


@router.post("/requests", status_code=201, response_model=s.RequestDetailOut,
             responses={403: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def submit(body: s.SubmitIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Collect a request (收). Residents report (`report`), community staff record what they find on
    inspection rounds (`inspection`), registered members record what they find on home visits
    (`visit`). The request is routed right after it is stored. `attributes` answers the category's
    extra questions: an unknown code answers 422 `unknown_attribute`, a wrong value
    `invalid_attribute`, and, when `attributes` is given, a required one left out `attribute_required`."""
    with ctx.transaction() as tx:
        request = intake.submit(tx.session, tx.actor, body.submission(), timezone=ctx.settings.timezone)
        out = s.request_detail_out(tx.session, tx.actor, request, ctx.locale, new=True)
    return s.json_response(s.RequestDetailOut, out, status_code=201)


@router.get("/requests/mine", response_model=list[s.RequestOut])
def my_requests(limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
                ctx: Ctx = Depends(get_auth_ctx)):
    """What the caller brought in: a resident's reports (and the requests their merged duplicates
    joined, which they follow and may evaluate), staff's inspections, a member's visits."""
    with ctx.transaction() as tx:
        rows = repo.mine(tx.session, tx.actor, limit=limit, offset=offset, following=True)
        out = s.requests_out(tx.session, tx.actor, rows, ctx.locale)
    return s.json_response(list[s.RequestOut], out)


@router.get("/requests/{request_id}", response_model=s.RequestDetailOut)
def get_request(request_id: s.RequestId, ctx: Ctx = Depends(get_auth_ctx)):
    """One request with its full event history, claims and evaluations, if the caller may see it."""
    with ctx.transaction() as tx:
        request = repo.get(tx.session, request_id)
        if request is None or not can_view(tx.session, tx.actor, request):
            raise repo.not_found(request_id)
        out = s.request_detail_out(tx.session, tx.actor, request, ctx.locale)
    return s.json_response(s.RequestDetailOut, out)


class DuplicateOut(s.BaseModel):
    score: float
    request: s.RequestOut


@router.get("/requests/{request_id}/duplicates", response_model=list[DuplicateOut],
            responses={403: {"model": s.ErrorOut}})
def duplicates(request_id: s.RequestId, ctx: Ctx = Depends(get_auth_ctx)):
    """Staff: open requests that may repeat this one (same category, same grid or building, similar
    text by character bigrams), best first, with a score from 0 to 1. Merge a duplicate with
    POST /requests/{id}/merge; its reporter then follows and may evaluate the primary request."""
    with ctx.transaction() as tx:
        return [DuplicateOut(score=c.score, request=s.request_out(tx.session, tx.actor, c.request, ctx.locale))
                for c in duplicates_of(tx.session, tx.actor, request_id)]


@router.post("/requests/{request_id}/evaluation", response_model=s.RequestDetailOut,
             responses={403: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def evaluate(request_id: s.RequestId, body: s.EvaluationIn, ctx: Ctx = Depends(get_auth_ctx)):
    """评: the reporting resident (or, for requests no resident reported, the secretary) evaluates the
    result. Satisfied or basically satisfied *and* solved closes the request (`evaluate`); anything else
    reopens it for another round (`reopen`). Either way the evaluation is kept and counts."""
    with ctx.transaction() as tx:
        fired = handling.evaluate(tx.session, ctx.settings, tx.actor, request_id, body.model_dump())
        out = s.request_detail_out(tx.session, tx.actor, fired.request, ctx.locale)
    return s.json_response(s.RequestDetailOut, out)


TRIGGER_BODIES = {
    "route_to_community": (s.NoteIn, "Staff take the request into community handling."),
    "publish_task": (s.NoteIn, "Staff publish the request on the task board for registered members."),
    "escalate": (s.NoteIn, "Staff escalate the request to the street office."),
    "return_to_community": (s.ReasonIn, "The street office returns the request to the community, with a reason."),
    "claim": (s.NoteIn, "A member registered with the community claims the task (within their claim limit)."),
    "release": (s.NoteIn, "The claiming member gives the task back; this counts against them."),
    "withdraw": (s.NoteIn, "Staff take an unclaimed task back into community handling."),
    "report_result": (s.ReportResultIn, "The claiming member reports what was done, with service hours."),
    "send_back": (s.ReasonIn, "Staff send the member's result back for more work, with a reason."),
    "verify": (s.VerifyIn, "Staff accept the member's result and appraise it from 1 to 5."),
    "resolve": (s.ResultIn, "Community staff (or, when escalated, the street office) resolve the request."),
    "reject": (s.ReasonIn, "Staff decline a request that is out of scope, with a reason."),
    "merge": (s.MergeIn, "Staff close a duplicate into the request it repeats."),
}
OPTIONAL_BODY = {s.NoteIn}


def _trigger_endpoint(trigger: str, body_model: type, doc: str):
    optional = body_model in OPTIONAL_BODY

    def endpoint(request_id: s.RequestId, body: body_model = Body(None if optional else ...),  # type: ignore[valid-type]
                 ctx: Ctx = Depends(get_auth_ctx)):
        params = body.model_dump() if body is not None else {}
        with ctx.transaction() as tx:
            fired = handling.fire(tx.session, ctx.settings, tx.actor, request_id, trigger, params)
            out = s.request_detail_out(tx.session, tx.actor, fired.request, ctx.locale)
        return s.json_response(s.RequestDetailOut, out)

    sources = sorted({st.value for t in lifecycle.TRANSITIONS if t.trigger == trigger for st in t.sources})
    endpoint.__doc__ = f"{doc}\n\nAllowed from: {', '.join(sources)}."
    endpoint.__name__ = trigger
    return endpoint


for _trigger, (_model, _doc) in TRIGGER_BODIES.items():
    router.add_api_route(
        f"/requests/{{request_id}}/{_trigger.replace('_', '-')}",
        _trigger_endpoint(_trigger, _model, _doc),
        methods=["POST"],
        response_model=s.RequestDetailOut,
        summary=lifecycle.TRIGGER_LABELS[_trigger].render("en"),
        responses={403: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}},
    )


@router.get("/queue", response_model=list[s.RequestOut], tags=["queues"], responses={403: {"model": s.ErrorOut}})
def queue(status: list[Status] = Query(default=[]), limit: int = Query(50, ge=1, le=200),
          offset: int = Query(0, ge=0, le=s.MAX_ID),
          ctx: Ctx = Depends(get_auth_ctx)):
    """The caller's desk, nearest deadline first: community staff see their community's requests
    that wait for them; street officers the requests escalated to their street; secretaries their
    whole scope. Filter with `status` (repeatable)."""
    with ctx.transaction() as tx:
        require_desk(tx.actor)
        rows = repo.queue(tx.session, tx.actor, statuses=status, limit=limit, offset=offset)
        out = s.requests_out(tx.session, tx.actor, rows, ctx.locale)
    return s.json_response(list[s.RequestOut], out)
