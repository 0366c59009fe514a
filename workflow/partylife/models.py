"""Activities, attendance and members' own annual targets."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models.base import Base, enum_column, utcnow


class ActivityKind(enum.StrEnum):
    study_day = "study_day"  # 固定学习日
    theme_day = "theme_day"  # 主题党日
    volunteer_activity = "volunteer_activity"  # 志愿服务活动
    care_visit = "care_visit"  # 走访慰问困难、老党员


class CheckIn(enum.StrEnum):
    code = "code"  # the member typed the posted code
    organiser = "organiser"  # the organiser checked them in


class Activity(Base):
    """One activity of a community's party life, on one day, with its check-in code."""

    __tablename__ = "party_activities"
    __table_args__ = (Index("ix_party_activities_community_day", "community_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, "activity_kind"))
    title: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(100), default="")
    # What members type to check in on the day; unique, so that a code names its activity.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    """A member was there: once per activity, however they were checked in."""

    __tablename__ = "party_attendance"
    __table_args__ = (UniqueConstraint("activity_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("party_activities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    method: Mapped[CheckIn] = mapped_column(enum_column(CheckIn, "check_in_method"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnualTarget(Base):
    """A member's own targets for a year, set by a secretary of a community they are registered
    with; without one the policy's targets apply."""

    __tablename__ = "annual_targets"
    __table_args__ = (UniqueConstraint("member_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int] = mapped_column(Integer)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    visits: Mapped[int] = mapped_column(Integer)
    activities: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
