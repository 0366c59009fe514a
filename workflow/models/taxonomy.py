"""Two-level category taxonomy: each leaf carries an urgency class and a default route."""

from __future__ import annotations

import enum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column


class Urgency(enum.StrEnum):
    """How fast someone must respond: emergency 1 h, urgent 2 h, normal and complex 24 h."""

    emergency = "emergency"
    urgent = "urgent"
    normal = "normal"
    complex = "complex"


class DeadlineClass(enum.StrEnum):
    """How long until the resident gets feedback: 2 hours, 24 hours, 7 or 15 working days."""

    h2 = "h2"
    h24 = "h24"
    d7 = "d7"
    d15 = "d15"


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
    deadline_class: Mapped[DeadlineClass] = mapped_column(
        enum_column(DeadlineClass, "deadline_class"), default=DeadlineClass.d7
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Extra questions a report of this kind answers (Open311 service attributes): a list of
    # definitions, checked by workflow.attributes.
    attributes: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Skills (特长) a task of this kind calls for, as members enter them in the register: the task
    # board's "matches my skills" and the desk's list of members who could help read them (a
    # subcategory's own and its parent's).
    skills: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Volunteers (志愿者) may claim this kind's tasks, beside the party members; a subcategory also
    # when its parent allows them.
    volunteers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def name_in(self, locale: str) -> str:
        """The category's name in a person's language (Chinese unless English was asked for)."""
        return self.name_en if locale == "en" else self.name_zh
