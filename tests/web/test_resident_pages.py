"""The resident's pages: "my requests" with timelines, pages and the evaluation mark, and following a
request by its tracking code without logging in (and without seeing anyone's personal data)."""

from __future__ import annotations

import re

from tests.helpers import act, submit
from tests.web.test_intake_pages import CJK, ESCAPED, XSS, received_id
from workflow import tracking
from workflow.db import unit_of_work
from workflow.settings import Settings

CODE = re.compile(r'<code class="tracking-code">([^<]+)</code>')


def routed(client, world, runtime, user="resident_a", **fields) -> int:
    rid = submit(client, world, user, category="disputes.noise", **fields)["id"]
    runtime.drain()
    return rid


def card_of(html: str, rid: int) -> str:
    return html.split(f'<li class="card" data-request-id="{rid}">')[1].split('<li class="card"')[0]


# --- tracking codes -------------------------------------------------------------------------------

def test_tracking_codes_are_signed_case_insensitive_and_refuse_anything_else(client, world, runtime):
    settings = runtime.settings
    rid = submit(client, world, "resident_a")["id"]
    code = tracking.code_for(settings, rid)
    assert re.fullmatch(rf"{rid}-[A-Z2-7]{{10}}", code) and tracking.code_for(settings, rid) == code
    other = Settings(**{**settings.model_dump(), "secret_key": "another-secret-key-of-enough-length"})
    assert tracking.code_for(other, rid) != code  # rotating the key changes every code
    number, check = code.split("-")
    flipped = check[:-1] + ("A" if check[-1] != "A" else "B")
    with unit_of_work(runtime.sessions) as session:
        assert tracking.find(session, settings, code).id == rid
        assert tracking.find(session, settings, f"  {code.lower()} ").id == rid
        for bad in (f"{number}-{flipped}", f"{rid + 1}-{check}", tracking.code_for(other, rid), "", "abc", None, 42,
                    f"{rid}", f"{rid}-", f"-{check}", f"0{code}", f"{rid}-{check}A", f"{rid}-{check[:-1]}",
                    f"99999999999-{check}", f"{rid}-{check[:-1]}1", "x" * 5000):
            assert tracking.find(session, settings, bad) is None, bad
        # A genuine code of a request that does not exist opens nothing either.
        assert tracking.find(session, settings, tracking.code_for(settings, rid + 100)) is None


def test_the_code_on_the_confirmation_page_opens_the_track_page_logged_out(browser_factory, client, world, runtime):
    member = browser_factory()
    member.login("member_1")
    page = member.post("/member/visit", {"community_id": world.ids["community_A"], "category": "disputes.noise",
                                         "description": "王阿姨说楼上每晚施工", "contact_name": "王阿姨",
                                         "contact_phone": "13800001234"})
    rid = received_id(page)
    code = CODE.search(page.text).group(1)
    runtime.drain()
    act(client, world, "staff_a", rid, "publish_task", note="内部备注：先联系物业")

    anyone = browser_factory()
    page = anyone.get(f"/track/{code}")
    assert page.status_code == 200 and f"#{rid}" in page.text
    assert "待认领" in page.text and "噪音扰民" in page.text and "社区A" in page.text
    for label in ("提交诉求", "转社区办理", "发布为任务"):
        assert f"<strong>{label}</strong>" in page.text, label
    for secret in ("13800001234", "王阿姨", "内部备注", "先联系物业", "member_1", "staff_a", "/photos/",
                   "王阿姨说楼上每晚施工"):
        assert secret not in page.text, secret
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert anyone.get(f"/track?token={code.lower()}").status_code == 200
    form = anyone.get("/track")
    assert form.status_code == 200 and 'name="token"' in form.text and "field-error" not in form.text


def test_a_tampered_code_is_refused_without_telling_whether_the_request_exists(browser, client, world):
    rid = submit(client, world, "resident_a")["id"]
    code = tracking.code_for(browser.client.app.state.runtime.settings, rid)
    number, check = code.split("-")
    flipped = check[:-1] + ("A" if check[-1] != "A" else "B")
    answers = []
    for bad in (f"{number}-{flipped}", f"{rid + 1}-{check}", f"{rid + 500}-{check}", "garbage-code"):
        page = browser.get(f"/track/{bad}")
        assert page.status_code == 404 and 'id="token-error"' in page.text
        assert "没有与此查询码对应的诉求" in page.text and f"#{rid}" not in page.text
        answers.append(page.text.replace(bad, ""))
    assert len(set(answers)) == 1  # the same page whether or not the number exists
    page = browser.get(f"/track/{rid}")
    assert page.status_code == 404 and 'id="token-error"' in page.text
    page = browser.get(f"/track?token={number}-{flipped}")
    assert page.status_code == 404 and 'id="token-error"' in page.text


def test_the_reporter_sees_the_code_on_the_request_page_and_staff_do_not(browser_factory, client, world, runtime):
    rid = routed(client, world, runtime)
    code = tracking.code_for(runtime.settings, rid)
    resident, staff = browser_factory(), browser_factory()
    resident.login("resident_a")
    staff.login("staff_a")
    assert code in resident.get(f"/requests/{rid}").text
    page = staff.get(f"/requests/{rid}")
    assert page.status_code == 200 and code not in page.text and "查询码" not in page.text


# --- my requests ----------------------------------------------------------------------------------

def test_my_requests_newest_first_with_status_place_deadline_code_and_a_short_timeline(browser, client, world,
                                                                                      runtime):
    first = routed(client, world, runtime, grid_id=world.ids["grid_A"])
    act(client, world, "staff_a", first, "publish_task", note="备注不在卡片上")
    act(client, world, "staff_a", first, "withdraw")
    second = routed(client, world, runtime)
    browser.login("resident_a")
    page = browser.get("/my/requests")
    assert page.status_code == 200 and "我的诉求" in page.text
    assert page.text.index(f'data-request-id="{second}"') < page.text.index(f'data-request-id="{first}"')
    card = card_of(page.text, first)
    assert "社区办理" in card and "噪音扰民" in card and "社区A · 一网格" in card
    assert 'class="deadline' in card and ("办结期限" in card or "响应期限" in card)
    assert tracking.code_for(runtime.settings, first) in card
    # The latest three events only (submit, route, publish, withdraw happened), without notes.
    steps = re.findall(r'<li data-trigger="([a-z_]+)">', card)
    assert steps == ["route_to_community", "publish_task", "withdraw"]
    assert "备注不在卡片上" not in page.text


def test_my_requests_come_twenty_to_a_page(browser, client, world):
    ids = [submit(client, world, "resident_a")["id"] for _ in range(21)]
    browser.login("resident_a")
    page = browser.get("/my/requests")
    assert page.text.count('<li class="card"') == 20 and f'data-request-id="{ids[0]}"' not in page.text
    assert 'href="/my/requests?page=2"' in page.text and "下一页" in page.text and "上一页" not in page.text
    page = browser.get("/my/requests?page=2")
    assert page.text.count('<li class="card"') == 1 and f'data-request-id="{ids[0]}"' in page.text
    assert 'href="/my/requests?page=1"' in page.text and "下一页" not in page.text
    page = browser.get("/my/requests?page=3")
    assert page.status_code == 200 and "回到第一页" in page.text


def test_an_empty_list_tells_the_resident_how_to_report(browser):
    browser.login("resident_b")
    page = browser.get("/my/requests")
    assert page.status_code == 200 and "您还没有报过事" in page.text and 'href="/report"' in page.text


def test_only_residents_have_my_requests(browser):
    browser.login("staff_a")
    assert browser.get("/my/requests").status_code == 403


def test_resolved_requests_wait_for_the_residents_evaluation_also_when_they_follow_a_merge(browser_factory, client,
                                                                                          world, runtime):
    primary = routed(client, world, runtime)
    duplicate = routed(client, world, runtime, user="resident_b")
    act(client, world, "staff_a", duplicate, "merge", duplicate_of=primary)
    act(client, world, "staff_a", primary, "resolve", result="已协调施工方调整时间")
    a, b = browser_factory(), browser_factory()
    a.login("resident_a")
    b.login("resident_b")

    card = card_of(a.get("/my/requests").text, primary)
    assert "待评价" in card and f'href="/requests/{primary}#evaluation"' in card
    page = b.get("/my/requests").text
    card = card_of(page, primary)
    assert "待评价" in card and "您关注此诉求" in card and tracking.code_for(runtime.settings, primary) not in card
    assert "已合并" in card_of(page, duplicate)
    assert 'id="evaluation"' in b.get(f"/requests/{primary}").text

    b.post(f"/requests/{primary}/evaluation", {"satisfaction": "satisfied", "solved": "yes"})
    assert "待评价" not in card_of(b.get("/my/requests").text, primary)
    a.post(f"/requests/{primary}/evaluation", {"satisfaction": "satisfied", "solved": "yes"})
    card = card_of(a.get("/my/requests").text, primary)
    assert "待评价" not in card and "已结案" in card

    anyone = browser_factory()
    page = anyone.get(f"/track/{tracking.code_for(runtime.settings, primary)}")
    assert "已结案" in page.text and "已协调施工方调整时间" in page.text


def test_html_in_the_description_is_escaped_on_every_resident_page(browser_factory, world, runtime):
    resident = browser_factory()
    resident.login("resident_a")
    page = resident.post("/report", {"community_id": world.ids["community_A"], "category": "disputes.noise",
                                     "description": XSS})
    rid = received_id(page)
    code = CODE.search(page.text).group(1)
    for html in (page.text, resident.get("/my/requests").text, resident.get(f"/requests/{rid}").text):
        assert XSS not in html and ESCAPED in html
    html = browser_factory().get(f"/track/{code}").text
    assert XSS not in html and "<script>alert" not in html


def test_the_english_switch_translates_my_requests_and_the_track_page(browser_factory, client, world, runtime):
    rid = routed(client, world, runtime, grid_id=world.ids["grid_A"], description="Broken lamp")
    act(client, world, "staff_a", rid, "resolve", result="Fixed")
    resident = browser_factory()
    resident.login("resident_a")
    resident.set_language("en")
    data = ("社区A", "一网格", "中文")

    def chinese_left(html: str) -> list[str]:
        for value in data:
            html = html.replace(value, "")
        return CJK.findall(html)

    page = resident.get("/my/requests")
    assert "My requests" in page.text and "Awaiting your evaluation" in page.text and "Tracking code" in page.text
    assert chinese_left(page.text) == []
    page = resident.get(f"/requests/{rid}")
    assert "Tracking code" in page.text and chinese_left(page.text) == []

    visitor = browser_factory()
    visitor.set_language("en")
    page = visitor.get(f"/track/{tracking.code_for(runtime.settings, rid)}")
    assert "Track a request" in page.text and "Resolved" in page.text and "Submitted on" in page.text
    assert chinese_left(page.text) == []
    page = visitor.get("/track/1-AAAAAAAAAA")
    assert page.status_code == 404 and "No request has this tracking code" in page.text
    assert chinese_left(page.text) == []
    resident.get("/my/requests?page=1")
    empty = browser_factory()
    empty.login("resident_b")
    empty.set_language("en")
    page = empty.get("/my/requests")
    assert "You have not reported anything yet." in page.text and chinese_left(page.text) == []
