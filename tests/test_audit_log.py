"""The audit log holds every change of policy-like configuration: each API operation below leaves
one entry naming who did it, what it changed, and the values before and after, which an admin reads
at ``GET /api/v1/admin/audit``. Nothing in the API edits or deletes an entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from .helpers import get


@pytest.fixture(autouse=True)
def reference_data_restored(database):
    """On PostgreSQL the seeded taxonomy and calendar are kept between tests: put back what these
    tests change (categories and calendar days as they were before the test). Autouse fixtures are
    torn down last, after the requests using the categories were emptied."""
    if database["kind"] != "postgresql":
        yield  # every SQLite test gets a fresh copy
        return
    engine = create_engine(database["url"])
    columns = "code, name_zh, name_en, urgency, deadline_class, default_route, active, sort_order"
    with engine.connect() as conn:
        categories = [dict(r._mapping) for r in conn.execute(text(f"SELECT {columns} FROM categories"))]
        days = [dict(r._mapping) for r in conn.execute(text("SELECT day, kind, name FROM calendar_days"))]
    yield
    with engine.begin() as conn:
        codes = [c["code"] for c in categories]
        conn.execute(text("DELETE FROM categories WHERE parent_id IS NOT NULL AND NOT (code = ANY(:codes))"),
                     {"codes": codes})
        conn.execute(text("DELETE FROM categories WHERE NOT (code = ANY(:codes))"), {"codes": codes})
        for row in categories:
            conn.execute(text("UPDATE categories SET name_zh = :name_zh, name_en = :name_en, urgency = :urgency, "
                              "deadline_class = :deadline_class, default_route = :default_route, active = :active, "
                              "sort_order = :sort_order WHERE code = :code"), row)
        conn.execute(text("DELETE FROM calendar_days"))
        if days:
            conn.execute(text("INSERT INTO calendar_days (day, kind, name) VALUES (:day, :kind, :name)"), days)
    engine.dispose()


def _call(client, world, user: str, method: str, path: str, expect: int, body=None):
    response = client.request(method, f"/api/v1{path}", json=body, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


def _category(client, world) -> str:
    made = _call(client, world, "admin", "POST", "/admin/categories", 201,
                 {"code": "sanitation.trees", "parent": "sanitation", "name_zh": "树木修剪", "name_en": "Tree trimming",
                  "urgency": "normal"})
    return made["code"]


def _rule(client, world, name: str = "噪音找街道") -> int:
    return _call(client, world, "admin", "POST", "/admin/rules", 201,
                 {"name": name, "target": "street", "categories": ["disputes.noise"]})["id"]


def _webhook(client, world) -> int:
    return _call(client, world, "admin", "POST", "/webhooks", 201,
                 {"url": "http://127.0.0.1:9/hook", "kinds": ["deadline_respond"]})["id"]


def _zone(client, world) -> tuple[int, int]:
    member = world.actors["member_1"].member_id
    zone = _call(client, world, "staff_a", "POST", f"/members/{member}/zones", 201,
                 {"building_id": world.ids["building_A"]})
    return member, zone["id"]


@dataclass
class Case:
    action: str
    actor: str  # the username whose account the entry names; "-" for a new account that made itself
    act: Callable  # (client, world) -> (target, details the entry must contain)


def _subset(expected, actual) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


def category_create(client, world):
    code = _category(client, world)
    return f"category:{code}", {"after": {"code": code, "urgency": "normal", "deadline_class": "d7",
                                          "default_route": "community", "active": True}}


def category_update(client, world):
    _call(client, world, "admin", "PATCH", "/admin/categories/disputes.noise", 200,
          {"deadline_class": "d7", "default_route": "street"})
    return "category:disputes.noise", {"before": {"deadline_class": "h24", "default_route": "community"},
                                       "after": {"deadline_class": "d7", "default_route": "street"}}


def category_retire(client, world):
    _call(client, world, "admin", "PATCH", "/admin/categories/disputes.noise", 200, {"active": False})
    return "category:disputes.noise", {"before": {"active": True}, "after": {"active": False}}


def category_delete(client, world):
    code = _category(client, world)
    _call(client, world, "admin", "DELETE", f"/admin/categories/{code}", 204)
    return f"category:{code}", {"before": {"code": code, "name_en": "Tree trimming"}}


def rule_create(client, world):
    rule = _rule(client, world)
    return f"routing_rule:{rule}", {"after": {"name": "噪音找街道", "target": "street", "enabled": True,
                                              "categories": ["disputes.noise"]}}


def rule_update(client, world):
    rule = _rule(client, world)
    _call(client, world, "admin", "PATCH", f"/admin/rules/{rule}", 200, {"target": "community", "enabled": False})
    return f"routing_rule:{rule}", {"before": {"target": "street", "enabled": True},
                                    "after": {"target": "community", "enabled": False}}


def rule_delete(client, world):
    rule = _rule(client, world)
    _call(client, world, "admin", "DELETE", f"/admin/rules/{rule}", 204)
    return f"routing_rule:{rule}", {"before": {"name": "噪音找街道", "target": "street"}}


def rule_reorder(client, world):
    first, second = _rule(client, world), _rule(client, world, "第二条")
    _call(client, world, "admin", "POST", "/admin/rules/reorder", 200, {"ids": [second, first]})
    return "routing_rules", {"before": {"order": [first, second]}, "after": {"order": [second, first]}}


def calendar_set(client, world):
    _call(client, world, "admin", "PUT", "/admin/calendar/2026-10-08", 200, {"kind": "holiday", "name": "国庆节"})
    return "calendar_day:2026-10-08", {"before": None, "after": {"kind": "holiday", "name": "国庆节"}}


def calendar_remove(client, world):
    _call(client, world, "admin", "PUT", "/admin/calendar/2026-10-10", 200, {"kind": "workday", "name": "调休"})
    _call(client, world, "admin", "DELETE", "/admin/calendar/2026-10-10", 204)
    return "calendar_day:2026-10-10", {"before": {"kind": "workday", "name": "调休"}}


def department_create(client, world):
    made = _call(client, world, "officer_1", "POST", "/street/departments", 201, {"name": "房管所"})
    return f"department:{made['id']}", {"after": {"name": "房管所", "street_id": world.ids["street_S1"]}}


def webhook_register(client, world):
    hook = _webhook(client, world)
    return f"webhook:{hook}", {"after": {"url": "http://127.0.0.1:9/hook", "kinds": ["deadline_respond"],
                                         "active": True}}


def webhook_update(client, world):
    hook = _webhook(client, world)
    _call(client, world, "admin", "PATCH", f"/webhooks/{hook}", 200,
          {"url": "http://127.0.0.1:9/other", "rotate_secret": True})
    return f"webhook:{hook}", {"before": {"url": "http://127.0.0.1:9/hook"},
                               "after": {"url": "http://127.0.0.1:9/other"}, "secret_replaced": True}


def webhook_deactivate(client, world):
    hook = _webhook(client, world)
    _call(client, world, "admin", "DELETE", f"/webhooks/{hook}", 200)
    return f"webhook:{hook}", {"before": {"active": True}, "after": {"active": False}}


def account_create(client, world):
    made = _call(client, world, "admin", "POST", "/accounts", 201,
                 {"username": "staff_new", "password": "long-enough-pw", "display_name": "新社工", "role": "staff",
                  "community_id": world.ids["community_B"]})
    return f"account:{made['id']}", {"after": {"username": "staff_new", "role": "staff",
                                               "community_id": world.ids["community_B"]}}


def account_signup(client, world):
    response = client.post("/api/v1/auth/signup", json={"username": "newcomer", "password": "long-enough-pw",
                                                         "display_name": "新居民",
                                                         "community_id": world.ids["community_A"]})
    assert response.status_code == 201, response.text
    return f"account:{response.json()['id']}", {"after": {"username": "newcomer", "role": "resident"}}


def registration_create(client, world):
    _call(client, world, "member_1", "POST", "/registrations", 201, {"community_id": world.ids["community_B"]})
    return f"member:{world.actors['member_1'].member_id}", {"after": {"community_id": world.ids["community_B"],
                                                                       "status": "active"}}


def registration_end(client, world):
    _call(client, world, "member_2", "DELETE", f"/registrations/{world.ids['community_A']}", 200)
    return f"member:{world.actors['member_2'].member_id}", {"before": {"status": "active"},
                                                            "after": {"community_id": world.ids["community_A"],
                                                                      "status": "ended"}}


def claim_limit(client, world):
    member = world.actors["member_1"].member_id
    _call(client, world, "staff_a", "PUT", f"/members/{member}/claim-limit", 200, {"claim_limit": 2})
    return f"member:{member}", {"before": {"claim_limit": None}, "after": {"claim_limit": 2}}


def zone_assign(client, world):
    member, zone = _zone(client, world)
    return f"member:{member}", {"after": {"id": zone, "building_id": world.ids["building_A"]}}


def zone_remove(client, world):
    member, zone = _zone(client, world)
    _call(client, world, "staff_a", "DELETE", f"/members/{member}/zones/{zone}", 204)
    return f"member:{member}", {"before": {"id": zone, "community_id": world.ids["community_A"]}}


def open311_issue(client, world):
    made = _call(client, world, "admin", "POST", "/admin/open311-clients", 201, {"name": "城市服务App"})
    return f"open311_client:{made['id']}", {}


def policy_create(client, world):
    current = _call(client, world, "admin", "GET", "/admin/scoring-policies", 200)[-1]
    made = _call(client, world, "admin", "POST", "/admin/scoring-policies", 201,
                 {"effective_from": "2027-01-01", "rules": current["rules"], "note": "次年"})
    return f"scoring_policy:{made['version']}", {}


CASES = [
    Case("category.create", "admin", category_create),
    Case("category.update", "admin", category_update),
    Case("category.update", "admin", category_retire),
    Case("category.delete", "admin", category_delete),
    Case("rule.create", "admin", rule_create),
    Case("rule.update", "admin", rule_update),
    Case("rule.delete", "admin", rule_delete),
    Case("rule.reorder", "admin", rule_reorder),
    Case("calendar.set", "admin", calendar_set),
    Case("calendar.remove", "admin", calendar_remove),
    Case("department.create", "officer_1", department_create),
    Case("webhook.register", "admin", webhook_register),
    Case("webhook.update", "admin", webhook_update),
    Case("webhook.deactivate", "admin", webhook_deactivate),
    Case("account.create", "admin", account_create),
    Case("account.create", "-", account_signup),
    Case("registration.create", "member_1", registration_create),
    Case("registration.end", "member_2", registration_end),
    Case("member.claim_limit", "staff_a", claim_limit),
    Case("zone.assign", "staff_a", zone_assign),
    Case("zone.remove", "staff_a", zone_remove),
    Case("open311_client.issue", "admin", open311_issue),
    Case("policy.create", "admin", policy_create),
]


@pytest.mark.parametrize("case", CASES, ids=[c.act.__name__ for c in CASES])
def test_each_change_of_configuration_is_in_the_audit_log(client, world, case):
    before = {e["id"] for e in get(client, world, "admin", "/admin/audit", limit=500)}
    target, details = case.act(client, world)
    new = [e for e in get(client, world, "admin", "/admin/audit", action=case.action, limit=500)
           if e["id"] not in before]
    assert new, f"no {case.action} entry"
    entry = new[0]  # newest first: the change itself, after any set-up of the same kind
    assert entry["target"] == target
    if case.actor == "-":  # a sign-up: the new account made itself
        assert entry["actor_id"] == int(target.split(":")[1]) and entry["actor_role"] == "resident"
    else:
        assert entry["actor_id"] == world.ids[case.actor]
        assert entry["actor_role"] == world.actors[case.actor].role
    assert entry["at"]
    assert _subset(details, entry["details"]), entry["details"]
    # No secret, key or password hash ever goes into the log.
    text = str(entry["details"])
    assert "secret'" not in text and "password" not in text and "key_hash" not in text


def test_the_audit_log_is_for_admins_and_cannot_be_changed_through_the_api(client, world):
    _call(client, world, "admin", "PUT", "/admin/calendar/2026-10-08", 200, {"kind": "holiday", "name": "国庆节"})
    (entry,) = get(client, world, "admin", "/admin/audit", action="calendar.")
    assert _call(client, world, "staff_a", "GET", "/admin/audit", 403)["error"]["code"] == "role_not_allowed"
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        for path in ("/admin/audit", f"/admin/audit/{entry['id']}"):
            response = client.request(method, f"/api/v1{path}", json={}, headers=world.headers("admin"))
            assert response.status_code in (404, 405), (method, path, response.status_code)
    assert get(client, world, "admin", "/admin/audit", action="calendar.") == [entry]


def test_code_cannot_change_or_delete_an_entry(client, world, runtime):
    from workflow.audit import AppendOnly
    from workflow.db import unit_of_work
    from workflow.models import AuditEntry

    _call(client, world, "admin", "PUT", "/admin/calendar/2026-10-08", 200, {"kind": "holiday", "name": "国庆节"})
    (entry,) = get(client, world, "admin", "/admin/audit", action="calendar.")
    for change in (lambda session, row: setattr(row, "target", "calendar_day:2026-10-09"),
                   lambda session, row: session.delete(row)):
        with pytest.raises(AppendOnly), unit_of_work(runtime.sessions) as session:
            change(session, session.get(AuditEntry, entry["id"]))
            session.flush()
    assert get(client, world, "admin", "/admin/audit", action="calendar.") == [entry]
