"""公示 and 亮身份: the public board of a community or street, who serves a building, and what a
member shows residents of themselves. The board and the serving list need no login."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from workflow.access import require_member
from workflow.board import views as board_views
from workflow.errors import NotFound
from workflow.i18n import _
from workflow.identity import commands as identity_commands
from workflow.identity import views as identity
from workflow.models import Building

from .. import schemas as s
from ..context import Ctx, get_auth_ctx, get_ctx

router = APIRouter(tags=["public board"], responses={404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
Code = Path(max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$", description="The community's or street's code.")


class ShownMemberOut(BaseModel):
    member_id: int
    name: str = Field(description="The member's name, or its first character when they chose not to show it.")
    unit: str | None = Field(description="The home unit; null when the member chose not to show it.")
    title: str


class ServingMemberOut(ShownMemberOut):
    center: bool = Field(description="The building's party-member center household (党员中心户), listed first.")
    roles: list[str]


class GridWorkerOut(BaseModel):
    name: str
    role: str


class ServingOut(BaseModel):
    building_id: int | None
    building: str
    members: list[ServingMemberOut]
    grid_workers: list[GridWorkerOut]


class RatesOut(BaseModel):
    received: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    composite: float | None


class RankedOut(ShownMemberOut):
    rank: int
    grade: str | None
    grade_label: str


class CategoryCountOut(BaseModel):
    category: str
    requests: int


class ExampleOut(BaseModel):
    category: str
    place: str = Field(description="The building, never finer.")
    description: str = Field(description="Scrubbed of phone numbers, rooms and residents' names.")
    result: str
    closed_on: date


class DecisionOut(BaseModel):
    meeting_id: int
    community_id: int
    topic: str
    held_on: date
    option: str = Field(description="The option decided on.")
    decision: str
    votes_for: int
    votes_cast: int
    participant_count: int


class BoardCoverageOut(BaseModel):
    period: str
    as_of: date
    households: int
    visited: int
    due: int
    overdue: int
    never_visited: int
    visits: int
    coverage: float | None


class BoardScopeOut(BaseModel):
    kind: str
    id: int
    code: str
    name: str


class BoardOut(BaseModel):
    scope: BoardScopeOut
    period: str | None = Field(description="The latest published period (null: none yet).")
    published_at: datetime | None
    rates: RatesOut | None
    ranking: list[RankedOut]
    categories: list[CategoryCountOut]
    examples: list[ExampleOut]
    decisions: list[DecisionOut] = Field(description="议事: the newest adopted decisions of the scope's meetings.")
    coverage: BoardCoverageOut


class ShowingIn(BaseModel):
    model_config = s.Strict
    show_name: bool | None = None
    show_unit: bool | None = None
    title: str | None = Field(None, max_length=30, description="e.g. 党员中心户, 楼栋长")


class ShowingOut(BaseModel):
    show_name: bool
    show_unit: bool
    title: str


def _today(ctx: Ctx) -> date:
    return ctx.settings.today()


@router.get("/board/{scope_kind}/{code}", response_model=BoardOut)
def public_board(scope_kind: Literal["community", "street"], code: str = Code,
                 period: str | None = Query(None, max_length=7, description="A published period; the latest "
                                                                           "when left out."),
                 ctx: Ctx = Depends(get_ctx)):
    """公示, no login: the latest published period's three rates and commendation ranking, its requests
    by category and some closed ones as examples (scrubbed), and this month's visit coverage. 404
    `not_published` for a period not published."""
    with ctx.transaction(auth=False, read_only=True) as tx:
        return board_views.board(tx.session, scope_kind, code, _today(ctx), ctx.locale, period=period,
                                 timezone=ctx.settings.timezone)


@router.get("/buildings/{building_id}/serving", response_model=ServingOut)
def serving(building_id: s.DbId, ctx: Ctx = Depends(get_ctx)):
    """亮身份, no login: the members and grid workers serving a building, as each chose to show themselves."""
    with ctx.transaction(auth=False, read_only=True) as tx:
        if tx.session.get(Building, building_id) is None:
            raise NotFound(_("Building {id} does not exist.", id=building_id), code="building_not_found")
        return identity.serving(tx.session, building_id, _today(ctx), ctx.locale)


@router.get("/members/me/showing", response_model=ShowingOut, responses={401: {"model": s.ErrorOut},
                                                                          403: {"model": s.ErrorOut}})
def my_showing(ctx: Ctx = Depends(get_auth_ctx)):
    """What residents see of the member: their name, their home unit, a title."""
    with ctx.transaction(read_only=True) as tx:
        return identity.showing_of(tx.session, require_member(tx.actor))


@router.put("/members/me/showing", response_model=ShowingOut, responses={401: {"model": s.ErrorOut},
                                                                          403: {"model": s.ErrorOut}})
def set_my_showing(body: ShowingIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Choose what residents see (only the fields given change)."""
    with ctx.transaction() as tx:
        row = identity_commands.set_showing(tx.session, tx.actor, body.model_dump(exclude_unset=True))
        return ShowingOut(show_name=row.show_name, show_unit=row.show_unit, title=row.title)
