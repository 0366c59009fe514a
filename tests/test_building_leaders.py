"""楼栋长 on both backends: the desk appoints a resident to lead a building; the leader reports for
its residents, sees its open requests without their contacts, and confirms on the spot the result
of what no resident reported."""

from __future__ import annotations

from workflow.models import Request

from .helpers import act, all_rows, get, submit, table_counts


def _post(client, world, user: str, path: str, body: dict | None = None, expect: int = 200):
    answer = client.post(f"/api/v1{path}", json=body, headers=world.headers(user))
    assert answer.status_code == expect, answer.text
    return answer.json()


def _appoint(client, world, who: str = "resident_b") -> dict:
    return _post(client, world, "staff_a", f"/buildings/{world.ids['building_A']}/leaders",
                 {"account_id": world.ids[who]}, expect=201)


def test_the_desk_appoints_a_resident_of_the_community_to_lead_a_building(client, world, runtime):
    building = world.ids["building_A"]
    for who in ("staff_a", "staff_b"):  # not a resident of the building's community
        before = table_counts(runtime)
        answer = client.post(f"/api/v1/buildings/{building}/leaders", json={"account_id": world.ids[who]},
                             headers=world.headers("staff_a"))
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "not_a_resident_here")
        assert table_counts(runtime) == before
    leader = _appoint(client, world)
    assert leader["display_name"] == "resident_b" and leader["ends_on"] is None
    again = client.post(f"/api/v1/buildings/{building}/leaders", json={"account_id": world.ids["resident_b"]},
                        headers=world.headers("staff_a"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_building_leader")
    other = client.post(f"/api/v1/buildings/{building}/leaders", json={"account_id": world.ids["resident_a"]},
                        headers=world.headers("staff_b"))
    assert (other.status_code, other.json()["error"]["code"]) == (403, "out_of_scope")
    assert get(client, world, "resident_b", "/me/buildings") == [
        {"id": building, "name": "1号楼", "community_id": world.ids["community_A"]}]
    assert get(client, world, "resident_a", "/me/buildings") == []
    ended = _post(client, world, "staff_a", f"/buildings/{building}/leaders/{leader['id']}/end", {})
    assert ended["ends_on"] is not None
    assert [r["id"] for r in get(client, world, "staff_a", f"/buildings/{building}/leaders")] == [leader["id"]]


def test_a_leader_reports_for_residents_sees_the_building_and_confirms_on_the_spot(client, world, runtime):
    building = world.ids["building_A"]
    _appoint(client, world)
    body = {"channel": "report", "category": "disputes.noise", "description": "楼上夜里装修，住户托我反映。",
            "community_id": world.ids["community_A"], "building_id": building, "on_behalf": True}
    missing = client.post("/api/v1/requests", json=body, headers=world.headers("resident_b"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "contact_required")
    refused = client.post("/api/v1/requests", json={**body, "contact_name": "王阿姨"},
                          headers=world.headers("resident_a"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_building_leader")
    filed = _post(client, world, "resident_b", "/requests",
                  {**body, "contact_name": "王阿姨", "contact_phone": "13812345678"}, expect=201)
    [event] = [e for e in get(client, world, "resident_b", f"/requests/{filed['id']}")["events"]
               if e["trigger"] == "submit"]
    assert event["data"]["on_behalf"] is True

    # A resident's own report in the building: its leader sees it, without the resident's contact.
    own = submit(client, world, "resident_a", category="disputes.noise", building_id=building,
                 contact_phone="13900000000")
    runtime.drain()
    listed = {r["id"]: r for r in get(client, world, "resident_b", f"/buildings/{building}/requests")}
    assert {own["id"], filed["id"]} <= set(listed)
    assert "13900000000" not in str(listed[own["id"]])
    assert client.get(f"/api/v1/buildings/{building}/requests",
                      headers=world.headers("resident_a")).json()["error"]["code"] == "not_building_leader"

    # 现场确认: what staff found on a round, resolved; the building's leader confirms it on the spot.
    found = _post(client, world, "staff_a", "/requests", {"channel": "inspection", "category": "disputes.noise",
                                                          "description": "巡查发现楼道堆物", "building_id": building},
                  expect=201)
    runtime.drain()
    act(client, world, "staff_a", found["id"], "route-to-community") if get(
        client, world, "staff_a", f"/requests/{found['id']}")["status"] == "submitted" else None
    if get(client, world, "staff_a", f"/requests/{found['id']}")["status"] == "community":
        act(client, world, "staff_a", found["id"], "resolve", result="已清理")
    assert "evaluate" in get(client, world, "resident_b", f"/requests/{found['id']}")["actions"]
    closed = _post(client, world, "resident_b", f"/requests/{found['id']}/evaluation",
                   {"satisfaction": "satisfied", "solved": True})
    assert closed["status"] == "closed"
    # Another resident of the community is no leader: they do not see it at all.
    assert client.get(f"/api/v1/requests/{found['id']}", headers=world.headers("resident_a")).status_code == 404
    assert all_rows(runtime, Request, Request.id == found["id"])[0].reporter_id is None
