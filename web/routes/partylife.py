"""Pages of 组织生活 and annual targets: a member's check-in with the posted code (on a phone), the
desk's activities with their codes and attendance, and the community's members against their
targets.

Every page calls the same commands and views as the JSON routes in api/routes/partylife.py."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow.errors import DomainError
from workflow.i18n import _
from workflow.partylife import commands, views

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import desk_community

router = APIRouter(include_in_schema=False)

CLAIMERS = ("member", "volunteer")
READERS = ("staff", "secretary", "street_officer", "admin")
KEEPERS = ("staff", "secretary")
ACTIVITY_FIELDS = ("kind", "title", "held_on", "place")



# --- a member checks in ----------------------------------------------------------------------------

def _check_in_page(ctx: WebCtx, *, errors: dict | None = None, code: str = "", status: int = 200):
    with ctx.transaction(roles=CLAIMERS) as tx:
        attended = views.my_activities(tx.session, tx.actor, ctx.locale)
    return page(ctx.request, "partylife/check_in.html", {"attended": attended, "errors": errors or {},
                                                         "code": code}, status=status)


@router.get("/member/check-in")
def check_in_page(ctx: WebCtx = Depends(get_web_ctx)):
    return _check_in_page(ctx)


@router.post("/member/check-in")
def check_in(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    code = forms.text(form, "code")
    try:
        with ctx.transaction(roles=CLAIMERS) as tx:
            activity, _attendance, created = commands.check_in_with_code(tx.session, ctx.settings.timezone,
                                                                         tx.actor, code)
            title = activity.title
    except DomainError as exc:
        if exc.status == 401 or exc.code == "wrong_role":
            raise
        return _check_in_page(ctx, errors={"_form": forms.message_of(ctx, exc),
                                           **forms.errors_of(ctx, exc, ("code",))}, code=code, status=exc.status)
    ctx.flash(_("Checked in: {title}.", title=title) if created else _("You were already checked in: {title}.",
                                                                        title=title))
    return redirect("/member/check-in")


# --- the desk: activities ----------------------------------------------------------------------------

def _activities_page(ctx: WebCtx, community_id: int | None, *, errors: dict | None = None,
                     values: dict | None = None, status: int = 200):
    with ctx.transaction(roles=READERS) as tx:
        community_id = desk_community(tx.session, tx.actor, community_id)
        rows = views.community_activities(tx.session, tx.actor, community_id, ctx.locale)
        may_keep = tx.actor.role in KEEPERS and tx.actor.community_id == community_id
    return page(ctx.request, "partylife/activities.html",
                {"community_id": community_id, "activities": rows, "may_keep": may_keep,
                 "kinds": views.kind_options(ctx.locale), "errors": errors or {},
                 "values": values or {"held_on": ctx.settings.today().isoformat()}}, status=status)


@router.get("/desk/activities")
def activities(community_id: int | None = Query(None, ge=1, le=2**31 - 1), ctx: WebCtx = Depends(get_web_ctx)):
    return _activities_page(ctx, community_id)


@router.post("/desk/activities")
def post_activity(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {name: forms.text(form, name) for name in ACTIVITY_FIELDS}
    try:
        held_on = date.fromisoformat(values["held_on"]) if values["held_on"] else None
    except ValueError:
        held_on = None
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            activity = commands.post(tx.session, ctx.settings.timezone, tx.actor, tx.actor.community_id,
                                     {**values, "held_on": held_on})
            activity_id = activity.id
    except DomainError as exc:
        if exc.status == 401 or exc.code == "wrong_role":
            raise
        return _activities_page(ctx, None, errors={"_form": forms.message_of(ctx, exc),
                                                   **forms.errors_of(ctx, exc, ACTIVITY_FIELDS)},
                                values=values, status=exc.status)
    ctx.flash(_("The activity is posted: post its check-in code where members will see it."))
    return redirect(f"/desk/activities/{activity_id}")


def _activity_page(ctx: WebCtx, activity_id: int, *, errors: dict | None = None, status: int = 200):
    with ctx.transaction(roles=READERS) as tx:
        detail = views.activity(tx.session, tx.actor, activity_id, ctx.locale)
    return page(ctx.request, "partylife/activity.html", {"a": detail, "errors": errors or {}}, status=status)


@router.get("/desk/activities/{activity_id}")
def activity(activity_id: DbId, ctx: WebCtx = Depends(get_web_ctx)):
    return _activity_page(ctx, activity_id)


@router.post("/desk/activities/{activity_id}/attendance")
def attend(activity_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            commands.check_in(tx.session, ctx.settings.timezone, tx.actor, activity_id,
                              forms.integer(form, "member_id"))
    except DomainError as exc:
        if exc.status == 401 or exc.code in ("wrong_role", "activity_not_found"):
            raise
        return _activity_page(ctx, activity_id, errors={"_form": forms.message_of(ctx, exc)}, status=exc.status)
    ctx.flash(_("Checked in."))
    return redirect(f"/desk/activities/{activity_id}")


# --- the desk: annual targets ------------------------------------------------------------------------

@router.get("/desk/targets")
def targets(community_id: int | None = Query(None, ge=1, le=2**31 - 1),
            year: int | None = Query(None, ge=2000, le=9999),
            check: str = Query("year_end", pattern="^(mid_year|year_end)$"), ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=READERS) as tx:
        community_id = desk_community(tx.session, tx.actor, community_id)
        progress = views.community_targets(tx.session, tx.actor, community_id, ctx.locale, year=year, check=check,
                                           today=ctx.settings.today())
    return page(ctx.request, "partylife/targets.html", {"p": progress, "checks": views.CHECK_LABELS})
