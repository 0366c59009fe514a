"""Words and figures shared by the spreadsheet and the PDF renderers of a unit report."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from ..i18n import Text, _
from .model import UnitReport, UnitReportRow

TITLE = _("Community registration report for the home unit")
NOT_RANKED = _("Not ranked")
NO_TASKS = _("No tasks")
NO_MEMBERS = _("No members of this unit were registered with a community in this period.")
PROVISIONAL = _("Provisional figures: not yet published, they may still change.")

# Column headings, in the order both renderers show them.
NAME = _("Name")
COMMUNITY = _("Community")
STREET = _("Street office")
REGISTERED_ON = _("Registered on")
REGISTRATION = _("Registration status")
TASKS = _("Verified tasks")
HOURS = _("Service hours")
QUALITY = _("Quality score")
POINTS = _("Points (year to date)")
COMPOSITE = _("Composite score")
RANK = _("Rank")
RANKED_OF = _("Members ranked")
GRADE = _("Grade")
NOTES = _("Notes")


def sheet_title(report: UnitReport, locale: str) -> str:
    """A worksheet name: at most 31 characters, none of the ones Excel refuses."""
    name = _("Unit report {period}", period=report.period).render(locale)
    for bad in "[]:*?/\\":
        name = name.replace(bad, "-")
    return name[:31]


def heading_lines(report: UnitReport, locale: str) -> list[str]:
    """The lines under the title: unit, period, policy, time of generation, and whether provisional."""
    lines = [
        _("Home unit: {unit}", unit=report.unit_name).render(locale),
        _(
            "Period: {period} ({start} to {end})",
            period=report.period,
            start=report.period_start.isoformat(),
            end=report.period_end.isoformat(),
        ).render(locale),
        _("Evaluation policy version: {version}", version=report.policy_version).render(locale),
        _("Generated at: {time}", time=format_time(report)).render(locale),
    ]
    if not report.published:
        lines.append(PROVISIONAL.render(locale))
    return lines


def format_time(report: UnitReport) -> str:
    return report.generated_at.isoformat(sep=" ", timespec="minutes")


def rank_text(row: UnitReportRow, locale: str) -> str:
    if row.rank is None:
        return NOT_RANKED.render(locale)
    return _("{rank} of {count}", rank=row.rank, count=row.ranked_of).render(locale)


def grade_text(row: UnitReportRow, locale: str) -> str:
    return row.grade.render(locale) if row.grade is not None else ""


def notes_text(notes: tuple[Text, ...], locale: str, separator: str = "\n") -> str:
    return separator.join(note.render(locale) for note in notes)


def fixed(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def display_width(text: str) -> int:
    """Columns a text takes in a monospaced view: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
