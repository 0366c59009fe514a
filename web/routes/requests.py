"""One request: its page (history, photos, claims, evaluations, duplicates, street office calls) and
every act on it, each a plain form post to the same command the JSON API calls."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from starlette.datastructures import FormData

from api.schemas import PhotoId, RequestId
from api.street_schemas import CallId, whistle_call_out
from workflow import tracking
from workflow.access import can_view
from workflow.commands import handling, photos, street
from workflow.duplicates import for_request as duplicates_of
from workflow.errors import DomainError, NotFound
from workflow.i18n import _
from workflow.identity import views as identity
from workflow.lifecycle import TRIGGER_LABELS
from workflow.models import Role
from workflow.people import views as people_views
from workflow.repository import requests as repo

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import SATISFACTION_LABELS, SUPERVISION_LABELS, request_detail

router = APIRouter(include_in_schema=False)

# The form fields of each act a person takes from the request page.
ACT_FIELDS: dict[str, tuple[str, ...]] = {
    "route_to_community": ("note",),
    "publish_task": ("note",),
    "escalate": ("note",),
    "withdraw": ("note",),
    "claim": ("note",),
    "release": ("note",),
    "return_to_community": ("reason",),
    "send_back": ("reason",),
    "reject": ("reason",),
    "resolve": ("result",),
    "report_result": ("result", "hours", "photos"),
    "verify": ("appraisal", "note"),
    "merge": ("duplicate_of", "note"),
}
# Acts that are answered by the evaluation form, not a button of their own.
EVALUATION_TRIGGERS = {"evaluate", "reopen"}
ACT_MESSAGES = {
    "route_to_community": _("Taken into community handling."),
    "publish_task": _("Published on the task board."),
    "escalate": _("Escalated to the street office."),
    "withdraw": _("The task is back with community staff."),
    "claim": _("You claimed this task."),
    "release": _("You gave the task back."),
    "return_to_community": _("Returned to the community."),
    "send_back": _("Sent back to the member."),
    "reject": _("The request was not accepted."),
    "resolve": _("Marked resolved."),
    "report_result": _("Your result was sent for verification."),
    "verify": _("Verified."),
    "merge": _("Merged as a duplicate."),
}


def detail_page(ctx: WebCtx, request_id: int, *, errors: dict | None = None, values: dict | None = None,
                status: int = 200):
    """The request page for whoever may see it; ``errors``/``values``: {form key: {field: ...}}."""
    with ctx.transaction() as tx:
        request = repo.get(tx.session, request_id)
        if request is None or not can_view(tx.session, tx.actor, request):
            raise repo.not_found(request_id)
        r = request_detail(tx.session, tx.actor, request, ctx.locale)
        role = tx.actor.role
        acts = [t for t in r["actions"] if t in ACT_FIELDS]
        duplicates = []
        if "merge" in acts:
            # (id, label) options, best match first: "#12 路灯不亮… (83%)"
            duplicates = [(c.request.id, f"#{c.request.id} {c.request.description[:40]} ({round(c.score * 100)}%)")
                          for c in duplicates_of(tx.session, tx.actor, request_id)]
        calls = [whistle_call_out(v).model_dump() for v in street.request_calls(tx.session, tx.actor, request_id)] \
            if role in (Role.street_officer, Role.staff, Role.secretary, Role.admin) else []
        departments = []
        if street.may_whistle(tx.actor, request):
            departments = [(d.id, d.name) for d in street.list_departments(tx.session, tx.actor, None) if d.active]
        context = {
            "r": r,
            "acts": acts,
            "act_fields": ACT_FIELDS,
            "act_labels": TRIGGER_LABELS,
            "can_evaluate": bool(EVALUATION_TRIGGERS & set(r["actions"])),
            "can_supervise": street.may_supervise(tx.actor, request),
            "duplicates": duplicates,
            "calls": calls,
            "departments": departments,
            "satisfaction_labels": SATISFACTION_LABELS,
            "supervision_labels": SUPERVISION_LABELS,
            "errors": errors or {},
            "values": values or {},
            "tracking_code": tracking.code_shown_to(ctx.settings, tx.actor, request),
        }
        # The desk, while it decides who works on it: the registered members whose skills it calls for.
        if role in (Role.staff, Role.secretary, Role.admin) and request.status in people_views.SKILLED_SHOWN:
            context["skilled"] = people_views.skilled_for(tx.session, tx.actor, request.id)
        if role == Role.resident:  # 亮身份: who serves the resident's building, who did the work
            today = ctx.settings.today()
            context["serving"] = identity.serving(tx.session, request.building_id, today, ctx.locale)
            context["handled"] = identity.handled_by(tx.session, request, ctx.locale)
        # An error of a form the page no longer offers (the request moved on meanwhile) is shown
        # at the top, so the person still learns why nothing happened.
        offered = {"evaluation": context["can_evaluate"], "whistle": bool(departments),
                   "supervision": context["can_supervise"]}
        # A department's report is recorded by street officers only, on a call still waiting for it.
        answerable = {f"call-{c['id']}" for c in calls
                      if role == Role.street_officer and c["status"] in ("open", "overdue") and not c["response"]}
        shown = set(acts) | {key for key, on in offered.items() if on} | answerable
        context["page_errors"] = [message for key, fields in (errors or {}).items() if key not in shown
                                  for message in fields.values()]
    return page(ctx.request, "requests/detail.html", context, status=status)


@router.get("/requests/{request_id}")
def show(request_id: RequestId, ctx: WebCtx = Depends(get_web_ctx)):
    return detail_page(ctx, request_id)


def _act_params(ctx: WebCtx, tx, form: FormData, trigger: str) -> dict:
    fields = ACT_FIELDS[trigger]
    params: dict = {}
    for name in fields:
        if name in ("appraisal", "duplicate_of"):
            params[name] = forms.integer(form, name)
        elif name == "photos":
            params["photo_ids"] = forms.store_photos(ctx, tx, form)
        elif name == "hours":
            params[name] = forms.text(form, name) or None
        else:
            params[name] = forms.text(form, name)
    return params


@router.post("/requests/{request_id}/act/{trigger}")
def act(request_id: RequestId, trigger: str, form: FormData = Depends(form_data),
        ctx: WebCtx = Depends(get_web_ctx)):
    if trigger not in ACT_FIELDS:
        raise NotFound(_("Nothing here."), code="not_found")
    try:
        with ctx.transaction() as tx:
            handling.fire(tx.session, ctx.settings, tx.actor, request_id, trigger, _act_params(ctx, tx, form, trigger))
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        values = {trigger: {k: forms.text(form, k) for k in ACT_FIELDS[trigger] if k != "photos"}}
        return detail_page(ctx, request_id, errors={trigger: forms.errors_of(ctx, exc, ACT_FIELDS[trigger])},
                           values=values, status=exc.status)
    ctx.flash(ACT_MESSAGES[trigger])
    return redirect(f"/requests/{request_id}")


EVALUATION_FIELDS = ("satisfaction", "solved", "comment")


@router.post("/requests/{request_id}/evaluation")
def evaluate(request_id: RequestId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    params = {"satisfaction": forms.text(form, "satisfaction"), "solved": forms.boolean(form, "solved"),
              "comment": forms.text(form, "comment")}
    try:
        with ctx.transaction() as tx:
            handling.evaluate(tx.session, ctx.settings, tx.actor, request_id, params)
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        return detail_page(ctx, request_id, errors={"evaluation": forms.errors_of(ctx, exc, EVALUATION_FIELDS)},
                           values={"evaluation": {k: forms.text(form, k) for k in EVALUATION_FIELDS}},
                           status=exc.status)
    ctx.flash(_("Thank you for your evaluation."))
    return redirect(f"/requests/{request_id}")


@router.post("/requests/{request_id}/whistle")
def whistle(request_id: RequestId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    departments = [forms.to_int(v) for v in form.getlist("department_ids")]
    try:
        with ctx.transaction() as tx:
            street.whistle(tx.session, tx.actor, request_id, departments, forms.integer(form, "report_within_hours"),
                           forms.text(form, "note"))
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        return detail_page(ctx, request_id, status=exc.status,
                           errors={"whistle": forms.errors_of(ctx, exc, ("department_ids", "report_within_hours",
                                                                          "note"))},
                           values={"whistle": {"report_within_hours": forms.text(form, "report_within_hours"),
                                               "note": forms.text(form, "note"),
                                               "department_ids": [str(v) for v in form.getlist("department_ids")]}})
    ctx.flash(_("The departments were called in."))
    return redirect(f"/requests/{request_id}")


@router.post("/requests/{request_id}/calls/{call_id}/response")
def department_response(request_id: RequestId, call_id: CallId, form: FormData = Depends(form_data),
                        ctx: WebCtx = Depends(get_web_ctx)):
    try:
        with ctx.transaction() as tx:
            street.record_response(tx.session, tx.actor, call_id, forms.text(form, "response"))
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        return detail_page(ctx, request_id, status=exc.status,
                           errors={f"call-{call_id}": forms.errors_of(ctx, exc, ("response",))},
                           values={f"call-{call_id}": {"response": forms.text(form, "response")}})
    ctx.flash(_("The department's report was recorded."))
    return redirect(f"/requests/{request_id}")


@router.post("/requests/{request_id}/supervision")
def supervise(request_id: RequestId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    try:
        with ctx.transaction() as tx:
            street.supervise(tx.session, tx.actor, request_id, forms.text(form, "level"), forms.text(form, "reason"))
    except DomainError as exc:
        if exc.status in (401, 404):
            raise
        return detail_page(ctx, request_id, status=exc.status,
                           errors={"supervision": forms.errors_of(ctx, exc, ("level", "reason"))},
                           values={"supervision": {"level": forms.text(form, "level"),
                                                   "reason": forms.text(form, "reason")}})
    ctx.flash(_("The supervision mark was set."))
    return redirect(f"/requests/{request_id}")


@router.get("/photos/{photo_id}")
def photo(photo_id: PhotoId, ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction() as tx:
        row = photos.visible_photo(tx.session, tx.actor, photo_id)
        path = photos.photo_path(ctx.settings.media_dir, row.sha256)
        content_type = row.content_type
    if not path.exists():
        raise NotFound(_("The photo file is missing on the server."), code="photo_missing")
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600",
                                                                 "X-Content-Type-Options": "nosniff"})
