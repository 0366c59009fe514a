"""The street office and a member's own pages in headless chromium: staff escalate by clicking,
the officer calls a department in, records its report, sets a red mark and returns the request;
the member looks at their registrations and their record. Screenshots, both languages."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow
from tests.browser.test_loop_browser import Visitor
from tests.helpers import in_community
from workflow.commands import street
from workflow.db import unit_of_work

pytestmark = pytest.mark.browser


def test_the_street_office_by_clicking(people, client, world, runtime):
    dialogs: list[str] = []
    rid = in_community(client, world, runtime)
    with unit_of_work(runtime.sessions) as session:
        street.create_department(session, world.actors["officer_1"], "城管执法队")

    staff = Visitor(people("staff-escalates"), dialogs)
    staff.person.login("staff_a")
    follow(staff.page, staff.page.locator(f'[data-request-id="{rid}"] a.card-link'))
    staff.page.locator("#act-escalate summary").click()
    staff.page.locator("#act-escalate textarea[name=note]").fill("涉及占道经营，需城管处理")
    follow(staff.page, staff.page.locator("#act-escalate button[type=submit]"))
    assert staff.page.locator("article.request").get_attribute("data-status") == "street"

    officer = Visitor(people("officer"), dialogs)
    officer.person.login("officer_1")
    assert officer.page.url.endswith("/street")
    officer.seen("officer-street-queue")
    follow(officer.page, officer.page.locator(f'[data-request-id="{rid}"] a.card-link'))
    page = officer.page
    page.locator("#whistle summary").click()
    page.locator("#whistle").get_by_label("城管执法队").check()
    page.locator("#whistle input[name=report_within_hours]").fill("4")
    follow(page, page.locator("#whistle button[type=submit]"))
    call = page.locator("li.call")
    call.locator("textarea[name=response]").fill("已到场处置，摊位清理完毕")
    follow(page, call.locator("button[type=submit]"))
    assert "已到场处置" in page.locator("li.call").inner_text()
    page.locator("#supervision summary").click()
    page.locator("#supervision select[name=level]").select_option("red")
    follow(page, page.locator("#supervision button[type=submit]"))  # no reason: refused beside the field
    assert page.locator("#supervision .field-error").is_visible()
    page.locator("#supervision textarea[name=reason]").fill("群众多次反映，限期办结")
    follow(page, page.locator("#supervision button[type=submit]"))
    assert "红牌督办" in page.locator("article.request").inner_text()
    officer.seen("officer-request-whistled")
    officer.click_nav("督办")
    assert page.locator(f'[data-request-id="{rid}"]').count() == 1
    officer.seen("officer-supervision")
    officer.person.goto(f"/requests/{rid}")
    page.locator("#act-return_to_community summary").click()
    page.locator("#act-return_to_community textarea[name=reason]").fill("已协调完毕，请社区跟进回访")
    follow(page, page.locator("#act-return_to_community button[type=submit]"))
    assert page.locator("article.request").get_attribute("data-status") == "community"

    member = Visitor(people("member-record"), dialogs)
    member.person.login("member_1")
    member.click_nav("报到")
    member.seen("member-registrations")
    member.click_nav("我的档案")
    member.seen("member-record")

    assert dialogs == []
    for visitor in (officer, member):
        visitor.check_english()
