"""Pages of the member register (党员名册): a member's own entry (我的特长) and the register as the
community's desk keeps it, with the members gone quiet.

Every page calls the same commands and views as the JSON routes in api/routes/people.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow.errors import DomainError
from workflow.i18n import _
from workflow.people import commands, views

from .. import forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import desk_community

router = APIRouter(include_in_schema=False)

READERS = ("staff", "secretary", "street_officer", "admin")
KEEPERS = ("staff", "secretary", "admin")


def _quiet_text(reason: str, day: str):
    if reason == "nothing_since":
        return _("No task or visit since {day}", day=day)
    return _("Nothing since registering on {day}", day=day)


def _skills(form: FormData) -> list[str]:
    """Skills as typed: separated by commas (either width) or spaces."""
    text = forms.text(form, "skills").replace("，", ",").replace("、", ",")
    return [s for part in text.split(",") for s in part.split()]


def _entry_changes(form: FormData, *, with_class: bool) -> dict:
    changes = {"post": forms.text(form, "post"), "skills": _skills(form),
               "availability": [a for a in form.getlist("availability") if isinstance(a, str)]}
    if with_class:
        changes["class_code"] = forms.text(form, "class_code") or None
    return changes


# --- 我的特长: the member's own entry ----------------------------------------------------------------

def _profile_page(ctx: WebCtx, *, errors: dict | None = None, values: dict | None = None, status: int = 200):
    with ctx.transaction(roles=("member",)) as tx:
        entry = values or views.my_profile(tx.session, tx.actor)
        names = {c["code"]: c["name"] for c in views.classes(tx.session, ctx.locale)}
    context = {"entry": entry, "class_name": names.get(entry.get("class_code") or "", ""),
               "availability": views.availability_choices(ctx.locale), "errors": errors or {}}
    return page(ctx.request, "member/profile.html", context, status=status)


@router.get("/member/profile")
def my_profile(ctx: WebCtx = Depends(get_web_ctx)):
    return _profile_page(ctx)


@router.post("/member/profile")
def save_my_profile(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    changes = _entry_changes(form, with_class=False)
    try:
        with ctx.transaction(roles=("member",)) as tx:
            commands.update_profile(tx.session, tx.actor, tx.actor.member_id, changes)
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _profile_page(ctx, errors={"_form": forms.message_of(ctx, exc),
                                          **forms.errors_of(ctx, exc, ("post", "skills", "availability"))},
                             values={**changes, "class_code": None}, status=exc.status)
    ctx.flash(_("Saved."))
    return redirect("/member/profile")


# --- 党员名册: the community's register ---------------------------------------------------------------

def _register_page(ctx: WebCtx, community_id: int | None, member_class: str | None, quiet: bool, *,
                   errors: dict | None = None, editing: int | None = None, status: int = 200):
    with ctx.transaction(roles=READERS) as tx:
        community_id = desk_community(tx.session, tx.actor, community_id)
        register = views.register(tx.session, tx.actor, community_id, timezone=ctx.settings.timezone,
                                  class_code=member_class or None, quiet_only=quiet)
        classes = views.classes(tx.session, ctx.locale)
        may_edit = tx.actor.role in KEEPERS
    names = {c["code"]: c["name"] for c in classes}
    available = {a["code"]: a["name"] for a in views.availability_choices(ctx.locale)}
    for e in register["entries"]:
        e["class_name"] = names.get(e["class_code"] or "", "")
        e["availability_names"] = [available[a] for a in e["availability"]]
        if e["quiet"]:
            day = (e["last_active"] or e["registered_at"]).date().isoformat()
            e["quiet_text"] = ctx.text(_quiet_text(e["quiet_reason"], day))
    context = {"register": register, "classes": [(c["code"], c["name"]) for c in classes],
               "availability": list(available.items()), "member_class": member_class or "", "quiet": quiet,
               "may_edit": may_edit, "errors": errors or {}, "editing": editing}
    return page(ctx.request, "desk/members.html", context, status=status)


@router.get("/desk/members")
def member_register(community_id: int | None = Query(None, ge=1, le=2**31 - 1),
                    member_class: str | None = Query(None, alias="class", max_length=32),
                    quiet: bool = Query(False), ctx: WebCtx = Depends(get_web_ctx)):
    return _register_page(ctx, community_id, member_class, quiet)


@router.post("/desk/members/{member_id}")
def save_entry(member_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    changes = _entry_changes(form, with_class=True)
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            commands.update_profile(tx.session, tx.actor, member_id, changes)
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _register_page(ctx, None, None, False, errors={"_form": forms.message_of(ctx, exc)},
                              editing=member_id, status=exc.status)
    ctx.flash(_("Saved."))
    return redirect(f"/desk/members#member-{member_id}")
