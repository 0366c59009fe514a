"""The deadline sweeps, with the clock in the test's hand."""

from __future__ import annotations

import threading
from datetime import timedelta

from workflow.commands.handling import evaluate, fire
from workflow.db import unit_of_work
from workflow.models import DeadlineAction, Notification, Outcome, RequestEvent, utcnow
from workflow.repository.deadlines import due_escalations
from workflow.sweeps import sweep

from .helpers import act, all_rows, count, get, submit


def _events(runtime, rid, trigger):
    return all_rows(runtime, RequestEvent, RequestEvent.request_id == rid, RequestEvent.trigger == trigger)


def test_overdue_request_is_escalated_exactly_once_by_two_schedulers_at_once(client, world, runtime):
    # Noise is urgent: someone must respond within 2 hours.
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    later = utcnow() + timedelta(hours=3)

    barrier = threading.Barrier(2)
    reports = []

    def scheduler():
        barrier.wait()
        reports.append(sweep(runtime.sessions, runtime.settings, now=later))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(r.escalated for r in reports) == [0, 1]
    (event,) = _events(runtime, rid, "escalate")
    assert event.actor_role == "sweeper" and event.note == "respond deadline passed"
    assert get(client, world, "officer_1", f"/requests/{rid}")["status"] == "street"

    # The street office returns it; the same passed deadline does not send it up again.
    act(client, world, "officer_1", rid, "return_to_community", reason="社区先行处置")
    assert sweep(runtime.sessions, runtime.settings, now=later + timedelta(minutes=5)).escalated == 0
    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "community"
    # The next deadline (feedback within 24 hours) does, once.
    day_later = utcnow() + timedelta(hours=25)
    assert sweep(runtime.sessions, runtime.settings, now=day_later).escalated == 1
    assert sweep(runtime.sessions, runtime.settings, now=day_later).escalated == 0
    assert [e.note for e in _events(runtime, rid, "escalate")] == ["respond deadline passed",
                                                                  "resolve deadline passed"]
    assert count(runtime, DeadlineAction, DeadlineAction.action.like("escalate_%")) == 2


def test_request_answered_in_time_is_not_escalated(client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    act(client, world, "staff_a", rid, "resolve", result="已上门协调")
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(hours=30)).escalated == 0


def test_unclaimed_task_is_withdrawn_to_the_community(client, world, runtime):
    rid = submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"]
    runtime.drain()
    # Tasks wait 12 hours for a claim; the request's own respond window is 24 hours.
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(hours=11)).withdrawn == 0
    report = sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(hours=13))
    assert (report.withdrawn, report.escalated) == (1, 0)
    detail = get(client, world, "staff_a", f"/requests/{rid}")
    assert detail["status"] == "community" and detail["claim_by"] is None
    assert [e.actor_role for e in _events(runtime, rid, "withdraw")] == ["sweeper"]


def test_unevaluated_request_expires_and_leaves_its_outcome(client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    resolved = act(client, world, "staff_a", rid, "resolve", result="已协调")
    assert resolved["evaluate_by"] is not None
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(days=3)).expired == 0
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(days=20)).expired == 1
    runtime.drain()
    assert get(client, world, "resident_a", f"/requests/{rid}")["status"] == "closed"
    (outcome,) = all_rows(runtime, Outcome, Outcome.request_id == rid)
    assert outcome.closed_by == "expire" and outcome.evaluated is False


def test_the_eighty_percent_reminder_reaches_the_inbox_once(client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]  # respond within 2 h
    runtime.drain()
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(minutes=60)).reminded == 0
    at_85 = utcnow() + timedelta(minutes=102)
    assert sweep(runtime.sessions, runtime.settings, now=at_85).reminded == 1
    assert sweep(runtime.sessions, runtime.settings, now=at_85 + timedelta(minutes=5)).reminded == 0
    runtime.drain()

    inbox = get(client, world, "staff_a", "/notifications")
    assert [(n["kind"], n["request_id"]) for n in inbox] == [("deadline_respond", rid)]
    assert get(client, world, "staff_b", "/notifications") == []  # another community's staff
    assert count(runtime, Notification) == 1
    read = client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=world.headers("staff_a")).json()
    assert read["read_at"] is not None
    assert get(client, world, "staff_a", "/notifications", unread="true") == []
    assert client.post(f"/api/v1/notifications/{inbox[0]['id']}/read",
                       headers=world.headers("staff_b")).status_code == 404


def test_a_reopened_round_gets_its_own_deadline_and_the_outcome_keeps_the_first(client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]  # feedback within 24 h
    runtime.drain()
    act(client, world, "staff_a", rid, "resolve", result="已协调")
    # The resident reopens two days later, after the first resolve deadline.
    with unit_of_work(runtime.sessions) as session:
        evaluate(session, runtime.settings, world.actors["resident_a"], rid,
                 {"satisfaction": "unsatisfied", "solved": False}, now=utcnow() + timedelta(days=2))
    runtime.drain()
    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "community"
    # Not escalated at once for the old deadline: the new round has a day again.
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(days=2, hours=1)).escalated == 0
    with unit_of_work(runtime.sessions) as session:
        fire(session, runtime.settings, world.actors["staff_a"], rid, "resolve", {"result": "再次协调"},
             now=utcnow() + timedelta(days=2, hours=2))
    act(client, world, "resident_a", rid, "evaluation", satisfaction="satisfied", solved=True)
    runtime.drain()
    (outcome,) = all_rows(runtime, Outcome, Outcome.request_id == rid)
    assert outcome.resolved_in_time is False  # measured against the first promise, a day earlier


def test_requests_escalated_before_do_not_crowd_out_new_ones(client, world, runtime):
    old = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    later = utcnow() + timedelta(hours=3)
    assert sweep(runtime.sessions, runtime.settings, now=later).escalated == 1
    act(client, world, "officer_1", old, "return_to_community", reason="社区处置")
    with unit_of_work(runtime.sessions) as session:
        assert old not in due_escalations(session, later)
    new = submit(client, world, "resident_b", category="disputes.noise")["id"]
    runtime.drain()
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(hours=3)).escalated == 1
    assert get(client, world, "officer_1", f"/requests/{new}")["status"] == "street"
