"""Member classes and member profiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..i18n import _
from ..models.base import Base, utcnow

# The classes the method names, in every installation; administrators add others (MemberClass).
BUILTIN_CLASSES = {
    "in_service": _("Serving member"),  # 在职党员
    "retired": _("Retired member"),  # 离退休党员
    "mobile": _("Mobile member"),  # 流动党员
    "new_organisation": _("Member in a new economic or social organisation"),  # 两新组织党员
}
# When a member can serve: the register's choices (the desk plans tasks and visits by them).
AVAILABILITY = {
    "weekday_daytime": _("Weekday daytime"),
    "weekday_evening": _("Weekday evenings"),
    "weekend": _("Weekends"),
}
MAX_SKILLS = 10
MAX_SKILL = 20


class MemberClass(Base):
    """A class of member an administrator added beside the built-in ones. Codes are stable, so a
    later import from a spreadsheet names the same class."""

    __tablename__ = "member_classes"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(30))
    name_en: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MemberProfile(Base):
    """A member's entry in the register; a member without a row has no class, post or skills yet."""

    __tablename__ = "member_profiles"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    class_code: Mapped[str | None] = mapped_column(String(32), index=True)  # built-in or a MemberClass
    post: Mapped[str] = mapped_column(String(50), default="")  # their post at the home unit (职务)
    skills: Mapped[list] = mapped_column(JSON, default=list)  # 特长: short tags, e.g. 水电, 法律
    availability: Mapped[list] = mapped_column(JSON, default=list)  # keys of AVAILABILITY
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
