"""The transactional outbox and the processed-message guard of idempotent actors."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column, utcnow


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sent = "sent"


class OutboxMessage(Base):
    """A message for a queue actor, written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    queue_name: Mapped[str] = mapped_column(String(64), default="default")
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ProcessedMessage(Base):
    """Message ids an actor has finished: a redelivered message is recognised and skipped."""

    __tablename__ = "processed_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
