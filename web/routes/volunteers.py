"""Pages of the volunteer side: a resident signs up as a volunteer (我要当志愿者), the volunteer's time
bank, and the desk's list of its volunteers where staff record a service received.

Every page calls the same commands and views as the JSON routes in api/routes/volunteers.py; the
task board, my tasks, registrations and my record are the member's pages (web/routes/member.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow.errors import DomainError
from workflow.i18n import _
from workflow.repository import places
from workflow.volunteers import commands, views

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import desk_community

router = APIRouter(include_in_schema=False)

DESK = ("staff", "secretary", "street_officer", "admin")
RECORDERS = ("staff", "secretary")


@router.get("/volunteer/join")
def join_form(ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=("resident",)):
        pass
    return page(ctx.request, "volunteer/join.html", {"errors": {}})


@router.post("/volunteer/join")
def join(ctx: WebCtx = Depends(get_web_ctx)):
    try:
        with ctx.transaction(roles=("resident",)) as tx:
            commands.become_volunteer(tx.session, tx.actor)
    except DomainError as exc:
        if exc.status in (401, 403):
            raise
        return page(ctx.request, "volunteer/join.html", {"errors": {"_form": forms.message_of(ctx, exc)}},
                    status=exc.status)
    ctx.flash(_("Thank you! You are a volunteer now. Register with your community to see its tasks."))
    return redirect("/member/registrations")


@router.get("/volunteer/time-bank")
def my_time_bank(ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=("volunteer",)) as tx:
        bank = views.time_bank(tx.session, tx.actor)
        names = _community_names(tx)
    return page(ctx.request, "volunteer/time_bank.html", {"bank": bank, "names": names})


def _community_names(tx) -> dict[int, str]:
    return {c.id: c.name for c, _st in places.communities(tx.session)}


def _desk_page(ctx: WebCtx, community_id: int | None, *, errors: dict | None = None, editing: int | None = None,
               values: dict | None = None, status: int = 200):
    with ctx.transaction(roles=DESK) as tx:
        community_id = desk_community(tx.session, tx.actor, community_id)
        data = views.community_volunteers(tx.session, tx.actor, community_id)
        may_record = tx.actor.role in RECORDERS and tx.actor.community_id == community_id
    return page(ctx.request, "desk/volunteers.html",
                {"data": data, "may_record": may_record, "errors": errors or {}, "editing": editing,
                 "values": values or {}}, status=status)


@router.get("/desk/volunteers")
def desk_volunteers(community_id: int | None = Query(None, ge=1, le=2**31 - 1), ctx: WebCtx = Depends(get_web_ctx)):
    return _desk_page(ctx, community_id)


@router.post("/desk/volunteers/{member_id}/services")
def record_service(member_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {"hours": forms.text(form, "hours"), "note": forms.text(form, "note")}
    try:
        with ctx.transaction(roles=RECORDERS) as tx:
            commands.record_service(tx.session, ctx.settings.timezone, tx.actor, member_id, values["hours"] or None,
                                    values["note"])
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _desk_page(ctx, None, errors={"_form": forms.message_of(ctx, exc),
                                             **forms.errors_of(ctx, exc, ("hours", "note"))},
                          editing=member_id, values=values, status=exc.status)
    ctx.flash(_("The service was recorded."))
    return redirect(f"/desk/volunteers#volunteer-{member_id}")
