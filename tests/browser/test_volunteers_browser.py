"""志愿者 in headless chromium at phone width: a resident signs up as a volunteer, registers with
their community, claims a task open to volunteers and reports it; once staff verify it the hours
are in their time bank, and the desk records a service paid from them."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow, wrong_language
from tests.helpers import all_rows
from workflow.access import Actor
from workflow.commands import handling, intake, taxonomy
from workflow.db import unit_of_work
from workflow.models import Account
from workflow.volunteers.models import TimeBankEntry

pytestmark = pytest.mark.browser


def _language_ok(page) -> None:
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == [] and "Traceback" not in text


@pytest.fixture
def volunteer_task(runtime, world):
    """Sanitation opens its tasks to volunteers; a corridor-clutter task waits on community A's board."""
    admin = world.actors["admin"]
    with unit_of_work(runtime.sessions) as session:
        taxonomy.update_category(session, admin, "sanitation", {"volunteers": True})
        rid = intake.submit(session, world.actors["resident_a"], intake.Submission(
            channel="report", category="sanitation.corridor_clutter", description="三楼楼道堆满旧家具",
            community_id=world.ids["community_A"])).id
    runtime.drain()  # routed to the task board
    yield rid
    with unit_of_work(runtime.sessions) as session:
        taxonomy.update_category(session, admin, "sanitation", {"volunteers": False})


def test_a_resident_becomes_a_volunteer_claims_a_task_and_banks_its_hours(people, runtime, world, volunteer_task):
    rid = volunteer_task
    volunteer = people("volunteer")
    page = volunteer.login("resident_b")
    follow(page, page.locator("nav.menu").get_by_role("link", name="当志愿者"))
    _language_ok(page)
    follow(page, page.locator("form[data-join]").get_by_role("button", name="好的，我愿意当志愿者"))
    assert page.url.endswith("/member/registrations") and "您已成为志愿者" in page.locator("body").inner_text()
    page.get_by_label("社区").select_option(str(world.ids["community_A"]))
    follow(page, page.get_by_role("button", name="报到"))
    volunteer.shot("volunteer-registered")

    follow(page, page.locator("nav.menu").get_by_role("link", name="任务大厅"))
    card = page.locator(f'[data-request-id="{rid}"]')
    assert "旧家具" in card.inner_text()
    _language_ok(page)
    volunteer.shot("volunteer-task-board")
    follow(page, card.get_by_role("button"))
    assert page.locator("article.request").get_attribute("data-status") == "claimed"
    page.locator("#act-report_result summary").click()
    form = page.locator("#act-report_result form")
    form.locator("textarea[name=result]").fill("和邻居一起把旧家具搬到了回收点。")
    form.locator("input[name=hours]").fill("2")
    follow(page, form.locator("button[type=submit]"))
    assert page.locator("article.request").get_attribute("data-status") == "verifying"

    with unit_of_work(runtime.sessions) as session:  # staff verify it (their own journey is tested elsewhere)
        handling.fire(session, runtime.settings, world.actors["staff_a"], rid, "verify", {"appraisal": 5})
    follow(page, page.locator("nav.menu").get_by_role("link", name="时间银行"))
    assert page.locator("[data-balance]").inner_text().strip() == "2.0"
    assert page.locator('[data-movement="earned"]').count() == 1
    _language_ok(page)
    volunteer.shot("volunteer-time-bank")

    # The desk records a service the volunteer received, paid from the hours.
    desk = people("staff")
    page = desk.login("staff_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="志愿者"))
    with unit_of_work(runtime.sessions) as session:
        account = session.query(Account).filter_by(username="resident_b").one()
        member_id = Actor.of(session, account).member_id
    card = page.locator(f'[data-volunteer="{member_id}"]')
    assert "resident_b" in card.inner_text() and "2.0" in card.inner_text()
    card.locator("summary").click()
    card.get_by_label("时长").fill("1.5")
    card.get_by_label("服务内容").fill("上门理发")
    follow(page, card.get_by_role("button", name="登记"))
    assert page.locator(f'[data-volunteer="{member_id}"] [data-balance]').inner_text().strip() == "0.5"
    _language_ok(page)
    desk.shot("desk-volunteers")
    [entry] = all_rows(runtime, TimeBankEntry)
    assert (str(entry.hours), entry.note) == ("-1.5", "上门理发")

    page = volunteer.goto("/volunteer/time-bank")
    assert page.locator("[data-balance]").inner_text().strip() == "0.5"
    assert "上门理发" in page.locator('[data-movement="spent"]').inner_text()
