"""The household register at the desk, in headless chromium at phone width: a staff member adds a
household with its contact and member, names the building's 党员中心户, and opens the household's
page (the contact in full, the read logged); the member records a visit that noted a need, with a
photo, and the desk sees it on the household's page."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow, wrong_language
from tests.helpers import all_rows
from tests.test_photos import png
from workflow.models import PersonalDataRead
from workflow.visits.models import CenterHousehold, Household, Visit

pytestmark = pytest.mark.browser


def _language_ok(page) -> None:
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == [] and "Traceback" not in text


def test_the_desk_keeps_the_register_and_sees_a_visits_photo(people, runtime, world):
    building = world.ids["building_A"]
    desk = people("staff")
    page = desk.login("staff_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="住户"))
    assert "还没有登记住户" in page.locator("main").inner_text()

    # Add a household: its door, kind, contact and the member who looks after it.
    page.locator("details.panel summary", has_text="添加住户").click()
    form = page.locator("form[action='/desk/households']")
    form.get_by_label("楼栋").select_option(str(building))
    form.get_by_label("住户编号").fill("A-201")
    form.get_by_label("门牌").fill("2单元201")
    form.get_by_label("党员户").check()
    form.get_by_label("联系人（可选）").fill("李大爷")
    form.get_by_label("电话（可选）").fill("13900002222")
    form.get_by_label("联户党员").select_option(str(world.actors["member_1"].member_id))
    follow(page, form.get_by_role("button", name="添加"))
    assert "住户已添加" in page.locator(".flash").inner_text()
    [household] = all_rows(runtime, Household)
    row = page.locator(f'table.households tr[data-household="{household.id}"]')
    assert "2单元201" in row.inner_text() and "member_1" in row.inner_text()
    assert "13900002222" not in page.content() and "李大爷" not in page.content()  # masked on the register
    _language_ok(page)
    desk.shot("desk-register")

    # Name member_1 the building's 党员中心户.
    page.locator("details[data-centers] summary").click()
    form = page.locator("form[action='/desk/center-households']")
    form.get_by_label("楼栋").select_option(str(building))
    form.get_by_label("党员").select_option(str(world.actors["member_1"].member_id))
    follow(page, form.get_by_role("button", name="确定为党员中心户"))
    page.locator("details[data-centers] summary").click()
    assert "member_1" in page.locator(f'[data-center-building="{building}"]').inner_text()
    [center] = all_rows(runtime, CenterHousehold)
    assert (center.building_id, center.member_id, center.ends_on) == (building, world.actors["member_1"].member_id,
                                                                        None)

    # The household's own page shows the contact in full, and the read is logged.
    follow(page, row.get_by_role("link", name="2单元201"))
    facts = page.locator(f'dl.facts[data-household="{household.id}"]').inner_text()
    assert "李大爷" in facts and "13900002222" in facts
    assert [(r.account_id, r.household_id) for r in all_rows(runtime, PersonalDataRead)] == [
        (world.ids["staff_a"], household.id)]
    assert "尚未走访" in page.locator("main").inner_text() or page.locator("[data-visits]").count() == 0
    _language_ok(page)

    # The member records a visit that noted a need, with a photo, from "my households".
    member = people("member")
    mpage = member.login("member_1")
    follow(mpage, mpage.locator("nav.menu").get_by_role("link", name="我的联系户"))
    card = mpage.locator(f'li.household[data-household="{household.id}"]')
    card.locator("summary").click()
    card.get_by_label("走访结果").select_option("need")
    card.get_by_label("备注（选填）").fill("老人腿脚不便，希望有人帮忙买菜")
    card.locator("input[name=photos]").set_input_files(
        [{"name": "doorway.png", "mimeType": "image/png", "buffer": png(8, 8)}])
    follow(mpage, card.get_by_role("button", name="登记走访"))
    assert "已记录走访" in mpage.locator(".flash").inner_text()
    member.shot("visit-with-photo")
    [visit] = all_rows(runtime, Visit)
    assert (visit.outcome.value, visit.request_id) == ("need", None)

    # The desk sees the visit, its note and its photo on the household's page.
    page.reload()
    card = page.locator(f'[data-visit="{visit.id}"]')
    assert "希望有人帮忙买菜" in card.inner_text()
    image = card.locator("ul.photos img")
    assert image.count() == 1
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth === 8", arg=image.element_handle())
    _language_ok(page)
    desk.shot("desk-household-page")
