"""Logging in and out, resident sign-up, who am I, and admin-made accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from workflow.access import Actor, require_admin
from workflow.commands import accounts
from workflow.models import Role

from .. import schemas as s
from ..context import Ctx, get_auth_ctx, get_ctx

router = APIRouter(tags=["accounts"], responses={401: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})


@router.post("/auth/login", response_model=s.TokenOut, responses={429: {"model": s.ErrorOut}})
def login(body: s.LoginIn, request: Request, ctx: Ctx = Depends(get_ctx)):
    """Exchange a username and password for a bearer token (send it as `Authorization: Bearer ...`).

    After 5 failed attempts in a row for one username, or 30 failed attempts of any usernames from
    one address, within 15 minutes (the `SHOUBANPING_LOGIN_*` settings), attempts are refused with
    429 `too_many_attempts` and a `Retry-After` header until the oldest of those failures is 15
    minutes old. Every attempt is logged (`GET /admin/logins`)."""
    with ctx.transaction(auth=False) as tx:
        attempt = accounts.login(tx.session, ctx.settings, body.username, body.password,
                                 address=request.client.host if request.client else "", door="api")
        if attempt.refusal is None:
            actor = Actor.of(tx.session, attempt.account)
            out = s.TokenOut(access_token=attempt.token, expires_at=attempt.row.expires_at,
                             account=s.account_out(attempt.account, actor))
    attempt.raise_refusal()  # after the commit: the refused attempt stays in the log and counts
    return out


@router.post("/auth/logout", status_code=204)
def logout(ctx: Ctx = Depends(get_auth_ctx)):
    """Revoke the token used for this call."""
    with ctx.transaction() as tx:
        accounts.logout(tx.session, ctx.settings, ctx.token)
    return Response(status_code=204)


@router.post("/auth/signup", response_model=s.AccountOut, status_code=201, responses={409: {"model": s.ErrorOut}})
def signup(body: s.SignupIn, ctx: Ctx = Depends(get_ctx)):
    """A resident creates their own account."""
    with ctx.transaction(auth=False) as tx:
        account = accounts.create_account(tx.session, role=Role.resident, by=accounts.SELF, **body.model_dump())
        return s.account_out(account)


@router.get("/me", response_model=s.AccountOut)
def me(ctx: Ctx = Depends(get_auth_ctx)):
    """The logged-in account."""
    with ctx.transaction() as tx:
        return s.account_out(tx.account, tx.actor)


@router.post("/accounts", response_model=s.AccountOut, status_code=201,
             responses={403: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut}})
def create_account(body: s.AccountIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Admins create accounts of any role: staff and secretaries with their community or street,
    street officers with their street, members with their home unit."""
    with ctx.transaction() as tx:
        require_admin(tx.actor)
        account = accounts.create_account(tx.session, by=tx.actor, **body.model_dump())
        return s.account_out(account, Actor.of(tx.session, account))
