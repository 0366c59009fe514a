"""The unit report as an Excel workbook (.xlsx), one sheet, with real numbers and dates in the cells."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..i18n import DEFAULT_LOCALE, Text
from . import labels
from .model import UnitReport, UnitReportRow

CellValue = str | int | float | date | None


@dataclass(frozen=True)
class _Column:
    heading: Text
    value: Callable[[UnitReportRow, str], CellValue]
    number_format: str | None = None
    wrap: bool = False


def _quality(row: UnitReportRow, locale: str) -> CellValue:
    return float(row.quality) if row.quality is not None else labels.NO_TASKS.render(locale)


def _rank(row: UnitReportRow, locale: str) -> CellValue:
    return row.rank if row.rank is not None else labels.NOT_RANKED.render(locale)


COLUMNS: tuple[_Column, ...] = (
    _Column(labels.NAME, lambda r, loc: r.member_name),
    _Column(labels.COMMUNITY, lambda r, loc: r.community),
    _Column(labels.STREET, lambda r, loc: r.street),
    _Column(labels.REGISTERED_ON, lambda r, loc: r.registered_on, "yyyy-mm-dd"),
    _Column(labels.REGISTRATION, lambda r, loc: r.registration_status.render(loc)),
    _Column(labels.TASKS, lambda r, loc: r.tasks, "0"),
    _Column(labels.HOURS, lambda r, loc: float(r.hours), "0.0"),
    _Column(labels.QUALITY, _quality, "0.00"),
    _Column(labels.POINTS, lambda r, loc: r.points, "0"),
    _Column(labels.COMPOSITE, lambda r, loc: float(r.composite), "0.00"),
    _Column(labels.RANK, _rank, "0"),
    _Column(labels.RANKED_OF, lambda r, loc: r.ranked_of, "0"),
    _Column(labels.GRADE, labels.grade_text),
    _Column(labels.NOTES, lambda r, loc: labels.notes_text(r.notes, loc), wrap=True),
)

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", start_color="DDE4EE", end_color="DDE4EE")
_MIN_WIDTH, _MAX_WIDTH = 8, 48


def _shown_width(value: CellValue, number_format: str | None) -> int:
    """About how many character columns a cell's value takes once formatted."""
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    if isinstance(value, float) and number_format and "." in number_format:
        places = len(number_format.split(".", 1)[1])
        return len(f"{value:.{places}f}")
    text = str(value)
    return max(labels.display_width(line) for line in text.split("\n"))


def unit_report_xlsx(report: UnitReport, locale: str = DEFAULT_LOCALE) -> bytes:
    """Render ``report`` as an .xlsx workbook in ``locale`` ("zh_CN" or "en") and return its bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = labels.sheet_title(report, locale)
    title = labels.TITLE.render(locale)
    wb.properties.title = f"{title} {report.unit_name} {report.period}"
    wb.properties.creator = "Shoubanping"

    ws.append([title])
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    for line in labels.heading_lines(report, locale):
        ws.append([line])
    if not report.published:
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True, color="C00000")
    ws.append([])

    header_row = ws.max_row + 1
    widths = [labels.display_width(col.heading.render(locale)) for col in COLUMNS]
    for index, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=index, value=col.heading.render(locale))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for offset, row in enumerate(report.rows, start=1):
        for index, col in enumerate(COLUMNS, start=1):
            value = col.value(row, locale)
            cell = ws.cell(row=header_row + offset, column=index, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: a name starting with "=" is never a formula
            cell.border = _BORDER
            if col.number_format and isinstance(value, int | float | date):
                cell.number_format = col.number_format
            if col.wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[index - 1] = max(widths[index - 1], _shown_width(value, col.number_format))

    last_column = get_column_letter(len(COLUMNS))
    if report.rows:
        ws.auto_filter.ref = f"A{header_row}:{last_column}{header_row + len(report.rows)}"
    else:
        ws.cell(row=header_row + 1, column=1, value=labels.NO_MEMBERS.render(locale)).font = Font(italic=True)

    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    ws.freeze_panes = f"B{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    out = BytesIO()
    wb.save(out)
    return out.getvalue()
