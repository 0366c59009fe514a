"""The secretary's pages: the dashboard of rates with its server-drawn charts, rankings and "why this
rank", the member assessment table, publishing a period, the reports to home units, who may see
what, and the English switch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import update

from tests.test_scores import ROUTER, SEPT, _backdate_registrations, _task, _unit_id
from workflow.commands import accounts, handling, intake
from workflow.db import unit_of_work
from workflow.models import Community, Role

PASSWORD = "another-long-pass"


def _running(runtime) -> str:
    """The period running now, in the configured time zone."""
    return datetime.now(ZoneInfo(runtime.settings.timezone)).strftime("%Y-%m")


def _tile(page, rate: str) -> str:
    """The value shown in one rate tile of the dashboard."""
    match = re.search(rf'data-rate="{rate}">.*?<div class="value">([^<]*)</div>', page.text, re.S)
    assert match, rate
    return match.group(1).strip()


def _svgs(page) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page.text, re.S)


def _secretary_b(runtime, world) -> None:
    with unit_of_work(runtime.sessions) as session:
        accounts.create_account(session, username="secretary_b", password=PASSWORD, display_name="书记B",
                                role=Role.secretary, community_id=world.ids["community_B"])


def _ranked_september(runtime, world) -> None:
    """member_1 with three tasks appraised 5, member_2 with three appraised 3, all satisfied."""
    _backdate_registrations(runtime)
    for day in range(3):
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5)
        _task(runtime, world, "member_2", at=SEPT + timedelta(days=day, hours=2), appraisal=3, resident="resident_b")


def _late_answer(runtime, world, at) -> int:
    """A report staff answered five days late (resolved themselves), then the resident was satisfied."""
    settings, a = runtime.settings, world.actors
    with unit_of_work(runtime.sessions) as session:
        request = intake.submit(session, a["resident_a"], intake.Submission(
            channel="report", category="sanitation.corridor_clutter", description="楼道灯不亮",
            community_id=world.ids["community_A"]), now=at, timezone=settings.timezone)
        handling.fire(session, settings, ROUTER, request.id, "route_to_community", {}, now=at)
        handling.fire(session, settings, a["staff_a"], request.id, "resolve", {"result": "已修好"},
                      now=at + timedelta(days=5))
        handling.evaluate(session, settings, a["resident_a"], request.id, {"satisfaction": "satisfied",
                                                                           "solved": True},
                          now=at + timedelta(days=5, hours=1))
        rid = request.id
    runtime.drain()
    return rid


def test_the_dashboard_shows_the_rates_and_they_change_after_a_recompute(browser_factory, world, runtime):
    _backdate_registrations(runtime)
    # Four closed requests: three member tasks answered at once, one answered five days late.
    for day in range(3):
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5)
    _late_answer(runtime, world, SEPT + timedelta(days=4))

    secretary, admin = browser_factory(), browser_factory()
    assert secretary.login("secretary_a") == "/dashboard"
    page = secretary.get("/dashboard?period=2026-09")
    assert page.status_code == 200, page.text
    assert "社区A" in page.text and "草稿" in page.text
    assert _tile(page, "response_rate") == "75.0%"  # 3 of 4 answered in time
    assert (_tile(page, "resolution_rate"), _tile(page, "satisfaction_rate")) == ("100.0%", "100.0%")
    assert _tile(page, "composite") == "97.5%"  # 0.1 × 0.75 + 0.5 + 0.4
    assert "共统计 4 件诉求" in page.text

    # Three more tasks closed with satisfied residents: the draft still shows the old figures
    # until it is recomputed (the scheduler does it; an admin can do it at once).
    for day in range(3):
        _task(runtime, world, "member_2", at=SEPT + timedelta(days=10 + day), appraisal=4, resident="resident_b")
    assert _tile(secretary.get("/dashboard?period=2026-09"), "response_rate") == "75.0%"
    assert "立即重新计算" not in page.text  # the API lets only admins recompute
    refused = secretary.post("/scores/2026-09/recompute", {"scope_kind": "community",
                                                           "scope_id": world.ids["community_A"]})
    assert refused.status_code == 403

    admin.login("admin")
    board = admin.get(f"/dashboard?period=2026-09&scope=community&id={world.ids['community_A']}")
    assert "立即重新计算" in board.text
    done = admin.post("/scores/2026-09/recompute", {"scope_kind": "community", "scope_id": world.ids["community_A"]})
    assert done.status_code == 200 and "2026-09 的评分已重新计算" in done.text

    page = secretary.get("/dashboard?period=2026-09")
    assert _tile(page, "response_rate") == "85.7%"  # 6 of 7
    assert _tile(page, "composite") == "98.6%"  # 0.1 × 6/7 + 0.9
    assert "共统计 7 件诉求" in page.text

    # The charts: inline SVG without any script, with the periods and the rates in Chinese.
    svgs = _svgs(page)
    assert len(svgs) == 2
    for svg in svgs:
        assert "<script" not in svg and "<?xml" not in page.text
        assert "2026年9月" in svg and "2025年10月" in svg and "Noto Sans CJK SC" in svg
    assert "响应率" in svgs[0] and "85.7%" in svgs[0]
    # ...and the same numbers in a table under them.
    row = re.search(r'<tr data-period="2026-09">(.*?)</tr>', page.text, re.S).group(1)
    assert "85.7%" in row and "98.6%" in row and ">7<" in row

    # A community named with markup comes out escaped, in the page and in the SVG.
    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Community).where(Community.id == world.ids["community_A"])
                        .values(name='<script>alert("x")</script>社区'))
    page = secretary.get("/dashboard?period=2026-09")
    assert '<script>alert("x")' not in page.text
    assert "&lt;script&gt;alert" in "".join(_svgs(page))


def test_the_period_picker_and_its_errors(browser, world, runtime):
    browser.login("secretary_a")
    page = browser.get("/dashboard?period=2026-05")
    assert 'data-period="2026-05"' in page.text and "2026年5月" in page.text
    assert 'href="/dashboard?period=2026-04&amp;' in page.text and 'href="/dashboard?period=2026-06&amp;' in page.text
    current = browser.get("/dashboard")
    assert f'data-period="{_running(runtime)}"' in current.text and 'rel="next"' not in current.text
    bad = browser.get("/dashboard?period=2026-13")
    assert bad.status_code == 422 and 'id="period-error"' in bad.text and "YYYY-MM" in bad.text
    future = browser.get("/dashboard?period=2999-01")
    assert future.status_code == 422 and "尚未开始" in future.text


def test_the_ranking_shows_members_in_order_with_why_this_rank(browser, world, runtime):
    _ranked_september(runtime, world)
    browser.login("secretary_a")
    page = browser.get("/rankings?period=2026-09")
    assert page.status_code == 200, page.text
    ranked = re.findall(r'<tr data-member-id="(\d+)" data-rank="(\d+)">', page.text)
    assert ranked == [(str(world.actors["member_1"].member_id), "1"), (str(world.actors["member_2"].member_id), "2")]
    assert "良好" in page.text and "合格" in page.text and "区税务局" in page.text
    assert "member_c" not in page.text  # community C is not secretary_a's

    member_2 = world.actors["member_2"].member_id
    link = f"/rankings/members/{member_2}?period=2026-09&amp;community_id={world.ids['community_A']}"
    assert link in page.text
    why = browser.get(link.replace("&amp;", "&"))
    assert why.status_code == 200, why.text
    assert "名次说明" in why.text and "member_2" in why.text
    assert "第 2 名（共 2 人参加排名）" in why.text and "综合得分更高" in why.text
    assert 'data-part="quality"' in why.text and "任务通过核查" in why.text  # parts and the points ledger
    assert "member_1" in why.text  # the member ranked above, named in one's own community
    assert why.text.count('class="table tasks"') == 1 and why.text.count("<tr data-request-id=") == 3


def test_members_kept_out_by_a_gate_are_listed_with_the_gate(browser, world, runtime):
    _backdate_registrations(runtime)
    _task(runtime, world, "member_2", at=SEPT, appraisal=5)
    browser.login("secretary_a")
    page = browser.get("/rankings?period=2026-09")
    section = page.text.split('id="not-ranked"')[1]
    assert "member_2" in section and "3" in section and "未排名" in page.text


def test_the_assessment_table_sorts_on_the_server(browser, world, runtime):
    _ranked_september(runtime, world)
    browser.login("secretary_a")
    page = browser.get("/assessment?period=2026-09")
    assert page.status_code == 200, page.text
    names = re.findall(r'<tr data-member-id="\d+">.*?<a href="/rankings/members/[^"]+">([^<]+)</a>', page.text, re.S)
    assert names == ["member_1", "member_2"]
    assert "平均评价" in page.text and "5.00" in page.text and "3.00" in page.text  # mean appraisals
    page = browser.get("/assessment?period=2026-09&sort=composite&order=asc")
    names = re.findall(r'<tr data-member-id="\d+">.*?<a href="/rankings/members/[^"]+">([^<]+)</a>', page.text, re.S)
    assert names == ["member_2", "member_1"] and 'aria-sort="ascending"' in page.text
    assert f"/reports/{_unit_id(runtime, '区税务局')}/2026-09.xlsx" in page.text


def test_publishing_an_ended_period_once_and_the_refusals(browser, world, runtime):
    _ranked_september(runtime, world)
    browser.login("secretary_a")
    community = world.ids["community_A"]
    page = browser.get("/rankings?period=2026-09")
    assert 'action="/scores/2026-09/publish"' in page.text
    done = browser.post("/scores/2026-09/publish", {"scope_kind": "community", "scope_id": community,
                                                    "back": "rankings"})
    assert done.status_code == 200 and done.url.path == "/rankings"
    assert "2026-09 的评分已发布，第 1 版" in done.text and "已发布，第 1 版" in done.text
    assert 'data-published="yes"' in done.text

    again = browser.post("/scores/2026-09/publish", {"scope_kind": "community", "scope_id": community,
                                                     "back": "rankings"})
    assert again.status_code == 409 and 'class="form-error"' in again.text and "已发布（第 1 版）" in again.text
    no_reason = browser.post("/scores/2026-09/publish", {"scope_kind": "community", "scope_id": community,
                                                         "republish": "1", "back": "dashboard"})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    redo = browser.post("/scores/2026-09/publish", {"scope_kind": "community", "scope_id": community,
                                                    "republish": "1", "reason": "补录漏登记", "back": "dashboard"})
    assert redo.status_code == 200 and redo.url.path == "/dashboard" and "已发布，第 2 版" in redo.text

    running = browser.post(f"/scores/{_running(runtime)}/publish", {"scope_kind": "community", "scope_id": community})
    assert running.status_code == 409 and "结束后" in running.text
    other = browser.post("/scores/2026-09/publish", {"scope_kind": "community", "scope_id": world.ids["community_B"]})
    assert other.status_code == 403


def test_the_reports_to_home_units_download_as_excel_and_pdf(browser, world, runtime):
    _ranked_september(runtime, world)
    browser.login("secretary_a")
    unit = _unit_id(runtime, "区税务局")
    page = browser.get("/dashboard?period=2026-09")
    assert f'href="/reports/{unit}/2026-09.xlsx"' in page.text and f'href="/reports/{unit}/2026-09.pdf"' in page.text
    xlsx = browser.get(f"/reports/{unit}/2026-09.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(BytesIO(xlsx.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert any("member_1" in r for r in rows)
    pdf = browser.get(f"/reports/{unit}/2026-09.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_who_may_see_the_secretary_pages(browser_factory, world, runtime):
    _ranked_september(runtime, world)
    for user in ("member_1", "staff_a", "resident_a"):
        b = browser_factory()
        b.login(user)
        for url in ("/dashboard", "/rankings", "/assessment",
                    f"/rankings/members/{world.actors['member_1'].member_id}?period=2026-09"):
            page = b.get(url)
            assert page.status_code == 403 and 'data-status="403"' in page.text, (user, url)
        assert b.get(f"/reports/{_unit_id(runtime, '区税务局')}/2026-09.xlsx").status_code == 403

    _secretary_b(runtime, world)
    b = browser_factory()
    b.login("secretary_b", PASSWORD)
    assert "社区B" in b.get("/dashboard?period=2026-09").text
    a = world.ids["community_A"]
    for url in (f"/dashboard?period=2026-09&scope=community&id={a}", f"/rankings?period=2026-09&scope=community&id={a}",
                f"/assessment?period=2026-09&scope=community&id={a}",
                f"/rankings/members/{world.actors['member_1'].member_id}?period=2026-09",
                f"/rankings?period=2026-09&scope=street&id={world.ids['street_S1']}"):
        page = b.get(url)
        assert page.status_code == 403 and "不属于您所在的社区" in page.text, url
        assert "member_1" not in page.text.split("<main>")[1], url
    assert b.get("/dashboard?period=2026-09&scope=community&id=99999").status_code == 404


def test_an_admin_picks_any_street_or_community(browser, world, runtime):
    _ranked_september(runtime, world)
    browser.login("admin")
    page = browser.get("/dashboard?period=2026-09")
    assert page.status_code == 200 and 'name="unit"' in page.text
    assert f'value="community-{world.ids["community_C"]}"' in page.text
    street = browser.get(f"/rankings?period=2026-09&unit=street-{world.ids['street_S1']}")
    assert street.status_code == 200 and "街道S1" in street.text and "member_1" in street.text
    table = browser.get(f"/assessment?period=2026-09&unit=street-{world.ids['street_S1']}")
    assert "社区A" in table.text and "member_2" in table.text


def test_english_translates_the_pages_and_formats_for_the_locale(browser, world, runtime):
    _backdate_registrations(runtime)
    for day in range(6):
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5)
    _late_answer(runtime, world, SEPT + timedelta(days=8))
    browser.login("secretary_a")
    chinese = browser.get("/dashboard?period=2026-09")
    assert _tile(chinese, "response_rate") == "85.7%" and "响应率" in chinese.text
    computed_zh = re.search(r'<time class="computed-at"[^>]*>([^<]+)</time>', chinese.text).group(1)
    browser.set_language("en")
    english = browser.get("/dashboard?period=2026-09")
    assert _tile(english, "response_rate") == "85.7%"
    assert "Response rate" in english.text and "Draft" in english.text and "Sep 2026" in english.text
    assert "Sep 2026" in _svgs(english)[0] and "Response rate" in _svgs(english)[0]
    computed_en = re.search(r'<time class="computed-at"[^>]*>([^<]+)</time>', english.text).group(1)
    assert computed_en != computed_zh and "年" in computed_zh and "2026" in computed_en and "年" not in computed_en
    page = browser.get("/rankings?period=2026-09")
    assert "Rankings" in page.text and "Grade quotas" in page.text and "Competent" in page.text
    assert "Member assessment" in browser.get("/assessment?period=2026-09").text


def test_why_this_rank_names_an_unsatisfied_verdict(browser, world, runtime):
    _backdate_registrations(runtime)
    _task(runtime, world, "member_2", at=SEPT, appraisal=4, satisfaction="unsatisfied", solved=False)
    browser.login("secretary_a")
    why = browser.get(f"/rankings/members/{world.actors['member_2'].member_id}?period=2026-09"
                      f"&community_id={world.ids['community_A']}")
    assert why.status_code == 200
    row = why.text.split("<tr data-request-id=")[1].split("</tr>")[0]
    assert "不满意 · 未解决" in row


def test_an_administrator_of_a_new_installation_lands_on_an_empty_dashboard(runtime):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.conftest import _HASH
    from tests.web.conftest import Browser

    with unit_of_work(runtime.sessions) as session:
        accounts.create_account(session, username="root", password="", password_hash=_HASH, display_name="root",
                                role=Role.admin)
    with TestClient(create_app(runtime.settings, runtime)) as client:
        browser = Browser(client)
        assert browser.login("root") == "/dashboard"
        page = browser.get("/dashboard")
        assert page.status_code == 200 and 'data-empty="no-streets"' in page.text and "还没有街道或社区" in page.text
