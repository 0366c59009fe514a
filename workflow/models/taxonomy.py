"""Two-level category taxonomy: each leaf carries an urgency class and a default route."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column


class Urgency(enum.StrEnum):
    """Deadline classes after DB11/T 2021-2022: respond 1 h / 2 h / 24 h, feed back 2 h … 15 days."""

    emergency = "emergency"
    urgent = "urgent"
    normal = "normal"
    complex = "complex"


class Route(enum.StrEnum):
    community = "community"
    open_task = "open_task"
    street = "street"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(100))
    urgency: Mapped[Urgency] = mapped_column(enum_column(Urgency, "urgency"), default=Urgency.normal)
    default_route: Mapped[Route] = mapped_column(enum_column(Route, "route"), default=Route.community)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
