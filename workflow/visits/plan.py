"""The visit plan: for each kind of household, how often it must be visited and by whom, and how
often each grid is inspected. It is the ``visits`` section of the versioned scoring policy, so the
plan that governs a period is the policy version in force for it.

Visits are counted in calendar windows, the way a street office says it: 每周 (a Monday-to-Sunday
week), 每半月 (the 1st to the 15th, the 16th to the month's end), 每月, 每季度.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from ..i18n import _
from ..validation import CODE_PATTERN

EVERY_HOUSEHOLD = "*"
TAG_PATTERN = CODE_PATTERN

# The built-in kinds of household; admins add more (``models.HouseholdTag``).
BUILTIN_TAGS = {
    "party_member": _("Party member household"),  # 党员户
    "key": _("Key household"),  # 重点户
    "needy": _("Household in need"),  # 困难户
    "special": _("Special household"),  # 特殊户
    "empty_nest": _("Elderly living alone"),  # 空巢老人
}

Per = Literal["week", "half_month", "month", "quarter"]
# Whose visit counts: the member paired with the household (联户党员) that day, any member, community
# staff, or anyone who may record visits.
By = Literal["paired_member", "any_member", "staff", "anyone"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VisitRule(_Strict):
    tag: str = Field(pattern=rf"{TAG_PATTERN}|^\*$", description="A household tag, or * for every household.")
    per: Per
    times: StrictInt = Field(1, ge=1, le=31)
    by: By = "paired_member"


class RoundRule(_Strict):
    """How often a grid's worker must do a round of it."""

    per: Per = "week"
    times: StrictInt = Field(1, ge=1, le=31)


def _default_rules() -> tuple[VisitRule, ...]:
    return (
        VisitRule(tag="party_member", per="month", by="paired_member"),
        VisitRule(tag="needy", per="half_month", by="any_member"),
        VisitRule(tag="key", per="month", by="staff"),
        VisitRule(tag="special", per="month", by="staff"),
        VisitRule(tag="empty_nest", per="half_month", by="anyone"),
        VisitRule(tag=EVERY_HOUSEHOLD, per="quarter", by="paired_member"),
    )


class VisitPlan(_Strict):
    rules: tuple[VisitRule, ...] = Field(default_factory=_default_rules, max_length=50)
    rounds: RoundRule = RoundRule()
    # The sweep reminds a household's members this many days before its visit is due (0: on the day).
    remind_days_before: StrictInt = Field(3, ge=0, le=31)
    # and tells the community's secretaries each day that some of its households are overdue.
    flag_overdue: bool = True

    @model_validator(mode="after")
    def _once(self):
        keys = [(r.tag, r.by) for r in self.rules]
        if len(set(keys)) != len(keys):
            raise ValueError("a visit rule names the same tag and visitor twice")
        return self

    def rules_for(self, tags: list[str]) -> list[VisitRule]:
        return [r for r in self.rules if r.tag == EVERY_HOUSEHOLD or r.tag in tags]


def window(day: date, per: str) -> tuple[date, date]:
    """The calendar window of kind ``per`` that holds ``day``: first and last day, inclusive."""
    if per == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if per == "half_month":
        if day.day <= 15:
            return day.replace(day=1), day.replace(day=15)
        return day.replace(day=16), _month_end(day)
    if per == "month":
        return day.replace(day=1), _month_end(day)
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    return start, _month_end(date(day.year, first_month + 2, 1))


def previous_window(start: date, per: str) -> tuple[date, date]:
    return window(start - timedelta(days=1), per)


def next_window(end: date, per: str) -> tuple[date, date]:
    return window(end + timedelta(days=1), per)


def _month_end(day: date) -> date:
    first_of_next = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return first_of_next - timedelta(days=1)
