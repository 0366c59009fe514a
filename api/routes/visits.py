"""收 as planned work: households, who looks after them, home visits (走访), inspection rounds (巡查)
and coverage (覆盖率). The rules live in ``workflow.visits``."""

from __future__ import annotations

from datetime import date, datetime
from datetime import date as Date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from workflow.commands import intake
from workflow.models import Account
from workflow.visits import commands, coverage, views

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["visits"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut},
                                               404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})

HouseholdId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The household's id.")]
GridId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The grid's id.")]
BuildingId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The building's id.")]
RoundId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The round's id.")]
ItemId = Annotated[int, Path(ge=1, le=s.MAX_ID)]
Period = Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM.", examples=["2026-10"])
Code = Annotated[str, Field(max_length=32)]
Tags = Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=10)]


def _today(ctx: Ctx) -> date:
    return ctx.settings.today()


# --- bodies ------------------------------------------------------------------------------------

class TagIn(BaseModel):
    model_config = s.Strict
    code: Code = Field(description="Lower-case letters, digits and _, e.g. disabled.")
    name_zh: str = Field(max_length=50)
    name_en: str = Field(max_length=50)


class TagOut(BaseModel):
    code: str
    name: str
    builtin: bool


class HouseholdIn(BaseModel):
    model_config = s.Strict
    building_id: s.DbId
    code: Code = Field(description="Stable and unique in the community (an import finds the row by it).")
    door: str = Field(max_length=50, description="Unit and room, e.g. 2单元301.")
    tags: Tags = Field(default_factory=list, description="Codes from GET /api/v1/household-tags.")
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=32)


class HouseholdPatch(BaseModel):
    model_config = s.Strict
    building_id: s.DbId | None = None
    code: Code | None = None
    door: str | None = Field(None, max_length=50)
    tags: Tags | None = None
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=32)
    active: bool | None = Field(None, description="false takes the household off the register (moved away).")


class PairingOut(BaseModel):
    id: int
    household_id: int
    member_id: int
    display_name: str
    starts_on: date
    ends_on: date | None


class VisitOut(BaseModel):
    id: int
    household_id: int
    date: Date
    visitor_role: str
    member_id: int | None
    paired: bool = Field(description="The visitor looked after the household that day (联户).")
    method: str
    outcome: str
    note: str
    request_id: int | None = Field(description="The request the visit opened, when it found a problem.")
    at: datetime
    photo_ids: list[int] = Field(default_factory=list, description="The visit's photos (GET /photos/{id}), to its "
                                                                   "visitor and the community's staff and secretary.")


class HouseholdOut(BaseModel):
    id: int
    community_id: int
    building_id: int
    building: str
    code: str
    door: str
    tags: list[str]
    contact_name: str = Field(description="Masked (王**) except in one household's answer to its community's desk.")
    contact_phone: str
    active: bool
    created_on: date


class HouseholdDetailOut(HouseholdOut):
    pairings: list[PairingOut]
    visits: list[VisitOut]


class MyHouseholdOut(HouseholdOut):
    status: Literal["overdue", "due", "visited", "not_due"]
    due_on: date | None = Field(description="The day the next visit the plan asks for is due by.")
    last_visit: date | None
    visited_today: bool = Field(description="The caller recorded a visit here today.")


class PairingIn(BaseModel):
    model_config = s.Strict
    member_id: s.DbId
    starts_on: date | None = Field(None, strict=False, description="Defaults to today.")


class EndIn(BaseModel):
    model_config = s.Strict
    ends_on: date | None = Field(None, strict=False, description="The last day, inclusive; defaults to today.")


class WorkerIn(BaseModel):
    model_config = s.Strict
    account_id: s.DbId = Field(description="A staff account of the grid's community.")
    starts_on: date | None = Field(None, strict=False, description="Defaults to today.")


class CenterOut(BaseModel):
    id: int
    building_id: int
    member_id: int
    display_name: str
    starts_on: date
    ends_on: date | None


class CenterIn(BaseModel):
    model_config = s.Strict
    member_id: s.DbId = Field(description="A member registered with the building's community.")
    starts_on: date | None = Field(None, strict=False, description="Defaults to today. The one before ends the day "
                                                                   "before.")


class WorkerOut(BaseModel):
    id: int
    grid_id: int
    account_id: int
    display_name: str
    starts_on: date
    ends_on: date | None


class ProblemIn(BaseModel):
    model_config = s.Strict
    category: str = Field(max_length=32, description="A leaf category code.")
    description: str = Field("", max_length=2000, description="Defaults to the visit's note.")
    photo_ids: list[s.DbId] = Field(default_factory=list, max_length=9)


class VisitIn(BaseModel):
    model_config = s.Strict
    date: Date | None = Field(None, strict=False, description="The day of the visit; today when left out.")
    method: Literal["at_home", "phone", "met_outside"] = Field(
        "at_home", description="在家走访 at_home, 电话 phone, 外出遇见 met_outside.")
    outcome: Literal["all_well", "problem", "need"] = Field(
        "all_well", description="一切正常 all_well; problem (give `problem`: a request is opened); need (noted).")
    note: str = Field("", max_length=1000)
    photo_ids: list[s.DbId] = Field(default_factory=list, max_length=9,
                                    description="Photos of the visit, uploaded first (POST /photos); a problem's "
                                                "own photos go in `problem.photo_ids`.")
    problem: ProblemIn | None = None


class RoundIn(BaseModel):
    model_config = s.Strict
    grid_id: s.DbId


class TickIn(BaseModel):
    model_config = s.Strict
    building_ids: list[s.DbId] = Field(default_factory=list, max_length=200)
    areas: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=30,
                                                                description="Common areas, e.g. 地下车库.")


class FindingIn(BaseModel):
    model_config = s.Strict
    category: str = Field(max_length=32)
    description: str = Field(max_length=2000)
    building_id: s.DbId | None = None
    address: str = Field("", max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    photo_ids: list[s.DbId] = Field(default_factory=list, max_length=9)


class RoundOut(BaseModel):
    id: int
    grid_id: int
    community_id: int
    date: Date
    started_at: datetime
    ended_at: datetime | None
    building_ids: list[int]
    areas: list[str]
    finding_ids: list[int] = Field(description="The inspection requests the round opened.")
    note: str


class FiguresOut(BaseModel):
    households: int = Field(description="On the register, with a rule of the visit plan.")
    visited: int
    due: int
    overdue: int
    never_visited: int
    visits: int = Field(description="Visits made in the period.")
    coverage: float | None = Field(description="visited / households; null without households.")


class NamedFiguresOut(FiguresOut):
    id: int
    name: str


class MemberFiguresOut(FiguresOut):
    member_id: int
    display_name: str


class GridOut(BaseModel):
    id: int
    name: str
    community_id: int
    workers: list[str]
    rounds: int
    rounds_per_week: float
    windows: int = Field(description="Windows of the plan's round rule begun in the period.")
    windows_met: int
    windows_missed: int
    inspected: bool
    households: FiguresOut | None


class ScopeOut(BaseModel):
    kind: str
    id: int
    name: str


class CoverageOut(BaseModel):
    scope: ScopeOut
    period: str
    from_: date = Field(alias="from")
    as_of: date = Field(description="Counted to this day: the month's last, or today while it runs.")
    totals: FiguresOut
    communities: list[NamedFiguresOut]
    buildings: list[NamedFiguresOut]
    members: list[MemberFiguresOut]
    grids: list[GridOut]


class MissedMemberOut(BaseModel):
    member_id: int
    display_name: str


class MissedOut(BaseModel):
    household_id: int
    code: str
    building_id: int
    building: str
    door: str
    tags: list[str]
    status: str
    due_on: date | None
    last_visit: date | None
    never_visited: bool
    members: list[MissedMemberOut]


class MissedListOut(BaseModel):
    scope: ScopeOut
    period: str
    as_of: date
    total: int
    households: list[MissedOut]


class ReminderOut(BaseModel):
    household_id: int
    recipients: int = Field(description="Members notified.")


# --- tags ---------------------------------------------------------------------------------------

@router.get("/household-tags", response_model=list[TagOut])
def household_tags(ctx: Ctx = Depends(get_auth_ctx)):
    """The kinds of household: built-in (党员户 party_member, 重点户 key, 困难户 needy, 特殊户 special,
    空巢老人 empty_nest) and those admins added."""
    with ctx.transaction(read_only=True) as tx:
        return views.tags(tx.session, ctx.locale)


@router.post("/admin/household-tags", response_model=TagOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def create_household_tag(body: TagIn, ctx: Ctx = Depends(get_auth_ctx)):
    """An admin adds a kind of household; 409 `tag_exists` when the code is taken."""
    with ctx.transaction() as tx:
        tag = commands.create_tag(tx.session, tx.actor, body.code, body.name_zh, body.name_en)
        return TagOut(code=tag.code, name=tag.name_en if ctx.locale == "en" else tag.name_zh, builtin=False)


# --- households ---------------------------------------------------------------------------------

@router.get("/communities/{community_id}/households", response_model=list[HouseholdOut])
def list_households(community_id: s.CommunityId, building_id: int | None = Query(None, ge=1, le=s.MAX_ID),
                    limit: int = Query(200, ge=1, le=500), offset: int = Query(0, ge=0, le=s.MAX_ID),
                    ctx: Ctx = Depends(get_auth_ctx)):
    """The community's register of households, by building and door, contacts masked. For its
    staff and secretary, the street's secretary and officers, admins, and members registered there."""
    with ctx.transaction(read_only=True) as tx:
        return views.list_households(tx.session, tx.actor, community_id, building_id=building_id, limit=limit,
                                     offset=offset)


@router.post("/households", response_model=HouseholdDetailOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def create_household(body: HouseholdIn, ctx: Ctx = Depends(get_auth_ctx)):
    """住户: community staff (or an admin) add a household to a building. 409 `household_code_taken`."""
    with ctx.transaction() as tx:
        household = commands.create_household(tx.session, tx.actor, body.model_dump(), timezone=ctx.settings.timezone)
        return views.read_household(tx.session, tx.actor, household.id, "api")


@router.get("/households/{household_id}", response_model=HouseholdDetailOut)
def get_household(household_id: HouseholdId, ctx: Ctx = Depends(get_auth_ctx)):
    """One household with its pairings (past ones too) and its latest visits. Its community's staff,
    secretary and admins see the contact whole, and that read is logged."""
    with ctx.transaction() as tx:
        return views.read_household(tx.session, tx.actor, household_id, "api")


@router.patch("/households/{household_id}", response_model=HouseholdDetailOut,
              responses={409: {"model": s.ErrorOut}})
def update_household(household_id: HouseholdId, body: HouseholdPatch, ctx: Ctx = Depends(get_auth_ctx)):
    """Change a household: only the fields given. `active: false` takes it off the register."""
    with ctx.transaction() as tx:
        commands.update_household(tx.session, tx.actor, household_id, body.model_dump(exclude_unset=True))
        return views.read_household(tx.session, tx.actor, household_id, "api")


@router.post("/households/{household_id}/pairings", response_model=PairingOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def pair_member(household_id: HouseholdId, body: PairingIn, ctx: Ctx = Depends(get_auth_ctx)):
    """联户: a member registered with the community looks after the household from `starts_on`."""
    with ctx.transaction() as tx:
        pairing = commands.pair_member(tx.session, tx.actor, household_id, body.member_id, starts_on=body.starts_on,
                                       timezone=ctx.settings.timezone)
        return views.pairing_out(tx.session, pairing)


@router.post("/households/{household_id}/pairings/{pairing_id}/end", response_model=PairingOut,
             responses={409: {"model": s.ErrorOut}})
def end_pairing(household_id: HouseholdId, pairing_id: ItemId, body: EndIn, ctx: Ctx = Depends(get_auth_ctx)):
    """End a pairing on `ends_on` (kept in the history)."""
    with ctx.transaction() as tx:
        pairing = commands.end_pairing(tx.session, tx.actor, household_id, pairing_id, ends_on=body.ends_on,
                                       timezone=ctx.settings.timezone)
        return views.pairing_out(tx.session, pairing)


@router.post("/households/{household_id}/visits", response_model=VisitOut, status_code=201,
             responses={200: {"model": VisitOut, "description": "Already recorded today by the caller."},
                        409: {"model": s.ErrorOut}})
def record_visit(household_id: HouseholdId, body: VisitIn | None = None, ctx: Ctx = Depends(get_auth_ctx)):
    """走访, one tap: a member registered with the community, or its staff, record a visit (an empty
    body: today, at home, all well). The same household again on the same day is the same visit
    (200, nothing written). `outcome: problem` opens a request with it, in the same transaction."""
    body = body or VisitIn()
    data = body.model_dump(exclude_unset=True)
    if body.problem is not None:
        data["problem"] = body.problem.model_dump()
    with ctx.transaction() as tx:
        visit, new = commands.record_visit(tx.session, tx.actor, household_id, data, timezone=ctx.settings.timezone)
        # A new visit has the photos given with it, if any; a repeat may have some from before.
        photos = views.visit_photos(tx.session, tx.actor, [visit]).get(visit.id) if body.photo_ids or not new \
            else []
        out = VisitOut(**views.visit_out(visit, photos))
    return s.json_response(VisitOut, out, status_code=201 if new else 200)


@router.post("/households/{household_id}/reminders", response_model=ReminderOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def remind(household_id: HouseholdId, ctx: Ctx = Depends(get_auth_ctx)):
    """Remind the members who look after a household that it is due (their inbox and webhooks)."""
    with ctx.transaction() as tx:
        recipients = commands.remind(tx.session, tx.actor, household_id, timezone=ctx.settings.timezone)
    return ReminderOut(household_id=household_id, recipients=len(recipients))


@router.get("/members/me/households", response_model=list[MyHouseholdOut])
def my_households(ctx: Ctx = Depends(get_auth_ctx)):
    """我的联系户: the households the member looks after, overdue first, then by the day they are due."""
    with ctx.transaction(read_only=True) as tx:
        return views.my_households(tx.session, tx.actor, _today(ctx))


# --- 党员中心户 ------------------------------------------------------------------------------------

@router.get("/buildings/{building_id}/center-households", response_model=list[CenterOut])
def center_households(building_id: BuildingId, ctx: Ctx = Depends(get_auth_ctx)):
    """The building's party-member center households (党员中心户), past and present."""
    with ctx.transaction(read_only=True) as tx:
        return views.center_households(tx.session, tx.actor, building_id)


@router.post("/buildings/{building_id}/center-households", response_model=CenterOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def appoint_center_household(building_id: BuildingId, body: CenterIn, ctx: Ctx = Depends(get_auth_ctx)):
    """党员中心户: a member registered with the community becomes the building's center household from
    `starts_on`; the one before hands over (it ends the day before). Shown to residents with the
    members serving the building and on its poster."""
    with ctx.transaction() as tx:
        center = commands.appoint_center_household(tx.session, tx.actor, building_id, body.member_id,
                                                   starts_on=body.starts_on, timezone=ctx.settings.timezone)
        return views.center_out(tx.session, center)


@router.post("/buildings/{building_id}/center-households/{center_id}/end", response_model=CenterOut,
             responses={409: {"model": s.ErrorOut}})
def end_center_household(building_id: BuildingId, center_id: ItemId, body: EndIn, ctx: Ctx = Depends(get_auth_ctx)):
    """End a center household on `ends_on` (kept in the history)."""
    with ctx.transaction() as tx:
        center = commands.end_center_household(tx.session, tx.actor, building_id, center_id, ends_on=body.ends_on,
                                                timezone=ctx.settings.timezone)
        return views.center_out(tx.session, center)


# --- 楼栋长 ----------------------------------------------------------------------------------------

class LeaderOut(BaseModel):
    id: int
    building_id: int
    account_id: int
    display_name: str
    starts_on: date
    ends_on: date | None


class LeaderIn(BaseModel):
    model_config = s.Strict
    account_id: s.DbId = Field(description="A resident or volunteer living in the building's community.")
    starts_on: date | None = Field(None, strict=False, description="Defaults to today. The one before ends the day "
                                                                   "before.")


class LedBuildingOut(BaseModel):
    id: int
    name: str
    community_id: int


@router.get("/buildings/{building_id}/leaders", response_model=list[LeaderOut])
def building_leaders(building_id: BuildingId, ctx: Ctx = Depends(get_auth_ctx)):
    """The building's leaders (楼栋长), past and present."""
    with ctx.transaction(read_only=True) as tx:
        return views.building_leaders(tx.session, tx.actor, building_id)


@router.post("/buildings/{building_id}/leaders", response_model=LeaderOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def appoint_leader(building_id: BuildingId, body: LeaderIn, ctx: Ctx = Depends(get_auth_ctx)):
    """楼栋长: a resident or volunteer of the community leads the building from `starts_on`; the one
    before hands over. A leader reports for the building's residents (`on_behalf` on POST
    /requests), sees its open requests and confirms on the spot what no resident reported."""
    with ctx.transaction() as tx:
        leader = commands.appoint_leader(tx.session, tx.actor, building_id, body.account_id, starts_on=body.starts_on,
                                         timezone=ctx.settings.timezone)
        return LeaderOut(**views.leader_out(leader, tx.session.get(Account, leader.account_id).display_name))


@router.post("/buildings/{building_id}/leaders/{leader_id}/end", response_model=LeaderOut,
             responses={409: {"model": s.ErrorOut}})
def end_leader(building_id: BuildingId, leader_id: ItemId, body: EndIn, ctx: Ctx = Depends(get_auth_ctx)):
    """End a building leader's term on `ends_on` (kept in the history)."""
    with ctx.transaction() as tx:
        leader = commands.end_leader(tx.session, tx.actor, building_id, leader_id, ends_on=body.ends_on,
                                     timezone=ctx.settings.timezone)
        return LeaderOut(**views.leader_out(leader, tx.session.get(Account, leader.account_id).display_name))


@router.get("/buildings/{building_id}/requests", response_model=list[s.RequestOut])
def building_requests(building_id: BuildingId, ctx: Ctx = Depends(get_auth_ctx)):
    """The building's requests not yet closed, newest first: for its leader (places to the
    building, no contacts) and for those who read its community's households."""
    with ctx.transaction(read_only=True) as tx:
        rows = views.building_requests(tx.session, tx.actor, building_id, ctx.settings.today())
        out = s.requests_out(tx.session, tx.actor, rows, ctx.locale)
    return s.json_response(list[s.RequestOut], out)


@router.get("/me/buildings", response_model=list[LedBuildingOut])
def my_buildings(ctx: Ctx = Depends(get_auth_ctx)):
    """The buildings the caller leads today (楼栋长); empty for everyone else."""
    with ctx.transaction(read_only=True) as tx:
        return views.my_buildings(tx.session, tx.actor, ctx.settings.today())


# --- grid workers and rounds --------------------------------------------------------------------

@router.get("/grids/{grid_id}/workers", response_model=list[WorkerOut])
def grid_workers(grid_id: GridId, ctx: Ctx = Depends(get_auth_ctx)):
    """The grid's workers, past and present."""
    with ctx.transaction(read_only=True) as tx:
        return views.grid_workers(tx.session, tx.actor, grid_id)


@router.post("/grids/{grid_id}/workers", response_model=WorkerOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def assign_grid_worker(grid_id: GridId, body: WorkerIn, ctx: Ctx = Depends(get_auth_ctx)):
    """网格员: a staff account of the community does the grid's rounds from `starts_on`."""
    with ctx.transaction() as tx:
        worker = commands.assign_grid_worker(tx.session, tx.actor, grid_id, body.account_id, starts_on=body.starts_on,
                                             timezone=ctx.settings.timezone)
        return views.worker_out(worker, tx.session.get(Account, worker.account_id).display_name)


@router.post("/grids/{grid_id}/workers/{worker_id}/end", response_model=WorkerOut,
             responses={409: {"model": s.ErrorOut}})
def end_grid_worker(grid_id: GridId, worker_id: ItemId, body: EndIn, ctx: Ctx = Depends(get_auth_ctx)):
    """End a grid worker's assignment on `ends_on`."""
    with ctx.transaction() as tx:
        worker = commands.end_grid_worker(tx.session, tx.actor, grid_id, worker_id, ends_on=body.ends_on,
                                          timezone=ctx.settings.timezone)
        return views.worker_out(worker, tx.session.get(Account, worker.account_id).display_name)


@router.post("/rounds", response_model=RoundOut, status_code=201,
             responses={200: {"model": RoundOut, "description": "The caller's round of that grid still open."}})
def start_round(body: RoundIn, ctx: Ctx = Depends(get_auth_ctx)):
    """巡查: a grid worker starts a round of their grid (their open round there, if any, is returned)."""
    with ctx.transaction() as tx:
        row, new = commands.start_round(tx.session, tx.actor, body.grid_id, timezone=ctx.settings.timezone)
        out = RoundOut(**views.round_out(row))
    return s.json_response(RoundOut, out, status_code=201 if new else 200)


@router.get("/rounds/mine", response_model=list[RoundOut])
def my_rounds(limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
              ctx: Ctx = Depends(get_auth_ctx)):
    """The caller's rounds, newest first."""
    with ctx.transaction(read_only=True) as tx:
        return [views.round_out(r) for r in commands.rounds_of(tx.session, tx.actor, limit=limit, offset=offset)]


@router.post("/rounds/{round_id}/ticks", response_model=RoundOut, responses={409: {"model": s.ErrorOut}})
def tick_round(round_id: RoundId, body: TickIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Tick buildings of the grid and common areas as covered on this round."""
    with ctx.transaction() as tx:
        return views.round_out(commands.tick_round(tx.session, tx.actor, round_id, building_ids=body.building_ids,
                                                   areas=body.areas))


@router.post("/rounds/{round_id}/findings", response_model=s.RequestDetailOut, status_code=201,
             responses={409: {"model": s.ErrorOut}})
def round_finding(round_id: RoundId, body: FindingIn, ctx: Ctx = Depends(get_auth_ctx)):
    """A finding on the round: an `inspection` request in the round's grid, routed like any other."""
    with ctx.transaction() as tx:
        request = commands.round_finding(tx.session, tx.actor, round_id, intake.Submission(
            channel="inspection", **body.model_dump()), timezone=ctx.settings.timezone)
        out = s.request_detail_out(tx.session, tx.actor, request, ctx.locale, new=True)
    return s.json_response(s.RequestDetailOut, out, status_code=201)


@router.post("/rounds/{round_id}/end", response_model=RoundOut, responses={409: {"model": s.ErrorOut}})
def end_round(round_id: RoundId, body: s.NoteIn, ctx: Ctx = Depends(get_auth_ctx)):
    """End the round; it counts for its grid from then on."""
    with ctx.transaction() as tx:
        return views.round_out(commands.end_round(tx.session, tx.actor, round_id, note=body.note))


# --- coverage -----------------------------------------------------------------------------------

@router.get("/coverage/{period}/{scope_kind}/{scope_id}", response_model=CoverageOut, response_model_by_alias=True)
def coverage_report(scope_kind: Literal["community", "street"], scope_id: s.DbId, period: str = Period,
                    ctx: Ctx = Depends(get_auth_ctx)):
    """覆盖率 of a community (by building, grid and member) or a street (by community): households
    due, visited, overdue, never visited, and the grids' rounds, as the visit plan in force for the
    month counts them. For the scope's staff, secretaries and street officers, and admins."""
    with ctx.transaction(read_only=True) as tx:
        return coverage.report(tx.session, tx.actor, scope_kind, scope_id, period, _today(ctx))


@router.get("/coverage/{period}/{scope_kind}/{scope_id}/missed", response_model=MissedListOut)
def missed_households(scope_kind: Literal["community", "street"], scope_id: s.DbId, period: str = Period,
                      limit: int = Query(200, ge=1, le=500), offset: int = Query(0, ge=0, le=s.MAX_ID),
                      ctx: Ctx = Depends(get_auth_ctx)):
    """Who was missed: households overdue or never visited, overdue first, with who looks after them."""
    with ctx.transaction(read_only=True) as tx:
        return coverage.missed(tx.session, tx.actor, scope_kind, scope_id, period, _today(ctx), limit=limit,
                               offset=offset)
