"""What a member shows residents of themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..models.base import Base, utcnow


class MemberShowing(Base):
    """A member's choice; a member without a row shows their name and home unit (the default)."""

    __tablename__ = "member_showings"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    show_name: Mapped[bool] = mapped_column(Boolean, default=True)
    show_unit: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str] = mapped_column(String(30), default="")  # e.g. 党员中心户, 楼栋长
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
