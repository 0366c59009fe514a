"""Pages of the member side (下沉党员): registrations (双报到), the task board, my tasks and my record.

Every page calls the same workflow commands and queries as the JSON routes in api/routes/members.py
and api/routes/scores.py; the task acts themselves (claim, release, report a result) are the forms
of the request page."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import CommunityId
from workflow.commands import members
from workflow.errors import DomainError
from workflow.i18n import _
from workflow.models import RegistrationStatus, utcnow
from workflow.repository import places
from workflow.repository import requests as repo
from workflow.repository import zones as zone_repo
from workflow.scoring import periods, runs, views
from workflow.volunteers import views as volunteer_views

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import PART_LABELS, SATISFACTION_LABELS, request_card

router = APIRouter(include_in_schema=False)

MEMBER = ("member", "volunteer")  # the task side is the same for volunteers
BOARD_PAGE = 20
FINISHED_PAGE = 20
REGISTRATION_LABELS = {"active": _("Registered"), "ended": _("Ended")}
CLAIM_LABELS = {
    "active": _("Claimed: working on it"),
    "sent_back": _("Sent back: please redo"),
    "reported": _("Awaiting verification"),
    "verified": _("Verified"),
    "released": _("Given back"),
    "withdrawn": _("Taken back by staff"),
}


# --- 双报到: registrations -------------------------------------------------------------------------

def _registrations_page(ctx: WebCtx, *, errors: dict | None = None, values: dict | None = None,
                        status: int = 200):
    with ctx.transaction(roles=MEMBER) as tx:
        communities = places.communities(tx.session)
        names = {c.id: (c.name, st.name) for c, st in communities}
        rows = [{"community_id": r.community_id, "community": names.get(r.community_id, ("", ""))[0],
                 "street": names.get(r.community_id, ("", ""))[1], "status": r.status.value,
                 "status_label": REGISTRATION_LABELS[r.status.value], "registered_at": r.registered_at,
                 "ended_at": r.ended_at}
                for r in members.registrations(tx.session, tx.actor.member_id)]
        # Active ones first, then the ended ones, newest first within each.
        rows.sort(key=lambda r: (r["status"] != RegistrationStatus.active.value, -r["registered_at"].timestamp()))
        groups: dict[str, list] = {}
        for c, st in communities:
            groups.setdefault(st.name, []).append((c.id, c.name))
    return page(ctx.request, "member/registrations.html",
                {"registrations": rows, "options": list(groups.items()), "errors": errors or {},
                 "values": values or {}}, status=status)


@router.get("/member/registrations")
def registrations(ctx: WebCtx = Depends(get_web_ctx)):
    return _registrations_page(ctx)


@router.post("/member/registrations")
def register(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    community_id = forms.integer(form, "community_id")
    values = {"community_id": forms.text(form, "community_id")}
    if community_id is None:
        return _registrations_page(ctx, errors={"community_id": ctx.text(_("Choose a community."))},
                                   values=values, status=422)
    try:
        with ctx.transaction(roles=MEMBER) as tx:
            registration = members.register(tx.session, tx.actor, community_id)
            name = places.community(tx.session, registration.community_id).name
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        # Unknown community, already registered: both are about the community chosen.
        return _registrations_page(ctx, errors={"community_id": forms.message_of(ctx, exc)}, values=values,
                                   status=exc.status)
    ctx.flash(_("You are registered with {community}.", community=name))
    return redirect("/member/registrations")


@router.post("/member/registrations/{community_id}/end")
def end_registration(community_id: CommunityId, form: FormData = Depends(form_data),
                     ctx: WebCtx = Depends(get_web_ctx)):
    try:
        with ctx.transaction(roles=MEMBER) as tx:
            registration = members.end_registration(tx.session, tx.actor, community_id)
            name = places.community(tx.session, registration.community_id).name
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return _registrations_page(ctx, errors={"_form": forms.message_of(ctx, exc)}, status=exc.status)
    ctx.flash(_("Your registration with {community} has ended.", community=name))
    return redirect("/member/registrations")


# --- the task board ---------------------------------------------------------------------------------

@router.get("/member/tasks")
def task_board(page_no: int = Query(1, alias="page", ge=1, le=100_000), matching: bool = Query(False),
               ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=MEMBER) as tx:
        member_id = tx.actor.member_id
        registered = [r for r in members.registrations(tx.session, member_id)
                      if r.status == RegistrationStatus.active]
        categories = volunteer_views.board_categories(tx.session, tx.actor, matching)
        rows = repo.open_tasks(tx.session, member_id, utcnow(), limit=BOARD_PAGE + 1,
                               offset=(page_no - 1) * BOARD_PAGE, categories=categories)
        more = len(rows) > BOARD_PAGE
        rows = rows[:BOARD_PAGE]
        mine = zone_repo.covered_request_ids(tx.session, member_id, [r.id for r in rows])
        cards = [{**request_card(tx.session, tx.actor, r, ctx.locale), "in_my_zone": r.id in mine} for r in rows]
        held, limit = members.claim_allowance(tx.session, ctx.settings, member_id)
        has_zones = bool(zone_repo.zones_of(tx.session, member_id))
    return page(ctx.request, "member/tasks.html",
                {"tasks": cards, "registered": bool(registered), "held": held, "limit": limit,
                 "page_no": page_no, "more": more, "has_zones": has_zones, "matching": matching})


# --- my tasks -----------------------------------------------------------------------------------------

def _claim_line(tx, ctx: WebCtx, claim, request, reasons: dict[int, str]) -> dict:
    state = claim.progress
    return {"card": request_card(tx.session, tx.actor, request, ctx.locale), "state": state,
            "state_label": CLAIM_LABELS[state], "claimed_at": claim.claimed_at, "reported_at": claim.reported_at,
            "ended_at": claim.ended_at, "hours": claim.hours, "appraisal": claim.appraisal, "result": claim.result,
            "reason": reasons.get(request.id, "") if state == "sent_back" else "",
            "round": claim.round}


@router.get("/member/claims")
def my_claims(page_no: int = Query(1, alias="page", ge=1, le=100_000), ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=MEMBER) as tx:
        member_id = tx.actor.member_id
        live = repo.member_claims(tx.session, member_id, live_only=True, limit=200)
        finished = repo.member_claims(tx.session, member_id, finished_only=True, limit=FINISHED_PAGE + 1,
                                      offset=(page_no - 1) * FINISHED_PAGE)
        more = len(finished) > FINISHED_PAGE
        finished = finished[:FINISHED_PAGE]
        reasons = repo.last_notes(tx.session, [r.id for c, r in live if c.send_back_count], "send_back")
        held, limit = members.claim_allowance(tx.session, ctx.settings, member_id)
        context = {
            "live": [_claim_line(tx, ctx, c, r, reasons) for c, r in live],
            "finished": [_claim_line(tx, ctx, c, r, reasons) for c, r in finished],
            "held": held, "limit": limit, "page_no": page_no, "more": more,
        }
    return page(ctx.request, "member/claims.html", context)


# --- my record ----------------------------------------------------------------------------------------

@router.get("/member/record")
def my_record(period: str | None = Query(None, max_length=20), ctx: WebCtx = Depends(get_web_ctx)):
    errors: dict[str, str] = {}
    status = 200
    breakdown = None
    with ctx.transaction(roles=MEMBER) as tx:
        current = runs.current_period(tx.session, ctx.settings, utcnow())
        chosen = (period or "").strip() or current
        try:
            breakdown = views.member_breakdown(tx.session, ctx.settings, tx.actor, tx.actor.member_id, chosen,
                                               ctx.locale)
        except DomainError as exc:
            if exc.status in (401, 403):
                raise
            errors, status = {"period": ctx.text(exc.message)}, exc.status
    if breakdown is not None:
        breakdown = {**breakdown, "records": [_readable(r) for r in breakdown["records"]]}
    valid = _is_label(chosen)
    context = {
        "period": chosen, "current_period": current, "breakdown": breakdown, "errors": errors,
        "previous": periods.shift(chosen, -1) if valid else periods.shift(current, -1),
        "next": periods.shift(chosen, 1) if valid and chosen < current else None,
        "part_labels": PART_LABELS, "satisfaction_labels": SATISFACTION_LABELS,
    }
    return page(ctx.request, "member/record.html", context, status=status)


def _readable(record: dict) -> dict:
    """The breakdown's ISO dates as dates, for the locale's date format."""
    out = {**record, "period_start": date.fromisoformat(record["period_start"]),
           "period_end": date.fromisoformat(record["period_end"]),
           "computed_at": datetime.fromisoformat(record["computed_at"]),
           "tasks": [{**t, "verified_on": date.fromisoformat(t["verified_on"])} for t in record["tasks"]]}
    out["points"] = {**record["points"], "entries": [{**e, "date": date.fromisoformat(e["date"])}
                                                     for e in record["points"]["entries"]]}
    return out


def _is_label(value: str) -> bool:
    try:
        periods.parse(value)
    except DomainError:
        return False
    return True
