"""Exports of the 双报到 report to a member's home unit: an .xlsx workbook and a PDF."""

from .fonts import FontMissing
from .model import UnitReport, UnitReportRow
from .pdf import unit_report_pdf
from .xlsx import unit_report_xlsx

__all__ = ["FontMissing", "UnitReport", "UnitReportRow", "unit_report_pdf", "unit_report_xlsx"]
