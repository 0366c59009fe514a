"""The desks: the staff queue (deadline order, overdue marks, filters, pages), staff acts on the
request page as plain form posts, the street office's queue with its whistle calls, supervision
marks, scoping, escalated HTML and the English switch."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, update

from tests.helpers import act, get, in_community, submit
from workflow.commands import intake, street
from workflow.commands.intake import Submission
from workflow.db import unit_of_work
from workflow.models import OutboxMessage, OutboxStatus, Request, utcnow

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
CARD = re.compile(r'<li class="card" data-request-id="(\d+)">')


def card_ids(page) -> list[int]:
    return [int(i) for i in CARD.findall(page.text)]


def card_of(page, rid: int) -> str:
    """The HTML of one request's card in a list page."""
    start = page.text.index(f'<li class="card" data-request-id="{rid}">')
    return page.text[start:page.text.index("</li>\n", start)]


def set_columns(runtime, rid: int, **values) -> None:
    """Move a request's deadlines directly in the database (time passing without waiting)."""
    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Request).where(Request.id == rid).values(**values))


def waiting_for_router(runtime, world, description: str = "楼上深夜装修噪音扰民") -> int:
    """A resident's report still in ``submitted``: the router has not picked it up yet (its outbox
    message is taken away in the same transaction, so no worker routes it during the test)."""
    runtime.drain()
    with unit_of_work(runtime.sessions) as session:
        request = intake.submit(session, world.actors["resident_a"], Submission(
            channel="report", category="disputes.noise", description=description,
            community_id=world.ids["community_A"]))
        session.flush()
        session.execute(delete(OutboxMessage).where(OutboxMessage.actor_name == "route_request",
                                                    OutboxMessage.status == OutboxStatus.pending))
        return request.id


def escalated(client, world, runtime, description: str = "楼上深夜装修噪音扰民") -> int:
    rid = submit(client, world, "resident_a", category="disputes.noise", description=description)["id"]
    runtime.drain()
    act(client, world, "staff_a", rid, "escalate", note="涉及执法")
    return rid


# --- the staff queue ---------------------------------------------------------------------------

def test_the_queue_runs_on_the_deadline_each_request_is_running_against(browser, client, world, runtime):
    """Waiting for a first response, a request runs against its respond deadline, not its resolve
    deadline; one past it carries the red overdue mark; the API and the page agree on the order."""
    answered, waiting, late, task = (in_community(client, world, runtime) for _ in range(4))
    now = utcnow()
    # Already answered: its resolve deadline (in 6 hours) runs.
    set_columns(runtime, answered, responded_at=now - timedelta(hours=1), respond_by=now + timedelta(minutes=10),
                resolve_by=now + timedelta(hours=6, minutes=10))
    # Not answered yet: its respond deadline (in 4 hours) runs, though feedback is due in 10 days.
    set_columns(runtime, waiting, respond_by=now + timedelta(hours=4, minutes=10),
                resolve_by=now + timedelta(days=10))
    # Two hours past its respond deadline.
    set_columns(runtime, late, respond_by=now - timedelta(hours=2), resolve_by=now + timedelta(days=9))
    # On the task board: the claim deadline (in 5 hours) runs.
    act(client, world, "staff_a", task, "publish_task")
    set_columns(runtime, task, claim_by=now + timedelta(hours=5, minutes=10), resolve_by=now + timedelta(days=1))
    expected = [late, waiting, task, answered]

    mine = set(expected)
    assert [r["id"] for r in get(client, world, "staff_a", "/queue") if r["id"] in mine] == expected

    browser.login("staff_a")
    page = browser.get("/desk")
    assert page.status_code == 200 and "<h1>待办队列</h1>" in page.text
    assert [i for i in card_ids(page) if i in mine] == expected
    overdue = card_of(page, late)
    assert "已超时" in overdue and "2小时前" in overdue and "响应期限" in overdue
    assert "已超时" not in card_of(page, waiting) and "4小时后" in card_of(page, waiting)
    assert "认领期限" in card_of(page, task) and "5小时后" in card_of(page, task)
    assert "已超时" not in card_of(page, answered) and "6小时后" in card_of(page, answered)
    assert "居民报事" in card_of(page, late)  # the channel
    assert "社区A" in card_of(page, late)  # the place

    # A red supervision mark goes first whatever its deadline.
    assert client.post(f"/api/v1/requests/{answered}/supervision", json={"level": "red", "reason": "限期办结"},
                       headers=world.headers("secretary_a")).status_code == 200
    page = browser.get("/desk")
    assert [i for i in card_ids(page) if i in mine] == [answered, late, waiting, task]
    assert "红牌" in card_of(page, answered)


def test_the_street_queue_runs_on_the_respond_deadline_too(browser, client, world, runtime):
    """The sweeper escalates without responding: such a request runs against its respond deadline."""
    answered, waiting = escalated(client, world, runtime), escalated(client, world, runtime)
    now = utcnow()
    set_columns(runtime, answered, responded_at=now, resolve_by=now + timedelta(hours=3, minutes=10))
    set_columns(runtime, waiting, responded_at=None, respond_by=now + timedelta(hours=2, minutes=10),
                resolve_by=now + timedelta(days=5))
    assert [r["id"] for r in get(client, world, "officer_1", "/street/queue")] == [waiting, answered]
    browser.login("officer_1")
    page = browser.get("/street")
    assert card_ids(page) == [waiting, answered]
    assert "2小时后" in card_of(page, waiting) and "3小时后" in card_of(page, answered)


def test_queue_counts_filters_pages_and_empty_state(browser_factory, world, runtime):
    with unit_of_work(runtime.sessions) as session:
        for n in range(22):
            intake.submit(session, world.actors["resident_a"], Submission(
                channel="report", category="disputes.noise", description=f"噪音 {n}",
                community_id=world.ids["community_A"]))
    runtime.drain()
    staff = browser_factory()
    staff.login("staff_a")
    page = staff.get("/desk")
    assert len(card_ids(page)) == 20 and 'rel="next"' in page.text and 'rel="prev"' not in page.text
    counts = dict(re.findall(r'data-status="(\w+)"><span class="value">(\d+)</span>', page.text))
    assert counts["all"] == "22" and counts["community"] == "22" and counts["open_task"] == "0"
    second = staff.get("/desk?page=2")
    assert len(card_ids(second)) == 2 and 'rel="prev"' in second.text and 'rel="next"' not in second.text
    assert not set(card_ids(page)) & set(card_ids(second))
    assert staff.get("/desk?page=abc").status_code == 200

    # A GET form of checkboxes: only the task board, which is empty.
    filtered = staff.get("/desk?status=open_task")
    assert 'value="open_task" checked' in filtered.text
    assert card_ids(filtered) == [] and "队列中没有这些状态的诉求" in filtered.text
    assert len(card_ids(staff.get("/desk?status=community&status=open_task&page=2"))) == 2

    other = browser_factory()
    other.login("staff_b")
    empty = other.get("/desk")
    assert card_ids(empty) == [] and "队列中暂无待办诉求" in empty.text


# --- staff acts on the request page ------------------------------------------------------------

def test_staff_route_publish_and_verify_by_forms(browser, client, world, runtime):
    rid = waiting_for_router(runtime, world)
    browser.login("staff_a")
    page = browser.get("/desk")
    assert "已受理" in card_of(page, rid)
    page = browser.post(f"/requests/{rid}/act/route_to_community", {"note": "社区先处理"})
    assert page.url.path == f"/requests/{rid}" and 'data-status="community"' in page.text
    page = browser.post(f"/requests/{rid}/act/publish_task", {"note": ""})
    assert 'data-status="open_task"' in page.text and "已发布到任务大厅" in page.text

    act(client, world, "member_1", rid, "claim")
    act(client, world, "member_1", rid, "report_result", result="已上门协调", hours="1.5")
    page = browser.get(f"/requests/{rid}")
    assert 'data-status="verifying"' in page.text and f'action="/requests/{rid}/act/verify"' in page.text

    page = browser.post(f"/requests/{rid}/act/verify", {"appraisal": "7"})
    assert page.status_code == 422 and 'id="appraisal-error"' in page.text
    assert 'data-status="verifying"' in page.text
    page = browser.post(f"/requests/{rid}/act/verify", {"appraisal": "4", "note": "处理到位"})
    assert page.status_code == 200 and "核查通过" in page.text and 'data-status="resolved"' in page.text


def test_reject_needs_a_reason_beside_the_field(browser, client, world, runtime):
    rid = in_community(client, world, runtime)
    browser.login("staff_a")
    page = browser.post(f"/requests/{rid}/act/reject", {"reason": "  "})
    assert page.status_code == 422 and 'id="reason-error"' in page.text
    assert 'id="act-reject" open' in page.text and 'data-status="community"' in page.text
    page = browser.post(f"/requests/{rid}/act/reject", {"reason": XSS})
    assert page.status_code == 200 and 'data-status="rejected"' in page.text
    assert XSS not in page.text and ESCAPED in page.text


def test_merge_offers_the_duplicate_candidate_and_closes_the_duplicate(browser, client, world, runtime):
    first = in_community(client, world, runtime)
    second = in_community(client, world, runtime, user="resident_b")
    browser.login("staff_a")
    page = browser.get(f"/requests/{second}")
    select = page.text.split('id="merge-f-duplicate_of"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d+)"', select)
    assert str(first) in options
    page = browser.post(f"/requests/{second}/act/merge", {"duplicate_of": str(first)})
    assert page.status_code == 200 and "已合并" in page.text and 'data-status="merged"' in page.text
    assert f'href="/requests/{first}"' in page.text
    assert second not in card_ids(browser.get("/desk")) and first in card_ids(browser.get("/desk"))


# --- the street office -------------------------------------------------------------------------

def test_escalate_whistle_supervise_return_and_resolve_at_the_street_office(browser_factory, client, world,
                                                                                runtime):
    staff, officer = browser_factory(), browser_factory()
    staff.login("staff_a")
    rid = in_community(client, world, runtime)
    page = staff.post(f"/requests/{rid}/act/escalate", {"note": "需要执法部门"})
    assert 'data-status="street"' in page.text and "已上报街道" in page.text
    assert rid not in card_ids(staff.get("/desk"))

    with unit_of_work(runtime.sessions) as session:
        dept = street.create_department(session, world.actors["officer_1"], "城管执法队").id

    assert officer.login("officer_1") == "/street"
    queue = officer.get("/street")
    assert rid in card_ids(queue) and "未报到部门" not in card_of(queue, rid)
    assert 'href="/street/supervision"' in queue.text
    page = officer.get(f"/requests/{rid}")
    assert f'name="department_ids" value="{dept}"' in page.text
    page = officer.post(f"/requests/{rid}/whistle", {"report_within_hours": "2", "note": "请到场"})
    assert page.status_code == 422 and 'id="department_ids-error"' in page.text and ">请到场</textarea>" in page.text
    page = officer.post(f"/requests/{rid}/whistle", {"department_ids": str(dept), "report_within_hours": "2",
                                                     "note": "请到场"})
    assert page.status_code == 200 and "城管执法队" in page.text
    assert "未报到部门：1 个" in card_of(officer.get("/street"), rid)

    # Three hours later the department still has not reported in.
    with unit_of_work(runtime.sessions) as session:
        from workflow.models import WhistleCall
        session.execute(update(WhistleCall).where(WhistleCall.request_id == rid)
                        .values(report_by=utcnow() - timedelta(hours=1)))
    card = card_of(officer.get("/street"), rid)
    assert "未报到部门：1 个" in card and "其中 1 个已超时" in card

    page = officer.get(f"/requests/{rid}")
    call = re.search(r'data-call="(\d+)"', page.text).group(1)
    page = officer.post(f"/requests/{rid}/calls/{call}/response", {"response": " "})
    assert page.status_code == 422 and 'id="response-error"' in page.text
    page = officer.post(f"/requests/{rid}/calls/{call}/response", {"response": "已派员到场处置"})
    assert page.status_code == 200 and "已派员到场处置" in page.text
    assert "未报到部门" not in card_of(officer.get("/street"), rid)

    page = officer.post(f"/requests/{rid}/supervision", {"level": "red", "reason": ""})
    assert page.status_code == 422 and 'id="reason-error"' in page.text and 'id="supervision" open' in page.text
    page = officer.post(f"/requests/{rid}/supervision", {"level": "red", "reason": XSS})
    assert page.status_code == 200 and "红牌" in page.text

    page = officer.post(f"/requests/{rid}/act/return_to_community", {"reason": ""})
    assert page.status_code == 422 and 'id="reason-error"' in page.text
    page = officer.post(f"/requests/{rid}/act/return_to_community", {"reason": "属社区调解范围"})
    assert 'data-status="community"' in page.text and "已退回社区" in page.text
    assert rid not in card_ids(officer.get("/street")) and rid in card_ids(staff.get("/desk"))

    other = escalated(client, world, runtime)
    assert other in card_ids(officer.get("/street"))
    page = officer.post(f"/requests/{other}/act/resolve", {"result": "执法队已处置"})
    assert 'data-status="resolved"' in page.text and "已办结。" in page.text
    assert other not in card_ids(officer.get("/street"))

    # The red mark and its reason, escaped, with who set it; the secretary of community A sees it too.
    marks = officer.get("/street/supervision")
    assert marks.status_code == 200 and card_ids(marks) == [rid]
    card = card_of(marks, rid)
    assert "红牌" in card and "officer_1" in card and ESCAPED in card and XSS not in marks.text
    secretary = browser_factory()
    secretary.login("secretary_a")
    assert card_ids(secretary.get("/street/supervision")) == [rid]
    assert 'href="/street/supervision"' in secretary.get("/desk").text
    # Officer 2's street has no mark; staff have no such page.
    officer_2 = browser_factory()
    officer_2.login("officer_2")
    assert card_ids(page := officer_2.get("/street/supervision")) == [] and "暂无挂黄牌或红牌" in page.text
    assert card_ids(officer_2.get("/street")) == []
    assert staff.get("/street/supervision").status_code == 403
    # Once the request is over, nothing is left to supervise: it leaves the list (its history keeps the mark).
    assert staff.post(f"/requests/{rid}/act/reject", {"reason": "已另案处理"}).status_code == 200
    assert card_ids(officer.get("/street/supervision")) == []


def test_admins_see_every_street(browser, client, world, runtime):
    rid = escalated(client, world, runtime)
    browser.login("admin")
    assert rid in card_ids(browser.get("/street"))
    assert rid in card_ids(browser.get("/desk?status=street"))


# --- who sees what -----------------------------------------------------------------------------

def test_other_community_and_residents_are_kept_out(browser_factory, client, world, runtime):
    rid = in_community(client, world, runtime)
    staff_b = browser_factory()
    staff_b.login("staff_b")
    page = staff_b.get(f"/requests/{rid}")
    assert page.status_code == 404 and "<html" in page.text and 'class="error-page"' in page.text
    assert rid not in card_ids(staff_b.get("/desk"))

    resident = browser_factory()
    resident.login("resident_a")
    for url in ("/desk", "/street", "/street/supervision"):
        page = resident.get(url)
        assert page.status_code == 403 and 'class="error-page"' in page.text
    officer = browser_factory()
    officer.login("officer_1")
    assert officer.get("/desk").status_code == 403

    anonymous = browser_factory()
    page = anonymous.get("/desk", follow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")


def test_typed_html_is_escaped_on_the_queue_and_request_pages(browser, client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise", description=XSS)["id"]
    runtime.drain()
    browser.login("staff_a")
    for url in ("/desk", f"/requests/{rid}"):
        page = browser.get(url)
        assert page.status_code == 200 and XSS not in page.text and ESCAPED in page.text
    act(client, world, "staff_a", rid, "escalate")
    browser.login("officer_1")
    page = browser.get("/street")
    assert rid in card_ids(page) and XSS not in page.text and ESCAPED in page.text


def test_the_english_switch_translates_the_desks(browser_factory, client, world, runtime):
    late = in_community(client, world, runtime)
    set_columns(runtime, late, respond_by=utcnow() - timedelta(hours=2))
    escalated_one = escalated(client, world, runtime)
    client.post(f"/api/v1/requests/{escalated_one}/supervision", json={"level": "yellow", "reason": "临近时限"},
                headers=world.headers("officer_1"))

    staff = browser_factory()
    staff.login("staff_a")
    staff.set_language("en")
    page = staff.get("/desk")
    assert "<h1>Queue</h1>" in page.text and "Overdue" in page.text and "2 hours ago" in page.text
    assert "Show these statuses" in page.text and "Resident report" in page.text and "Community handling" in page.text
    assert "待办队列" not in page.text and "已超时" not in page.text and "筛选" not in page.text

    officer = browser_factory()
    officer.login("officer_1")
    officer.set_language("en")
    page = officer.get("/street")
    assert "<h1>Escalated queue</h1>" in page.text and "Yellow mark" in page.text
    assert "街道待办" not in page.text and "黄牌" not in page.text
    page = officer.get("/street/supervision")
    assert "<h1>Supervision marks</h1>" in page.text and "Set by" in page.text and "督办人" not in page.text
    page = officer.get(f"/requests/{escalated_one}")
    assert "Return to community" in page.text and "Set mark" in page.text and "退回社区" not in page.text
