"""Queries of planned collection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Date, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from ..access import registered_clause
from ..models import Account, Building, Community, Grid, Member
from .models import (
    BuildingLeader,
    CenterHousehold,
    GridWorker,
    Household,
    HouseholdPairing,
    HouseholdTag,
    InspectionRound,
    Visit,
)
from .plan import BUILTIN_TAGS


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def household(session: Session, household_id: object, *, lock: bool = False) -> Household | None:
    if not _is_id(household_id):
        return None
    return session.get(Household, household_id, with_for_update=lock)


def household_by_code(session: Session, community_id: int, code: str) -> Household | None:
    return session.scalar(select(Household).where(Household.community_id == community_id, Household.code == code))


def households(session: Session, community_id: int, *, building_id: int | None = None, limit: int = 200,
               offset: int = 0) -> Sequence[Household]:
    stmt = select(Household).where(Household.community_id == community_id)
    if building_id is not None:
        stmt = stmt.where(Household.building_id == building_id)
    return session.scalars(stmt.order_by(Household.building_id, Household.door, Household.id)
                           .limit(limit).offset(offset)).all()


def known_tags(session: Session) -> set[str]:
    """The tag codes households and the visit plan may name: the built-in ones and the admins'."""
    return set(BUILTIN_TAGS) | set(session.scalars(select(HouseholdTag.code)))


def tags(session: Session) -> Sequence[HouseholdTag]:
    return session.scalars(select(HouseholdTag).order_by(HouseholdTag.code)).all()


def _during(model, on: date):
    return and_(model.starts_on <= on, or_(model.ends_on.is_(None), model.ends_on >= on))


def pairings_of_household(session: Session, household_id: int, *, on: date | None = None
                          ) -> Sequence[HouseholdPairing]:
    """The household's pairings, all of them, or those in force on ``on``."""
    stmt = select(HouseholdPairing).where(HouseholdPairing.household_id == household_id)
    if on is not None:
        stmt = stmt.where(_during(HouseholdPairing, on))
    return session.scalars(stmt.order_by(HouseholdPairing.starts_on, HouseholdPairing.id)).all()


def paired_members(session: Session, household_ids: Sequence[int], on: date) -> dict[int, list[tuple[int, str]]]:
    """Household id → [(member id, display name)] of the pairings in force on ``on``."""
    out: dict[int, list[tuple[int, str]]] = {}
    if not household_ids:
        return out
    rows = session.execute(
        select(HouseholdPairing.household_id, Member.id, Account.display_name)
        .join(Member, Member.id == HouseholdPairing.member_id).join(Account, Account.id == Member.account_id)
        .where(HouseholdPairing.household_id.in_(household_ids), _during(HouseholdPairing, on))
        .order_by(HouseholdPairing.household_id, Account.display_name))
    for household_id, member_id, name in rows:
        out.setdefault(household_id, []).append((member_id, name))
    return out


def households_of_member(session: Session, member_id: int, on: date) -> Sequence[Household]:
    return session.scalars(
        select(Household).join(HouseholdPairing, HouseholdPairing.household_id == Household.id)
        .where(HouseholdPairing.member_id == member_id, _during(HouseholdPairing, on), Household.active)
        .order_by(Household.building_id, Household.door)).all()


def grid_workers(session: Session, grid_id: int, *, on: date | None = None) -> Sequence[GridWorker]:
    stmt = select(GridWorker).where(GridWorker.grid_id == grid_id)
    if on is not None:
        stmt = stmt.where(_during(GridWorker, on))
    return session.scalars(stmt.order_by(GridWorker.starts_on, GridWorker.id)).all()


def center_households(session: Session, building_id: int, *, on: date | None = None) -> Sequence[CenterHousehold]:
    """The building's 党员中心户, all of them (the history), or the one in force on ``on``."""
    stmt = select(CenterHousehold).where(CenterHousehold.building_id == building_id)
    if on is not None:
        stmt = stmt.where(_during(CenterHousehold, on))
    return session.scalars(stmt.order_by(CenterHousehold.starts_on, CenterHousehold.id)).all()


# Built once, bound per call: the statement's shape never changes, so it is not rebuilt (and its
# cache key not worked out again) on every tap.
_BEFORE_VISIT = select(
    select(Visit.id).where(Visit.household_id == bindparam("household_id"), Visit.visitor_id == bindparam("visitor_id"),
                           Visit.local_date == bindparam("day")).scalar_subquery(),
    exists().where(HouseholdPairing.household_id == bindparam("household_id"),
                   HouseholdPairing.member_id == bindparam("member_id"),
                   _during(HouseholdPairing, bindparam("day", type_=Date))),
    select(Community.street_id).where(Community.id == bindparam("community_id")).scalar_subquery(),
    registered_clause(bindparam("member_id"), bindparam("community_id")))


def before_visit(session: Session, household: Household, visitor_id: int, member_id: int | None, day: date
                 ) -> tuple[int | None, bool, int, bool]:
    """In one statement, what recording a visit needs to know: the id of the visit ``visitor_id``
    recorded of the household that day (if any), whether ``member_id`` looks after it that day
    (never for no member), its street, and whether ``member_id`` is registered with its community."""
    found, paired, street_id, registered = session.execute(_BEFORE_VISIT, {
        "household_id": household.id, "visitor_id": visitor_id, "member_id": member_id, "day": day,
        "community_id": household.community_id}).one()
    return found, bool(paired), street_id, bool(registered)


def visits_of_household(session: Session, household_id: int, *, limit: int = 50) -> Sequence[Visit]:
    return session.scalars(select(Visit).where(Visit.household_id == household_id)
                           .order_by(Visit.local_date.desc(), Visit.id.desc()).limit(limit)).all()


def round_(session: Session, round_id: object, *, lock: bool = False) -> InspectionRound | None:
    if not _is_id(round_id):
        return None
    return session.get(InspectionRound, round_id, with_for_update=lock)


def open_round(session: Session, account_id: int, grid_id: int) -> InspectionRound | None:
    return session.scalar(select(InspectionRound).where(InspectionRound.account_id == account_id,
                                                        InspectionRound.grid_id == grid_id,
                                                        InspectionRound.ended_at.is_(None)))


def rounds_of(session: Session, account_id: int, *, limit: int = 50, offset: int = 0) -> Sequence[InspectionRound]:
    return session.scalars(select(InspectionRound).where(InspectionRound.account_id == account_id)
                           .order_by(InspectionRound.started_at.desc(), InspectionRound.id.desc())
                           .limit(limit).offset(offset)).all()


def buildings_of(session: Session, community_ids: Sequence[int]) -> Sequence[Building]:
    return session.scalars(select(Building).where(Building.community_id.in_(community_ids))
                           .order_by(Building.community_id, Building.name)).all()


def grids_worked_by(session: Session, account_id: int, on: date) -> Sequence[Grid]:
    """The grids an account works on ``on``, by name."""
    return session.scalars(select(Grid).join(GridWorker, GridWorker.grid_id == Grid.id)
                           .where(GridWorker.account_id == account_id, _during(GridWorker, on))
                           .distinct().order_by(Grid.name, Grid.id)).all()


def buildings_of_grid(session: Session, grid_id: int) -> Sequence[Building]:
    return session.scalars(select(Building).where(Building.grid_id == grid_id).order_by(Building.name)).all()


def building_leaders(session: Session, building_id: int, *, on: date | None = None) -> Sequence[BuildingLeader]:
    """The building's 楼栋长, all of them (the history), or the one in force on ``on``."""
    stmt = select(BuildingLeader).where(BuildingLeader.building_id == building_id)
    if on is not None:
        stmt = stmt.where(_during(BuildingLeader, on))
    return session.scalars(stmt.order_by(BuildingLeader.starts_on, BuildingLeader.id)).all()


def led_buildings(session: Session, account_id: int, on: date) -> Sequence[Building]:
    """The buildings the account leads on ``on``."""
    return session.scalars(select(Building).join(BuildingLeader, BuildingLeader.building_id == Building.id)
                           .where(BuildingLeader.account_id == account_id, _during(BuildingLeader, on))
                           .order_by(Building.id)).all()
