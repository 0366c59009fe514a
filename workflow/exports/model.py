"""What a 双报到 report to a member's home unit (单位) says, independent of how it is rendered.

Plain frozen dataclasses: whoever builds a report (a query over registrations and the evaluation)
fills them in, and the renderers in this package turn them into a spreadsheet or a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..i18n import Text


@dataclass(frozen=True)
class UnitReportRow:
    """One member's registration with one community, and how the member did there in the period."""

    member_name: str  # e.g. "张伟"
    community: str  # community name, e.g. "和平里社区"
    street: str  # street office name
    registered_on: date  # date of registration (报到) with the community
    registration_status: Text  # e.g. _("Active") / _("Ended")
    tasks: int  # verified tasks in the period
    hours: Decimal  # service hours, one decimal
    quality: Decimal | None  # 0-100, two decimals; None = no tasks
    points: int  # points balance (year to date)
    composite: Decimal  # 0-100, two decimals
    rank: int | None  # rank in the community ranking; None = not ranked (gated out)
    ranked_of: int  # how many members were ranked in that community
    grade: Text | None  # grade label, None when not ranked
    notes: tuple[Text, ...] = ()  # e.g. why a member was not ranked


@dataclass(frozen=True)
class UnitReport:
    """The report for one home unit and one period."""

    unit_name: str  # the home unit (单位), e.g. "市财政局机关党委"
    period: str  # "2026-10"
    period_start: date
    period_end: date
    policy_version: int
    published: bool  # False = provisional figures, not yet published
    generated_at: datetime  # timezone-aware
    rows: tuple[UnitReportRow, ...]

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("UnitReport.generated_at must be timezone-aware")
        if self.period_end < self.period_start:
            raise ValueError("UnitReport.period_end is before period_start")
