"""The pages of planned collection: my households with the one-tap visit, the grid worker's round,
the register of households and the coverage page with its missed list and reminders."""

from __future__ import annotations

import re

from tests.helpers import all_rows, count
from tests.test_photos import png
from workflow.db import unit_of_work
from workflow.models import Notification, PersonalDataRead, Photo, Request
from workflow.visits import commands
from workflow.visits.models import Household, InspectionRound, Visit

TZ = "Asia/Shanghai"


def _paired(runtime, world, code: str, tags: list[str], member: str = "member_1", contact=("", "")) -> int:
    with unit_of_work(runtime.sessions) as session:
        staff = world.actors["staff_a"]
        household = commands.create_household(session, staff, {
            "building_id": world.ids["building_A"], "code": code, "door": f"2单元{code[-3:]}", "tags": tags,
            "contact_name": contact[0], "contact_phone": contact[1]}, timezone=TZ)
        commands.pair_member(session, staff, household.id, world.actors[member].member_id, timezone=TZ)
        return household.id


def _household_card(html: str, household_id: int) -> str:
    match = re.search(rf'<li class="card household[^"]*" data-household="{household_id}"(.*?)</li>', html, re.S)
    assert match, f"no card for household {household_id}"
    return match.group(1)


def test_a_member_records_a_visit_in_one_tap(browser, world, runtime):
    first = _paired(runtime, world, "A-101", ["needy"], contact=("王阿姨", "13800001234"))
    second = _paired(runtime, world, "A-102", [])
    browser.login("member_1")
    html = browser.get("/member/households").text
    assert html.index(f'data-household="{first}"') < html.index(f'data-household="{second}"')  # sooner due first
    card = _household_card(html, first)
    assert "困难户" in card and "王**" in card and "13800001234" not in html  # the contact masked
    assert "从未走访" in card

    page = browser.post(f"/member/households/{first}/visit", {})
    assert page.status_code == 200 and "已记录走访" in page.text
    assert "今天已走访" in _household_card(page.text, first)
    [visit] = all_rows(runtime, Visit)
    assert (visit.household_id, visit.outcome.value, visit.method.value, visit.paired) == (first, "all_well",
                                                                                         "at_home", True)

    # A problem found on the visit: the category is asked for, then the request goes to the community.
    refused = browser.post(f"/member/households/{second}/visit", {"outcome": "problem", "description": "漏水"})
    assert refused.status_code == 422 and 'data-code="unknown_category"' in refused.text
    assert count(runtime, Visit) == 1 and count(runtime, Request) == 0
    done = browser.post(f"/member/households/{second}/visit", {
        "outcome": "problem", "category": "housing.roof_leak", "description": "顶层卫生间漏水", "method": "at_home"})
    assert done.status_code == 200
    [request] = all_rows(runtime, Request)
    assert request.channel.value == "visit" and f"诉求 {request.id}" in done.text
    # A need noted with a photo from the "other outcome" form: the photo stays with the visit.
    third = _paired(runtime, world, "A-103", ["empty_nest"])
    noted = browser.post(f"/member/households/{third}/visit", {"outcome": "need", "note": "想装扶手"},
                         files=[("photos", ("handrail.png", png(4, 4), "image/png"))])
    assert noted.status_code == 200 and "已记录走访" in noted.text
    [photo] = [p for p in all_rows(runtime, Photo) if p.visit_id is not None]
    visit = next(v for v in all_rows(runtime, Visit) if v.household_id == third)
    assert (photo.visit_id, photo.request_id, visit.outcome.value) == (visit.id, None, "need")
    # Not a picture: refused beside the field, nothing written.
    before = count(runtime, Visit)
    fourth = _paired(runtime, world, "A-104", [])
    bad = browser.post(f"/member/households/{fourth}/visit", {"outcome": "need", "note": "x"},
                       files=[("photos", ("notes.txt", b"just some text", "image/png"))])
    assert bad.status_code == 422 and 'aria-invalid="true"' in _household_card(bad.text, fourth)
    assert count(runtime, Visit) == before

    # The community's staff open the household: the need, its note and its photo; the read is logged.
    browser.client.cookies.clear()
    desk = type(browser)(browser.client)
    desk.login("staff_a")
    register = desk.get("/desk/households")
    assert f'href="/desk/households/{third}"' in register.text
    opened = desk.get(f"/desk/households/{third}")
    assert opened.status_code == 200 and "想装扶手" in opened.text and f'src="/photos/{photo.id}"' in opened.text
    assert "记下需求" in opened.text and "2单元103" in opened.text
    assert desk.get(f"/photos/{photo.id}").status_code == 200
    assert desk.get(f"/desk/households/{first}").text.count("王阿姨") >= 1  # the contact whole, to the desk
    assert any(r.household_id == first for r in all_rows(runtime, PersonalDataRead))
    browser.client.cookies.clear()
    other = type(browser)(browser.client)
    other.login("staff_b")
    assert other.get(f"/desk/households/{third}").status_code == 403


def test_a_grid_worker_does_a_round_from_the_pages(browser, world, runtime):
    with unit_of_work(runtime.sessions) as session:
        commands.assign_grid_worker(session, world.actors["staff_a"], world.ids["grid_A"], world.ids["staff_a"],
                                    timezone=TZ)
    browser.login("staff_a")
    rounds = browser.get("/desk/rounds")
    assert "一网格" in rounds.text
    started = browser.post("/desk/rounds", {"grid_id": str(world.ids["grid_A"])})
    assert started.status_code == 200 and "一网格" in started.text
    [row] = all_rows(runtime, InspectionRound)
    ticked = browser.post(f"/desk/rounds/{row.id}/ticks", {"building_ids": [str(world.ids["building_A"])],
                                                           "areas": "小区广场，地下车库"})
    assert 'data-covered>已巡查 1 / 1 栋楼 · 小区广场、地下车库' in ticked.text
    found = browser.post(f"/desk/rounds/{row.id}/findings", {"category": "safety.fire_lane",
                                                             "description": "消防通道被电动车堵塞"})
    assert found.status_code == 200
    ended = browser.post(f"/desk/rounds/{row.id}/end", {"note": ""})
    assert "data-round-ended" in ended.text
    [row] = all_rows(runtime, InspectionRound)
    [request] = all_rows(runtime, Request)
    assert row.ended_at is not None and row.finding_ids == [request.id] and row.areas == ["小区广场", "地下车库"]
    assert request.channel.value == "inspection" and request.grid_id == world.ids["grid_A"]


def test_staff_keep_the_register_and_the_secretary_watches_coverage(browser, world, runtime):
    browser.login("staff_a")
    form = browser.get("/desk/households")
    assert form.status_code == 200
    added = browser.post("/desk/households", {
        "building_id": str(world.ids["building_A"]), "code": "A-301", "door": "3单元301", "tags": ["party_member"],
        "contact_name": "刘师傅", "contact_phone": "13700001111", "member_id": str(world.actors["member_2"].member_id)})
    assert added.status_code == 200 and "3单元301" in added.text and "刘**" in added.text
    taken = browser.post("/desk/households", {"building_id": str(world.ids["building_A"]), "code": "A-301",
                                              "door": "3单元302"})
    assert taken.status_code == 409 and 'data-code="household_code_taken"' in taken.text
    assert count(runtime, Household) == 1
    [household] = all_rows(runtime, Household)
    # 党员中心户: member_2 named for the building; without a building the form says so.
    unnamed = browser.post("/desk/center-households", {"member_id": str(world.actors["member_2"].member_id)})
    assert unnamed.status_code == 422 and 'data-code="building_required"' in unnamed.text
    named = browser.post("/desk/center-households", {"building_id": str(world.ids["building_A"]),
                                                     "member_id": str(world.actors["member_2"].member_id)})
    assert named.status_code == 200
    assert re.search(rf'data-center-building="{world.ids["building_A"]}">[^<]*member_2', named.text)

    secretary = type(browser)(browser.client)
    browser.client.cookies.clear()
    secretary.login("secretary_a")
    page = secretary.get("/coverage")
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text.split("<svg", 1)[1]
    assert 'data-figure="visited">0<' in page.text and f'data-household="{household.id}"' in page.text
    reminded = secretary.post(f"/coverage/reminders/{household.id}", {"back": "/coverage"})
    assert reminded.status_code == 200 and "提醒" in reminded.text
    runtime.drain()
    assert [n.kind for n in all_rows(runtime, Notification)] == ["visit_due"]

    # member_2 visits; the secretary's coverage rises to all of it.
    member = type(browser)(browser.client)
    browser.client.cookies.clear()
    member.login("member_2")
    member.post(f"/member/households/{household.id}/visit", {})
    browser.client.cookies.clear()
    secretary.login("secretary_a")
    page = secretary.get("/coverage")
    assert 'data-figure="visited">1<' in page.text and 'data-figure="coverage">100' in page.text
