"""组织生活 and annual targets: a community's activities, check-ins, and members' targets with the
mid-year check and the year-end assessment. The rules live in ``workflow.partylife``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from workflow.partylife import commands, views

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["party life"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut},
                                                   404: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut},
                                                   422: {"model": s.ErrorOut}})
Kind = Literal["study_day", "theme_day", "volunteer_activity", "care_visit"]
Check = Literal["mid_year", "year_end"]



class ActivityIn(BaseModel):
    model_config = s.Strict
    kind: Kind = Field(description="固定学习日 study_day, 主题党日 theme_day, volunteer_activity, care_visit.")
    title: str = Field(max_length=100)
    held_on: date = Field(strict=False)
    place: str = Field("", max_length=100)


class ActivityOut(BaseModel):
    id: int
    community_id: int
    kind: str
    kind_label: str
    title: str
    held_on: date
    place: str
    attended: int
    code: str | None = Field(description="The check-in code to post; only for the community's staff and secretary.")


class AttendeeOut(BaseModel):
    member_id: int
    display_name: str
    method: str = Field(description="code or organiser.")
    method_label: str
    at: datetime


class WaitingOut(BaseModel):
    member_id: int
    display_name: str


class ActivityDetailOut(ActivityOut):
    attendees: list[AttendeeOut]
    not_checked_in: list[WaitingOut] = Field(description="For the staff and secretary: registered members not "
                                                         "checked in yet.")


class AttendanceIn(BaseModel):
    model_config = s.Strict
    member_id: s.DbId


class CodeIn(BaseModel):
    model_config = s.Strict
    code: str = Field(max_length=16, description="The code posted at the activity.")


class CheckedInOut(BaseModel):
    activity_id: int
    title: str
    held_on: date
    new: bool = Field(description="False when the member was checked in already (counted once).")


class MyActivityOut(BaseModel):
    activity_id: int
    title: str
    kind: str
    kind_label: str
    held_on: date
    community: str | None
    method: str
    method_label: str


class TargetIn(BaseModel):
    model_config = s.Strict
    hours: Decimal = Field(ge=0, le=10000, max_digits=6, decimal_places=1, strict=False)
    visits: int = Field(ge=0, le=10000)
    activities: int = Field(ge=0, le=10000)
    note: str = Field("", max_length=500)


class Figure(BaseModel):
    target: Decimal | int
    expected: Decimal = Field(description="What the check asks for: half the target at mid-year, all of it at "
                                          "year end.")
    actual: Decimal | int
    met: bool


class Figures(BaseModel):
    hours: Figure
    visits: Figure
    activities: Figure


class TargetRowOut(BaseModel):
    member_id: int
    own: bool = Field(description="True when a secretary set this member's own targets; else the policy's.")
    figures: Figures
    status: str = Field(description="met, short (the check is over), on_track or behind (it is not).")
    status_label: str
    note: str


class CommunityTargetRowOut(TargetRowOut):
    display_name: str


class ProgressOut(BaseModel):
    year: int
    check: str
    check_label: str
    from_: date = Field(alias="from")
    to: date
    as_of: date
    over: bool


class CommunityTargetsOut(ProgressOut):
    community_id: int
    may_set: bool
    rows: list[CommunityTargetRowOut]


class MyTargetsOut(ProgressOut):
    row: TargetRowOut


class TargetOut(BaseModel):
    member_id: int
    year: int
    hours: Decimal
    visits: int
    activities: int
    note: str


@router.post("/communities/{community_id}/activities", response_model=ActivityOut, status_code=201)
def post(community_id: s.CommunityId, body: ActivityIn, ctx: Ctx = Depends(get_auth_ctx)):
    """The community's staff or secretary post a party-life activity; the answer carries its check-in code."""
    with ctx.transaction() as tx:
        activity = commands.post(tx.session, ctx.settings.timezone, tx.actor, community_id, body.model_dump())
        return views.activity_out(activity, ctx.locale, 0, keeper=True)


@router.get("/communities/{community_id}/activities", response_model=list[ActivityOut])
def community_activities(community_id: s.CommunityId, ctx: Ctx = Depends(get_auth_ctx)):
    """The community's activities, latest day first, with how many attended."""
    with ctx.transaction(read_only=True) as tx:
        return views.community_activities(tx.session, tx.actor, community_id, ctx.locale)


@router.get("/activities/mine", response_model=list[MyActivityOut])
def mine(ctx: Ctx = Depends(get_auth_ctx)):
    """The activities the caller (a member or volunteer) was checked in to, latest first."""
    with ctx.transaction(read_only=True) as tx:
        return views.my_activities(tx.session, tx.actor, ctx.locale)


@router.post("/activities/check-in", response_model=CheckedInOut)
def check_in_with_code(body: CodeIn, ctx: Ctx = Depends(get_auth_ctx)):
    """A member or volunteer registered with the community checks in with the posted code, on the day."""
    with ctx.transaction() as tx:
        activity, _attendance, created = commands.check_in_with_code(tx.session, ctx.settings.timezone, tx.actor,
                                                                     body.code)
        return {"activity_id": activity.id, "title": activity.title, "held_on": activity.held_on, "new": created}


@router.get("/activities/{activity_id}", response_model=ActivityDetailOut)
def one(activity_id: s.DbId, ctx: Ctx = Depends(get_auth_ctx)):
    with ctx.transaction(read_only=True) as tx:
        return views.activity(tx.session, tx.actor, activity_id, ctx.locale)


@router.post("/activities/{activity_id}/attendance", response_model=ActivityDetailOut)
def check_in(activity_id: s.DbId, body: AttendanceIn, ctx: Ctx = Depends(get_auth_ctx)):
    """The organiser checks a registered member in (on the day or afterwards); twice counts once."""
    with ctx.transaction() as tx:
        commands.check_in(tx.session, ctx.settings.timezone, tx.actor, activity_id, body.member_id)
        return views.activity(tx.session, tx.actor, activity_id, ctx.locale)


@router.get("/communities/{community_id}/targets", response_model=CommunityTargetsOut, response_model_by_alias=True)
def community_targets(community_id: s.CommunityId, year: int | None = Query(None, ge=2000, le=9999),
                      check: Check = Query("year_end"), ctx: Ctx = Depends(get_auth_ctx)):
    """The community's party members against their annual targets: the mid-year check (January to
    June against half of each) or the year-end assessment."""
    with ctx.transaction(read_only=True) as tx:
        return views.community_targets(tx.session, tx.actor, community_id, ctx.locale, year=year, check=check,
                                       today=ctx.settings.today())


@router.get("/me/targets", response_model=MyTargetsOut, response_model_by_alias=True)
def my_targets(year: int | None = Query(None, ge=2000, le=9999), check: Check = Query("year_end"),
               ctx: Ctx = Depends(get_auth_ctx)):
    with ctx.transaction(read_only=True) as tx:
        return views.my_targets(tx.session, tx.actor, ctx.locale, year=year, check=check, today=ctx.settings.today())


@router.put("/members/{member_id}/targets/{year}", response_model=TargetOut)
def set_target(body: TargetIn, member_id: int = Path(ge=1, le=s.MAX_ID), year: int = Path(ge=2000, le=9999),
               ctx: Ctx = Depends(get_auth_ctx)):
    """The community secretary sets a registered member's own targets for a year."""
    with ctx.transaction() as tx:
        t = commands.set_target(tx.session, tx.actor, member_id, year, body.model_dump())
        return {"member_id": t.member_id, "year": t.year, "hours": t.hours, "visits": t.visits,
                "activities": t.activities, "note": t.note}
