"""The time bank's ledger of hours spent."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models.base import Base, enum_column, utcnow


class TimeBankReason(enum.StrEnum):
    service_received = "service_received"  # the volunteer (or their household) received a service


class TimeBankEntry(Base):
    """Hours a volunteer spent from their balance, recorded by staff of a community they are
    registered with. Append-only like the other ledgers (the database refuses UPDATE and DELETE);
    a mistake is put right by a new entry, not by editing this one."""

    __tablename__ = "time_bank_entries"
    __table_args__ = (Index("ix_time_bank_entries_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    reason: Mapped[TimeBankReason] = mapped_column(enum_column(TimeBankReason, "time_bank_reason"))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))  # negative: spent
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    local_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
