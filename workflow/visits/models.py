"""The tables of planned collection: households, pairings, visits and inspection rounds."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models.base import Base, enum_column, utcnow


class HouseholdTag(Base):
    """A kind of household an admin added beside the built-in ones (``plan.BUILTIN_TAGS``)."""

    __tablename__ = "household_tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Household(Base):
    """住户: one door of a building. ``code`` is stable and unique in its community, so a later
    import from a spreadsheet finds the same row again. No ID numbers; the contact is optional
    and shown masked outside the desk (``workflow.privacy``)."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("community_id", "code"), Index("ix_households_building", "building_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    code: Mapped[str] = mapped_column(String(32))
    door: Mapped[str] = mapped_column(String(50))  # unit and room, e.g. 2单元301
    tags: Mapped[list] = mapped_column(JSON, default=list)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_on: Mapped[date] = mapped_column(Date)  # local date: no visit is due before it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegisterChange(Base):
    """One change to a community's household register (a household added or edited, a pairing
    begun or ended), written in the same transaction. Rows are only ever added: their count is
    the register's version, which the coverage figures cached per community are checked against
    (``workflow.visits.coverage``); visits, also only added, count the same way."""

    __tablename__ = "register_changes"
    __table_args__ = (Index("ix_register_changes_community", "community_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CoverageCount(Base):
    """A community's coverage figures as a score run counted them (``coverage.collection``): what
    counting again gives as long as the facts they were counted from hold, kept with their
    version (the count and last id of the community's visits up to the day counted to and the
    run's visit mark, and of its register changes), the day counted to, the day it was counted on
    and the visit plan. A later run whose versions match reads them instead of counting the whole
    register again; any mismatch counts afresh. A memo of a computation, never typed: emptying the
    table changes no score."""

    __tablename__ = "coverage_counts"
    __table_args__ = (UniqueConstraint("community_id", "as_of", "today", "plan_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    today: Mapped[date] = mapped_column(Date)
    plan_key: Mapped[str] = mapped_column(String(64))  # the plan's SHA-256
    visits_n: Mapped[int] = mapped_column()
    visits_last: Mapped[int] = mapped_column()
    changes_n: Mapped[int] = mapped_column()
    changes_last: Mapped[int] = mapped_column()
    households: Mapped[int] = mapped_column()
    visited: Mapped[int] = mapped_column()
    due: Mapped[int] = mapped_column()
    overdue: Mapped[int] = mapped_column()
    never_visited: Mapped[int] = mapped_column()
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)


class HouseholdPairing(Base):
    """联户: a member looks after a household from ``starts_on`` until ``ends_on`` (inclusive;
    open while None). Ended pairings are kept: they say who was responsible when."""

    __tablename__ = "household_pairings"
    __table_args__ = (Index("ix_household_pairings_member", "member_id", "ends_on"),
                      Index("ix_household_pairings_household", "household_id", "ends_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CenterHousehold(Base):
    """党员中心户: a member registered with the community is a building's party-member center
    household from ``starts_on`` until ``ends_on`` (inclusive; open while None): the member its
    residents and the members paired there turn to first. One at a time per building; the ended
    ones are kept."""

    __tablename__ = "center_households"
    __table_args__ = (Index("ix_center_households_building", "building_id", "ends_on"),
                      Index("ix_center_households_member", "member_id", "ends_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BuildingLeader(Base):
    """楼栋长: a resident (or volunteer) of the community leads a building from ``starts_on`` until
    ``ends_on`` (inclusive; open while None). They may report for the building's residents, see its
    open requests, and confirm on the spot the result of a request no resident reported. One at a
    time per building; the ended ones are kept."""

    __tablename__ = "building_leaders"
    __table_args__ = (Index("ix_building_leaders_building", "building_id", "ends_on"),
                      Index("ix_building_leaders_account", "account_id", "ends_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GridWorker(Base):
    """网格员: a staff account does the rounds of a grid from ``starts_on`` until ``ends_on``."""

    __tablename__ = "grid_workers"
    __table_args__ = (Index("ix_grid_workers_grid", "grid_id", "ends_on"),
                      Index("ix_grid_workers_account", "account_id", "ends_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VisitMethod(enum.StrEnum):
    at_home = "at_home"  # 在家走访
    phone = "phone"  # 电话
    met_outside = "met_outside"  # 外出遇见


class VisitOutcome(enum.StrEnum):
    all_well = "all_well"  # 一切正常
    problem = "problem"  # found a problem: a request is opened with the visit
    need = "need"  # a need noted, for the community to follow up


class Visit(Base):
    """走访: one visit of one household by one person on one local day. Recording it again the
    same day is the same visit."""

    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("household_id", "visitor_id", "local_date"),
        Index("ix_visits_community_date", "community_id", "local_date"),
        Index("ix_visits_household_date", "household_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)  # a member's visit
    visitor_role: Mapped[str] = mapped_column(String(24))
    # Was the visitor paired with the household that day? Kept with the visit: a later change of
    # pairings does not rewrite who was responsible.
    paired: Mapped[bool] = mapped_column(Boolean, default=False)
    local_date: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime]
    method: Mapped[VisitMethod] = mapped_column(enum_column(VisitMethod, "visit_method"))
    outcome: Mapped[VisitOutcome] = mapped_column(enum_column(VisitOutcome, "visit_outcome"))
    note: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VisitReminder(Base):
    """A reminder the sweep sent (workflow.visits.sweep), by its key, so each is sent once:
    ``due:<household>:<due day>`` to a household's members, ``overdue:<community>:<day>`` to its
    secretaries."""

    __tablename__ = "visit_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    sent_at: Mapped[datetime]


class InspectionRound(Base):
    """巡查: a grid worker's round of their grid, from start to end, with the buildings and common
    areas ticked on the way and the requests (channel ``inspection``) it found."""

    __tablename__ = "inspection_rounds"
    __table_args__ = (Index("ix_inspection_rounds_grid_date", "grid_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    local_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    building_ids: Mapped[list] = mapped_column(JSON, default=list)
    areas: Mapped[list] = mapped_column(JSON, default=list)  # common areas by name: 小区广场, 地下车库
    finding_ids: Mapped[list] = mapped_column(JSON, default=list)  # the requests it opened
    note: Mapped[str] = mapped_column(Text, default="")
