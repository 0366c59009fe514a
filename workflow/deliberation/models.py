"""Suggestions, their history, meetings and the requests a meeting takes up."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models.base import Base, enum_column, utcnow


class SuggestionStatus(enum.StrEnum):
    received = "received"  # 已收到
    deliberating = "deliberating"  # 议事中
    adopted = "adopted"  # 已采纳
    declined = "declined"  # 未采纳 (with the reason)
    done = "done"  # 已落实


class Suggestion(Base):
    """建言: a resident's, volunteer's or member's suggestion to a community."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_community_status", "community_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[SuggestionStatus] = mapped_column(enum_column(SuggestionStatus, "suggestion_status"),
                                                     default=SuggestionStatus.received)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was declined
    result: Mapped[str] = mapped_column(Text, default="")  # what was done once adopted
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class SuggestionEvent(Base):
    """One step of a suggestion's history, written with the step."""

    __tablename__ = "suggestion_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MeetingStatus(enum.StrEnum):
    open = "open"  # convened, its decision not yet recorded
    decided = "decided"


class Meeting(Base):
    """议事会: one issue, one meeting, one decision (一事一议)."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_community_held", "community_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    topic: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    # Who took part, as the desk writes it (e.g. 居民代表8人、业委会2人、物业1人), and how many.
    participants: Mapped[str] = mapped_column(String(500), default="")
    participant_count: Mapped[int] = mapped_column(Integer)
    options: Mapped[list] = mapped_column(JSON)  # the options put to the vote, in order
    votes: Mapped[list | None] = mapped_column(JSON)  # votes per option, in the same order
    chosen: Mapped[int | None] = mapped_column(Integer)  # the index of the option decided on
    decision: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(8))  # "adopt" or "decline" the suggestions taken up
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.open)
    convened_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class MeetingRequest(Base):
    """A request a meeting takes up (a problem that needs the residents' decision)."""

    __tablename__ = "meeting_requests"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True, index=True)
