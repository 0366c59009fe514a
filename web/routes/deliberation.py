"""Pages of 建言 and 议事: a resident's (volunteer's, member's) suggestions and the form to make one;
the desk's list of the community's suggestions with their steps, convening a meeting, and the
meeting's page where its votes and decision are recorded.

Every page calls the same commands and views as the JSON routes in api/routes/deliberation.py."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow.deliberation import commands, views
from workflow.deliberation.lifecycle import STATUS_LABELS, TRIGGER_LABELS
from workflow.deliberation.models import SuggestionStatus
from workflow.errors import DomainError
from workflow.i18n import _
from workflow.repository import places

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import desk_community

router = APIRouter(include_in_schema=False)

AUTHORS = ("resident", "volunteer", "member")
READERS = ("staff", "secretary", "street_officer", "admin")
KEEPERS = ("staff", "secretary")
SUGGESTION_FIELDS = ("community_id", "title", "body")
MEETING_FIELDS = ("topic", "held_on", "participants", "participant_count", "options", "suggestion_ids",
                  "request_ids")
DECISION_FIELDS = ("votes", "chosen", "decision", "outcome")


# --- 建言: my suggestions ---------------------------------------------------------------------------

def _mine_page(ctx: WebCtx, *, errors: dict | None = None, values: dict | None = None, status: int = 200):
    with ctx.transaction(roles=AUTHORS) as tx:
        rows = views.mine(tx.session, tx.actor, ctx.locale)
        communities = places.communities(tx.session)
        default = tx.account.community_id
    groups: dict[str, list] = {}
    for c, st in communities:
        groups.setdefault(st.name, []).append((c.id, c.name))
    names = {c.id: c.name for c, _st in communities}
    values = values or {"community_id": default}
    return page(ctx.request, "deliberation/mine.html",
                {"suggestions": rows, "options": list(groups.items()), "names": names, "errors": errors or {},
                 "values": values}, status=status)


@router.get("/my/suggestions")
def my_suggestions(ctx: WebCtx = Depends(get_web_ctx)):
    return _mine_page(ctx)


@router.post("/my/suggestions")
def suggest(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {"community_id": forms.integer(form, "community_id"), "title": forms.text(form, "title"),
              "body": forms.text(form, "body")}
    try:
        with ctx.transaction(roles=AUTHORS) as tx:
            commands.submit(tx.session, tx.actor, values["community_id"], values["title"], values["body"])
    except DomainError as exc:
        if exc.status == 401 or exc.code == "wrong_role":
            raise
        return _mine_page(ctx, errors={"_form": forms.message_of(ctx, exc),
                                       **forms.errors_of(ctx, exc, SUGGESTION_FIELDS)},
                          values=values, status=exc.status)
    ctx.flash(_("Thank you: your suggestion was received."))
    return redirect("/my/suggestions")


# --- the desk: the community's suggestions and meetings ----------------------------------------------

def _desk_page(ctx: WebCtx, community_id: int | None, status_filter: str | None = None, *,
               errors: dict | None = None, values: dict | None = None, editing: int | None = None,
               status: int = 200):
    with ctx.transaction(roles=READERS) as tx:
        community_id = desk_community(tx.session, tx.actor, community_id)
        rows = views.community_suggestions(tx.session, tx.actor, community_id, ctx.locale, status_filter or None)
        meetings = views.community_meetings(tx.session, tx.actor, community_id, ctx.locale)
        may_keep = tx.actor.role in KEEPERS and tx.actor.community_id == community_id
    open_ones = [r for r in rows if r["status"] in ("received", "deliberating") and not r["meeting_id"]]
    return page(ctx.request, "deliberation/desk.html",
                {"community_id": community_id, "suggestions": rows, "meetings": meetings, "open_ones": open_ones,
                 "may_keep": may_keep, "errors": errors or {}, "values": values or {}, "editing": editing,
                 "trigger_labels": TRIGGER_LABELS, "statuses": [(s.value, STATUS_LABELS[s]) for s in SuggestionStatus],
                 "status_filter": status_filter or "", "today": ctx.settings.today()},
                status=status)


@router.get("/desk/suggestions")
def desk_suggestions(community_id: int | None = Query(None, ge=1, le=2**31 - 1),
                     status: str | None = Query(None, max_length=16), ctx: WebCtx = Depends(get_web_ctx)):
    return _desk_page(ctx, community_id, status)


@router.post("/desk/suggestions/{suggestion_id}/act/{trigger}")
def step(suggestion_id: DbId, trigger: str, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    params = {name: forms.text(form, name) for name in ("note", "reason", "result")}
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            commands.act(tx.session, tx.actor, suggestion_id, trigger, params)
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _desk_page(ctx, None, errors={"_form": forms.message_of(ctx, exc)}, editing=suggestion_id,
                          status=exc.status)
    ctx.flash(_("Saved."))
    return redirect(f"/desk/suggestions#suggestion-{suggestion_id}")


def _ids(form: FormData, name: str) -> list:
    raw = form.getlist(name)
    out = []
    for value in raw:
        if isinstance(value, str):
            out.extend(forms.to_int(v) for v in value.replace("，", ",").replace(" ", ",").split(",") if v)
    return out


def _day(raw: str):
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@router.post("/desk/meetings")
def convene(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {name: forms.text(form, name) for name in ("topic", "held_on", "participants", "participant_count",
                                                        "options", "request_ids")}
    fields = {"topic": values["topic"], "held_on": _day(values["held_on"]), "participants": values["participants"],
              "participant_count": forms.integer(form, "participant_count"),
              "options": [line.strip() for line in values["options"].splitlines() if line.strip()],
              "suggestion_ids": _ids(form, "suggestion_ids"), "request_ids": _ids(form, "request_ids")}
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            meeting = commands.convene(tx.session, tx.actor, tx.actor.community_id, fields)
            meeting_id = meeting.id
    except DomainError as exc:
        if exc.status in (401,) or exc.code == "wrong_role":
            raise
        return _desk_page(ctx, None, errors={"_meeting": forms.message_of(ctx, exc),
                                             **forms.errors_of(ctx, exc, MEETING_FIELDS)},
                          values=values, status=exc.status)
    ctx.flash(_("The meeting was recorded. Record its decision when it is taken."))
    return redirect(f"/desk/meetings/{meeting_id}")


def _meeting_page(ctx: WebCtx, meeting_id: int, *, errors: dict | None = None, values: dict | None = None,
                  status: int = 200):
    with ctx.transaction(roles=READERS) as tx:
        meeting = views.meeting(tx.session, tx.actor, meeting_id, ctx.locale)
        may_keep = tx.actor.role in KEEPERS and tx.actor.community_id == meeting["community_id"]
    return page(ctx.request, "deliberation/meeting.html",
                {"meeting": meeting, "may_keep": may_keep, "errors": errors or {}, "values": values or {}},
                status=status)


@router.get("/desk/meetings/{meeting_id}")
def meeting_page(meeting_id: DbId, ctx: WebCtx = Depends(get_web_ctx)):
    return _meeting_page(ctx, meeting_id)


@router.post("/desk/meetings/{meeting_id}/decision")
def decide(meeting_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    votes = [forms.to_int(v.strip() or "0") for v in form.getlist("votes") if isinstance(v, str)]
    fields = {"votes": votes, "chosen": forms.integer(form, "chosen"), "decision": forms.text(form, "decision"),
              "outcome": forms.text(form, "outcome")}
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            commands.decide(tx.session, tx.actor, meeting_id, fields)
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        return _meeting_page(ctx, meeting_id, errors={"_form": forms.message_of(ctx, exc),
                                                      **forms.errors_of(ctx, exc, DECISION_FIELDS)},
                             values=fields, status=exc.status)
    ctx.flash(_("The decision was recorded."))
    return redirect(f"/desk/meetings/{meeting_id}")
