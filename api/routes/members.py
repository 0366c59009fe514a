"""The member's side: registrations (双报到), the task board and their claims."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from workflow.access import require_claimer
from workflow.commands import members, zones
from workflow.models import Account, utcnow
from workflow.repository import requests as repo
from workflow.repository import zones as zone_repo
from workflow.volunteers import views as volunteer_views

from .. import schemas as s
from ..context import Ctx, Tx, get_auth_ctx

router = APIRouter(tags=["members"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})


def _member(tx: Tx) -> int:
    return require_claimer(tx.actor)


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


@router.delete("/registrations/{community_id}", response_model=s.RegistrationOut,
               responses={404: {"model": s.ErrorOut}})
def end_registration(community_id: s.CommunityId, ctx: Ctx = Depends(get_auth_ctx)):
    """End the registration with a community. Claims already held stay with the member."""
    with ctx.transaction() as tx:
        return _registration_out(members.end_registration(tx.session, tx.actor, community_id))


@router.get("/tasks", response_model=list[s.RequestOut])
def task_board(limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
               matching: bool = Query(False, description="Only tasks whose category calls for one of my skills."),
               ctx: Ctx = Depends(get_auth_ctx)):
    """The task board: open tasks in the communities the member is registered with. Tasks in the
    member's responsibility zones come first, then the rest, oldest first. A new task is offered
    to the members of its zone first (SHOUBANPING_ZONE_OFFER_MINUTES) before everyone sees it.
    `matching`: only the tasks whose category calls for a skill in the member's register entry.
    A volunteer sees only the tasks whose category allows volunteers."""
    with ctx.transaction(read_only=True) as tx:
        member_id = _member(tx)
        categories = volunteer_views.board_categories(tx.session, tx.actor, matching)
        rows = repo.open_tasks(tx.session, member_id, utcnow(), limit=limit, offset=offset, categories=categories)
        out = s.requests_out(tx.session, tx.actor, rows, ctx.locale, registered=repo.board_communities(rows))
    return s.json_response(list[s.RequestOut], out)


@router.get("/claims/mine", response_model=list[s.ClaimWithRequestOut])
def my_claims(live: bool = Query(False, description="Only claims still being worked on or checked."),
              limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
              ctx: Ctx = Depends(get_auth_ctx)):
    """The member's claims, newest first, each with its request."""
    with ctx.transaction() as tx:
        rows = repo.member_claims(tx.session, _member(tx), live_only=live, limit=limit, offset=offset)
        return [s.ClaimWithRequestOut(claim=s.claim_out(c), request=s.request_out(tx.session, tx.actor, r, ctx.locale))
                for c, r in rows]


class ZoneIn(BaseModel):
    model_config = s.Strict
    grid_id: s.DbId | None = None
    building_id: s.DbId | None = None


class ZoneOut(BaseModel):
    id: int
    member_id: int
    community_id: int
    grid_id: int | None
    building_id: int | None


class CommunityMemberOut(BaseModel):
    member_id: int
    account_id: int
    display_name: str
    claim_limit: int | None
    zones: list[ZoneOut]


class ClaimLimitIn(BaseModel):
    model_config = s.Strict
    claim_limit: int | None = Field(description="1 to 50, or null for the default. Required.")


def _zone_out(z) -> ZoneOut:
    return ZoneOut(id=z.id, member_id=z.member_id, community_id=z.community_id, grid_id=z.grid_id,
                   building_id=z.building_id)


@router.get("/community/members", response_model=list[CommunityMemberOut])
def community_members(ctx: Ctx = Depends(get_auth_ctx)):
    """Community staff: the members registered with their community, with their responsibility zones."""
    with ctx.transaction() as tx:
        return [
            CommunityMemberOut(member_id=m.id, account_id=a.id, display_name=a.display_name, claim_limit=m.claim_limit,
                               zones=[_zone_out(z) for z in member_zones])
            for m, a, member_zones in zones.community_members(tx.session, tx.actor)
        ]


@router.post("/members/{member_id}/zones", response_model=ZoneOut, status_code=201,
             responses={404: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def assign_zone(member_id: s.MemberId, body: ZoneIn, ctx: Ctx = Depends(get_auth_ctx)):
    """责任区: community staff give a registered member one grid or one building to look after.
    New tasks there are offered to that member first, and they are notified."""
    with ctx.transaction() as tx:
        zone = zones.assign(tx.session, tx.actor, member_id, grid_id=body.grid_id, building_id=body.building_id)
        return _zone_out(zone)


@router.delete("/members/{member_id}/zones/{zone_id}", status_code=204, responses={404: {"model": s.ErrorOut}})
def remove_zone(member_id: s.MemberId, zone_id: s.ZoneId, ctx: Ctx = Depends(get_auth_ctx)):
    """Take a responsibility zone away from a member."""
    with ctx.transaction() as tx:
        zones.remove(tx.session, tx.actor, member_id, zone_id)
    return Response(status_code=204)


@router.put("/members/{member_id}/claim-limit", response_model=CommunityMemberOut,
            responses={404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def set_claim_limit(member_id: s.MemberId, body: ClaimLimitIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Community staff set how many open claims a member registered with them may hold at once
    (1 to 50); null goes back to the default, SHOUBANPING_DEFAULT_CLAIM_LIMIT."""
    with ctx.transaction() as tx:
        member = members.set_claim_limit(tx.session, tx.actor, member_id, body.claim_limit)
        account = tx.session.get(Account, member.account_id)
        return CommunityMemberOut(member_id=member.id, account_id=account.id, display_name=account.display_name,
                                  claim_limit=member.claim_limit,
                                  zones=[_zone_out(z) for z in zone_repo.zones_of(tx.session, member.id)
                                         if z.community_id == tx.actor.community_id])
