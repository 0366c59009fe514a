"""The street office as a participant: its queue, calling in departments (吹哨报到) and recording
their answers, returning a request to the community, and supervision marks (督办) that put marked
requests first in every queue. None of these acts moves the request except resolve and return."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from workflow.commands import street
from workflow.db import unit_of_work
from workflow.models import Department, utcnow

from .helpers import act, get, in_community, table_counts

API = "/api/v1"


def error_code(response) -> str:
    return response.json()["error"]["code"]


def escalated(client, world, runtime) -> int:
    """A request of community A that staff escalated to street office S1."""
    rid = in_community(client, world, runtime)
    assert act(client, world, "staff_a", rid, "escalate", note="噪音扰民涉及执法，社区无法处理")["status"] == "street"
    return rid


def department(client, world, user: str, name: str, expect: int = 201, **extra) -> dict:
    response = client.post(f"{API}/street/departments", json={"name": name, **extra}, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def whistle(client, world, user: str, rid: int, department_ids: list, hours=24, note: str = "请到场处置"):
    return client.post(f"{API}/requests/{rid}/whistles", headers=world.headers(user),
                       json={"department_ids": department_ids, "report_within_hours": hours, "note": note})


def respond(client, world, user: str, call_id: int, text: str = "已派员到场"):
    return client.post(f"{API}/street/whistles/{call_id}/response", json={"response": text},
                       headers=world.headers(user))


def supervise(client, world, user: str, rid: int, level: str, reason: str = ""):
    return client.post(f"{API}/requests/{rid}/supervision", json={"level": level, "reason": reason},
                       headers=world.headers(user))


def street_queue(client, world, user: str) -> dict[int, dict]:
    return {r["id"]: r for r in get(client, world, user, "/street/queue")}


def test_street_office_whistles_two_departments_records_their_answers_and_resolves(client, world, runtime):
    rid = escalated(client, world, runtime)

    # The escalated request waits on street office S1's desk, not on S2's.
    row = street_queue(client, world, "officer_1")[rid]
    assert row["status"] == "street" and (row["open_whistles"], row["overdue_whistles"]) == (0, 0)
    assert rid not in street_queue(client, world, "officer_2")

    # The officer sets up two departments and calls both in, with a day to report in.
    enforcement = department(client, world, "officer_1", "城管执法队")
    police = department(client, world, "officer_1", "派出所")
    assert enforcement["street_id"] == world.ids["street_S1"] and enforcement["active"]
    assert [d["name"] for d in get(client, world, "officer_1", "/street/departments")] == ["城管执法队", "派出所"]
    assert get(client, world, "officer_2", "/street/departments") == []
    before = utcnow()
    called = whistle(client, world, "officer_1", rid, [enforcement["id"], police["id"]], hours=24)
    assert called.status_code == 201, called.text
    calls = called.json()
    assert [(c["department_name"], c["status"]) for c in calls] == [("城管执法队", "open"), ("派出所", "open")]
    report_by = datetime.fromisoformat(calls[0]["report_by"])
    assert before + timedelta(hours=24) <= report_by <= utcnow() + timedelta(hours=24)
    assert (street_queue(client, world, "officer_1")[rid]["open_whistles"]) == 2

    # The resident following the request sees who was called in.
    assert [c["status"] for c in get(client, world, "resident_a", f"/requests/{rid}/whistles")] == ["open", "open"]

    # Both departments report in; the officer records each answer once.
    first = respond(client, world, "officer_1", calls[0]["id"], "执法队已到场，责令商户整改")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "answered" and first.json()["recorded_by_id"] == world.ids["officer_1"]
    again = respond(client, world, "officer_1", calls[0]["id"], "再记一次")
    assert again.status_code == 409 and error_code(again) == "already_responded"
    assert respond(client, world, "officer_1", calls[1]["id"], "民警已调解").status_code == 200
    assert street_queue(client, world, "officer_1")[rid]["open_whistles"] == 0
    listed = get(client, world, "officer_1", f"/requests/{rid}/whistles")
    assert [(c["status"], c["response"]) for c in listed] == [
        ("answered", "执法队已到场，责令商户整改"), ("answered", "民警已调解")]

    # The street office resolves it, and the history tells the whole story.
    assert act(client, world, "officer_1", rid, "resolve", result="执法队与派出所联合处置，噪音已停止")["status"] \
        == "resolved"
    english = client.get(f"{API}/requests/{rid}", headers=world.headers("resident_a", **{"Accept-Language": "en"}))
    events = english.json()["events"]
    tail = events[[e["trigger"] for e in events].index("escalate"):]
    assert [(e["trigger"], e["actor_id"], e["from_status"], e["to_status"]) for e in tail] == [
        ("escalate", world.ids["staff_a"], "community", "street"),
        ("whistle", world.ids["officer_1"], "street", "street"),
        ("department_response", world.ids["officer_1"], "street", "street"),
        ("department_response", world.ids["officer_1"], "street", "street"),
        ("resolve", world.ids["officer_1"], "street", "resolved"),
    ]
    assert [e["label"] for e in tail[1:3]] == ["Whistle departments", "Department reported in"]
    assert tail[1]["note"] == "请到场处置"
    assert tail[1]["data"]["department_ids"] == [enforcement["id"], police["id"]]
    assert datetime.fromisoformat(tail[1]["data"]["report_by"]) == report_by
    assert tail[2]["data"]["call_id"] == calls[0]["id"] and tail[2]["note"] == "执法队已到场，责令商户整改"
    assert rid not in street_queue(client, world, "officer_1")


def test_street_office_returns_a_request_to_the_community(client, world, runtime):
    rid = escalated(client, world, runtime)
    assert rid not in [r["id"] for r in get(client, world, "staff_a", "/queue")]
    returned = act(client, world, "officer_1", rid, "return_to_community", reason="属于物业管理范围，请社区协调物业")
    assert returned["status"] == "community"
    assert returned["events"][-1]["note"] == "属于物业管理范围，请社区协调物业"
    assert rid in [r["id"] for r in get(client, world, "staff_a", "/queue")]
    assert rid not in street_queue(client, world, "officer_1")


def test_administrators_manage_any_street_offices_departments(client, world):
    s2 = world.ids["street_S2"]
    created = department(client, world, "admin", "房管所", street_id=s2)
    assert created["street_id"] == s2
    missing = client.post(f"{API}/street/departments", json={"name": "房管所"}, headers=world.headers("admin"))
    assert missing.status_code == 422 and error_code(missing) == "street_required"
    assert [d["name"] for d in get(client, world, "officer_2", "/street/departments")] == ["房管所"]
    assert [d["id"] for d in get(client, world, "admin", "/street/departments", street_id=s2)] == [created["id"]]
    assert get(client, world, "admin", "/street/departments", street_id=world.ids["street_S1"]) == []


def test_refused_street_office_acts_change_nothing(client, world, runtime):
    rid = escalated(client, world, runtime)
    at_community = in_community(client, world, runtime)
    own = department(client, world, "officer_1", "城管执法队")
    retired = department(client, world, "officer_1", "旧拆违办")
    other_street = department(client, world, "officer_2", "派出所")
    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Department).where(Department.id == retired["id"]).values(active=False))
    call = whistle(client, world, "officer_1", rid, [own["id"]]).json()[0]
    answered = whistle(client, world, "officer_1", rid, [department(client, world, "officer_1", "房管所")["id"]])
    assert respond(client, world, "officer_1", answered.json()[0]["id"]).status_code == 200
    closed = in_community(client, world, runtime)
    act(client, world, "staff_a", closed, "resolve", result="已协调")
    act(client, world, "resident_a", closed, "evaluation", satisfaction="satisfied", solved=True)
    runtime.drain()  # the worker writes the closed request's outcome row before we count

    before = table_counts(runtime)
    details = {r: get(client, world, "officer_1", f"/requests/{r}") for r in (rid, at_community, closed)}
    refusals = [
        # whistle: role, visibility, state, then input, then the open-call guard
        (whistle(client, world, "staff_a", rid, [own["id"]]), 403, "role_not_allowed"),
        (whistle(client, world, "resident_a", rid, [own["id"]]), 403, "role_not_allowed"),
        (whistle(client, world, "officer_2", rid, [other_street["id"]]), 404, "request_not_found"),
        (whistle(client, world, "officer_1", at_community, [own["id"]]), 409, "not_at_street_office"),
        (whistle(client, world, "officer_1", rid, [other_street["id"]]), 422, "unknown_department"),
        (whistle(client, world, "officer_1", rid, [retired["id"]]), 422, "unknown_department"),
        (whistle(client, world, "officer_1", rid, [987654]), 422, "unknown_department"),
        (whistle(client, world, "officer_1", rid, []), 422, "departments_required"),
        (whistle(client, world, "officer_1", rid, [own["id"]], hours=0), 422, "invalid_report_within"),
        (whistle(client, world, "officer_1", rid, [own["id"]], hours=721), 422, "invalid_report_within"),
        (whistle(client, world, "officer_1", rid, [own["id"]], hours="24"), 422, "validation_error"),
        (whistle(client, world, "officer_1", rid, [own["id"]]), 409, "already_whistled"),
        # departments
        (client.post(f"{API}/street/departments", json={"name": "城管执法队"}, headers=world.headers("officer_1")),
         409, "department_exists"),
        (client.post(f"{API}/street/departments", json={"name": "  "}, headers=world.headers("officer_1")),
         422, "name_required"),
        (client.post(f"{API}/street/departments", json={"name": "司法所"}, headers=world.headers("staff_a")),
         403, "role_not_allowed"),
        (client.get(f"{API}/street/departments", headers=world.headers("resident_a")), 403, "role_not_allowed"),
        # department answers
        (respond(client, world, "staff_a", call["id"]), 403, "role_not_allowed"),
        (respond(client, world, "officer_2", call["id"]), 404, "whistle_not_found"),
        (respond(client, world, "officer_1", 987654), 404, "whistle_not_found"),
        (respond(client, world, "officer_1", call["id"], "   "), 422, "response_required"),
        (respond(client, world, "officer_1", answered.json()[0]["id"]), 409, "already_responded"),
        # supervision
        (supervise(client, world, "resident_a", rid, "red", "太慢"), 403, "role_not_allowed"),
        (supervise(client, world, "staff_a", rid, "red", "太慢"), 403, "role_not_allowed"),
        (supervise(client, world, "officer_2", rid, "red", "太慢"), 404, "request_not_found"),
        (supervise(client, world, "secretary_a", closed, "red", "太慢"), 409, "request_finished"),
        (supervise(client, world, "secretary_a", rid, "orange", "太慢"), 422, "invalid_level"),
        (supervise(client, world, "secretary_a", rid, "yellow"), 422, "reason_required"),
        (supervise(client, world, "secretary_a", rid, "normal"), 409, "supervision_unchanged"),
        # the street queue
        (client.get(f"{API}/street/queue", headers=world.headers("staff_a")), 403, "role_not_allowed"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, error_code(response)) == (status, code), response.text
    assert table_counts(runtime) == before
    for r, detail in details.items():
        assert get(client, world, "officer_1", f"/requests/{r}") == detail
    assert [c["status"] for c in get(client, world, "officer_1", f"/requests/{rid}/whistles")] == ["open", "answered"]


def test_supervision_marks_put_red_then_yellow_first_in_the_queue(client, world, runtime):
    first, second, third, fourth = (in_community(client, world, runtime) for _ in range(4))
    mine = [first, second, third, fourth]

    def staff_queue() -> list[int]:
        return [r["id"] for r in get(client, world, "staff_a", "/queue") if r["id"] in mine]

    assert staff_queue() == mine  # nearest deadline first: the order they came in

    red = supervise(client, world, "secretary_a", third, "red", "居民多次投诉，限期办结")
    assert red.status_code == 200, red.text
    assert red.json()["supervision"] == "red" and red.json()["status"] == "community"
    assert supervise(client, world, "secretary_a", second, "yellow", "临近办理时限").status_code == 200
    assert staff_queue() == [third, second, first, fourth]

    # A street officer may clear a mark on any request of the street; it drops back into place.
    cleared = supervise(client, world, "officer_1", second, "normal")
    assert cleared.status_code == 200, cleared.text
    assert staff_queue() == [third, first, second, fourth]

    events = [e for e in get(client, world, "staff_a", f"/requests/{second}")["events"] if e["trigger"] == "supervise"]
    assert [(e["actor_id"], e["from_status"], e["to_status"], e["note"], e["data"]) for e in events] == [
        (world.ids["secretary_a"], "community", "community", "临近办理时限",
         {"level": "yellow", "previous_level": "normal"}),
        (world.ids["officer_1"], "community", "community", "", {"level": "normal", "previous_level": "yellow"}),
    ]

    # The street office's own queue puts marks first too.
    for rid in (first, third):
        act(client, world, "staff_a", rid, "escalate")
    assert [r for r in street_queue(client, world, "officer_1") if r in mine] == [third, first]
    supervise(client, world, "officer_1", first, "red", "街道督办")
    supervise(client, world, "officer_1", third, "yellow", "降为黄牌")
    assert [r for r in street_queue(client, world, "officer_1") if r in mine] == [first, third]

    # A resident cannot mark anything, not even their own request.
    refused = supervise(client, world, "resident_a", fourth, "red", "太慢了")
    assert refused.status_code == 403 and error_code(refused) == "role_not_allowed"


def test_a_call_past_its_report_in_deadline_shows_as_overdue(client, world, runtime):
    rid = escalated(client, world, runtime)
    dept = department(client, world, "officer_1", "城管执法队")
    called = whistle(client, world, "officer_1", rid, [dept["id"]], hours=1)
    assert called.status_code == 201, called.text
    call = called.json()[0]
    assert get(client, world, "officer_1", f"/requests/{rid}/whistles")[0]["status"] == "open"

    # Two hours later the department still has not reported in.
    later = utcnow() + timedelta(hours=2)
    officer = world.actors["officer_1"]
    with unit_of_work(runtime.sessions) as session:
        (view,) = street.request_calls(session, officer, rid, now=later)
        assert view.status == "overdue"
        ((request, open_, overdue),) = [row for row in street.street_queue(session, officer, now=later)
                                        if row[0].id == rid]
        assert (open_, overdue) == (1, 1)

    # Once it reports in, late or not, the call is answered and leaves the overdue count.
    assert respond(client, world, "officer_1", call["id"]).status_code == 200
    with unit_of_work(runtime.sessions) as session:
        (view,) = street.request_calls(session, officer, rid, now=later)
        assert view.status == "answered"
        assert [row[1:] for row in street.street_queue(session, officer, now=later) if row[0].id == rid] == [(0, 0)]
    # The same department may be called in again once it has answered.
    assert whistle(client, world, "officer_1", rid, [dept["id"]], hours=4).status_code == 201


def test_calls_still_waiting_are_closed_when_the_request_leaves_and_can_be_made_again(client, world, runtime):
    """Returned with a department still to report in, the call shows as closed; when the request
    comes back up, the same department can be whistled again."""
    rid = escalated(client, world, runtime)
    police = department(client, world, "officer_1", "派出所")
    assert whistle(client, world, "officer_1", rid, [police["id"]]).status_code == 201
    act(client, world, "officer_1", rid, "return_to_community", reason="先由社区调解")
    (call,) = get(client, world, "officer_1", f"/requests/{rid}/whistles")
    assert call["status"] == "closed" and call["responded_at"] is None

    act(client, world, "staff_a", rid, "escalate", note="调解未果")
    assert street_queue(client, world, "officer_1")[rid]["open_whistles"] == 0
    again = whistle(client, world, "officer_1", rid, [police["id"]])
    assert again.status_code == 201, again.text
    assert [c["status"] for c in get(client, world, "officer_1", f"/requests/{rid}/whistles")] == ["closed", "open"]
    assert street_queue(client, world, "officer_1")[rid]["open_whistles"] == 1
