"""The use cases of planned collection. Commands flush, never commit: the caller's unit of work does.

Households, pairings and grid workers are kept by the community's staff (and admins); a visit is
recorded by a member registered with the household's community or by its staff; a round is done
by a grid's worker. Every refusal raises before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, notifications
from ..access import RESIDENTS, Actor, is_registered, require_admin
from ..commands import intake, photos
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import Text, _
from ..models import Account, Building, Community, Grid, Member, Request, Role, utcnow
from ..scoring import ledger
from ..scoring.periods import local_date
from ..validation import clean_text, coded_names
from . import repository as repo
from .models import (
    BuildingLeader,
    CenterHousehold,
    GridWorker,
    Household,
    HouseholdPairing,
    HouseholdTag,
    InspectionRound,
    RegisterChange,
    Visit,
    VisitMethod,
    VisitOutcome,
)

OPERATOR = "operator"  # the command line's actor (api/cli.py)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
MAX_TAGS = 10
MAX_AREAS = 30
HOUSEHOLD_FIELDS = ("code", "building_id", "door", "tags", "contact_name", "contact_phone", "active")


# --- who may keep the community's records -----------------------------------------------------

def _desk_for(actor: Actor, community_id: int) -> None:
    """Community staff of ``community_id`` and admins keep households, pairings and grid workers
    (and the operator at the command line, ``shoubanping household``)."""
    if actor.role in (Role.admin, OPERATOR):
        return
    if actor.role != Role.staff:
        raise Forbidden(_("Only community staff and administrators keep households and pairings."),
                        code="role_not_allowed")
    if actor.community_id != community_id:
        raise Forbidden(_("That belongs to another community."), code="out_of_scope")


def _date(value: object, field: str, default: date) -> date:
    if value is None:
        return default
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(_("{field} must be a date, YYYY-MM-DD.", field=field), code="invalid_date",
                       details={"field": field})


# --- tags -------------------------------------------------------------------------------------

def create_tag(session: Session, actor: Actor, code: object, name_zh: object, name_en: object, *,
               now: datetime | None = None) -> HouseholdTag:
    """An admin adds a kind of household (e.g. ``disabled``, 残疾人户) that plans and households may name."""
    now = now or utcnow()
    require_admin(actor)
    code, *names = coded_names(code, name_zh, name_en, what=_("tag"))
    if code in repo.known_tags(session):
        raise Conflict(_("The tag {code} exists already.", code=code), code="tag_exists", details={"field": "code"})
    tag = HouseholdTag(code=code, name_zh=names[0], name_en=names[1], created_at=now)
    session.add(tag)
    session.flush()
    audit.record(session, actor, "household_tag.create", f"household_tag:{code}", now,
                 {"after": {"code": code, "name_zh": names[0], "name_en": names[1]}})
    return tag


def _tags(session: Session, value: object) -> list[str]:
    if not isinstance(value, list) or any(not isinstance(t, str) for t in value):
        raise InvalidInput(_("tags must be a list of tag codes."), code="invalid_type", details={"field": "tags"})
    tags = list(dict.fromkeys(t.strip() for t in value))
    if len(tags) > MAX_TAGS:
        raise InvalidInput(_("At most {n} tags.", n=MAX_TAGS), code="too_many_tags", details={"field": "tags"})
    unknown = sorted(set(tags) - repo.known_tags(session))
    if unknown:
        raise InvalidInput(_("Unknown household tag {code}.", code=", ".join(unknown)), code="unknown_tag",
                           details={"field": "tags", "unknown": unknown})
    return tags


# --- households -------------------------------------------------------------------------------

def _building(session: Session, building_id: object) -> Building:
    building = session.get(Building, building_id) if isinstance(building_id, int) and not isinstance(
        building_id, bool) else None
    if building is None:
        raise InvalidInput(_("Unknown building {id}.", id=building_id), code="unknown_building",
                           details={"field": "building_id"})
    return building


def building_at(session: Session, building_id: object) -> Building:
    """The building a path names (404 when there is none)."""
    building = session.get(Building, building_id) if isinstance(building_id, int) and not isinstance(
        building_id, bool) else None
    if building is None:
        raise NotFound(_("Building {id} does not exist.", id=building_id), code="building_not_found")
    return building


def _code(value: object) -> str:
    code = clean_text(value, "code", code="code_required", message=_("Give the household a code."), limit=32)
    if not CODE_PATTERN.match(code):
        raise InvalidInput(_("A household code is letters, digits, '.', '-' and '_'."), code="invalid_code",
                           details={"field": "code"})
    return code


def create_household(session: Session, actor: Actor, data: dict[str, Any], *, timezone: str,
                     now: datetime | None = None) -> Household:
    now = now or utcnow()
    building = _building(session, data.get("building_id"))
    _desk_for(actor, building.community_id)
    code = _code(data.get("code"))
    door = clean_text(data.get("door"), "door", code="door_required", message=_("Give the door, e.g. 2单元301."),
                      limit=50)
    tags = _tags(session, data.get("tags", []))
    contact_name = clean_text(data.get("contact_name"), "contact_name", limit=100, required=False)
    contact_phone = clean_text(data.get("contact_phone"), "contact_phone", limit=32, required=False)
    if repo.household_by_code(session, building.community_id, code) is not None:
        raise Conflict(_("The household code {code} is taken in this community.", code=code),
                       code="household_code_taken", details={"field": "code"})
    household = Household(community_id=building.community_id, building_id=building.id, code=code, door=door,
                          tags=tags, contact_name=contact_name, contact_phone=contact_phone, active=True,
                          created_on=local_date(now, timezone), created_at=now, updated_at=now)
    session.add(household)
    session.flush()
    _changed(session, household.community_id, now)
    audit.record(session, actor, "household.create", f"household:{household.id}", now,
                 {"after": _audited(household)})
    return household


def _audited(household: Household) -> dict[str, Any]:
    # The contact is personal data: the audit log says that it changed, not what it is.
    shown = audit.snapshot(household, [f for f in HOUSEHOLD_FIELDS if not f.startswith("contact_")])
    shown["has_contact"] = bool(household.contact_name or household.contact_phone)
    return shown


def update_household(session: Session, actor: Actor, household_id: int, changes: dict[str, Any], *,
                     now: datetime | None = None) -> Household:
    now = now or utcnow()
    household = _household(session, household_id, lock=True)
    _desk_for(actor, household.community_id)
    before = _audited(household)
    unknown = set(changes) - set(HOUSEHOLD_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown field {field}.", field=sorted(unknown)[0]), code="unknown_field",
                           details={"field": sorted(unknown)[0]})
    values: dict[str, Any] = {}
    if "code" in changes:
        values["code"] = _code(changes["code"])
        other = repo.household_by_code(session, household.community_id, values["code"])
        if other is not None and other.id != household.id:
            raise Conflict(_("The household code {code} is taken in this community.", code=values["code"]),
                           code="household_code_taken", details={"field": "code"})
    if "building_id" in changes:
        building = _building(session, changes["building_id"])
        if building.community_id != household.community_id:
            raise InvalidInput(_("That building is not in this community."), code="invalid_location",
                               details={"field": "building_id"})
        values["building_id"] = building.id
    if "door" in changes:
        values["door"] = clean_text(changes["door"], "door", code="door_required",
                                    message=_("Give the door, e.g. 2单元301."), limit=50)
    if "tags" in changes:
        values["tags"] = _tags(session, changes["tags"])
    for field, limit in (("contact_name", 100), ("contact_phone", 32)):
        if field in changes:
            values[field] = clean_text(changes[field], field, limit=limit, required=False)
    if "active" in changes:
        if not isinstance(changes["active"], bool):
            raise InvalidInput(_("{field} must be true or false.", field="active"), code="invalid_type",
                               details={"field": "active"})
        values["active"] = changes["active"]
    for field, value in values.items():
        setattr(household, field, value)
    household.updated_at = now
    if values:
        _changed(session, household.community_id, now)
    session.flush()
    after = _audited(household)
    if after != before or any(f.startswith("contact_") for f in values):
        audit.record(session, actor, "household.update", f"household:{household.id}", now,
                     {"before": before, "after": after})
    return household


def _household(session: Session, household_id: object, *, lock: bool = False) -> Household:
    household = repo.household(session, household_id, lock=lock)
    if household is None:
        raise NotFound(_("Household {id} does not exist.", id=household_id), code="household_not_found")
    return household


# --- who looks after whom ---------------------------------------------------------------------

def _registered_member(session: Session, member_id: object, community_id: int) -> Member:
    """The member a form or body names, registered with the community (else a 422 on ``member_id``)."""
    member = session.get(Member, member_id) if isinstance(member_id, int) and not isinstance(member_id, bool) \
        else None
    if member is None:
        raise InvalidInput(_("Unknown member {id}.", id=member_id), code="unknown_member",
                           details={"field": "member_id"})
    if not is_registered(session, member.id, community_id):
        raise InvalidInput(_("The member is not registered with this community."), code="not_registered",
                           details={"field": "member_id"})
    return member


def pair_member(session: Session, actor: Actor, household_id: int, member_id: object, *, starts_on: object = None,
                timezone: str, now: datetime | None = None) -> HouseholdPairing:
    """联户: a member registered with the community looks after a household from ``starts_on``."""
    now = now or utcnow()
    household = _household(session, household_id, lock=True)
    _desk_for(actor, household.community_id)
    member = _registered_member(session, member_id, household.community_id)
    today = local_date(now, timezone)
    start = _date(starts_on, "starts_on", today)
    if any(p.member_id == member.id for p in repo.pairings_of_household(session, household.id, on=max(start, today))):
        raise Conflict(_("The member already looks after this household."), code="already_paired")
    pairing = HouseholdPairing(household_id=household.id, member_id=member.id, starts_on=start,
                               created_by=actor.account_id, created_at=now)
    session.add(pairing)
    _changed(session, household.community_id, now)
    session.flush()
    audit.record(session, actor, "household.pair", f"household:{household.id}", now,
                 {"after": {"member_id": member.id, "starts_on": start.isoformat()}})
    return pairing


def end_pairing(session: Session, actor: Actor, household_id: int, pairing_id: int, *, ends_on: object = None,
                timezone: str, now: datetime | None = None) -> HouseholdPairing:
    now = now or utcnow()
    household = _household(session, household_id, lock=True)
    _desk_for(actor, household.community_id)
    pairing = session.get(HouseholdPairing, pairing_id)
    if pairing is None or pairing.household_id != household.id:
        raise NotFound(_("Pairing {id} does not exist.", id=pairing_id), code="pairing_not_found")
    _end(session, actor, pairing, ends_on, "member_id", "household.unpair", f"household:{household.id}",
         ended=_("That pairing has ended already."), code="pairing_ended", timezone=timezone, now=now)
    _changed(session, household.community_id, now)
    return pairing


def _changed(session: Session, community_id: int, now: datetime) -> None:
    """Note a change of the community's register, in the transaction that makes it (the version
    cached coverage is checked against)."""
    session.add(RegisterChange(community_id=community_id, at=now))


def _end(session: Session, actor: Actor, row: HouseholdPairing | GridWorker | CenterHousehold | BuildingLeader,
         ends_on: object,
         who: str,
         action: str, target: str, *, ended, code: str, timezone: str, now: datetime) -> None:
    """End a pairing or a grid worker's assignment on ``ends_on`` (today by default), audited."""
    if row.ends_on is not None:
        raise Conflict(ended, code=code)
    end = _date(ends_on, "ends_on", local_date(now, timezone))
    if end < row.starts_on:
        raise InvalidInput(_("It cannot end before it starts."), code="invalid_date", details={"field": "ends_on"})
    row.ends_on = end
    session.flush()
    audit.record(session, actor, action, target, now, {"before": {who: getattr(row, who), "ends_on": None},
                                                       "after": {who: getattr(row, who), "ends_on": end.isoformat()}})


@dataclass(frozen=True)
class Post:
    """A building's post held by one person at a time (党员中心户, 楼栋长): what its refusals say and
    how the audit log names its acts."""

    who: str  # the column naming who holds it
    appoint: str
    end: str
    already: Text
    already_code: str
    later: Text
    later_code: str
    ended: Text
    ended_code: str


CENTER = Post("member_id", "building.appoint_center_household", "building.end_center_household",
              _("The member is this building's center household already."), "already_center_household",
              _("Another center household starts on that day or later: end it first."), "center_household_later",
              _("That center household has ended already."), "center_household_ended")
LEADER = Post("account_id", "building.appoint_leader", "building.end_leader",
              _("They lead this building already."), "already_building_leader",
              _("Another building leader starts on that day or later: end it first."), "building_leader_later",
              _("That building leader's term has ended already."), "building_leader_ended")


def _hand_over(session: Session, actor: Actor, building: Building, model, post: Post, holder: int, start: date, *,
               timezone: str, now: datetime):
    """``holder`` takes the building's post from ``start``; the one before hands over and ends the
    day before (kept in the history). Refused when the one in place starts on that day or later
    (end it instead), or is this holder."""
    current_rows = session.scalars(select(model).where(model.building_id == building.id)
                                   .order_by(model.starts_on, model.id)).all()
    for current in current_rows:
        if current.ends_on is not None and current.ends_on < start:
            continue
        if getattr(current, post.who) == holder:
            raise Conflict(post.already, code=post.already_code)
        if current.starts_on >= start:
            raise Conflict(post.later, code=post.later_code)
        _end(session, actor, current, start - timedelta(days=1), post.who, post.end, f"building:{building.id}",
             ended=post.ended, code=post.ended_code, timezone=timezone, now=now)
    row = model(building_id=building.id, starts_on=start, created_by=actor.account_id, created_at=now,
                **{post.who: holder})
    session.add(row)
    session.flush()
    audit.record(session, actor, post.appoint, f"building:{building.id}", now,
                 {"after": {post.who: holder, "starts_on": start.isoformat()}})
    return row


def appoint_center_household(session: Session, actor: Actor, building_id: object, member_id: object, *,
                             starts_on: object = None, timezone: str, now: datetime | None = None
                             ) -> CenterHousehold:
    """党员中心户: a member registered with the community becomes the building's center household
    from ``starts_on`` (the one before hands over, see :func:`_hand_over`)."""
    now = now or utcnow()
    building = building_at(session, building_id)
    _desk_for(actor, building.community_id)
    session.execute(select(Building.id).where(Building.id == building.id).with_for_update())  # one at a time
    member = _registered_member(session, member_id, building.community_id)
    start = _date(starts_on, "starts_on", local_date(now, timezone))
    return _hand_over(session, actor, building, CenterHousehold, CENTER, member.id, start, timezone=timezone, now=now)


def appoint_leader(session: Session, actor: Actor, building_id: object, account_id: object, *,
                   starts_on: object = None, timezone: str, now: datetime | None = None) -> BuildingLeader:
    """楼栋长: a resident or volunteer who lives in the building's community leads it from
    ``starts_on`` (the one before hands over)."""
    now = now or utcnow()
    building = building_at(session, building_id)
    _desk_for(actor, building.community_id)
    session.execute(select(Building.id).where(Building.id == building.id).with_for_update())  # one at a time
    known = isinstance(account_id, int) and not isinstance(account_id, bool)
    account = session.get(Account, account_id) if known else None
    if account is None or account.role not in RESIDENTS or account.community_id != building.community_id \
            or not account.is_active:
        raise InvalidInput(_("A building leader is a resident or volunteer living in the building's community."),
                           code="not_a_resident_here", details={"field": "account_id"})
    start = _date(starts_on, "starts_on", local_date(now, timezone))
    return _hand_over(session, actor, building, BuildingLeader, LEADER, account.id, start, timezone=timezone, now=now)


def end_leader(session: Session, actor: Actor, building_id: object, leader_id: int, *, ends_on: object = None,
               timezone: str, now: datetime | None = None) -> BuildingLeader:
    now = now or utcnow()
    building = building_at(session, building_id)
    _desk_for(actor, building.community_id)
    leader = session.get(BuildingLeader, leader_id)
    if leader is None or leader.building_id != building.id:
        raise NotFound(_("Building leader {id} does not exist.", id=leader_id), code="building_leader_not_found")
    _end(session, actor, leader, ends_on, "account_id", LEADER.end, f"building:{building.id}", ended=LEADER.ended,
         code=LEADER.ended_code, timezone=timezone, now=now)
    return leader


def end_center_household(session: Session, actor: Actor, building_id: object, center_id: int, *,
                         ends_on: object = None, timezone: str, now: datetime | None = None) -> CenterHousehold:
    now = now or utcnow()
    building = building_at(session, building_id)
    _desk_for(actor, building.community_id)
    center = session.get(CenterHousehold, center_id)
    if center is None or center.building_id != building.id:
        raise NotFound(_("Center household {id} does not exist.", id=center_id), code="center_household_not_found")
    _end(session, actor, center, ends_on, "member_id", CENTER.end, f"building:{building.id}", ended=CENTER.ended,
         code=CENTER.ended_code, timezone=timezone, now=now)
    return center


def grid_of(session: Session, grid_id: object) -> Grid:
    grid = session.get(Grid, grid_id) if isinstance(grid_id, int) and not isinstance(grid_id, bool) else None
    if grid is None:
        raise NotFound(_("Grid {id} does not exist.", id=grid_id), code="grid_not_found")
    return grid


def assign_grid_worker(session: Session, actor: Actor, grid_id: int, account_id: object, *, starts_on: object = None,
                       timezone: str, now: datetime | None = None) -> GridWorker:
    """网格员: a staff account of the grid's community does its rounds from ``starts_on``."""
    now = now or utcnow()
    grid = grid_of(session, grid_id)
    _desk_for(actor, grid.community_id)
    account = session.get(Account, account_id) if isinstance(account_id, int) and not isinstance(
        account_id, bool) else None
    if account is None or account.role != Role.staff or account.community_id != grid.community_id \
            or not account.is_active:
        raise InvalidInput(_("A grid worker is an active staff account of the grid's community."),
                           code="not_community_staff", details={"field": "account_id"})
    start = _date(starts_on, "starts_on", local_date(now, timezone))
    if any(w.account_id == account.id for w in repo.grid_workers(session, grid.id, on=start)):
        raise Conflict(_("That person already works this grid."), code="already_grid_worker")
    worker = GridWorker(grid_id=grid.id, account_id=account.id, starts_on=start, created_by=actor.account_id,
                        created_at=now)
    session.add(worker)
    session.flush()
    audit.record(session, actor, "grid.assign_worker", f"grid:{grid.id}", now,
                 {"after": {"account_id": account.id, "starts_on": start.isoformat()}})
    return worker


def end_grid_worker(session: Session, actor: Actor, grid_id: int, worker_id: int, *, ends_on: object = None,
                    timezone: str, now: datetime | None = None) -> GridWorker:
    now = now or utcnow()
    grid = grid_of(session, grid_id)
    _desk_for(actor, grid.community_id)
    worker = session.get(GridWorker, worker_id)
    if worker is None or worker.grid_id != grid.id:
        raise NotFound(_("Grid worker {id} does not exist.", id=worker_id), code="grid_worker_not_found")
    _end(session, actor, worker, ends_on, "account_id", "grid.end_worker", f"grid:{grid.id}",
         ended=_("That assignment has ended already."), code="grid_worker_ended", timezone=timezone, now=now)
    return worker


# --- visits -----------------------------------------------------------------------------------

def _enum(enum_cls, value: object, field: str):
    try:
        return enum_cls(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum_cls)
        raise InvalidInput(_("{field} must be one of {choices}.", field=field, choices=choices),
                           code=f"invalid_{field}", details={"field": field}) from None


def record_visit(session: Session, actor: Actor, household_id: int, data: dict[str, Any], *, timezone: str,
                 now: datetime | None = None) -> tuple[Visit, bool]:
    """走访: one tap. Returns the visit and whether it is new: recording the same household again
    on the same day returns the visit already recorded and writes nothing but the photos given
    (``photo_ids``: the visitor's own uploads), which join it. A visit that found a
    problem opens its request (channel ``visit`` for a member, ``inspection`` for staff) in the
    same transaction, with the place and the resident visited filled in."""
    now = now or utcnow()
    household = _household(session, household_id, lock=True)  # one visit per person and day, even at once
    today = local_date(now, timezone)
    day = _date(data.get("date"), "date", today)
    member_id = actor.member_id if actor.role == Role.member else None
    existing, paired, street_id, registered = repo.before_visit(session, household, actor.account_id, member_id,
                                                                day)
    if actor.role == Role.member and actor.member_id is not None:
        if not registered:
            raise Forbidden(_("You can record visits only in a community you are registered with."),
                            code="not_registered")
    elif actor.role == Role.staff:
        if actor.community_id != household.community_id:
            raise Forbidden(_("That belongs to another community."), code="out_of_scope")
    else:
        raise Forbidden(_("Visits are recorded by members and community staff."), code="role_not_allowed")
    if not household.active:
        raise Conflict(_("This household is no longer on the register."), code="household_inactive")
    if day > today:
        raise InvalidInput(_("A visit cannot be recorded for a day that has not come yet."), code="visit_in_future",
                           details={"field": "date"})
    if day < household.created_on:
        raise InvalidInput(_("The household was not on the register on that day."), code="visit_before_household",
                           details={"field": "date"})
    method = _enum(VisitMethod, data.get("method", VisitMethod.at_home.value), "method")
    outcome = _enum(VisitOutcome, data.get("outcome", VisitOutcome.all_well.value), "outcome")
    note = clean_text(data.get("note"), "note", limit=1000, required=False)
    problem = data.get("problem")
    if outcome == VisitOutcome.problem and not isinstance(problem, dict):
        raise InvalidInput(_("Say what the problem is: its category and a description."), code="problem_required",
                           details={"field": "problem"})
    if outcome != VisitOutcome.problem and problem is not None:
        raise InvalidInput(_("Only a visit that found a problem describes one."), code="problem_not_expected",
                           details={"field": "problem"})

    photo_ids = data.get("photo_ids", [])
    if existing is not None:  # the same visit: only photos taken since are added to it
        photos.attach_to_visit(session, actor, photo_ids, existing)
        return session.get(Visit, existing), False
    visit = Visit(household_id=household.id, community_id=household.community_id,
                  street_id=street_id, visitor_id=actor.account_id,
                  member_id=member_id, visitor_role=actor.role,
                  paired=paired, local_date=day, at=now, method=method, outcome=outcome, note=note, created_at=now)
    if outcome == VisitOutcome.problem:
        building = session.get(Building, household.building_id)
        request = intake.submit(session, actor, intake.Submission(
            channel="visit" if actor.role == Role.member else "inspection",
            category=problem.get("category"),
            description=problem.get("description") or note,
            community_id=household.community_id, building_id=household.building_id,
            address=f"{building.name} {household.door}".strip(),
            contact_name=household.contact_name, contact_phone=household.contact_phone,
            photo_ids=problem.get("photo_ids", []),
        ), now=now, timezone=timezone)
        visit.request_id = request.id
    session.add(visit)
    session.flush()
    photos.attach_to_visit(session, actor, photo_ids, visit.id)
    ledger.credit_visit(session, timezone, visit, now)
    return visit, True


# --- inspection rounds ------------------------------------------------------------------------

def _round_of_worker(session: Session, actor: Actor, round_id: int, *, lock: bool = True) -> InspectionRound:
    if actor.role != Role.staff:
        raise Forbidden(_("Rounds are done by grid workers."), code="role_not_allowed")
    row = repo.round_(session, round_id, lock=lock)
    if row is None or row.account_id != actor.account_id:
        raise NotFound(_("Round {id} does not exist.", id=round_id), code="round_not_found")
    if row.ended_at is not None:
        raise Conflict(_("This round has ended."), code="round_ended")
    return row


def rounds_of(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0) -> list[InspectionRound]:
    """The grid worker's own rounds, newest first."""
    if actor.role != Role.staff:
        raise Forbidden(_("Rounds are done by grid workers."), code="role_not_allowed")
    return list(repo.rounds_of(session, actor.account_id, limit=limit, offset=offset))


def start_round(session: Session, actor: Actor, grid_id: int, *, timezone: str,
                now: datetime | None = None) -> tuple[InspectionRound, bool]:
    """A grid worker starts a round of their grid. A round of theirs still open there is returned
    instead of a second one."""
    now = now or utcnow()
    if actor.role != Role.staff:
        raise Forbidden(_("Rounds are done by grid workers."), code="role_not_allowed")
    grid = grid_of(session, grid_id)
    if grid.community_id != actor.community_id:
        raise Forbidden(_("That belongs to another community."), code="out_of_scope")
    today = local_date(now, timezone)
    if not any(w.account_id == actor.account_id for w in repo.grid_workers(session, grid.id, on=today)):
        raise Forbidden(_("You are not a grid worker of this grid."), code="not_grid_worker")
    session.get(Account, actor.account_id, with_for_update=True)  # two taps at once start one round
    open_round = repo.open_round(session, actor.account_id, grid.id)
    if open_round is not None:
        return open_round, False
    row = InspectionRound(grid_id=grid.id, community_id=grid.community_id,
                          street_id=session.get(Community, grid.community_id).street_id, account_id=actor.account_id,
                          local_date=today, started_at=now, building_ids=[], areas=[], finding_ids=[])
    session.add(row)
    session.flush()
    return row, True


def tick_round(session: Session, actor: Actor, round_id: int, *, building_ids: object = (), areas: object = ()
               ) -> InspectionRound:
    """Tick buildings of the grid and common areas as covered. Ticking twice changes nothing."""
    row = _round_of_worker(session, actor, round_id)
    if not isinstance(building_ids, list | tuple) or any(
            isinstance(b, bool) or not isinstance(b, int) for b in building_ids):
        raise InvalidInput(_("building_ids must be a list of building ids."), code="invalid_type",
                           details={"field": "building_ids"})
    if not isinstance(areas, list | tuple) or any(not isinstance(a, str) for a in areas):
        raise InvalidInput(_("areas must be a list of names."), code="invalid_type", details={"field": "areas"})
    in_grid = set(session.scalars(select(Building.id).where(Building.grid_id == row.grid_id)))
    outside = sorted(set(building_ids) - in_grid)
    if outside:
        raise InvalidInput(_("Building {id} is not in this grid.", id=outside[0]), code="invalid_location",
                           details={"field": "building_ids"})
    names = [clean_text(a, "areas", code="area_required", message=_("Name the common area."), limit=50)
             for a in areas]
    merged_areas = list(dict.fromkeys([*row.areas, *names]))
    if len(merged_areas) > MAX_AREAS:
        raise InvalidInput(_("At most {n} common areas in one round.", n=MAX_AREAS), code="too_many_areas",
                           details={"field": "areas"})
    row.building_ids = sorted(set(row.building_ids) | set(building_ids))
    row.areas = merged_areas
    session.flush()
    return row


def round_finding(session: Session, actor: Actor, round_id: int, submission: intake.Submission, *, timezone: str,
                  now: datetime | None = None) -> Request:
    """A finding on the round: an ``inspection`` request in the round's grid."""
    row = _round_of_worker(session, actor, round_id)
    submission.channel = "inspection"
    submission.community_id = row.community_id
    if submission.building_id is None:
        submission.grid_id = row.grid_id
    request = intake.submit(session, actor, submission, now=now, timezone=timezone)
    if request.grid_id != row.grid_id:
        raise InvalidInput(_("That building is not in this grid."), code="invalid_location",
                           details={"field": "building_id"})
    row.finding_ids = [*row.finding_ids, request.id]
    if request.building_id is not None and request.building_id not in row.building_ids:
        row.building_ids = sorted({*row.building_ids, request.building_id})
    session.flush()
    return request


def end_round(session: Session, actor: Actor, round_id: int, *, note: object = "",
              now: datetime | None = None) -> InspectionRound:
    row = _round_of_worker(session, actor, round_id)
    row.note = clean_text(note, "note", limit=1000, required=False)
    row.ended_at = now or utcnow()
    session.flush()
    return row


# --- reminders --------------------------------------------------------------------------------

def remind(session: Session, actor: Actor, household_id: int, *, timezone: str, now: datetime | None = None
           ) -> list[int]:
    """The secretary's or staff's nudge: the household's paired members get a notification that
    it is due (inbox and webhooks). Returns the members' account ids; none paired is a 409."""
    now = now or utcnow()
    household = _household(session, household_id)
    if actor.role not in (Role.staff, Role.secretary, Role.admin):
        raise Forbidden(_("Reminders are sent by community staff and secretaries."), code="role_not_allowed")
    if actor.role != Role.admin and actor.community_id != household.community_id:
        raise Forbidden(_("That belongs to another community."), code="out_of_scope")
    today = local_date(now, timezone)
    member_ids = [p.member_id for p in repo.pairings_of_household(session, household.id, on=today)]
    accounts = list(session.scalars(select(Member.account_id).where(Member.id.in_(member_ids)))) if member_ids else []
    if not accounts:
        raise Conflict(_("No member looks after this household: pair one first."), code="no_paired_member")
    building = session.get(Building, household.building_id)
    notifications.notify(session, "visit_due", None, accounts, household_id=household.id,
                         building=building.name, door=household.door, reminded_by=actor.account_id)
    return sorted(accounts)
