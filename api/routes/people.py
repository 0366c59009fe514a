"""The member register (党员名册): member classes, each member's entry, and the register as the
community's desk reads it, with the members gone quiet (隐身). The rules live in ``workflow.people``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from workflow.access import require_member
from workflow.people import commands, views

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["people"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut},
                                               404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})

Availability = Literal["weekday_daytime", "weekday_evening", "weekend"]


class ClassIn(BaseModel):
    model_config = s.Strict
    code: str = Field(max_length=32, description="Lower-case letters, digits and _, e.g. student.")
    name_zh: str = Field(max_length=30)
    name_en: str = Field(max_length=60)


class ClassOut(BaseModel):
    code: str
    name: str
    builtin: bool


class ProfileIn(BaseModel):
    """Only the fields given change. A member may give post, skills and availability of their own
    entry; the community's staff and secretary (and admins) any of them."""

    model_config = s.Strict
    class_code: str | None = Field(None, max_length=32, description="From GET /api/v1/member-classes; null: none.")
    post: str | None = Field(None, max_length=50, description="Their post at the home unit (职务).")
    skills: list[Annotated[str, Field(max_length=20)]] | None = Field(None, max_length=10,
                                                                     description="特长: short tags, e.g. 水电.")
    availability: list[Availability] | None = Field(None, max_length=3)


class ProfileOut(BaseModel):
    member_id: int
    class_code: str | None
    post: str
    skills: list[str]
    availability: list[str]
    updated_at: datetime | None


class RegisterEntryOut(ProfileOut):
    display_name: str
    unit: str = Field(description="The member's home unit.")
    registered_at: datetime
    last_claim: datetime | None
    last_visit: datetime | None
    last_active: datetime | None = Field(description="The later of the last claim and the last visit.")
    quiet: bool = Field(description="隐身: no task claimed and no visit recorded for the policy's quiet_weeks.")
    quiet_reason: Literal["nothing_since", "nothing_since_registering"] | None


class RegisterOut(BaseModel):
    community_id: int
    quiet_weeks: int = Field(description="The scoring policy in force's people.quiet_weeks.")
    quiet_since: datetime
    members: int = Field(description="Members registered now, before the filters.")
    quiet: int
    entries: list[RegisterEntryOut]


def _changes(body: ProfileIn) -> dict:
    return body.model_dump(exclude_unset=True)


@router.get("/member-classes", response_model=list[ClassOut])
def member_classes(ctx: Ctx = Depends(get_auth_ctx)):
    """The classes of member: built-in (在职党员 in_service, 离退休党员 retired, 流动党员 mobile,
    两新组织党员 new_organisation) and those admins added."""
    with ctx.transaction(read_only=True) as tx:
        return views.classes(tx.session, ctx.locale)


@router.post("/admin/member-classes", response_model=ClassOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def create_member_class(body: ClassIn, ctx: Ctx = Depends(get_auth_ctx)):
    """An admin adds a class of member; 409 `member_class_exists` when the code is taken."""
    with ctx.transaction() as tx:
        row = commands.create_class(tx.session, tx.actor, body.code, body.name_zh, body.name_en)
        return ClassOut(code=row.code, name=row.name_en if ctx.locale == "en" else row.name_zh, builtin=False)


@router.get("/communities/{community_id}/member-register", response_model=RegisterOut)
def member_register(community_id: s.CommunityId,
                    member_class: str | None = Query(None, alias="class", max_length=32,
                                                     description="Only this class."),
                    quiet: bool = Query(False, description="Only the members gone quiet."),
                    ctx: Ctx = Depends(get_auth_ctx)):
    """党员名册: the members registered with the community, with class, unit, post, skills,
    availability and their last task and visit; the community's staff and secretary, its street's
    officers and secretary, admins."""
    with ctx.transaction(read_only=True) as tx:
        return views.register(tx.session, tx.actor, community_id, timezone=ctx.settings.timezone,
                              class_code=member_class, quiet_only=quiet)


@router.get("/members/me/profile", response_model=ProfileOut)
def my_profile(ctx: Ctx = Depends(get_auth_ctx)):
    """The member's own entry in the register."""
    with ctx.transaction(read_only=True) as tx:
        return views.my_profile(tx.session, tx.actor)


@router.patch("/members/me/profile", response_model=ProfileOut, responses={403: {"model": s.ErrorOut}})
def edit_my_profile(body: ProfileIn, ctx: Ctx = Depends(get_auth_ctx)):
    """A member changes their post, skills and availability; their class is the desk's (403
    `field_not_yours`)."""
    with ctx.transaction() as tx:
        member_id = require_member(tx.actor)
        row = commands.update_profile(tx.session, tx.actor, member_id, _changes(body))
        return views.profile_out(member_id, row)


@router.patch("/members/{member_id}/profile", response_model=ProfileOut)
def edit_profile(member_id: s.MemberId, body: ProfileIn, ctx: Ctx = Depends(get_auth_ctx)):
    """The community's staff or secretary (of a community the member is registered with) or an
    admin changes a member's entry. Written to the audit log (`member.profile`)."""
    with ctx.transaction() as tx:
        row = commands.update_profile(tx.session, tx.actor, member_id, _changes(body))
        return views.profile_out(member_id, row)


class SkilledMemberOut(BaseModel):
    member_id: int
    display_name: str
    skills: list[str] = Field(description="The member's skills the request's category calls for.")


@router.get("/requests/{request_id}/skilled-members", response_model=list[SkilledMemberOut])
def skilled_members(request_id: s.RequestId, ctx: Ctx = Depends(get_auth_ctx)):
    """For the desk: the members registered with the request's community whose skills (特长) its
    category calls for (`skills` of the category and its parent), the most matching first."""
    with ctx.transaction(read_only=True) as tx:
        return views.skilled_for(tx.session, tx.actor, request_id)
