"""志愿者 and the time bank, on both backends: a resident becomes a volunteer, claims only the tasks
whose category allows volunteers, earns the hours of their verified tasks, and spends them on a
service staff record; volunteers are ranked apart from party members."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from workflow.db import unit_of_work
from workflow.models import AuditEntry, Claim, utcnow
from workflow.scoring import runs
from workflow.volunteers.models import TimeBankEntry

from .helpers import act, all_rows, count, get, submit, table_counts


def _post(client, world, user: str, path: str, body: dict | None = None, expect: int = 200, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else world.headers(user)
    answer = client.post(f"/api/v1{path}", json=body, headers=headers)
    assert answer.status_code == expect, answer.text
    return answer.json()


@pytest.fixture
def open_to_volunteers(client, world):
    """Sanitation's tasks (corridor clutter goes to the task board) are open to volunteers for the test."""
    patch = client.patch("/api/v1/admin/categories/sanitation", json={"volunteers": True},
                         headers=world.headers("admin"))
    assert patch.status_code == 200, patch.text
    yield "sanitation.corridor_clutter"
    client.patch("/api/v1/admin/categories/sanitation", json={"volunteers": False}, headers=world.headers("admin"))


def _volunteer(client, world):
    """resident_b signs up as a volunteer and registers with community A."""
    account = _post(client, world, "resident_b", "/volunteers/me", expect=201)
    assert account["role"] == "volunteer" and account["member_id"]
    _post(client, world, "resident_b", "/registrations", {"community_id": world.ids["community_A"]}, expect=201)
    return account["member_id"]


def _verified_task(client, world, runtime, who: str, category: str, hours: float) -> int:
    """A task of ``category`` that ``who`` claims and reports with ``hours``, verified by staff."""
    rid = submit(client, world, "resident_a", category=category)["id"]
    runtime.drain()
    act(client, world, who, rid, "claim")
    act(client, world, who, rid, "report-result", result="已清理", hours=hours)
    act(client, world, "staff_a", rid, "verify", appraisal=5)
    return rid


def test_a_volunteer_claims_only_what_volunteers_may_and_banks_the_hours(client, world, runtime, open_to_volunteers):
    member_id = _volunteer(client, world)
    # Signing up twice: they are a volunteer now, no longer a resident who may.
    again = client.post("/api/v1/volunteers/me", headers=world.headers("resident_b"))
    assert (again.status_code, again.json()["error"]["code"]) == (403, "role_not_allowed")

    open_task = submit(client, world, "resident_a", category=open_to_volunteers)["id"]
    members_only = submit(client, world, "resident_a", category="disputes.noise")["id"]
    act(client, world, "staff_a", members_only, "publish-task")
    runtime.drain()
    # The board shows the volunteer only what they may claim; a member sees both.
    assert [t["id"] for t in get(client, world, "resident_b", "/tasks")] == [open_task]
    assert {t["id"] for t in get(client, world, "member_1", "/tasks")} >= {open_task, members_only}
    assert {c["code"]: c["volunteers"] for c in get(client, world, "resident_b", "/categories")}[open_to_volunteers]

    before = table_counts(runtime)
    refused = client.post(f"/api/v1/requests/{members_only}/claim", headers=world.headers("resident_b"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "members_only")
    assert "党员" in refused.json()["error"]["message"]
    assert table_counts(runtime) == before
    # The request page offers them no claim on it either.
    assert "claim" not in get(client, world, "resident_b", f"/requests/{members_only}")["actions"]

    act(client, world, "resident_b", open_task, "claim")
    act(client, world, "resident_b", open_task, "report-result", result="帮老人清理了楼道", hours=2.5)
    act(client, world, "staff_a", open_task, "verify", appraisal=5)
    bank = get(client, world, "resident_b", "/volunteers/me/time-bank")
    assert (bank["earned"], bank["spent"], bank["balance"]) == ("2.5", "0.0", "2.5")
    assert [(e["kind"], e["hours"], e["request_id"]) for e in bank["entries"]] == [("earned", "2.5", open_task)]

    # Staff record a service the volunteer received, paid from the hours.
    spent = _post(client, world, "staff_a", f"/volunteers/{member_id}/time-bank/services",
                  {"hours": 2, "note": "上门理发"}, expect=201)
    assert (spent["earned"], spent["spent"], spent["balance"]) == ("2.5", "2.0", "0.5")
    assert spent["entries"][0]["kind"] == "spent" and spent["entries"][0]["note"] == "上门理发"
    # More than is left: refused with the balance, nothing written.
    before = table_counts(runtime)
    refused = client.post(f"/api/v1/volunteers/{member_id}/time-bank/services", json={"hours": 1, "note": "代买药"},
                          headers=world.headers("staff_a"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "insufficient_hours")
    assert refused.json()["error"]["details"]["balance"] == "0.5"
    assert table_counts(runtime) == before
    for bad in ({"hours": 0, "note": "x"}, {"hours": 25, "note": "x"}, {"hours": 1, "note": "  "}):
        answer = client.post(f"/api/v1/volunteers/{member_id}/time-bank/services", json=bad,
                             headers=world.headers("staff_a"))
        assert answer.status_code == 422 and answer.json()["error"]["code"] in ("invalid_hours", "note_required")
    # Staff of another community do not find them.
    other = client.post(f"/api/v1/volunteers/{member_id}/time-bank/services", json={"hours": 0.5, "note": "x"},
                        headers=world.headers("staff_b"))
    assert (other.status_code, other.json()["error"]["code"]) == (404, "volunteer_not_found")

    listed = get(client, world, "staff_a", f"/communities/{world.ids['community_A']}/volunteers")["volunteers"]
    assert [(v["display_name"], v["tasks"], v["balance"]) for v in listed] == [("resident_b", 1, "0.5")]
    assert {e.action for e in all_rows(runtime, AuditEntry)} >= {"account.volunteer", "time_bank.spend"}


def test_a_volunteer_still_reports_and_evaluates_as_a_resident(client, world, runtime):
    _volunteer(client, world)
    rid = submit(client, world, "resident_b", category="disputes.noise")["id"]
    runtime.drain()
    assert [r["id"] for r in get(client, world, "resident_b", "/requests/mine")] == [rid]
    act(client, world, "staff_a", rid, "resolve", result="已劝导")
    closed = _post(client, world, "resident_b", f"/requests/{rid}/evaluation",
                   {"satisfaction": "satisfied", "solved": True})
    assert closed["status"] == "closed"


def test_the_time_bank_is_append_only(client, world, runtime, open_to_volunteers):
    member_id = _volunteer(client, world)
    _verified_task(client, world, runtime, "resident_b", open_to_volunteers, 1)
    _post(client, world, "staff_a", f"/volunteers/{member_id}/time-bank/services", {"hours": 1, "note": "陪诊"},
          expect=201)
    for statement in ("UPDATE time_bank_entries SET hours = 0", "DELETE FROM time_bank_entries"):
        with runtime.engine.connect() as conn:
            with pytest.raises(DatabaseError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
    assert count(runtime, TimeBankEntry) == 1


def test_two_desks_spending_the_same_hours_at_once_spend_them_once(live_server, client, world, runtime,
                                                                    open_to_volunteers):
    member_id = _volunteer(client, world)
    _verified_task(client, world, runtime, "resident_b", open_to_volunteers, 3)
    barrier = threading.Barrier(2)

    def spend(user: str):
        with httpx.Client(base_url=live_server, timeout=60) as http:
            barrier.wait()
            return http.post(f"/api/v1/volunteers/{member_id}/time-bank/services", json={"hours": 2, "note": "家政"},
                             headers=world.headers(user))

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(spend, ["staff_a", "secretary_a"]))
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    assert get(client, world, "staff_a", f"/volunteers/{member_id}/time-bank")["balance"] == "1.0"
    assert count(runtime, TimeBankEntry) == 1


def test_volunteers_are_ranked_apart_from_party_members(client, world, runtime, open_to_volunteers):
    _volunteer(client, world)
    tasks = {who: _verified_task(client, world, runtime, who, open_to_volunteers, 1)
             for who in ("resident_b", "member_1")}
    with unit_of_work(runtime.sessions) as session:
        period = runs.current_period(session, runtime.settings, utcnow())
        runs.recompute(session, runtime.settings, period)
    base = f"/scores/{period}/rankings/community/{world.ids['community_A']}"
    party = get(client, world, "secretary_a", base)
    volunteers = get(client, world, "secretary_a", base, members="volunteer")

    def names(ranking):
        return {m["username"] for m in ranking["ranked"] + ranking["not_ranked"]}

    assert "resident_b" not in names(party) and "member_1" in names(party)
    assert names(volunteers) == {"resident_b"} and volunteers["member_kind"] == "volunteer"
    assert all(m["kind"] == "volunteer" and m["unit"] == "" for m in volunteers["ranked"] + volunteers["not_ranked"])
    bad = client.get(f"/api/v1{base}", params={"members": "cadre"}, headers=world.headers("secretary_a"))
    assert bad.status_code == 422
    # The volunteer's own record reads like a member's.
    mine = get(client, world, "resident_b", f"/members/me/scores/{period}")
    assert [[t["request_id"] for t in r["tasks"]] for r in mine["records"]] == [[tasks["resident_b"]]]
    assert count(runtime, Claim) == 2
