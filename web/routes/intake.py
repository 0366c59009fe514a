"""收: one report form for the three ways a request comes in — a resident's report, a staff
inspection round, a member's home visit — and the page that confirms it was received.

The form works without JavaScript: the community is chosen with a small GET form that reloads the
page with that community's grids and buildings (``?community_id=``); the report itself is one
multipart POST, stored with the same ``intake.submit`` command the JSON API calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import MAX_ID, RequestId
from workflow import tracking
from workflow.commands import intake
from workflow.errors import DomainError, InvalidInput
from workflow.i18n import Text, _
from workflow.repository import places
from workflow.repository import requests as repo

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import request_card

router = APIRouter(include_in_schema=False)

TEMPLATE = "intake/report.html"
TEXT_FIELDS = ("category", "address", "description", "contact_name", "contact_phone")
PLACE_FIELDS = ("community_id", "grid_id", "building_id")
# Fields an error may be shown beside; the rest go to the top of the form.
FIELDS = TEXT_FIELDS + PLACE_FIELDS + ("photos",)


@dataclass(frozen=True)
class IntakeForm:
    """One way in: its channel, its address, who may use it, and how the form reads."""

    channel: str
    path: str
    roles: tuple[str, ...]
    title: Text
    intro: Text
    contact: bool
    contact_name_label: Text | None = None
    contact_phone_label: Text | None = None
    done: Text = _("Your request was received.")


FORMS = {
    "report": IntakeForm(
        "report", "/report", ("resident", "volunteer"), _("Report a problem"),
        _("Tell your community what is wrong: what it is, where it is, and a photo if you can."),
        contact=False),
    "inspection": IntakeForm(
        "inspection", "/desk/inspection", ("staff",), _("Log a problem found on an inspection round"),
        _("Record what you found on your round; it is routed like a resident's report."),
        contact=True, contact_name_label=_("Resident concerned (optional)"),
        contact_phone_label=_("Their phone (optional)"), done=_("The problem was recorded.")),
    "visit": IntakeForm(
        "visit", "/member/visit", ("member",), _("Log a problem found on a home visit"),
        _("Record what the resident you visited told you; it is routed like their own report."),
        contact=True, contact_name_label=_("Name of the resident visited"),
        contact_phone_label=_("Their phone"), done=_("The problem was recorded.")),
}


def _category_groups(session, locale: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Leaf categories under their parent, in the user's language, for an ``<optgroup>`` select."""
    rows = places.categories(session)
    name = (lambda c: c.name_en) if locale == "en" else (lambda c: c.name_zh)
    groups: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for category, parent in rows:
        if parent is None:
            groups.setdefault(category.code, (name(category), []))
    for category, parent in rows:
        if parent is not None and parent in groups:
            groups[parent][1].append((category.code, name(category)))
    return [group for group in groups.values() if group[1]]


def _communities(session, actor, spec: IntakeForm) -> list[tuple[int, str]]:
    """Where this form may file a request: anywhere for a resident, the staff member's own
    community, the communities a member is registered with."""
    if spec.channel == "inspection":
        own = places.community(session, actor.community_id) if actor.community_id else None
        return [(own.id, own.name)] if own else []
    rows = places.member_communities(session, actor.member_id) if spec.channel == "visit" \
        else places.communities(session)
    return [(c.id, f"{st.name} · {c.name}") for c, st in rows]


def _form_page(ctx: WebCtx, spec: IntakeForm, *, community_id=None, values: dict | None = None,
               errors: dict | None = None, status: int = 200):
    with ctx.transaction(roles=spec.roles) as tx:
        communities = _communities(tx.session, tx.actor, spec)
        ids = [c for c, _name in communities]
        if community_id not in ids:  # the user's own community, else the first one they may use
            own = tx.actor.community_id if tx.actor.community_id in ids else None
            community_id = own or (ids[0] if ids and (spec.channel != "report" or len(ids) == 1) else None)
        context = {
            "form": spec,
            "categories": _category_groups(tx.session, ctx.locale),
            "communities": communities,
            "community_id": community_id,
            "community_name": dict(communities).get(community_id, ""),
            "grids": [(g.id, g.name) for g in places.grids(tx.session, community_id)] if community_id else [],
            "buildings": [(b.id, b.name) for b in places.buildings(tx.session, community_id)] if community_id else [],
            "values": values or {},
            "errors": errors or {},
        }
    return page(ctx.request, TEMPLATE, context, status=status)


def _place_id(form: FormData, name: str) -> int | None:
    """A community, grid or building chosen from a list: an id, or None when left empty."""
    value = forms.integer(form, name)
    if value is None or (isinstance(value, int) and 1 <= value <= MAX_ID):
        return value
    raise InvalidInput(_("Choose from the list."), code="invalid_location", details={"field": name})


def _errors(ctx: WebCtx, exc: DomainError) -> dict[str, str]:
    field = (exc.details or {}).get("field")
    if field == "photo_ids":  # the photos of this form, attached by the command
        return {"photos": forms.message_of(ctx, exc)}
    return forms.errors_of(ctx, exc, FIELDS)


def _submit(ctx: WebCtx, form: FormData, spec: IntakeForm):
    values = {name: forms.text(form, name) for name in TEXT_FIELDS}
    raw = form.get("description")
    values["description"] = raw if isinstance(raw, str) else ""
    community_id = forms.integer(form, "community_id")
    try:
        with ctx.transaction(roles=spec.roles) as tx:
            location = {name: _place_id(form, name) for name in PLACE_FIELDS}
            photo_ids = forms.store_photos(ctx, tx, form, "photos")
            request = intake.submit(tx.session, tx.actor, intake.Submission(
                channel=spec.channel, category=values["category"], description=values["description"],
                address=values["address"], contact_name=values["contact_name"] if spec.contact else "",
                contact_phone=values["contact_phone"] if spec.contact else "", photo_ids=photo_ids, **location,
            ), timezone=ctx.settings.timezone)
            request_id = request.id
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        for name in ("grid_id", "building_id"):
            values[name] = forms.text(form, name)
        return _form_page(ctx, spec, community_id=community_id, values=values, errors=_errors(ctx, exc),
                          status=exc.status)
    ctx.flash(spec.done)
    return redirect(f"/requests/{request_id}/received")


def _chosen(raw: str) -> int | None:
    """``?community_id=`` from the chooser; anything but a number means "the default"."""
    return forms.number(raw, MAX_ID)


@router.get("/report")
def report_form(community_id: str = Query("", max_length=20), ctx: WebCtx = Depends(get_web_ctx)):
    return _form_page(ctx, FORMS["report"], community_id=_chosen(community_id))


@router.post("/report")
def report(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    return _submit(ctx, form, FORMS["report"])


@router.get("/desk/inspection")
def inspection_form(community_id: str = Query("", max_length=20), ctx: WebCtx = Depends(get_web_ctx)):
    return _form_page(ctx, FORMS["inspection"], community_id=_chosen(community_id))


@router.post("/desk/inspection")
def inspection(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    return _submit(ctx, form, FORMS["inspection"])


@router.get("/member/visit")
def visit_form(community_id: str = Query("", max_length=20), ctx: WebCtx = Depends(get_web_ctx)):
    return _form_page(ctx, FORMS["visit"], community_id=_chosen(community_id))


@router.post("/member/visit")
def visit(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    return _submit(ctx, form, FORMS["visit"])


@router.get("/requests/{request_id}/received")
def received(request_id: RequestId, ctx: WebCtx = Depends(get_web_ctx)):
    """After a report: its number and tracking code, for the person who brought it in."""
    with ctx.transaction() as tx:
        request = repo.get(tx.session, request_id)
        if request is None or request.collector_id != tx.actor.account_id:
            raise repo.not_found(request_id)
        r = request_card(tx.session, tx.actor, request, ctx.locale)
        code = tracking.code_shown_to(ctx.settings, tx.actor, request, just_collected=True)
    return page(ctx.request, "intake/received.html", {"r": r, "tracking_code": code})
