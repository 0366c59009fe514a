"""Printed notices, A4 portrait with an embedded Chinese font: the public board of a community or
street for the notice board (公示, 宣传栏), and a building's stairwell poster (楼道亮身份) with the
members and grid workers serving it, how to report and a QR code to the report page."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..errors import ServiceUnavailable
from ..i18n import _
from .fonts import FontMissing, pdf_font

_RED = colors.HexColor("#B71C1C")
_GRID = colors.HexColor("#A0A7B0")
_HEAD_BG = colors.HexColor("#F2F4F7")


def font_or_unavailable(font_path: str | None) -> str:
    """The Chinese font, or the 503 ``pdf_font_missing`` a person can act on."""
    try:
        return pdf_font(font_path)
    except FontMissing as exc:
        raise ServiceUnavailable(_("PDF reports need a Chinese font on the server: install the Debian package "
                                   "fonts-wqy-zenhei or set SHOUBANPING_PDF_FONT."), code="pdf_font_missing",
                                 details={"problem": str(exc)}) from exc


class _Styles:
    def __init__(self, font: str):
        self.title = ParagraphStyle("title", fontName=font, fontSize=22, leading=30, textColor=_RED, spaceAfter=6)
        self.heading = ParagraphStyle("heading", fontName=font, fontSize=14, leading=20, spaceBefore=8, spaceAfter=4)
        self.line = ParagraphStyle("line", fontName=font, fontSize=10.5, leading=15)
        self.big = ParagraphStyle("big", fontName=font, fontSize=13, leading=19)
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=9.5, leading=13)


def _doc(buffer: BytesIO, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                             bottomMargin=16 * mm, title=title, author="Shoubanping")


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _table(rows: list[list[str]], styles: _Styles, widths: list[float]) -> Table:
    table = Table([[_p(c, styles.cell) for c in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, _GRID), ("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def board_pdf(board: dict[str, Any], locale: str, font_path: str | None = None) -> bytes:
    """The public board as it hangs on the notice board; ``board`` is workflow.board.views.board's."""
    font = font_or_unavailable(font_path)
    s = _Styles(font)
    t = lambda text: text.render(locale)  # noqa: E731
    buffer = BytesIO()
    name = board["scope"]["name"]
    doc = _doc(buffer, t(_("Public notice of {name}", name=name)))
    story: list[Any] = [_p(t(_("Public notice of {name}", name=name)), s.title)]
    if board["period"]:
        story.append(_p(t(_("Published figures of {period}", period=board["period"])), s.line))
        rates = board["rates"]
        if rates:
            story += [_p(t(_("The three rates")), s.heading), _table([
                [t(_("Requests received")), t(_("Response rate")), t(_("Resolution rate")),
                 t(_("Satisfaction rate"))],
                [str(rates["received"]), _percent(rates["response_rate"]), _percent(rates["resolution_rate"]),
                 _percent(rates["satisfaction_rate"])]], s, [doc.width / 4] * 4)]
        if board["categories"]:
            story += [_p(t(_("Requests by category")), s.heading), _table(
                [[t(_("Category")), t(_("Requests"))]]
                + [[c["category"], str(c["requests"])] for c in board["categories"]],
                s, [doc.width * 0.7, doc.width * 0.3])]
        if board["examples"]:
            story.append(_p(t(_("What was done")), s.heading))
            story.append(_table([[t(_("Category")), t(_("Where")), t(_("The problem")), t(_("What was done"))]] + [
                [e["category"], e["place"], e["description"], e["result"]] for e in board["examples"]],
                s, [doc.width * 0.16, doc.width * 0.2, doc.width * 0.32, doc.width * 0.32]))
        if board["ranking"]:
            story += [_p(t(_("Commended members")), s.heading), _table(
                [[t(_("Rank")), t(_("Member")), t(_("Home unit")), t(_("Grade"))]] + [
                    [str(r["rank"]), r["name"], r["unit"] or "", r["grade_label"]] for r in board["ranking"]],
                s, [doc.width * 0.12, doc.width * 0.3, doc.width * 0.38, doc.width * 0.2])]
    else:
        story.append(_p(t(_("No figures have been published yet.")), s.line))
    c = board["coverage"]
    story += [_p(t(_("Home visits this month")), s.heading),
              _p(t(_("{visited} of {households} households visited as planned ({coverage}), {visits} visits.",
                   visited=c["visited"], households=c["households"], coverage=_percent(c["coverage"]),
                   visits=c["visits"])), s.line)]
    doc.build(story)
    return buffer.getvalue()


def poster_pdf(serving: dict[str, Any], community: str, report_url: str, locale: str,
               font_path: str | None = None) -> bytes:
    """A building's stairwell poster: who serves it, how to report, a QR code to the report page."""
    font = font_or_unavailable(font_path)
    s = _Styles(font)
    t = lambda text: text.render(locale)  # noqa: E731
    buffer = BytesIO()
    title = t(_("Serving {building}", building=f"{community}{serving['building']}"))
    doc = _doc(buffer, title)
    story: list[Any] = [_p(title, s.title), _p(t(_("Party members and grid workers who serve this building")), s.line)]
    rows = [[t(_("Name")), t(_("Home unit")), t(_("Role"))]]
    for m in serving["members"]:
        rows.append([m["name"] + (f"（{m['title']}）" if m["title"] else ""), m["unit"] or "", "、".join(m["roles"])])
    for w in serving["grid_workers"]:
        rows.append([w["name"], community, w["role"]])
    if len(rows) > 1:
        story += [Spacer(1, 4 * mm), _table(rows, s, [doc.width * 0.3, doc.width * 0.4, doc.width * 0.3])]
    else:
        story.append(_p(t(_("Nobody is assigned to this building yet.")), s.line))
    code = QrCodeWidget(report_url)
    x0, y0, x1, y1 = code.getBounds()
    size = 45 * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(code)
    story += [_p(t(_("How to report a problem")), s.heading),
              _p(t(_("Scan the code, or open {url}, and tell us what is wrong: the community answers, and you "
                   "can follow it to the end.", url=report_url)), s.big), Spacer(1, 4 * mm), drawing]
    doc.build(story)
    return buffer.getvalue()
