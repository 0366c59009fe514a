"""Concurrent claims over real HTTP connections to a real server: exactly one winner."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx

from workflow.models import Claim, RequestEvent

from .conftest import make_member
from .helpers import count, submit


def _race(url: str, calls: list[tuple[str, str]]) -> list[httpx.Response]:
    """Fire every (path, token) at once: all threads wait at a barrier, then post together."""
    barrier = threading.Barrier(len(calls))

    def one(call):
        path, token = call
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait()
            return client.post(path, headers={"Authorization": f"Bearer {token}"})

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_fifty_members_claim_one_task_one_wins(live_server, world, runtime, client):
    rid = submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"]
    runtime.drain()
    tokens = [make_member(runtime, f"racer{i:02d}", [world.ids["community_A"]])[1] for i in range(50)]

    responses = _race(live_server, [(f"/api/v1/requests/{rid}/claim", t) for t in tokens])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 49, codes
    losers = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {e["code"] for e in losers} <= {"invalid_transition", "concurrent_update"}
    assert all(e["message"] for e in losers)
    assert count(runtime, Claim, Claim.request_id == rid) == 1
    assert count(runtime, RequestEvent, RequestEvent.request_id == rid, RequestEvent.trigger == "claim") == 1


def test_one_member_racing_for_five_tasks_stops_at_the_claim_limit(live_server, world, runtime, client):
    ids = [submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"] for _ in range(5)]
    runtime.drain()
    _, token = make_member(runtime, "greedy", [world.ids["community_A"]])

    responses = _race(live_server, [(f"/api/v1/requests/{rid}/claim", token) for rid in ids])

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 409, 409], codes  # the default limit is 3
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"claim_limit_reached"}
    assert count(runtime, Claim) == 3
