"""The front door: the landing page, logging in and out, resident sign-up, the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from workflow.commands import accounts
from workflow.errors import DomainError, TooManyRequests
from workflow.i18n import SUPPORTED, _
from workflow.models import Role
from workflow.repository import places

from .. import forms
from ..context import WebCtx, WebUser, form_data, get_web_ctx
from ..nav import home_of
from ..render import page, redirect, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/")
def index(ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(auth=False) as tx:
        if tx.account is not None:
            return redirect(home_of(tx.account.role.value))
    return page(ctx.request, "index.html")


@router.get("/login")
def login_form(next: str = Query("", max_length=500), ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(auth=False) as tx:
        if tx.account is not None:
            return redirect(safe_next(next, home_of(tx.account.role.value)))
    return page(ctx.request, "auth/login.html", {"next": safe_next(next, ""), "errors": {}, "username": ""})


def _end_previous_login(tx, ctx: WebCtx) -> None:
    """Logging in over a login ends the earlier one on the server, not only in this cookie."""
    if ctx.session.token:
        accounts.logout(tx.session, ctx.settings, ctx.session.token)


@router.post("/login")
def login(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    username, password = forms.text(form, "username"), form.get("password") or ""
    target = safe_next(forms.text(form, "next"), "")
    try:
        with ctx.transaction(auth=False) as tx:
            attempt = accounts.login(tx.session, ctx.settings, username, str(password),
                                     address=ctx.request.client.host if ctx.request.client else "", door="page")
            if attempt.refusal is None:
                _end_previous_login(tx, ctx)
                role = attempt.account.role.value
                ctx.request.state.web_user = WebUser.of(attempt.account)
        attempt.raise_refusal()  # after the commit: the refused attempt stays in the log and counts
    except DomainError as exc:
        return page(ctx.request, "auth/login.html",
                    {"next": target, "username": username, "errors": {"_form": forms.message_of(ctx, exc)}},
                    status=exc.status, headers=exc.headers if isinstance(exc, TooManyRequests) else None)
    ctx.session.login(attempt.token)
    return redirect(target or home_of(role))


@router.post("/logout")
def logout(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    token = ctx.session.token
    if token:
        try:
            with ctx.transaction(auth=False) as tx:
                accounts.logout(tx.session, ctx.settings, token)
        except DomainError:
            pass  # already expired or revoked: logging out is done either way
    ctx.session.logout()
    ctx.flash(_("You have logged out."))
    return redirect("/")


SIGNUP_FIELDS = ("username", "password", "display_name", "phone", "community_id")


def _signup_page(ctx: WebCtx, values: dict, errors: dict, status: int = 200):
    with ctx.transaction(auth=False) as tx:
        communities = [(c.id, f"{st.name} · {c.name}") for c, st in places.communities(tx.session)]
    return page(ctx.request, "auth/signup.html", {"values": values, "errors": errors, "communities": communities},
                status=status)


@router.get("/signup")
def signup_form(ctx: WebCtx = Depends(get_web_ctx)):
    return _signup_page(ctx, {}, {})


@router.post("/signup")
def signup(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {name: forms.text(form, name) for name in SIGNUP_FIELDS}
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    try:
        with ctx.transaction(auth=False) as tx:
            account = accounts.create_account(
                tx.session, role=Role.resident, by=accounts.SELF, username=values["username"], password=password,
                display_name=values["display_name"], phone=values["phone"] or None,
                community_id=forms.integer(form, "community_id") if values["community_id"] else None)
            token, _row = accounts.issue_token(tx.session, ctx.settings, account)
            _end_previous_login(tx, ctx)
    except DomainError as exc:
        values.pop("password")
        return _signup_page(ctx, values, forms.errors_of(ctx, exc, SIGNUP_FIELDS), status=exc.status)
    ctx.session.login(token)
    ctx.flash(_("Welcome! Your account is ready."))
    return redirect(home_of("resident"))


@router.post("/language")
def language(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    locale = forms.text(form, "locale")
    if locale in SUPPORTED:
        ctx.session.set_locale(locale)
    return redirect(safe_next(forms.text(form, "next"), "/"))
