"""The working-day calendar and the record of deadline actions already taken."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column, utcnow


class DayKind(enum.StrEnum):
    holiday = "holiday"  # a weekday off (放假)
    workday = "workday"  # a weekend day worked (调休上班)


class CalendarDay(Base):
    """An exception to "Monday to Friday are working days"."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[DayKind] = mapped_column(enum_column(DayKind, "day_kind"))
    name: Mapped[str] = mapped_column(String(64), default="")


class DeadlineAction(Base):
    """A reminder sent or an escalation made for one deadline of one request. The unique key is
    what makes every sweep idempotent, however many schedulers run."""

    __tablename__ = "deadline_actions"
    __table_args__ = (Index("uq_deadline_actions", "request_id", "action", "due_at", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    action: Mapped[str] = mapped_column(String(32))  # remind_respond, escalate_resolve, ...
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
