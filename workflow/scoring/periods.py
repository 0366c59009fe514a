"""Scoring periods: calendar months ("month") or 19th-to-18th periods ("19th"), both named by the
month they end in, so that "2026-10" is October, or 19 September to 18 October."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..errors import InvalidInput
from ..i18n import _
from ..outcomes import period_19, period_month

LABEL = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
COLUMNS = {"month": "period_month", "19th": "period_19"}


def parse(label: object) -> str:
    if not isinstance(label, str) or not LABEL.match(label) or not 2000 <= int(label[:4]) <= 2999:
        raise InvalidInput(_("A period is written YYYY-MM, for example 2026-10."), code="invalid_period",
                           details={"field": "period"})
    return label


def label_of(day: date, kind: str) -> str:
    return period_19(day) if kind == "19th" else period_month(day)


def shift(label: str, months: int) -> str:
    index = int(label[:4]) * 12 + int(label[5:7]) - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def bounds(label: str, kind: str) -> tuple[date, date]:
    """First and last day of the period, inclusive."""
    year, month = int(label[:4]), int(label[5:7])
    first_of_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    if kind == "19th":
        previous = shift(label, -1)
        return date(int(previous[:4]), int(previous[5:7]), 19), date(year, month, 18)
    return date(year, month, 1), first_of_next - timedelta(days=1)


def utc_range(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """The instants [start 00:00, the day after end 00:00) in local time, as UTC."""
    zone = ZoneInfo(timezone)
    return (datetime.combine(start, time(), zone).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC))


def local_date(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()
