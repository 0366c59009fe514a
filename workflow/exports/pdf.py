"""The unit report as a PDF: A4 landscape, a title, the period lines, and a table of members whose
heading row repeats on every page, with "page N of M" in the footer. Chinese text is drawn with an
embedded TrueType font (see :mod:`workflow.exports.fonts`)."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..i18n import DEFAULT_LOCALE, Text, _
from . import labels
from .fonts import pdf_font
from .model import UnitReport, UnitReportRow

PAGE = landscape(A4)
MARGIN = 14 * mm
FOOTER_Y = 8 * mm

_HEADER_BG = colors.HexColor("#34495E")
_STRIPE_BG = colors.HexColor("#F2F4F7")
_GRID = colors.HexColor("#A0A7B0")
_PROVISIONAL = colors.HexColor("#C00000")

# (heading, relative width, right-aligned); the notes column takes what is left.
_COLUMNS: tuple[tuple[Text, float, bool], ...] = (
    (labels.NAME, 54, False),
    (labels.COMMUNITY, 74, False),
    (labels.STREET, 70, False),
    (labels.REGISTERED_ON, 60, False),
    (labels.REGISTRATION, 58, False),
    (labels.TASKS, 54, True),
    (labels.HOURS, 44, True),
    (labels.QUALITY, 44, True),
    (labels.POINTS, 46, True),
    (labels.COMPOSITE, 46, True),
    (labels.RANK, 50, False),
    (labels.GRADE, 66, False),  # room for "Competent"; "Needs improvement" wraps between words
    (labels.NOTES, 0, False),
)


class _Styles:
    def __init__(self, font: str):
        self.title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=4)
        self.line = ParagraphStyle("line", fontName=font, fontSize=10, leading=14)
        self.warning = ParagraphStyle("warning", parent=self.line, textColor=_PROVISIONAL)
        self.head = ParagraphStyle(
            "head", fontName=font, fontSize=8.5, leading=11, textColor=colors.white, alignment=TA_CENTER
        )
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, alignment=TA_LEFT)
        self.number = ParagraphStyle("number", parent=self.cell, alignment=TA_RIGHT)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _cells(row: UnitReportRow, locale: str) -> list[str]:
    return [
        row.member_name,
        row.community,
        row.street,
        row.registered_on.isoformat(),
        row.registration_status.render(locale),
        str(row.tasks),
        labels.fixed(row.hours, 1),
        labels.fixed(row.quality, 2) if row.quality is not None else labels.NO_TASKS.render(locale),
        str(row.points),
        labels.fixed(row.composite, 2),
        labels.rank_text(row, locale),
        labels.grade_text(row, locale),
        labels.notes_text(row.notes, locale),
    ]


def _table(report: UnitReport, locale: str, font: str, styles: _Styles, width: float) -> Table:
    fixed_width = sum(w for _h, w, _r in _COLUMNS)
    widths = [w or (width - fixed_width) for _h, w, _r in _COLUMNS]
    data: list[list[Any]] = [[_para(h.render(locale), styles.head) for h, _w, _r in _COLUMNS]]
    for row in report.rows:
        data.append(
            [
                _para(text, styles.number if right else styles.cell)
                for text, (_h, _w, right) in zip(_cells(row, locale), _COLUMNS, strict=True)
            ]
        )
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),  # the cells' own font, under the paragraphs
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if report.rows:
        commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _STRIPE_BG]))
    else:
        data.append([_para(labels.NO_MEMBERS.render(locale), styles.cell)] + [""] * (len(_COLUMNS) - 1))
        commands.append(("SPAN", (0, 1), (-1, 1)))
    return Table(data, colWidths=widths, repeatRows=1, style=TableStyle(commands))


def _page_decorator(report: UnitReport, locale: str, font: str) -> Callable[[Canvas, int, int], None]:
    left = f"{report.unit_name} · {labels.TITLE.render(locale)} · {report.period}"
    provisional = labels.PROVISIONAL.render(locale) if not report.published else None

    def draw(canvas: Canvas, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(MARGIN, FOOTER_Y, left)
        canvas.drawRightString(
            PAGE[0] - MARGIN, FOOTER_Y, _("Page {page} of {pages}", page=page, pages=pages).render(locale)
        )
        if provisional:
            canvas.setFillColor(_PROVISIONAL)
            canvas.drawRightString(PAGE[0] - MARGIN, PAGE[1] - MARGIN / 2, provisional)
        canvas.restoreState()

    return draw


def _numbered_canvas(decorate: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas class that holds its pages back until the end, so each can say "page N of M"."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held_pages)
            for number, state in enumerate(self._held_pages, start=1):
                self.__dict__.update(state)
                decorate(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


def unit_report_pdf(report: UnitReport, locale: str = DEFAULT_LOCALE, font_path: str | None = None) -> bytes:
    """Render ``report`` as a PDF in ``locale`` ("zh_CN" or "en") and return its bytes.

    ``font_path`` names a TrueType (.ttf/.ttc) font covering Chinese; by default a Debian font is
    looked for, and :class:`~workflow.exports.fonts.FontMissing` is raised when there is none.
    """
    font = pdf_font(font_path)
    styles = _Styles(font)
    title = labels.TITLE.render(locale)
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{title} {report.unit_name} {report.period}",
        author="Shoubanping",
        initialFontName=font,  # so that no unembedded standard font is referenced
        subject=report.unit_name,
    )
    story: list[Any] = [_para(title, styles.title)]
    lines = labels.heading_lines(report, locale)
    for index, line in enumerate(lines):
        provisional_line = not report.published and index == len(lines) - 1
        story.append(_para(line, styles.warning if provisional_line else styles.line))
    story.append(Spacer(1, 4 * mm))
    story.append(_table(report, locale, font, styles, doc.width))
    doc.build(story, canvasmaker=_numbered_canvas(_page_decorator(report, locale, font)))
    return out.getvalue()
