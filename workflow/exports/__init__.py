"""Exports of the 双报到 report to a member's home unit: an .xlsx workbook and a PDF; the printed
notices (``notices``: the public board and a building's poster).

The writers load openpyxl and reportlab (over 200 modules, about 12 MB in every API process) on
first use, not when the app starts: most processes never write a report.
"""

from .model import UnitReport, UnitReportRow

_LAZY = {"FontMissing": "fonts", "unit_report_pdf": "pdf", "unit_report_xlsx": "xlsx", "board_pdf": "notices",
         "poster_pdf": "notices"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def unit_report_file(report: UnitReport, kind: str, locale: str, font: str | None) -> tuple[bytes, str, str]:
    """The report as a downloadable file: (content, media type, file name). ``kind`` is xlsx or pdf.
    A PDF needs a font with Chinese glyphs; without one this is a 503 ``pdf_font_missing``."""
    from .notices import font_or_unavailable
    from .pdf import unit_report_pdf
    from .xlsx import unit_report_xlsx

    name = f"unit-report-{report.period}.{kind}"
    if kind == "xlsx":
        return unit_report_xlsx(report, locale), XLSX, name
    font_or_unavailable(font)  # a 503 pdf_font_missing without a Chinese font
    return unit_report_pdf(report, locale, font), PDF, name


__all__ = ["PDF", "XLSX", "FontMissing", "UnitReport", "UnitReportRow", "unit_report_file", "unit_report_pdf",
           "unit_report_xlsx"]
