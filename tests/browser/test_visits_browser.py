"""Planned collection in headless chromium at phone width, by clicking: a member records a visit
in one tap from "my households", a grid worker does a round of their grid, and the secretary
watches the month's coverage rise and reminds the member of a household still missed."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import follow, wrong_language
from tests.helpers import all_rows
from workflow.db import unit_of_work
from workflow.models import Notification, Request
from workflow.visits import commands
from workflow.visits.models import InspectionRound, Visit

pytestmark = pytest.mark.browser
TZ = "Asia/Shanghai"


def _register(runtime, world) -> list[int]:
    """Three households of 1号楼 in community A: two looked after by member_1, one by member_2;
    staff_a works 一网格."""
    ids = []
    with unit_of_work(runtime.sessions) as session:
        staff = world.actors["staff_a"]
        for code, tags, member in (("A-101", ["party_member"], "member_1"), ("A-102", ["needy"], "member_1"),
                                   ("A-103", [], "member_2")):
            household = commands.create_household(session, staff, {
                "building_id": world.ids["building_A"], "code": code, "door": f"1单元{code[-3:]}", "tags": tags,
                "contact_name": "王阿姨", "contact_phone": "13800001234"}, timezone=TZ)
            commands.pair_member(session, staff, household.id, world.actors[member].member_id, timezone=TZ)
            ids.append(household.id)
        commands.assign_grid_worker(session, staff, world.ids["grid_A"], world.ids["staff_a"], timezone=TZ)
    return ids


def _figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text().strip()


def _language_ok(page) -> None:
    text = page.locator("body").inner_text()
    assert wrong_language(text, "zh_CN") == [] and "Traceback" not in text


def test_visits_rounds_and_coverage_by_clicking(people, runtime, world):
    first, second, third = _register(runtime, world)

    # The secretary looks first: nobody visited yet this month.
    secretary = people("secretary")
    page = secretary.login("secretary_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="走访覆盖"))
    assert _figure(page, "visited") == "0" and _figure(page, "households") == "3"
    assert page.locator("figure.chart svg").count() == 1
    _language_ok(page)
    secretary.shot("coverage-before")

    # A member opens "my households" on their phone and records a visit with one tap.
    member = people("member")
    page = member.login("member_1")
    follow(page, page.locator("nav.menu").get_by_role("link", name="我的联系户"))
    cards = page.locator("li.household")
    assert cards.count() == 2
    assert "王**" in cards.first.inner_text() and "13800001234" not in page.content()
    _language_ok(page)
    member.shot("my-households")
    card = page.locator(f'li.household[data-household="{second}"]')
    follow(page, card.get_by_role("button", name="已走访·一切正常"))
    assert "已记录走访" in page.locator(".flash").inner_text()
    assert page.locator(f'li.household[data-household="{second}"] [data-visited-today]').count() == 1
    # The other one: a call that found a problem, told through "other outcome".
    card = page.locator(f'li.household[data-household="{first}"]')
    card.locator("summary").click()
    card.get_by_label("走访方式").select_option("phone")
    card.get_by_label("走访结果").select_option("problem")
    card.get_by_label("问题类别").select_option("housing.roof_leak")
    card.get_by_label("问题描述").fill("顶层卫生间天花板漏水")
    follow(page, card.get_by_role("button", name="登记走访"))
    assert "诉求" in page.locator(".flash").inner_text()
    member.shot("my-households-visited")
    assert {(v.household_id, v.method.value, v.outcome.value) for v in all_rows(runtime, Visit)} == {
        (second, "at_home", "all_well"), (first, "phone", "problem")}
    [request] = all_rows(runtime, Request)
    assert request.channel.value == "visit" and request.building_id == world.ids["building_A"]

    # The grid worker does a round of their grid.
    worker = people("staff")
    page = worker.login("staff_a")
    follow(page, page.locator("nav.menu").get_by_role("link", name="网格巡查"))
    follow(page, page.get_by_role("button", name="开始巡查"))
    page.get_by_label("1号楼").check()
    page.get_by_label("公共区域（用逗号分隔）").fill("小区广场，地下车库")
    follow(page, page.get_by_role("button", name="标记为已巡查"))
    assert "已巡查 1 / 1 栋楼" in page.locator("[data-covered]").inner_text()
    page.get_by_label("问题类别").select_option("safety.fire_lane")
    page.get_by_label("问题描述").fill("地下车库消防通道被电动车堵塞")
    follow(page, page.get_by_role("button", name="登记问题"))
    follow(page, page.get_by_role("button", name="结束巡查"))
    assert page.locator("[data-round-ended]").count() == 1
    _language_ok(page)
    worker.shot("round-ended")
    [row] = all_rows(runtime, InspectionRound)
    assert row.ended_at is not None and len(row.finding_ids) == 1

    # The secretary's coverage rose: two of three households; member_2's is on the missed list,
    # and a reminder reaches member_2.
    page = secretary.goto("/coverage")
    assert _figure(page, "visited") == "2" and _figure(page, "households") == "3"
    assert re.match(r"66\.7\s*%", _figure(page, "coverage"))
    grid_row = page.locator(f'table.grids tr[data-grid="{world.ids["grid_A"]}"]')
    assert "1" in grid_row.inner_text()
    missed = page.locator("table.missed tr[data-household]")
    assert missed.count() == 1 and missed.get_attribute("data-household") == str(third)
    follow(page, missed.get_by_role("button", name="提醒"))
    assert "已提醒 1 名党员" in page.locator(".flash").inner_text()
    runtime.drain()
    assert [(n.kind, n.account_id) for n in all_rows(runtime, Notification)] == [
        ("visit_due", world.ids["member_2"])]
    secretary.shot("coverage-after")
