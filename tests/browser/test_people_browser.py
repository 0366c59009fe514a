"""The member register in headless chromium at phone width: a member enters their skills and when
they can serve; the community's staff find them in 党员名册, record their class, and see who has
gone quiet; the member then sees the class the desk recorded."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow, wrong_language
from tests.helpers import all_rows
from workflow.people.models import MemberProfile

pytestmark = pytest.mark.browser


def _language_ok(page) -> None:
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == [] and "Traceback" not in text


def test_a_member_enters_their_skills_and_the_desk_records_their_class(people, runtime, world):
    member_id = world.actors["member_1"].member_id
    member = people("member")
    page = member.login("member_1")
    follow(page, page.locator("nav.menu").get_by_role("link", name="我的特长"))
    assert "尚未登记" in page.locator("[data-class]").inner_text()
    form = page.locator("form[data-profile]")
    form.get_by_label("单位职务（可选）").fill("科员")
    form.get_by_label("特长").fill("水电，理发")
    form.get_by_label("周末").check()
    follow(page, form.get_by_role("button", name="保存"))
    assert page.locator("form[data-profile]").get_by_label("特长").input_value() == "水电，理发"
    _language_ok(page)
    member.shot("member-profile")
    [row] = all_rows(runtime, MemberProfile)
    assert (row.skills, row.availability, row.class_code) == (["水电", "理发"], ["weekend"], None)

    desk = people("staff")
    page = desk.login("staff_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="党员名册"))
    card = page.locator(f'[data-member="{member_id}"]')
    assert "水电，理发" in card.inner_text() and "区税务局" in card.inner_text() and "周末" in card.inner_text()
    assert "已报到党员2名，其中隐身0名" in page.locator("[data-counts]").inner_text()
    card.locator("summary", has_text="修改").click()
    card.get_by_label("党员类别").select_option("retired")
    follow(page, card.get_by_role("button", name="保存"))
    assert "离退休党员" in page.locator(f'[data-member="{member_id}"]').inner_text()
    _language_ok(page)
    desk.shot("desk-members")
    # The filters: by class, and the quiet ones (none: both registered just now).
    page.locator("form.filters").get_by_label("党员类别").select_option("retired")
    follow(page, page.locator("form.filters").get_by_role("button", name="查看"))
    assert page.locator("[data-member]").count() == 1
    page.locator("form.filters").get_by_label("只看隐身党员").check()
    follow(page, page.locator("form.filters").get_by_role("button", name="查看"))
    assert page.locator("[data-member]").count() == 0 and "没有可显示的党员" in page.locator("main").inner_text()

    page = member.goto("/member/profile")
    assert "离退休党员" in page.locator("[data-class]").inner_text()
