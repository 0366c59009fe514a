"""Routing rules over HTTP: order, conditions, the dry run, the rule recorded in the routing event,
and rules that are refused without writing anything."""

from __future__ import annotations

import pytest

from .helpers import act, get, submit, table_counts

RULES = "/api/v1/admin/rules"


def add_rule(client, world, expect: int = 201, user: str = "admin", **body) -> dict:
    response = client.post(RULES, json=body, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def dry_run(client, world, user: str = "admin", *, category: str, channel: str = "report", community: str = "A",
            **place) -> dict:
    body = {"category": category, "channel": channel, "community_id": world.ids[f"community_{community}"],
            **{k: world.ids[v] for k, v in place.items()}}
    response = client.post(f"{RULES}/dry-run", json=body, headers=world.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def quiet_counts(runtime) -> dict[str, int]:
    runtime.drain()
    return table_counts(runtime)


def test_first_enabled_matching_rule_wins_in_the_order_set(client, world):
    """Two rules match disputes.noise: the first wins; reordered, the other wins; disabled, it is passed over."""
    noise = add_rule(client, world, name="噪音上报街道", categories=["disputes.noise"], target="street")
    disputes = add_rule(client, world, name="纠纷交党员", categories=["disputes"], target="open_task")
    assert (noise["position"], disputes["position"]) == (1, 2)

    assert dry_run(client, world, category="disputes.noise") == {
        "target": "street", "trigger": "escalate", "rule": "噪音上报街道", "rule_id": noise["id"]}
    # The top-level code "disputes" matches its other leaves too.
    assert dry_run(client, world, category="disputes.pets")["rule_id"] == disputes["id"]

    reordered = client.post(f"{RULES}/reorder", json={"ids": [disputes["id"], noise["id"]]},
                            headers=world.headers("admin"))
    assert reordered.status_code == 200, reordered.text
    assert [(r["id"], r["position"]) for r in reordered.json()] == [(disputes["id"], 1), (noise["id"], 2)]
    assert dry_run(client, world, category="disputes.noise") == {
        "target": "open_task", "trigger": "publish_task", "rule": "纠纷交党员", "rule_id": disputes["id"]}

    off = client.patch(f"{RULES}/{disputes['id']}", json={"enabled": False}, headers=world.headers("admin"))
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert dry_run(client, world, category="disputes.noise")["rule_id"] == noise["id"]
    # With no rule matching, the category's default route decides.
    assert dry_run(client, world, category="disputes.pets") == {
        "target": "community", "trigger": "route_to_community", "rule": "category_default:disputes.pets",
        "rule_id": None}
    listed = get(client, world, "admin", "/admin/rules")
    assert [(r["name"], r["enabled"]) for r in listed] == [("纠纷交党员", False), ("噪音上报街道", True)]


def test_location_channel_and_urgency_conditions(client, world):
    """Building, grid, community and street conditions, and channel with urgency, each narrow a rule."""
    ids = world.ids
    add_rule(client, world, name="1号楼", building_ids=[ids["building_A"]], target="street")
    add_rule(client, world, name="一网格", grid_ids=[ids["grid_A"]], target="open_task")
    add_rule(client, world, name="社区B", community_ids=[ids["community_B"]], target="street")
    add_rule(client, world, name="街道S2", street_ids=[ids["street_S2"]], target="open_task")
    add_rule(client, world, name="走访紧急", channels=["visit"], urgencies=["emergency"], target="street")

    def rule(**kw) -> str:
        return dry_run(client, world, category=kw.pop("category", "property.parking"), **kw)["rule"]

    # A building places the request in its grid too, as intake does; the building rule comes first.
    assert rule(building_id="building_A") == "1号楼"
    assert rule(grid_id="grid_A") == "一网格"
    assert rule() == "category_default:property.parking"
    assert rule(community="B") == "社区B"
    assert rule(community="C") == "街道S2"
    assert rule(category="safety.fire_lane", channel="visit") == "走访紧急"
    assert rule(category="safety.fire_lane", channel="report") == "category_default:safety.fire_lane"
    assert rule(category="property.parking", channel="visit") == "category_default:property.parking"


def test_dry_run_writes_nothing_and_is_open_to_the_desks(client, world, runtime):
    """Staff, street officers and secretaries may ask too; the answer changes no row; others get 403."""
    rule = add_rule(client, world, name="电梯故障上报街道", categories=["property.elevator"], target="street")
    before = quiet_counts(runtime)
    for user in ("admin", "staff_a", "officer_1", "secretary_a"):
        answer = dry_run(client, world, user, category="property.elevator", channel="inspection")
        assert (answer["target"], answer["rule_id"]) == ("street", rule["id"])
    for user in ("resident_a", "member_1"):
        response = client.post(f"{RULES}/dry-run", headers=world.headers(user), json={
            "category": "property.elevator", "channel": "report", "community_id": world.ids["community_A"]})
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_not_allowed"
    bad = client.post(f"{RULES}/dry-run", headers=world.headers("staff_a"), json={
        "category": "property", "channel": "report", "community_id": world.ids["community_A"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_category"
    elsewhere = client.post(f"{RULES}/dry-run", headers=world.headers("staff_a"), json={
        "category": "property.elevator", "channel": "report", "community_id": world.ids["community_A"],
        "grid_id": world.ids["grid_B"]})
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["code"] == "invalid_location"
    assert table_counts(runtime) == before


def test_submission_is_routed_by_a_rule_and_the_event_names_it(client, world, runtime):
    """The worker routes a new request by the matching rule and records the rule's name and id;
    a request no rule matches records its category default; a second reopen still goes to the street."""
    rule = add_rule(client, world, name="噪音交社区", categories=["disputes.noise"], channels=["report"],
                    target="community")
    add_rule(client, world, name="楼道杂物交社区", categories=["sanitation.corridor_clutter"],
             community_ids=[world.ids["community_B"]], target="community")
    noise = submit(client, world, "resident_a", category="disputes.noise")["id"]
    clutter = submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"]
    runtime.drain()

    routed = get(client, world, "resident_a", f"/requests/{noise}")
    assert routed["status"] == "community"
    event = routed["events"][-1]
    assert (event["trigger"], event["actor_role"]) == ("route_to_community", "router")
    assert event["data"]["rule"] == "噪音交社区" and event["data"]["rule_id"] == rule["id"]

    default = get(client, world, "resident_a", f"/requests/{clutter}")
    assert default["status"] == "open_task"  # community A: the rule for community B does not apply
    assert default["events"][-1]["data"]["rule"] == "category_default:sanitation.corridor_clutter"
    assert default["events"][-1]["data"]["rule_id"] is None

    for round_ in (1, 2):
        act(client, world, "staff_a", noise, "resolve", result=f"第{round_}次：已上门协调。")
        act(client, world, "resident_a", noise, "evaluation", satisfaction="unsatisfied", solved=False)
        runtime.drain()
    detail = get(client, world, "resident_a", f"/requests/{noise}")
    routings = [e for e in detail["events"] if e["actor_role"] == "router"]
    assert [(e["to_status"], e["data"]["rule"], e["data"]["rule_id"]) for e in routings] == [
        ("community", "噪音交社区", rule["id"]),
        ("community", "噪音交社区", rule["id"]),
        ("street", "second_reopen", None),
    ]


BAD_RULES = [
    ({"categories": ["nope.nothing"]}, "unknown_category", "categories"),
    ({"categories": "disputes.noise"}, "invalid_condition", "categories"),
    ({"categories": [["disputes.noise"]]}, "invalid_condition", "categories"),
    ({"categories": None}, "invalid_condition", "categories"),
    ({"target": "mars"}, "unknown_target", "target"),
    ({"urgencies": ["whenever"]}, "unknown_urgency", "urgencies"),
    ({"channels": ["fax"]}, "unknown_channel", "channels"),
    ({"community_ids": [999999]}, "unknown_community", "community_ids"),
    ({"community_ids": ["community_A"]}, "invalid_condition", "community_ids"),
    ({"community_ids": [True]}, "invalid_condition", "community_ids"),
    ({"street_ids": [999999]}, "unknown_street", "street_ids"),
    ({"grid_ids": [999999]}, "unknown_grid", "grid_ids"),
    ({"building_ids": [999999]}, "unknown_building", "building_ids"),
    ({"name": "   "}, "name_required", "name"),
    ({"position": 1}, "duplicate_position", "position"),
    ({"position": 0}, "invalid_position", "position"),
]


@pytest.mark.parametrize(("fields", "code", "field"), BAD_RULES)
def test_bad_rule_is_refused_and_nothing_changes(client, world, runtime, fields, code, field):
    """Creating or changing a rule with a bad condition, target, name or position is a 422 with its own
    code, naming the field in English when asked; no row is written and the existing rule is unchanged."""
    existing = add_rule(client, world, name="已有规则", categories=["disputes"], target="street")
    before = quiet_counts(runtime)
    english = world.headers("admin", **{"Accept-Language": "en"})
    body = {"name": "新规则", "target": "community", **fields}
    responses = [client.post(RULES, json=body, headers=english)]
    if code != "duplicate_position":  # a rule keeping its own position is no duplicate
        responses.append(client.patch(f"{RULES}/{existing['id']}", json=fields, headers=english))
    for response in responses:
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == code and error["details"]["field"] == field
        assert field in error["message"] or code in ("unknown_target", "duplicate_position", "invalid_position")
    assert table_counts(runtime) == before
    assert get(client, world, "admin", "/admin/rules") == [existing]


def test_reorder_must_name_every_rule_once(client, world, runtime):
    """A reorder that leaves out, repeats or invents an id is refused, as is moving a rule onto a taken position."""
    first = add_rule(client, world, name="一", categories=["disputes"], target="street")["id"]
    second = add_rule(client, world, name="二", categories=["housing"], target="street")["id"]
    before = quiet_counts(runtime)
    listed = get(client, world, "admin", "/admin/rules")
    clash = client.patch(f"{RULES}/{second}", json={"position": 1}, headers=world.headers("admin"))
    assert clash.status_code == 422 and clash.json()["error"]["code"] == "duplicate_position"
    assert clash.json()["error"]["details"]["rule_id"] == first
    for ids in ([first], [first, first], [second, first, 999999], [], [second, 999999]):
        response = client.post(f"{RULES}/reorder", json={"ids": ids}, headers=world.headers("admin"))
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "not_a_permutation" and error["details"]["expected"] == [first, second]
    assert table_counts(runtime) == before
    assert get(client, world, "admin", "/admin/rules") == listed


def test_unknown_rule_is_not_found_and_deleted_rule_stops_routing(client, world, runtime):
    rule = add_rule(client, world, name="电梯故障上报街道", categories=["property.elevator"], target="street")
    for method in ("PATCH", "DELETE"):
        response = client.request(method, f"{RULES}/999999", json={"enabled": False} if method == "PATCH" else None,
                                  headers=world.headers("admin"))
        assert response.status_code == 404 and response.json()["error"]["code"] == "rule_not_found"
    gone = client.delete(f"{RULES}/{rule['id']}", headers=world.headers("admin"))
    assert gone.status_code == 204
    assert get(client, world, "admin", "/admin/rules") == []
    assert dry_run(client, world, category="property.elevator")["rule"] == "category_default:property.elevator"
    # A new rule after a delete goes last, and rules can be renamed and retargeted.
    again = add_rule(client, world, name="电梯", categories=["property"], target="open_task")
    changed = client.patch(f"{RULES}/{again['id']}", json={"name": "物业类交党员", "position": 5},
                           headers=world.headers("admin")).json()
    assert (changed["name"], changed["position"], changed["categories"]) == ("物业类交党员", 5, ["property"])
    assert dry_run(client, world, category="property.elevator")["rule"] == "物业类交党员"
