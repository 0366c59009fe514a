"""The member's side: registrations (双报到), the task board and their claims."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from workflow.commands import members
from workflow.errors import Forbidden
from workflow.i18n import _
from workflow.models import Role
from workflow.repository import requests as repo

from .. import schemas as s
from ..context import Ctx, Tx, get_auth_ctx

router = APIRouter(tags=["members"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})


def _member(tx: Tx) -> int:
    if tx.actor.role != Role.member or tx.actor.member_id is None:
        raise Forbidden(_("This is for members."), code="role_not_allowed")
    return tx.actor.member_id


def _registration_out(r) -> s.RegistrationOut:
    return s.RegistrationOut(id=r.id, community_id=r.community_id, status=r.status.value,
                             registered_at=r.registered_at, ended_at=r.ended_at)


@router.get("/registrations", response_model=list[s.RegistrationOut])
def list_registrations(ctx: Ctx = Depends(get_auth_ctx)):
    """The member's registrations, active and ended."""
    with ctx.transaction() as tx:
        return [_registration_out(r) for r in members.registrations(tx.session, _member(tx))]


@router.post("/registrations", response_model=s.RegistrationOut, status_code=201,
             responses={409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def register(body: s.RegistrationIn, ctx: Ctx = Depends(get_auth_ctx)):
    """报到: register with the community where the member lives, to see and claim its tasks."""
    with ctx.transaction() as tx:
        return _registration_out(members.register(tx.session, tx.actor, body.community_id))


@router.delete("/registrations/{community_id}", response_model=s.RegistrationOut)
def end_registration(community_id: s.CommunityId, ctx: Ctx = Depends(get_auth_ctx)):
    """End the registration with a community. Claims already held stay with the member."""
    with ctx.transaction() as tx:
        return _registration_out(members.end_registration(tx.session, tx.actor, community_id))


@router.get("/tasks", response_model=list[s.RequestOut])
def task_board(limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0), ctx: Ctx = Depends(get_auth_ctx)):
    """The task board: open tasks in the communities the member is registered with, oldest first."""
    with ctx.transaction() as tx:
        rows = repo.open_tasks(tx.session, _member(tx), limit=limit, offset=offset)
        return [s.request_out(tx.session, tx.actor, r, ctx.locale) for r in rows]


@router.get("/claims/mine", response_model=list[s.ClaimWithRequestOut])
def my_claims(live: bool = Query(False, description="Only claims still being worked on or checked."),
              limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0), ctx: Ctx = Depends(get_auth_ctx)):
    """The member's claims, newest first, each with its request."""
    with ctx.transaction() as tx:
        rows = repo.member_claims(tx.session, _member(tx), live_only=live, limit=limit, offset=offset)
        return [s.ClaimWithRequestOut(claim=s.claim_out(c), request=s.request_out(tx.session, tx.actor, r, ctx.locale))
                for c, r in rows]
