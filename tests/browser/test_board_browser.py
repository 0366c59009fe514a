"""公示 and 亮身份 in headless chromium at phone width: a resident sees who serves their building on
their request's page, and a logged-out visitor reads the community's public board and downloads
the notice and the stairwell poster."""

from __future__ import annotations

import subprocess

import pytest

from tests.browser.conftest import follow, wrong_language
from tests.test_scores import _september_community
from workflow.db import unit_of_work
from workflow.visits import commands as visits

pytestmark = pytest.mark.browser
TZ = "Asia/Shanghai"


def test_a_resident_sees_who_serves_and_a_visitor_reads_the_board(people, client, runtime, world):
    _september_community(runtime, world)
    published = client.post("/api/v1/scores/2026-09/publications", headers=world.headers("secretary_a"),
                            json={"scope_kind": "community", "scope_id": world.ids["community_A"]})
    assert published.status_code == 201, published.text
    with unit_of_work(runtime.sessions) as session:
        staff = world.actors["staff_a"]
        household = visits.create_household(session, staff, {
            "building_id": world.ids["building_A"], "code": "A-101", "door": "1单元101", "tags": [],
            "contact_name": "王阿姨", "contact_phone": "13800001234"}, timezone=TZ)
        visits.pair_member(session, staff, household.id, world.actors["member_1"].member_id, timezone=TZ)
        visits.assign_grid_worker(session, staff, world.ids["grid_A"], world.ids["staff_a"], timezone=TZ)

    # The member chooses to show a title; the resident reports a problem in that building.
    member = people("member")
    page = member.login("member_1")
    follow(page, page.locator("nav.menu").get_by_role("link", name="亮身份"))
    page.get_by_label("身份（可选），例如 党员中心户").fill("党员中心户")
    follow(page, page.get_by_role("button", name="保存"))
    assert "已保存" in page.locator(".flash").inner_text()

    resident = people("resident")
    page = resident.login("resident_a")
    page = resident.goto("/report")
    page.get_by_label("问题类别").select_option("disputes.noise")
    page.get_by_label("楼栋").select_option(str(world.ids["building_A"]))
    page.get_by_label("问题描述").fill("楼上深夜装修，影响休息")
    follow(page, page.locator("form.intake button[type=submit]"))
    assert "/received" in page.url
    rid = int(page.url.split("/requests/")[1].split("/")[0])
    page = resident.goto(f"/requests/{rid}")
    serving = page.locator("[data-serving]")
    assert "member_1" in serving.inner_text() and "党员中心户" in serving.inner_text()
    assert "staff_a" in serving.inner_text()
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == []
    resident.shot("request-who-serves")

    # A visitor without a login reads the board and downloads the poster.
    visitor = people("visitor")
    page = visitor.goto("/board/community/A")
    assert page.locator('[data-period="2026-09"]').count() == 1
    assert page.locator('.tile[data-rate="satisfaction_rate"]').count() == 1
    body = page.locator("body").inner_text()
    assert "13800001234" not in body and "王阿姨" not in body and "1单元101" not in body
    assert wrong_language(body, "zh_CN") == []
    visitor.shot("public-board")
    with page.expect_download() as download:
        page.locator("[data-board-pdf]").click()
    notice = download.value.path().read_bytes()
    assert "社区A" in subprocess.run(["pdftotext", "-", "-"], input=notice, capture_output=True,
                                     check=True).stdout.decode()
    with page.expect_download() as download:
        page.evaluate(f"window.location.href = '/buildings/{world.ids['building_A']}/poster.pdf'")
    poster = subprocess.run(["pdftotext", "-", "-"], input=download.value.path().read_bytes(), capture_output=True,
                            check=True).stdout.decode()
    assert "member_1" in poster and "党员中心户" in poster and "13800001234" not in poster

