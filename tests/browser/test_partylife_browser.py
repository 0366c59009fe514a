"""组织生活 in headless chromium: the desk posts a theme party day and reads its check-in code off
the page; a member at phone width types the code and sees the activity among those they attended;
the organiser's page lists them as checked in."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow, wrong_language
from tests.helpers import all_rows
from workflow.partylife.models import Attendance

pytestmark = pytest.mark.browser


def _language_ok(page) -> None:
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == [] and "Traceback" not in text


def test_the_desk_posts_an_activity_and_a_member_checks_in_with_its_code(people, runtime, world):
    desk = people("staff")
    page = desk.login("staff_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="组织生活"))
    _language_ok(page)
    form = page.locator("form[data-post-activity]")
    form.get_by_label("类型").select_option("theme_day")
    form.get_by_label("标题").fill("主题党日：垃圾分类宣传")
    form.get_by_label("地点").fill("党群服务中心")
    follow(page, form.get_by_role("button", name="发布活动"))
    assert "活动已发布" in page.locator("body").inner_text()
    code = page.locator(".big-code").inner_text().strip()
    assert len(code) == 6
    desk.shot("desk-activity-code")

    member = people("member")
    page = member.login("member_1")
    follow(page, page.locator("nav.menu").get_by_role("link", name="签到"))
    _language_ok(page)
    page.get_by_label("签到码").fill(code.lower())
    follow(page, page.get_by_role("button", name="签到"))
    body = page.locator("body").inner_text()
    assert "签到成功：主题党日：垃圾分类宣传" in body
    assert "主题党日：垃圾分类宣传" in page.locator("[data-attended]").inner_text()
    member.shot("member-check-in")
    # A wrong code says so, and keeps what was typed.
    page.get_by_label("签到码").fill("ZZZZZZ")
    follow(page, page.get_by_role("button", name="签到"))
    assert "没有签到码为 ZZZZZZ 的活动" in page.locator("body").inner_text()
    [attendance] = all_rows(runtime, Attendance)

    page = desk.goto(f"/desk/activities/{attendance.activity_id}")
    assert page.locator(f'[data-attendee="{attendance.member_id}"]').count() == 1
    assert "签到码签到" in page.locator(f'[data-attendee="{attendance.member_id}"]').inner_text()
