"""The member's pages: registering with a community (双报到), the task board with the member's own
zone first, my tasks through claim, report, send-back and verification, and my record with the
hours and points behind it."""

from __future__ import annotations

import re

from tests.conftest import make_member
from tests.helpers import act, get, in_community, submit
from tests.test_photos import png
from workflow.db import unit_of_work
from workflow.models import utcnow
from workflow.scoring import periods, runs

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _card(html: str, request_id: int) -> str:
    """The HTML of one request's card on a list page."""
    match = re.search(rf'<li class="card" data-request-id="{request_id}">(.*?)</li>', html, re.S)
    assert match, f"no card for #{request_id}"
    return match.group(1)


def _published(client, world, runtime, **fields) -> int:
    """A request of community A published on the task board by staff_a."""
    if fields:
        rid = submit(client, world, "resident_a", category="disputes.noise", **fields)["id"]
        runtime.drain()
    else:
        rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "publish_task")
    return rid


def _current_period(runtime) -> str:
    with unit_of_work(runtime.sessions) as session:
        return runs.current_period(session, runtime.settings, utcnow())


def test_registering_and_ending_a_registration_through_the_form(browser, world):
    browser.login("member_c")
    page = browser.get("/member/registrations")
    assert page.status_code == 200
    assert "社区C" in page.text and "已报到" in page.text
    assert 'name="community_id"' in page.text and 'for="f-community_id"' in page.text

    page = browser.post("/member/registrations", {"community_id": str(world.ids["community_A"])})
    assert page.status_code == 200 and page.url.path == "/member/registrations"
    assert "您已向社区A报到" in page.text
    card = re.search(rf'data-community-id="{world.ids["community_A"]}" data-status="active">(.*?)</li>',
                     page.text, re.S).group(1)
    assert "报到日期" in card and f'action="/member/registrations/{world.ids["community_A"]}/end"' in card

    again = browser.post("/member/registrations", {"community_id": str(world.ids["community_A"])})
    assert again.status_code == 409
    assert 'id="community_id-error"' in again.text and "您已在该社区报到" in again.text
    assert f'<option value="{world.ids["community_A"]}" selected>' in again.text
    unknown = browser.post("/member/registrations", {"community_id": "999999"})
    assert unknown.status_code == 422 and 'id="community_id-error"' in unknown.text and "999999" in unknown.text
    empty = browser.post("/member/registrations", {"community_id": ""})
    assert empty.status_code == 422 and "请选择社区" in empty.text

    page = browser.post(f"/member/registrations/{world.ids['community_A']}/end", {})
    assert page.status_code == 200 and "您在社区A的报到已结束" in page.text
    card = re.search(rf'data-community-id="{world.ids["community_A"]}" data-status="ended">(.*?)</li>',
                     page.text, re.S).group(1)
    assert "已结束" in card and "结束日期" in card and "/end" not in card
    twice = browser.post(f"/member/registrations/{world.ids['community_A']}/end", {})
    assert twice.status_code == 404 and "您未在该社区报到" in twice.text


def test_a_member_not_registered_sees_the_way_to_register(browser, world, runtime, client):
    make_member(runtime, "member_new", [])
    browser.login("member_new")
    page = browser.get("/member/tasks")
    assert page.status_code == 200
    assert "您尚未向社区报到" in page.text and 'href="/member/registrations"' in page.text
    page = browser.get("/member/record")
    assert page.status_code == 200 and "暂无" in page.text

    browser.get("/member/registrations")
    browser.post("/member/registrations", {"community_id": str(world.ids["community_B"])})
    page = browser.get("/member/tasks")
    assert "您所在社区暂无待认领的任务" in page.text and "您尚未向社区报到" not in page.text


def test_the_board_shows_my_zone_first_and_escapes_descriptions(browser_factory, client, world, runtime):
    plain = _published(client, world, runtime, description=XSS)
    member_id = world.actors["member_1"].member_id
    zone = client.post(f"/api/v1/members/{member_id}/zones", json={"building_id": world.ids["building_A"]},
                       headers=world.headers("staff_a"))
    assert zone.status_code == 201, zone.text
    mine = _published(client, world, runtime, building_id=world.ids["building_A"])

    browser = browser_factory()
    browser.login("member_1")
    page = browser.get("/member/tasks")
    assert page.status_code == 200
    assert page.text.index(f'data-request-id="{mine}"') < page.text.index(f'data-request-id="{plain}"')
    assert "我的责任区" in _card(page.text, mine) and "我的责任区" not in _card(page.text, plain)
    card = _card(page.text, plain)
    assert XSS not in page.text and "&lt;script&gt;" in card
    assert "矛盾纠纷" in card or "噪音" in card  # the category's name
    assert "社区A" in card and "认领期限" in card and f'action="/requests/{plain}/act/claim"' in card
    assert 'name="csrf_token"' in card
    assert "您已认领 0 项，最多可同时认领 3 项" in page.text

    # Member C is registered elsewhere and does not see community A's tasks.
    other = browser_factory()
    other.login("member_c")
    page = other.get("/member/tasks")
    assert f'data-request-id="{plain}"' not in page.text and "您所在社区暂无待认领的任务" in page.text


def test_claim_report_send_back_verify_and_my_record(browser, client, world, runtime):
    rid = _published(client, world, runtime)
    browser.login("member_1")
    board = browser.get("/member/tasks")
    assert f'action="/requests/{rid}/act/claim"' in board.text
    page = browser.post(f"/requests/{rid}/act/claim", {})
    assert page.status_code == 200 and "您已认领该任务" in page.text

    assert f'data-request-id="{rid}"' not in browser.get("/member/tasks").text
    claims = browser.get("/member/claims")
    card = _card(claims.text, rid)
    assert 'data-state="active"' in card and f'href="/requests/{rid}#act-report_result"' in card
    assert "您已认领 1 项，最多可同时认领 3 项" in claims.text

    browser.get(f"/requests/{rid}")
    page = browser.post(f"/requests/{rid}/act/report_result", {"result": "已协调双方", "hours": "1.5"},
                        files=[("photos", ("after.png", png(), "image/png"))])
    assert page.status_code == 200 and "办理结果已提交核查" in page.text
    card = _card(browser.get("/member/claims").text, rid)
    assert 'data-state="reported"' in card and "待核查" in card and "1.5" in card

    act(client, world, "staff_a", rid, "send_back", reason="请补充<b>现场照片</b>")
    card = _card(browser.get("/member/claims").text, rid)
    assert 'data-state="sent_back"' in card and "请补充&lt;b&gt;现场照片&lt;/b&gt;" in card

    browser.get(f"/requests/{rid}")
    browser.post(f"/requests/{rid}/act/report_result", {"result": "已补充照片", "hours": "2"},
                 files=[("photos", ("after.png", png(), "image/png"))])
    act(client, world, "staff_a", rid, "verify", appraisal=5)
    runtime.drain()
    claims = browser.get("/member/claims")
    finished = claims.text.split('class="cards claims finished"')[1]
    assert f'data-request-id="{rid}"' in finished and "核查通过" in finished and "5 分（满分 5 分）" in finished
    assert "没有正在办理的任务" in claims.text

    period = _current_period(runtime)
    response = client.post(f"/api/v1/admin/scores/{period}/recompute", headers=world.headers("admin"))
    assert response.status_code == 200, response.text
    mine = get(client, world, "member_1", f"/members/me/scores/{period}")
    record = mine["records"][0]
    page = browser.get("/member/record")
    assert page.status_code == 200
    html = page.text
    tile = re.search(r'class="tile hours"><div class="value">([^<]+)<', html).group(1)
    assert tile == "2.0" and record["hours"]["hours"] == 2.0
    points = re.search(r'class="tile points"><div class="value">([^<]+)<', html).group(1)
    assert points == str(record["points"]["total"])
    ledger = html.split('class="table ledger"')[1].split("</table>")[0]
    for entry in record["points"]["entries"]:
        assert entry["reason_label"] in ledger
    assert "任务通过核查" in ledger and f'href="/requests/{rid}"' in ledger
    tasks = html.split('class="table tasks"')[1].split("</table>")[0]
    assert f'data-request-id="{rid}"' in tasks and "5/5" in tasks
    # One verified task is below the gate of the ranking: the page says why.
    assert record["eligible"] is False
    assert "不参加排名的原因" in html and record["gate_failures"][0]["message"] in html

    previous = browser.get(f"/member/record?period={periods.shift(period, -1)}")
    assert previous.status_code == 200 and "暂无" in previous.text
    assert f'href="/member/record?period={period}"' in previous.text
    bad = browser.get("/member/record?period=2026-13")
    assert bad.status_code == 422 and 'id="period-error"' in bad.text and "YYYY-MM" in bad.text
    future = browser.get(f"/member/record?period={periods.shift(period, 2)}")
    assert future.status_code == 404 and 'id="period-error"' in future.text


def test_the_english_switch_translates_the_member_pages(browser, client, world, runtime):
    rid = _published(client, world, runtime)
    browser.login("member_1")
    browser.set_language("en")
    board = browser.get("/member/tasks")
    assert "Task board" in board.text and "Claim this task" in board.text and "认领" not in board.text
    assert "You hold 0 of at most 3 open tasks." in board.text
    browser.post(f"/requests/{rid}/act/claim", {})
    claims = browser.get("/member/claims")
    assert "Report your result" in claims.text and "In progress" in claims.text
    registrations = browser.get("/member/registrations")
    assert "Register with a community" in registrations.text and "Registered on" in registrations.text
    record = browser.get("/member/record")
    assert record.status_code == 200 and "My record" in record.text and "Previous period" in record.text
    data = re.compile(r"社区[ABC]|街道S[12]|中文|一网格|1号楼|楼道里堆满了纸箱，影响通行。")
    for page in (board, claims, registrations, record):
        assert not re.search(r"[\u4e00-\u9fff]{2,}", data.sub("", page.text)), page.url


def test_pages_of_members_are_not_for_other_roles(browser, world):
    browser.login("resident_a")
    for url in ("/member/tasks", "/member/claims", "/member/record", "/member/registrations"):
        page = browser.get(url)
        assert page.status_code == 403 and "您的角色无权访问此页面" in page.text, url
    browser.get("/my/requests")
    refused = browser.post("/member/registrations", {"community_id": str(world.ids["community_A"])})
    assert refused.status_code == 403


def test_member_pages_need_a_login(browser):
    page = browser.get("/member/tasks?page=2", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/member/tasks")
