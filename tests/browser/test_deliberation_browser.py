"""建言 and 议事 in headless chromium at phone width: a resident makes a suggestion; the community's
staff record a residents' meeting that takes it up and its decision; the resident sees it adopted,
and anyone sees the decision on the public board."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow, wrong_language

pytestmark = pytest.mark.browser


def _language_ok(page) -> None:
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == [] and "Traceback" not in text


def test_a_suggestion_goes_to_a_meeting_and_its_decision_to_the_board(people, world):
    resident = people("resident")
    page = resident.login("resident_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="建言"))
    form = page.locator("form[data-suggest]")
    form.get_by_label("社区").select_option(str(world.ids["community_A"]))
    form.get_by_label("标题").fill("在花园边装几张长椅")
    form.get_by_label("您的建议").fill("老人散步走累了没有地方坐。")
    follow(page, form.get_by_role("button", name="提交建言"))
    card = page.locator("[data-suggestion]")
    assert card.get_attribute("data-status") == "received" and "已收到" in card.inner_text()
    _language_ok(page)
    resident.shot("resident-suggestions")

    desk = people("staff")
    page = desk.login("staff_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="建言与议事"))
    page.locator("summary", has_text="记录一次议事会").click()
    form = page.locator("form[data-convene]")
    form.get_by_label("议题").fill("花园长椅放在哪里")
    form.get_by_label("参加人员").fill("居民代表8人、物业1人、社区2人")
    form.get_by_label("参加人数").fill("11")
    form.get_by_label("表决选项，每行一个").fill("花园东侧\n花园西侧")
    form.get_by_label("在花园边装几张长椅").check()
    follow(page, form.get_by_role("button", name="保存议事会"))
    _language_ok(page)
    decide = page.locator("form[data-decide]")
    decide.get_by_role("radio", name="花园东侧").check()
    decide.get_by_label("“花园东侧”的票数").fill("8")
    decide.get_by_label("“花园西侧”的票数").fill("3")
    decide.get_by_label("议事决定").fill("在花园东侧装4张带靠背的长椅。")
    follow(page, decide.get_by_role("button", name="记录决定"))
    assert "在花园东侧装4张" in page.locator("[data-decision]").inner_text()
    desk.shot("desk-meeting")

    page = resident.goto("/my/suggestions")
    assert page.locator("[data-suggestion]").get_attribute("data-status") == "adopted"
    page = resident.goto("/board/community/A")
    decision = page.locator("[data-decisions]")
    assert "花园长椅放在哪里" in decision.inner_text() and "8" in decision.inner_text()
    assert "居民代表" not in page.locator("body").inner_text()
    _language_ok(page)
