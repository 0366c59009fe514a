"""建言 and 议事: suggestions, their steps, and the community's meetings. The rules live in
``workflow.deliberation``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from workflow.deliberation import commands, views

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["deliberation"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut},
                                                     404: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut},
                                                     422: {"model": s.ErrorOut}})
Action = Literal["take-up", "adopt", "decline", "complete"]


class SuggestionIn(BaseModel):
    model_config = s.Strict
    community_id: s.DbId
    title: str = Field(max_length=100)
    body: str = Field(max_length=2000)


class StepIn(BaseModel):
    model_config = s.Strict
    note: str | None = Field(None, max_length=500, description="adopt, take-up: an optional note.")
    reason: str | None = Field(None, max_length=500, description="decline: the reason, which the author reads.")
    result: str | None = Field(None, max_length=2000, description="complete: what was done.")


class SuggestionOut(BaseModel):
    id: int
    community_id: int
    title: str
    body: str
    status: str = Field(description="received, deliberating, adopted, declined or done.")
    status_label: str
    reason: str
    result: str
    meeting_id: int | None
    created_at: datetime
    decided_at: datetime | None
    done_at: datetime | None
    actions: list[str] = Field(description="The steps the caller may take now.")


class StepOut(BaseModel):
    trigger: str
    label: str
    to_status: str
    note: str
    at: datetime
    meeting_id: int | None


class SuggestionDetailOut(SuggestionOut):
    history: list[StepOut]


class MeetingIn(BaseModel):
    model_config = s.Strict
    topic: str = Field(max_length=200)
    held_on: date = Field(strict=False)
    participants: str = Field("", max_length=500, description="Who took part, e.g. 居民代表8人、物业1人.")
    participant_count: int = Field(description="How many took part (1 or more).")
    options: list[str] = Field(max_length=6, description="2 to 6 options put to the vote.")
    suggestion_ids: list[s.DbId] = Field(default_factory=list, max_length=50)
    request_ids: list[s.DbId] = Field(default_factory=list, max_length=50)


class DecisionIn(BaseModel):
    model_config = s.Strict
    votes: list[int] = Field(max_length=6, description="Votes for each option, in order.")
    chosen: int = Field(description="The index (from 0) of the option decided on.")
    decision: str = Field(max_length=2000)
    outcome: Literal["adopt", "decline"] = Field(description="What becomes of the suggestions taken up.")


class MeetingOut(BaseModel):
    id: int
    community_id: int
    topic: str
    held_on: date
    participants: str
    participant_count: int
    options: list[str]
    votes: list[int] | None
    chosen: int | None
    decision: str
    outcome: str | None
    status: str = Field(description="open or decided.")
    decided_at: datetime | None
    suggestions: list[SuggestionOut]
    request_ids: list[int]


@router.post("/suggestions", response_model=SuggestionOut, status_code=201)
def submit(body: SuggestionIn, ctx: Ctx = Depends(get_auth_ctx)):
    """建言: a resident, volunteer or member (of a community they are registered with) makes a
    suggestion (not a problem to fix: see POST /requests)."""
    with ctx.transaction() as tx:
        row = commands.submit(tx.session, tx.actor, body.community_id, body.title, body.body)
        return views.suggestion_out(row, ctx.locale)


@router.get("/suggestions/mine", response_model=list[SuggestionOut])
def mine(ctx: Ctx = Depends(get_auth_ctx)):
    """The caller's suggestions, newest first, with where each stands and the reason of a decline."""
    with ctx.transaction(read_only=True) as tx:
        return views.mine(tx.session, tx.actor, ctx.locale)


@router.get("/suggestions/{suggestion_id}", response_model=SuggestionDetailOut)
def one(suggestion_id: s.DbId, ctx: Ctx = Depends(get_auth_ctx)):
    """One suggestion and its history, for its author and the community's readers."""
    with ctx.transaction(read_only=True) as tx:
        return views.suggestion(tx.session, tx.actor, suggestion_id, ctx.locale)


@router.post("/suggestions/{suggestion_id}/{action}", response_model=SuggestionDetailOut)
def step(suggestion_id: s.DbId, action: Action, body: StepIn | None = None, ctx: Ctx = Depends(get_auth_ctx)):
    """The community desk's steps: take-up (for deliberation), adopt, decline (with a reason),
    complete (with what was done)."""
    with ctx.transaction() as tx:
        commands.act(tx.session, tx.actor, suggestion_id, action.replace("-", "_"),
                     (body.model_dump() if body else {}))
        return views.suggestion(tx.session, tx.actor, suggestion_id, ctx.locale)


@router.get("/communities/{community_id}/suggestions", response_model=list[SuggestionOut])
def community_suggestions(community_id: s.CommunityId,
                          status: str | None = Query(None, max_length=16, description="Only those in this status."),
                          ctx: Ctx = Depends(get_auth_ctx)):
    """The community's suggestions, newest first (its staff and secretary, its street's officers
    and secretary, admins)."""
    with ctx.transaction(read_only=True) as tx:
        return views.community_suggestions(tx.session, tx.actor, community_id, ctx.locale, status)


@router.post("/communities/{community_id}/meetings", response_model=MeetingOut, status_code=201)
def convene(community_id: s.CommunityId, body: MeetingIn, ctx: Ctx = Depends(get_auth_ctx)):
    """议事会: record a meeting with its topic, day, participants and options, and the suggestions
    and requests it takes up (received suggestions are taken up for deliberation)."""
    with ctx.transaction() as tx:
        meeting = commands.convene(tx.session, tx.actor, community_id, body.model_dump())
        return views.meeting_out(tx.session, meeting, ctx.locale)


@router.get("/communities/{community_id}/meetings", response_model=list[MeetingOut])
def community_meetings(community_id: s.CommunityId, ctx: Ctx = Depends(get_auth_ctx)):
    with ctx.transaction(read_only=True) as tx:
        return views.community_meetings(tx.session, tx.actor, community_id, ctx.locale)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
def one_meeting(meeting_id: s.DbId, ctx: Ctx = Depends(get_auth_ctx)):
    with ctx.transaction(read_only=True) as tx:
        return views.meeting(tx.session, tx.actor, meeting_id, ctx.locale)


@router.post("/meetings/{meeting_id}/decision", response_model=MeetingOut)
def decide(meeting_id: s.DbId, body: DecisionIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Record the meeting's votes and decision, once; the suggestions it took up are adopted or
    declined with it, and an adopted decision goes on the public board."""
    with ctx.transaction() as tx:
        meeting = commands.decide(tx.session, tx.actor, meeting_id, body.model_dump())
        return views.meeting_out(tx.session, meeting, ctx.locale)
