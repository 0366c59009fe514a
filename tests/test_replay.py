"""Audit integrity: every request's events, replayed from nothing, give the state stored with it.

A simulated year, requests made through the API (a full loop with a send-back, a reopen, a merge
with a linked resident's verdict, an escalation with departments called in and a supervision mark, a
withdrawal, a release, a rejection, an inspection, a visit), and rows changed by hand in SQL, which
``shoubanping audit verify`` reports (exit 1) while it passes an untouched database (exit 0)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from workflow import replay, sweeps
from workflow.db import unit_of_work
from workflow.models import Request, RequestEvent, utcnow
from workflow.simulate import CityShape, simulate

from .helpers import act, get, in_community, submit

CLI = Path(sys.executable).with_name("shoubanping")
NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
# A year at a small scale: every route and outcome, some thousands of requests.
YEAR = CityShape(streets=2, communities_per_street=3, grids_per_community=2, buildings_per_grid=3,
                 staff_per_community=2, officers_per_street=2, departments_per_street=3, members_per_community=20,
                 residents_per_community=40, months=12, requests=2500)


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUBANPING_")}
    env.update(SHOUBANPING_DEV_MODE="1", SHOUBANPING_DATABASE_URL=db_url)
    return subprocess.run([str(CLI), "audit", "verify", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_every_request_of_a_simulated_year_replays_to_its_stored_state(runtime):
    with unit_of_work(runtime.sessions) as session:
        report = simulate(session, runtime.settings, seed=21, shape=YEAR, now=NOW)
    assert report is not None and report.requests >= 2500
    with unit_of_work(runtime.sessions) as session:
        differences = [d.text() for d in replay.verify(session, batch=700)]
        triggers = Counter(session.scalars(select(RequestEvent.trigger)))
        requests = session.scalar(select(func.count()).select_from(Request))
        months = {at.strftime("%Y-%m") for at in session.scalars(select(Request.submitted_at))}
    assert differences == []
    assert requests == report.requests and len(months) >= 12
    # The histories went through every kind of event the replay knows.
    for trigger in ("submit", "route_to_community", "publish_task", "escalate", "return_to_community", "claim",
                    "release", "withdraw", "report_result", "send_back", "verify", "resolve", "evaluate", "reopen",
                    "expire", "reject", "merge", "whistle", "department_response", "supervise"):
        assert triggers[trigger] > 0, trigger

    done = _cli(runtime.settings.database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"checked {requests} requests: 0 differ from their history"


def _department(client, world) -> int:
    response = client.post("/api/v1/street/departments", json={"name": "城管执法队"},
                           headers=world.headers("officer_1"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _requests_of_every_kind(client, world, runtime) -> dict[str, int]:
    """One request for each way through the lifecycle, made as the people would."""
    made = {}
    # The full loop on the task board, with a send-back before staff verify.
    rid = submit(client, world, "resident_a", building_id=world.ids["building_A"])["id"]
    runtime.drain()
    act(client, world, "member_1", rid, "claim")
    act(client, world, "member_1", rid, "report_result", result="纸箱已清理。", hours=1.5)
    act(client, world, "staff_a", rid, "send_back", reason="照片看不清")
    act(client, world, "member_1", rid, "report_result", result="纸箱已清理，附照片。", hours=2)
    act(client, world, "staff_a", rid, "verify", appraisal=4)
    act(client, world, "resident_a", rid, "evaluation", satisfaction="satisfied", solved=True)
    made["loop"] = rid

    # A reopen: unsatisfied, routed again, resolved again, then closed.
    rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "resolve", result="已沟通")
    act(client, world, "resident_a", rid, "evaluation", satisfaction="unsatisfied", solved=False)
    runtime.drain()
    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "community"
    act(client, world, "staff_a", rid, "resolve", result="已再次处理")
    made["reopened"] = rid

    # A merge: resident_b's duplicate joins resident_a's request, and resident_b gives a verdict.
    primary = in_community(client, world, runtime)
    duplicate = in_community(client, world, runtime, user="resident_b")
    act(client, world, "staff_a", duplicate, "merge", duplicate_of=primary)
    act(client, world, "staff_a", primary, "resolve", result="已处理")
    act(client, world, "resident_b", primary, "evaluation", satisfaction="basically_satisfied", solved=True)
    made["primary"], made["merged"] = primary, duplicate

    # An escalation: departments called in, one reports in, a supervision mark, back to the community.
    rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "escalate")
    department = _department(client, world)
    calls = client.post(f"/api/v1/requests/{rid}/whistles", json={"department_ids": [department],
                        "report_within_hours": 24}, headers=world.headers("officer_1"))
    assert calls.status_code == 201, calls.text
    answered = client.post(f"/api/v1/street/whistles/{calls.json()[0]['id']}/response",
                           json={"response": "已派人"}, headers=world.headers("officer_1"))
    assert answered.status_code == 200, answered.text
    marked = client.post(f"/api/v1/requests/{rid}/supervision", json={"level": "yellow", "reason": "久拖未决"},
                         headers=world.headers("officer_1"))
    assert marked.status_code == 200, marked.text
    act(client, world, "officer_1", rid, "return_to_community", reason="社区可自行处理")
    made["escalated"] = rid

    # A task withdrawn from the board, and one given back by its member.
    rid = submit(client, world, "resident_a")["id"]
    runtime.drain()
    act(client, world, "staff_a", rid, "withdraw")
    made["withdrawn"] = rid
    rid = submit(client, world, "resident_b")["id"]
    runtime.drain()
    act(client, world, "member_2", rid, "claim")
    act(client, world, "member_2", rid, "release")
    act(client, world, "member_1", rid, "claim")
    made["released"] = rid

    # A rejection, a staff inspection and a member's visit.
    rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "reject", reason="不属于受理范围")
    made["rejected"] = rid
    made["inspection"] = submit(client, world, "staff_a", channel="inspection", category="disputes.noise")["id"]
    made["visit"] = submit(client, world, "member_1", channel="visit", category="disputes.noise")["id"]
    runtime.drain()
    return made


def test_requests_made_through_the_api_replay_to_their_stored_state(client, world, runtime):
    made = _requests_of_every_kind(client, world, runtime)
    with unit_of_work(runtime.sessions) as session:
        assert [d.text() for d in replay.verify(session)] == []
        states = {name: replay.fold(rid, session.scalars(select(RequestEvent).where(RequestEvent.request_id == rid)
                                                         .order_by(RequestEvent.id)))
                  for name, rid in made.items()}
    loop = states["loop"]
    assert loop.status == "closed" and loop.route == "open_task" and loop.published_at is not None
    (claim,) = loop.claims.values()
    assert claim.as_tuple() == (world.actors["member_1"].member_id, "verified", 1, 1)
    assert states["reopened"].status == "resolved" and states["reopened"].reopen_count == 1
    assert states["reopened"].round == 2
    assert states["merged"].status == "merged" and states["merged"].merged_into_id == made["primary"]
    escalated = states["escalated"]
    assert (escalated.status, escalated.route, escalated.supervision) == ("community", "community", "yellow")
    assert escalated.community_id == world.ids["community_A"]
    assert states["withdrawn"].status == "community" and states["withdrawn"].route == "community"
    released = states["released"]
    assert released.status == "claimed"
    assert sorted(c.status for c in released.claims.values()) == ["active", "released"]
    assert states["rejected"].closed_at is not None
    assert states["inspection"].reporter_id is None and states["inspection"].collector_id == world.ids["staff_a"]
    assert states["visit"].channel == "visit" and states["visit"].community_id == world.ids["community_A"]

    # A month later the deadline sweeper has acted on whatever was left open (escalations, the
    # overdue claim, expired evaluation windows): the histories still give the stored state.
    report = sweeps.sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(days=30))
    runtime.drain()
    assert report.escalated and report.expired and report.overdue
    with unit_of_work(runtime.sessions) as session:
        assert [d.text() for d in replay.verify(session)] == []
        swept = Counter(session.scalars(select(RequestEvent.trigger).where(RequestEvent.actor_role == "sweeper")))
    assert swept["escalate"] and swept["expire"]


def test_rows_changed_without_their_events_are_reported(client, world, runtime):
    made = _requests_of_every_kind(client, world, runtime)
    url = runtime.settings.database_url
    clean = _cli(url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip().endswith("0 differ from their history")

    # By hand, in SQL: a claimed task marked closed, a merged request pointed elsewhere, a claim
    # handed to another member. No event says any of it.
    with unit_of_work(runtime.sessions) as session:
        session.execute(text("UPDATE requests SET status = 'closed' WHERE id = :id"), {"id": made["released"]})
        session.execute(text("UPDATE requests SET merged_into_id = :other WHERE id = :id"),
                        {"id": made["merged"], "other": made["loop"]})
        session.execute(text("UPDATE claims SET member_id = :other WHERE request_id = :id"),
                        {"id": made["loop"], "other": world.actors["member_2"].member_id})
    done = _cli(url)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert f"request {made['released']}: status stored 'closed', history says 'claimed'" in lines
    assert f"request {made['merged']}: merged_into_id stored {made['loop']}, history says {made['primary']}" in lines
    assert any(line.startswith(f"request {made['loop']}: claims stored ") for line in lines)
    assert lines[-1].endswith("3 differ from their history")
    reported = {int(line.split(":")[0].split()[1]) for line in lines[:-1]}
    assert reported == {made["released"], made["merged"], made["loop"]}

    # One request at a time: an untouched one holds, a changed one does not.
    one = _cli(url, "--request", str(made["escalated"]))
    assert one.returncode == 0 and one.stdout.strip() == "checked 1 requests: 0 differ from their history"
    one = _cli(url, "--request", str(made["released"]))
    assert one.returncode == 1 and "status stored 'closed'" in one.stdout
