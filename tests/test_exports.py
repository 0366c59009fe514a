"""The 双报到 report to a home unit, rendered as .xlsx and PDF and read back with real readers:
openpyxl for the workbook, poppler's pdftotext / pdffonts / pdfinfo for the PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from workflow.exports import FontMissing, UnitReport, UnitReportRow, unit_report_pdf, unit_report_xlsx
from workflow.exports.fonts import pdf_font
from workflow.i18n import _
from workflow.scoring.views import gate_message

CST = timezone(timedelta(hours=8))
UNIT = "市财政局机关党委"
PROVISIONAL_ZH = "临时数据：尚未发布，可能仍有变动。"
PROVISIONAL_EN = "Provisional figures: not yet published, they may still change."
NOT_RANKED_NOTE = gate_message({"gate": "min_verified_tasks", "required": 3, "actual": 1})

ZHANG = UnitReportRow(
    member_name="张伟",
    community="和平里社区",
    street="和平里街道",
    registered_on=date(2026, 3, 2),
    registration_status=_("Active"),
    tasks=7,
    hours=Decimal("12.5"),
    quality=Decimal("86.25"),
    points=140,
    composite=Decimal("78.40"),
    rank=1,
    ranked_of=2,
    grade=_("Excellent"),
)
LI = UnitReportRow(
    member_name="李娜",
    community="安贞社区",
    street="安贞街道",
    registered_on=date(2025, 9, 15),
    registration_status=_("Active"),
    tasks=4,
    hours=Decimal("6.0"),
    quality=Decimal("71.50"),
    points=80,
    composite=Decimal("64.15"),
    rank=2,
    ranked_of=2,
    grade=_("Good"),
)
WANG = UnitReportRow(
    member_name="王芳",
    community="和平里社区",
    street="和平里街道",
    registered_on=date(2026, 10, 20),
    registration_status=_("Ended"),
    tasks=0,
    hours=Decimal("0.0"),
    quality=None,
    points=15,
    composite=Decimal("3.75"),
    rank=None,
    ranked_of=2,
    grade=None,
    notes=(NOT_RANKED_NOTE,),
)


def make_report(rows=(ZHANG, LI, WANG), published: bool = False) -> UnitReport:
    return UnitReport(
        unit_name=UNIT,
        period="2026-10",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        policy_version=3,
        published=published,
        generated_at=datetime(2026, 11, 2, 9, 30, tzinfo=CST),
        rows=tuple(rows),
    )


# ---------------------------------------------------------------- xlsx


def sheet_rows(data: bytes) -> list[list[object]]:
    wb = load_workbook(BytesIO(data))
    assert len(wb.worksheets) == 1
    return [[cell.value for cell in row] for row in wb.active.iter_rows()]


def header_index(rows: list[list[object]], first_heading: str) -> int:
    for index, row in enumerate(rows):
        if row and row[0] == first_heading:
            return index
    raise AssertionError(f"no header row starting with {first_heading!r} in {rows!r}")


def member_rows(data: bytes, first_heading: str = "姓名") -> dict[str, dict[str, object]]:
    rows = sheet_rows(data)
    h = header_index(rows, first_heading)
    headings = rows[h]
    return {row[0]: dict(zip(headings, row, strict=True)) for row in rows[h + 1 :] if row[0]}


def assert_number(value: object, expected: Decimal | int) -> None:
    assert isinstance(value, int | float) and not isinstance(value, bool), f"{value!r} is not a number"
    assert Decimal(str(value)) == Decimal(expected), (value, expected)


def test_xlsx_rows_hold_numbers_dates_and_chinese_labels():
    data = unit_report_xlsx(make_report())
    assert data[:2] == b"PK"
    rows = member_rows(data)
    assert list(rows) == ["张伟", "李娜", "王芳"]

    zhang = rows["张伟"]
    assert zhang["社区"] == "和平里社区"
    assert zhang["街道"] == "和平里街道"
    assert zhang["报到状态"] == "有效"
    assert zhang["报到日期"].date() == date(2026, 3, 2)
    assert_number(zhang["已核验任务"], 7)
    assert_number(zhang["服务时长（小时）"], Decimal("12.5"))
    assert_number(zhang["服务质量得分"], Decimal("86.25"))
    assert_number(zhang["本年积分"], 140)
    assert_number(zhang["综合得分"], Decimal("78.4"))
    assert_number(zhang["排名"], 1)
    assert_number(zhang["参与排名人数"], 2)
    assert zhang["等次"] == "优秀"
    assert zhang["备注"] is None

    li = rows["李娜"]
    assert li["社区"] == "安贞社区"
    assert_number(li["服务时长（小时）"], Decimal("6"))
    assert_number(li["服务质量得分"], Decimal("71.5"))
    assert_number(li["综合得分"], Decimal("64.15"))
    assert_number(li["排名"], 2)
    assert li["等次"] == "良好"

    wang = rows["王芳"]
    assert wang["报到状态"] == "已结束"
    assert_number(wang["已核验任务"], 0)
    assert_number(wang["本年积分"], 15)
    assert_number(wang["综合得分"], Decimal("3.75"))
    assert wang["服务质量得分"] == "无任务"
    assert wang["排名"] == "未排名"
    assert wang["等次"] is None
    assert wang["备注"] == "本周期经核查的任务少于 3 件（1 件）。"


def test_xlsx_cell_types_formats_and_layout():
    wb = load_workbook(BytesIO(unit_report_xlsx(make_report())))
    ws = wb.active
    rows = [[cell.value for cell in row] for row in ws.iter_rows()]
    h = header_index(rows, "姓名") + 1  # 1-based row of the header
    headings = rows[h - 1]
    first = {heading: ws.cell(row=h + 1, column=i + 1) for i, heading in enumerate(headings)}
    assert first["报到日期"].is_date and first["报到日期"].number_format == "yyyy-mm-dd"
    for heading in ("已核验任务", "服务时长（小时）", "服务质量得分", "本年积分", "综合得分", "排名", "参与排名人数"):
        assert first[heading].data_type == "n", heading
    assert first["服务时长（小时）"].number_format == "0.0"
    assert first["服务质量得分"].number_format == "0.00"
    assert first["综合得分"].number_format == "0.00"
    assert first["已核验任务"].number_format == "0"
    assert ws.freeze_panes == f"B{h + 1}"
    assert ws.column_dimensions["A"].width >= 8
    assert ws.column_dimensions["N"].width > ws.column_dimensions["A"].width  # the notes column is wide

    title_lines = [row[0] for row in rows[: h - 1] if row[0]]
    assert title_lines[0] == "双报到情况反馈报告"
    assert f"所在单位：{UNIT}" in title_lines
    assert "统计周期：2026-10（2026-10-01 至 2026-10-31）" in title_lines
    assert "评价规则版本：3" in title_lines
    assert "生成时间：2026-11-02 09:30+08:00" in title_lines


def test_xlsx_in_english():
    rows = member_rows(unit_report_xlsx(make_report(), locale="en"), first_heading="Name")
    assert rows["张伟"]["Grade"] == "Excellent"
    assert rows["李娜"]["Grade"] == "Good"
    assert rows["张伟"]["Registration status"] == "Active"
    assert_number(rows["张伟"]["Service hours"], Decimal("12.5"))
    assert rows["王芳"]["Rank"] == "Not ranked"
    assert rows["王芳"]["Quality score"] == "No tasks"
    assert rows["王芳"]["Notes"] == "Fewer than 3 verified tasks in the period (1)."


def test_xlsx_provisional_line_only_before_publication():
    def texts(data: bytes) -> list[object]:
        return [value for row in sheet_rows(data) for value in row]

    assert PROVISIONAL_ZH in texts(unit_report_xlsx(make_report(published=False)))
    assert PROVISIONAL_EN in texts(unit_report_xlsx(make_report(published=False), locale="en"))
    assert PROVISIONAL_ZH not in texts(unit_report_xlsx(make_report(published=True)))
    assert PROVISIONAL_EN not in texts(unit_report_xlsx(make_report(published=True), locale="en"))


def test_xlsx_without_members():
    rows = sheet_rows(unit_report_xlsx(make_report(rows=())))
    h = header_index(rows, "姓名")
    assert rows[h + 1][0] == "本期本单位没有党员在社区报到。"
    assert len(rows) == h + 2


decimals = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
cjk_names = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=cjk_names,
    hours=st.decimals(min_value=0, max_value=999, places=1, allow_nan=False, allow_infinity=False),
    quality=st.none() | decimals,
    composite=decimals,
    tasks=st.integers(min_value=0, max_value=500),
    points=st.integers(min_value=-100, max_value=10_000),
    rank=st.none() | st.integers(min_value=1, max_value=200),
)
def test_xlsx_numbers_round_trip(name, hours, quality, composite, tasks, points, rank):
    row = replace(
        ZHANG, member_name=name, hours=hours, quality=quality, composite=composite, tasks=tasks, points=points,
        rank=rank, ranked_of=max(rank or 0, 1), grade=_("Good") if rank else None,
    )
    got = member_rows(unit_report_xlsx(make_report(rows=[row])))[name]
    assert_number(got["服务时长（小时）"], hours)
    assert_number(got["综合得分"], composite)
    assert_number(got["已核验任务"], tasks)
    assert_number(got["本年积分"], points)
    if quality is None:
        assert got["服务质量得分"] == "无任务"
    else:
        assert_number(got["服务质量得分"], quality)
    if rank is None:
        assert got["排名"] == "未排名" and got["等次"] is None
    else:
        assert_number(got["排名"], rank)
        assert got["等次"] == "良好"


# ---------------------------------------------------------------- PDF


def poppler(tool: str, *args: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.fail(
            f"{tool} is missing: install the Debian package poppler-utils (bash .ci/debian-packages does it)",
            pytrace=False,
        )
    result = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"{tool} {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def write_pdf(tmp_path: Path, data: bytes, name: str = "report.pdf") -> Path:
    assert data.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(data)
    return path


def page_count(path: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", poppler("pdfinfo", str(path)), re.MULTILINE)
    assert match, "pdfinfo reports no page count"
    return int(match.group(1))


def page_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return poppler("pdftotext", "-layout", *pages, str(path), "-")


def test_pdf_in_chinese_with_embedded_font(tmp_path):
    path = write_pdf(tmp_path, unit_report_pdf(make_report()))
    text = page_text(path)
    for needle in ("张伟", "李娜", "王芳", UNIT, "2026-10", "和平里社区", "姓名", "综合得分", "优秀", "良好",
                   "未排名", "12.5", "86.25", "78.40", "2026-03-02", PROVISIONAL_ZH, "第 1 页，共 1 页"):
        assert needle in text, f"{needle!r} not in the PDF text:\n{text}"

    fonts = [line.split() for line in poppler("pdffonts", str(path)).splitlines()[2:] if line.strip()]
    assert fonts, "the PDF names no font"
    for font in fonts:
        # name, type..., encoding, emb, sub, uni, object, generation: emb is the fifth from the end
        assert font[-5] == "yes", f"font {font[0]} is not embedded"
    assert any(re.fullmatch(r"[A-Z]{6}\+\S+", font[0]) for font in fonts), "no embedded TrueType subset"


def test_pdf_in_english(tmp_path):
    path = write_pdf(tmp_path, unit_report_pdf(make_report(), locale="en"))
    text = page_text(path)
    for needle in ("Community registration report for the home unit", "Name", "Community", "Notes", "张伟",
                   UNIT, "Period: 2026-10", "Excellent", "Not ranked", "Page 1 of 1", PROVISIONAL_EN):
        assert needle in text, f"{needle!r} not in the PDF text:\n{text}"
    assert "姓名" not in text


def test_pdf_published_has_no_provisional_mark(tmp_path):
    text = page_text(write_pdf(tmp_path, unit_report_pdf(make_report(published=True))))
    assert "临时数据" not in text
    assert "张伟" in text


def test_pdf_without_members(tmp_path):
    text = page_text(write_pdf(tmp_path, unit_report_pdf(make_report(rows=()))))
    assert "本期本单位没有党员在社区报到。" in text
    assert "姓名" in text


def test_long_pdf_repeats_the_header_and_numbers_every_page(tmp_path):
    surnames = "赵钱孙李周吴郑王冯陈"
    rows = [
        replace(ZHANG, member_name=f"{surnames[i % 10]}成员{i:02d}", rank=i + 1, ranked_of=60,
                composite=Decimal(100 - i) - Decimal("0.25"))
        for i in range(60)
    ]
    path = write_pdf(tmp_path, unit_report_pdf(make_report(rows=rows)))
    pages = page_count(path)
    assert pages >= 2

    seen: list[str] = []
    for page in range(1, pages + 1):
        text = page_text(path, page)
        assert "姓名" in text and "综合得分" in text and "备注" in text, f"page {page} has no header row:\n{text}"
        assert re.search(rf"第\s*{page}\s*页，\s*共\s*{pages}\s*页", text), f"page {page} has no page number"
        seen += re.findall(r"[赵钱孙李周吴郑王冯陈]成员\d\d", text)
    assert seen == [row.member_name for row in rows], "every member once, in order, across the pages"


def test_missing_font_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-font.ttc"
    with pytest.raises(FontMissing) as caught:
        unit_report_pdf(make_report(), font_path=str(missing))
    message = str(caught.value)
    assert str(missing) in message
    assert "fonts-wqy-zenhei" in message
    assert "font_path" in message


def test_a_file_that_is_no_truetype_font_is_refused(tmp_path):
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"this is not a font at all" * 10)
    with pytest.raises(FontMissing, match="cannot be embedded"):
        unit_report_pdf(make_report(), font_path=str(bogus))


def test_the_default_font_is_registered_once():
    assert pdf_font() == pdf_font()
    assert pdf_font("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc") == pdf_font()


def test_text_that_looks_like_a_formula_stays_text():
    sneaky = replace(ZHANG, member_name="=HYPERLINK(\"http://evil\",\"点我\")", community="+1+1")
    sheet = load_workbook(BytesIO(unit_report_xlsx(make_report(rows=(sneaky,))))).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+"]
    assert {c.value for c in cells} == {sneaky.member_name, "+1+1"}
    assert {c.data_type for c in cells} == {"s"}
