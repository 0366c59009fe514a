"""What each reader sees of households, pairings, visits and rounds.

A household's contact is personal data (``workflow.privacy``): lists show it masked to everyone;
one household's own answer shows it whole to the community's staff, its secretary and admins, and
that look is logged. Members and street officers see it masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import privacy
from ..access import RESIDENTS, Actor, is_registered, leads, require_member
from ..commands import photos as photo_cmds
from ..errors import Forbidden, NotFound
from ..i18n import _
from ..models import Account, Building, Community, Member, Photo, Role
from ..repository import requests as requests_repo
from . import coverage
from . import repository as repo
from .commands import building_at, grid_of
from .models import CenterHousehold, Household, HouseholdTag, InspectionRound, Visit
from .plan import BUILTIN_TAGS

DESK = (Role.staff, Role.secretary, Role.admin)


def tags(session: Session, locale: str) -> list[dict[str, Any]]:
    builtin = [{"code": code, "name": name.render(locale), "builtin": True} for code, name in BUILTIN_TAGS.items()]
    custom = [{"code": t.code, "name": t.name_en if locale == "en" else t.name_zh, "builtin": False}
              for t in repo.tags(session)]
    return builtin + custom


def tag_out(tag: HouseholdTag) -> dict[str, Any]:
    return {"code": tag.code, "name_zh": tag.name_zh, "name_en": tag.name_en}


def _reader(session: Session, actor: Actor, community_id: int) -> bool:
    """May ``actor`` read the community's households? Returns whether they see contacts whole."""
    if actor.role == Role.admin:
        return True
    if actor.role in (Role.staff, Role.secretary) and actor.community_id is not None:
        if actor.community_id != community_id:
            raise Forbidden(_("That belongs to another community."), code="out_of_scope")
        return True
    if actor.role in (Role.secretary, Role.street_officer) and actor.street_id is not None:
        street_id = session.scalar(select(Community.street_id).where(Community.id == community_id))
        if street_id != actor.street_id:
            raise Forbidden(_("That belongs to another community."), code="out_of_scope")
        return False
    if actor.role == Role.member:
        if not is_registered(session, actor.member_id, community_id):
            raise Forbidden(_("You can see households only in a community you are registered with."),
                            code="not_registered")
        return False
    raise Forbidden(_("Households are kept by the community."), code="role_not_allowed")


def household_out(household: Household, *, whole: bool, building: str = "") -> dict[str, Any]:
    name, phone = household.contact_name, household.contact_phone
    if not whole:
        name, phone = privacy.mask_name(name), privacy.mask_phone(phone) if phone else ""
    return {"id": household.id, "community_id": household.community_id, "building_id": household.building_id,
            "building": building, "code": household.code, "door": household.door, "tags": list(household.tags or []),
            "contact_name": name, "contact_phone": phone, "active": household.active,
            "created_on": household.created_on}


def _building_names(session: Session, ids) -> dict[int, str]:
    ids = set(ids)
    return dict(session.execute(select(Building.id, Building.name).where(Building.id.in_(ids))).all()) if ids else {}


def list_households(session: Session, actor: Actor, community_id: int, *, building_id: int | None = None,
                    limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    if session.get(Community, community_id) is None:
        raise NotFound(_("Community {id} does not exist.", id=community_id), code="community_not_found")
    _reader(session, actor, community_id)
    rows = repo.households(session, community_id, building_id=building_id, limit=limit, offset=offset)
    names = _building_names(session, (h.building_id for h in rows))
    return [household_out(h, whole=False, building=names.get(h.building_id, "")) for h in rows]


def pairing_out(session: Session, pairing) -> dict[str, Any]:
    name = session.scalar(select(Account.display_name).join(Member, Member.account_id == Account.id)
                          .where(Member.id == pairing.member_id))
    return {"id": pairing.id, "household_id": pairing.household_id, "member_id": pairing.member_id,
            "display_name": name or "", "starts_on": pairing.starts_on, "ends_on": pairing.ends_on}


def visit_out(visit: Visit, photo_ids: list[int] | None = None) -> dict[str, Any]:
    return {"id": visit.id, "household_id": visit.household_id, "date": visit.local_date,
            "visitor_role": visit.visitor_role, "member_id": visit.member_id, "paired": visit.paired,
            "method": visit.method.value, "outcome": visit.outcome.value, "note": visit.note,
            "request_id": visit.request_id, "at": visit.at, "photo_ids": photo_ids or []}


def visit_photos(session: Session, actor: Actor, visits: Sequence[Visit]) -> dict[int, list[int]]:
    """The photos of each visit the actor may see them of (``photos.may_see_visit_photos``)."""
    shown = [v.id for v in visits if photo_cmds.may_see_visit_photos(actor, v)]
    out: dict[int, list[int]] = {}
    if shown:
        for visit_id, photo_id in session.execute(select(Photo.visit_id, Photo.id).where(Photo.visit_id.in_(shown))
                                                  .order_by(Photo.id)):
            out.setdefault(visit_id, []).append(photo_id)
    return out


def read_household(session: Session, actor: Actor, household_id: int, door: str) -> dict[str, Any]:
    household = repo.household(session, household_id)
    if household is None:
        raise NotFound(_("Household {id} does not exist.", id=household_id), code="household_not_found")
    whole = _reader(session, actor, household.community_id)
    if whole:
        fields = tuple(f for f in ("contact_name", "contact_phone") if getattr(household, f))
        privacy.log_household_read(session, actor, household.id, fields, door)
    out = household_out(household, whole=whole,
                        building=_building_names(session, [household.building_id]).get(household.building_id, ""))
    out["pairings"] = [pairing_out(session, p) for p in repo.pairings_of_household(session, household.id)]
    # A member reads the notes of their own visits only: another visitor's note may be private.
    visits = repo.visits_of_household(session, household.id)
    photos = visit_photos(session, actor, visits)
    out["visits"] = [visit_out(v, photos.get(v.id)) if actor.role != Role.member or v.visitor_id == actor.account_id
                     else {**visit_out(v), "note": ""} for v in visits]
    return out


def my_households(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """"My households" (我的联系户): the member's households, the soonest due first."""
    member_id = require_member(actor)
    found = coverage.my_households(session, member_id, today)
    households = {h.id: h for h in session.scalars(select(Household).where(
        Household.id.in_([s.household_id for s in found])))} if found else {}
    names = _building_names(session, (s.building_id for s in found))
    mine = set(session.scalars(select(Visit.household_id).where(
        Visit.visitor_id == actor.account_id, Visit.local_date == today))) if found else set()
    return [{**household_out(households[s.household_id], whole=False, building=names.get(s.building_id, "")),
             "status": s.status, "due_on": s.due_on, "last_visit": s.last_visit,
             "visited_today": s.household_id in mine} for s in found]


def round_out(row: InspectionRound) -> dict[str, Any]:
    return {"id": row.id, "grid_id": row.grid_id, "community_id": row.community_id, "date": row.local_date,
            "started_at": row.started_at, "ended_at": row.ended_at, "building_ids": list(row.building_ids or []),
            "areas": list(row.areas or []), "finding_ids": list(row.finding_ids or []), "note": row.note}


def grid_workers(session: Session, actor: Actor, grid_id: int) -> list[dict[str, Any]]:
    grid = grid_of(session, grid_id)
    _reader(session, actor, grid.community_id)
    rows = repo.grid_workers(session, grid.id)
    names = dict(session.execute(select(Account.id, Account.display_name).where(
        Account.id.in_({w.account_id for w in rows}))).all()) if rows else {}
    return [worker_out(w, names.get(w.account_id, "")) for w in rows]


def center_households(session: Session, actor: Actor, building_id: int) -> list[dict[str, Any]]:
    """A building's 党员中心户, past and present, to those who read its community's households."""
    building = building_at(session, building_id)
    _reader(session, actor, building.community_id)
    return [center_out(session, c) for c in repo.center_households(session, building.id)]


def centers_on(session: Session, building_ids: list[int], day: date) -> dict[int, str]:
    """Building id → the display name of its center household on ``day``."""
    if not building_ids:
        return {}
    return dict(session.execute(
        select(CenterHousehold.building_id, Account.display_name)
        .join(Member, Member.id == CenterHousehold.member_id).join(Account, Account.id == Member.account_id)
        .where(CenterHousehold.building_id.in_(building_ids), CenterHousehold.starts_on <= day,
               (CenterHousehold.ends_on.is_(None)) | (CenterHousehold.ends_on >= day))).all())


def center_out(session: Session, center) -> dict[str, Any]:
    name = session.scalar(select(Account.display_name).join(Member, Member.account_id == Account.id)
                          .where(Member.id == center.member_id))
    return {"id": center.id, "building_id": center.building_id, "member_id": center.member_id,
            "display_name": name or "", "starts_on": center.starts_on, "ends_on": center.ends_on}


def worker_out(worker, display_name: str) -> dict[str, Any]:
    return {"id": worker.id, "grid_id": worker.grid_id, "account_id": worker.account_id, "display_name": display_name,
            "starts_on": worker.starts_on, "ends_on": worker.ends_on}


# --- 楼栋长 -------------------------------------------------------------------------------------------

def building_leaders(session: Session, actor: Actor, building_id: int) -> list[dict[str, Any]]:
    """A building's 楼栋长, past and present, to those who read its community's households."""
    building = building_at(session, building_id)
    _reader(session, actor, building.community_id)
    rows = repo.building_leaders(session, building.id)
    names = dict(session.execute(select(Account.id, Account.display_name).where(
        Account.id.in_({r.account_id for r in rows}))).all()) if rows else {}
    return [leader_out(r, names.get(r.account_id, "")) for r in rows]


def leader_out(leader, display_name: str) -> dict[str, Any]:
    return {"id": leader.id, "building_id": leader.building_id, "account_id": leader.account_id,
            "display_name": display_name, "starts_on": leader.starts_on, "ends_on": leader.ends_on}


def my_buildings(session: Session, actor: Actor, day: date) -> list[dict[str, Any]]:
    """The buildings the caller leads today (none for most people)."""
    return [{"id": b.id, "name": b.name, "community_id": b.community_id}
            for b in repo.led_buildings(session, actor.account_id, day)] if actor.account_id else []


def building_requests(session: Session, actor: Actor, building_id: int, day: date) -> Sequence:
    """The building's open requests (not closed, rejected or merged), newest first: for its leader,
    and for those who read its community's households."""
    building = building_at(session, building_id)
    if not (actor.role in RESIDENTS and leads(session, actor.account_id, building.id, day)):
        if actor.role in RESIDENTS or actor.role in (Role.member, Role.volunteer):
            raise Forbidden(_("Only the building's leader sees its requests."), code="not_building_leader")
        _reader(session, actor, building.community_id)
    return requests_repo.open_in_building(session, building.id)
