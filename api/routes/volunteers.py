"""志愿者 and the time bank (时间银行). The rules live in ``workflow.volunteers``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from workflow.access import Actor
from workflow.volunteers import commands, views

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["volunteers"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut},
                                                   404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})


class MovementOut(BaseModel):
    kind: Literal["earned", "spent"] = Field(description="earned: a verified task; spent: a service received.")
    hours: Decimal = Field(description="Positive when earned, negative when spent.")
    local_date: date
    at: datetime
    community_id: int
    request_id: int | None = Field(description="The task that earned them.")
    note: str = Field(description="What service was received.")


class TimeBankOut(BaseModel):
    member_id: int
    display_name: str
    earned: Decimal
    spent: Decimal
    balance: Decimal
    entries: list[MovementOut] = Field(description="The newest 50 movements, newest first.")


class ServiceIn(BaseModel):
    model_config = s.Strict
    hours: Decimal | float | int = Field(description="Hours the service is worth, more than 0 and at most 24.")
    note: str = Field(max_length=200, description="What service was received, e.g. 上门理发.")


class VolunteerOut(BaseModel):
    member_id: int
    display_name: str
    registered_at: datetime
    tasks: int = Field(description="Verified tasks, all time.")
    earned: Decimal
    spent: Decimal
    balance: Decimal


class CommunityVolunteersOut(BaseModel):
    community_id: int
    volunteers: list[VolunteerOut]


def _time_bank_out(data: dict) -> TimeBankOut:
    return TimeBankOut(**{**data, "entries": [MovementOut(**e) for e in data["entries"]]})


@router.post("/volunteers/me", response_model=s.AccountOut, status_code=201, responses={409: {"model": s.ErrorOut}})
def become_volunteer(ctx: Ctx = Depends(get_auth_ctx)):
    """A resident signs up as a volunteer (志愿者): they keep their reports, and may then register with
    communities and claim the tasks whose category allows volunteers."""
    with ctx.transaction() as tx:
        account = commands.become_volunteer(tx.session, tx.actor)
        return s.account_out(account, Actor.of(tx.session, account))


@router.get("/volunteers/me/time-bank", response_model=TimeBankOut)
def my_time_bank(ctx: Ctx = Depends(get_auth_ctx)):
    """The volunteer's time bank: hours earned by verified tasks, spent on services received, the
    balance and the newest movements."""
    with ctx.transaction(read_only=True) as tx:
        return _time_bank_out(views.time_bank(tx.session, tx.actor))


@router.get("/volunteers/{member_id}/time-bank", response_model=TimeBankOut)
def volunteer_time_bank(member_id: s.DbId, ctx: Ctx = Depends(get_auth_ctx)):
    """A volunteer's time bank, for the staff and secretary of a community they are registered with."""
    with ctx.transaction(read_only=True) as tx:
        return _time_bank_out(views.time_bank(tx.session, tx.actor, member_id))


@router.post("/volunteers/{member_id}/time-bank/services", response_model=TimeBankOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def record_service(member_id: s.DbId, body: ServiceIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Record a service the volunteer received, paid from their hours; refused (409
    insufficient_hours) beyond the balance."""
    with ctx.transaction() as tx:
        commands.record_service(tx.session, ctx.settings.timezone, tx.actor, member_id, body.hours, body.note)
        return _time_bank_out(views.time_bank(tx.session, tx.actor, member_id))


@router.get("/communities/{community_id}/volunteers", response_model=CommunityVolunteersOut)
def community_volunteers(community_id: s.CommunityId, ctx: Ctx = Depends(get_auth_ctx)):
    """The volunteers registered with the community, with their tasks and time bank (read as the
    member register is)."""
    with ctx.transaction(read_only=True) as tx:
        data = views.community_volunteers(tx.session, tx.actor, community_id)
        return CommunityVolunteersOut(community_id=community_id,
                                      volunteers=[VolunteerOut(**v) for v in data["volunteers"]])
