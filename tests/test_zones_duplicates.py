"""Responsibility zones (责任区) on the task board, and duplicates merged with their reporters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.access import Actor
from workflow.commands.handling import fire
from workflow.db import unit_of_work
from workflow.errors import NotFound
from workflow.models import RequestLink, utcnow
from workflow.repository import requests as repo

from .helpers import act, all_rows, get, submit


def _zone(client, world, member: str, expect: int = 201, **place):
    response = client.post(f"/api/v1/members/{world.actors[member].member_id}/zones", json=place,
                           headers=world.headers("staff_a"))
    assert response.status_code == expect, response.text
    return response.json()


def test_a_new_task_goes_first_to_the_members_of_its_zone(client, world, runtime):
    _zone(client, world, "member_2", building_id=world.ids["building_A"])
    staff_view = get(client, world, "staff_a", "/community/members")
    assert {m["member_id"]: len(m["zones"]) for m in staff_view} == {
        world.actors["member_1"].member_id: 0, world.actors["member_2"].member_id: 1}

    elsewhere = submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"]  # no building
    runtime.drain()  # published first: the older task
    in_zone = submit(client, world, "resident_a", category="sanitation.corridor_clutter",
                     building_id=world.ids["building_A"])["id"]
    runtime.drain()

    # The zone's member is told, sees their task first though it is newer, and may claim it.
    assert [(n["kind"], n["request_id"]) for n in get(client, world, "member_2", "/notifications")] == [
        ("task_offered", in_zone)]
    assert [t["id"] for t in get(client, world, "member_2", "/tasks")] == [in_zone, elsewhere]
    # Everyone else waits for the offer window to pass.
    assert [t["id"] for t in get(client, world, "member_1", "/tasks")] == [elsewhere]
    refused = act(client, world, "member_1", in_zone, "claim", expect=409)
    assert refused["error"]["code"] == "offered_to_zone"
    assert get(client, world, "member_1", "/notifications") == []

    # After the window, every registered member may take it.
    later = utcnow() + timedelta(minutes=runtime.settings.zone_offer_minutes + 1)
    with unit_of_work(runtime.sessions) as session:
        assert [r.id for r in repo.open_tasks(session, world.actors["member_1"].member_id, later)] == [
            elsewhere, in_zone]
        fire(session, runtime.settings, world.actors["member_1"], in_zone, "claim", {}, now=later)
    assert get(client, world, "member_1", f"/requests/{in_zone}")["status"] == "claimed"


def test_within_the_window_the_zone_member_claims(client, world, runtime):
    _zone(client, world, "member_2", grid_id=world.ids["grid_A"])
    rid = submit(client, world, "resident_a", category="sanitation.corridor_clutter",
                 building_id=world.ids["building_A"])["id"]  # building A lies in grid A
    runtime.drain()
    assert act(client, world, "member_2", rid, "claim")["status"] == "claimed"


def test_zones_are_assigned_by_staff_within_their_community(client, world, runtime):
    member_2 = world.actors["member_2"].member_id
    for user, body, status, code in [
        ("member_2", {"building_id": world.ids["building_A"]}, 403, "role_not_allowed"),
        ("staff_b", {"building_id": world.ids["building_B"]}, 404, "member_not_found"),
        ("staff_a", {"grid_id": world.ids["grid_A"], "building_id": world.ids["building_A"]}, 422, "zone_shape"),
        ("staff_a", {"building_id": world.ids["building_B"]}, 422, "invalid_location"),
    ]:
        response = client.post(f"/api/v1/members/{member_2}/zones", json=body, headers=world.headers(user))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    zone = _zone(client, world, "member_2", building_id=world.ids["building_A"])
    assert _zone(client, world, "member_2", expect=409, building_id=world.ids["building_A"])["error"]["code"] == \
        "zone_exists"
    gone = client.delete(f"/api/v1/members/{member_2}/zones/{zone['id']}", headers=world.headers("staff_a"))
    assert gone.status_code == 204


def test_staff_see_similar_requests_and_merging_links_the_reporter(client, world, runtime):
    building = world.ids["building_A"]
    first = submit(client, world, "resident_a", category="disputes.noise", building_id=building,
                   description="3号楼楼上每天晚上十点以后还在装修，噪音很大")["id"]
    unrelated = submit(client, world, "resident_a", category="disputes.noise", building_id=building,
                       description="广场舞音响声音太吵")["id"]
    second = submit(client, world, "resident_b", category="disputes.noise", building_id=building,
                    description="3号楼楼上装修噪音很大，晚上十点以后还在施工")["id"]
    runtime.drain()

    found = get(client, world, "staff_a", f"/requests/{second}/duplicates")
    assert [c["request"]["id"] for c in found] == [first]
    assert 0.3 <= found[0]["score"] <= 1
    assert unrelated not in [c["request"]["id"] for c in found]
    assert client.get(f"/api/v1/requests/{second}/duplicates",
                      headers=world.headers("resident_b")).status_code == 403

    merged = act(client, world, "staff_a", second, "merge", duplicate_of=first)
    assert merged["status"] == "merged" and merged["merged_into_id"] == first
    assert [link.account_id for link in all_rows(runtime, RequestLink)] == [world.ids["resident_b"]]

    # resident_b now follows the primary request and evaluates it alongside its reporter; the
    # reporter's verdict decides.
    assert get(client, world, "resident_b", f"/requests/{first}")["id"] == first
    act(client, world, "staff_a", first, "resolve", result="已约谈装修队，夜间停工")
    alongside = act(client, world, "resident_b", first, "evaluation", satisfaction="unsatisfied", solved=False)
    assert alongside["status"] == "resolved" and alongside["events"][-1]["trigger"] == "co_evaluate"
    again = act(client, world, "resident_b", first, "evaluation", expect=409, satisfaction="satisfied", solved=True)
    assert again["error"]["code"] == "already_evaluated"
    closed = act(client, world, "resident_a", first, "evaluation", satisfaction="satisfied", solved=True)
    assert closed["status"] == "closed"
    assert sorted((e["satisfaction"], e["round"]) for e in closed["evaluations"]) == [
        ("satisfied", 1), ("unsatisfied", 1)]
    # A resident who is neither reporter nor linked still cannot see it.
    with unit_of_work(runtime.sessions) as session, pytest.raises(NotFound) as refused:
        fire(session, runtime.settings, Actor(role="resident", account_id=world.ids["admin"]), first, "evaluate",
             {"satisfaction": "satisfied", "solved": True})
    assert refused.value.code == "request_not_found"


def test_staff_set_a_members_claim_limit(client, world, runtime):
    member_1 = world.actors["member_1"].member_id
    ids = [submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"] for _ in range(2)]
    runtime.drain()
    for user, limit, status, code in [
        ("member_1", 1, 403, "role_not_allowed"),
        ("staff_b", 1, 404, "member_not_found"),
        ("staff_a", 0, 422, "invalid_claim_limit"),
        ("staff_a", 51, 422, "invalid_claim_limit"),
    ]:
        response = client.put(f"/api/v1/members/{member_1}/claim-limit", json={"claim_limit": limit},
                              headers=world.headers(user))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    response = client.put(f"/api/v1/members/{member_1}/claim-limit", json={"claim_limit": 1},
                          headers=world.headers("staff_a"))
    assert response.status_code == 200 and response.json()["claim_limit"] == 1
    act(client, world, "member_1", ids[0], "claim")
    refused = act(client, world, "member_1", ids[1], "claim", expect=409)
    assert refused["error"]["code"] == "claim_limit_reached" and refused["error"]["details"]["limit"] == 1


def test_merges_in_a_chain_keep_every_follower(client, world, runtime):
    ids = [submit(client, world, user, category="disputes.noise", description=f"楼上噪音{i}")["id"]
           for i, user in enumerate(["resident_a", "resident_b", "resident_a"])]
    runtime.drain()
    # resident_b's request → resident_a's first, which is then merged into resident_a's third.
    act(client, world, "staff_a", ids[1], "merge", duplicate_of=ids[0])
    act(client, world, "staff_a", ids[0], "merge", duplicate_of=ids[2])
    assert get(client, world, "resident_b", f"/requests/{ids[2]}")["id"] == ids[2]


def test_leaving_a_community_frees_the_tasks_of_ones_zones(client, world, runtime):
    _zone(client, world, "member_2", building_id=world.ids["building_A"])
    rid = submit(client, world, "resident_a", category="sanitation.corridor_clutter",
                 building_id=world.ids["building_A"])["id"]
    runtime.drain()
    assert act(client, world, "member_1", rid, "claim", expect=409)["error"]["code"] == "offered_to_zone"
    left = client.delete(f"/api/v1/registrations/{world.ids['community_A']}", headers=world.headers("member_2"))
    assert left.status_code == 200
    assert get(client, world, "staff_a", "/community/members")[0]["zones"] == []
    # Nobody registered looks after that building any more: the task is open to everyone.
    assert act(client, world, "member_1", rid, "claim")["status"] == "claimed"
