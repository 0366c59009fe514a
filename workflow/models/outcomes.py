"""One outcome row per closed request: the fact table that rates and rankings aggregate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column
from .requests import Satisfaction


class Outcome(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), unique=True)
    # Local-time periods: calendar month "2026-11" and the 19th-to-18th period named by the month
    # it ends in (2026-10-19 .. 2026-11-18 is "2026-11").
    period_month: Mapped[str] = mapped_column(String(7), index=True)
    period_19: Mapped[str] = mapped_column(String(7), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    channel: Mapped[str] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(16))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    responded_in_time: Mapped[bool]
    resolved_in_time: Mapped[bool]
    # The verdict that closed the request (None when it expired unevaluated).
    evaluated: Mapped[bool]
    solved: Mapped[bool | None]
    satisfaction: Mapped[Satisfaction | None] = mapped_column(enum_column(Satisfaction, "satisfaction"))
    # Every decisive verdict of every round, the ones that reopened it included (DESIGN.md §3: the
    # unsatisfied evaluation that causes a reopen counts): what the resolution and satisfaction
    # rates add up.
    verdicts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verdicts_solved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verdicts_satisfied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verdicts_basically: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    appraisal: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    reopen_count: Mapped[int] = mapped_column(Integer)
    closed_by: Mapped[str] = mapped_column(String(16))  # "evaluate" or "expire"
    closed_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
