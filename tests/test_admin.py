"""Administration over HTTP: the category taxonomy and the working-day calendar, and that only
admins may change anything here."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from workflow.commands.intake import Submission
from workflow.commands.intake import submit as intake_submit
from workflow.db import unit_of_work

from .helpers import get, submit, table_counts

CST = ZoneInfo("Asia/Shanghai")
CATEGORIES = "/api/v1/admin/categories"
CALENDAR = "/api/v1/admin/calendar"


@pytest.fixture(autouse=True)
def seeded_reference_data_restored(database):
    """On PostgreSQL the seeded taxonomy and calendar are kept between tests, so what these tests add
    (codes and day names starting with "zz") goes, and retired categories come back. Autouse fixtures
    are set up first and torn down last: this runs after the requests using them were emptied."""
    yield
    if database["kind"] != "postgresql":
        return  # every SQLite test gets a fresh copy
    engine = create_engine(database["url"])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM categories WHERE parent_id IS NOT NULL AND code LIKE 'zz%'"))
        conn.execute(text("DELETE FROM categories WHERE code LIKE 'zz%'"))
        conn.execute(text("UPDATE categories SET active = true WHERE NOT active"))
        conn.execute(text("DELETE FROM calendar_days WHERE name LIKE 'zz%'"))
    engine.dispose()


def english(world, user: str = "admin") -> dict[str, str]:
    return world.headers(user, **{"Accept-Language": "en"})


def quiet_counts(runtime) -> dict[str, int]:
    runtime.drain()
    return table_counts(runtime)


def call(client, world, method: str, path: str, expect: int, user: str = "admin", body: dict | None = None):
    response = client.request(method, path, json=body, headers=english(world, user))
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


def admin_category(client, world, code: str) -> dict:
    (row,) = [c for c in get(client, world, "admin", "/admin/categories") if c["code"] == code]
    return row


# --- taxonomy ------------------------------------------------------------------------------------

def test_new_category_is_used_retired_and_reinstated(client, world, runtime):
    """An admin adds a top level and a leaf; residents file under the leaf; once retired, new requests
    are refused while the old one still reads; it cannot be deleted, only an unused leaf can."""
    top = call(client, world, "POST", CATEGORIES, 201, body={
        "code": "zzlife", "name_zh": "社区生活", "name_en": "Community life"})
    assert (top["parent"], top["urgency"], top["deadline_class"], top["active"]) == (None, "normal", "d7", True)
    leaf = call(client, world, "POST", CATEGORIES, 201, body={
        "code": "zzlife.library", "parent": "zzlife", "name_zh": "社区书屋", "name_en": "Community library",
        "urgency": "urgent", "default_route": "open_task"})
    assert (leaf["parent"], leaf["deadline_class"], leaf["sort_order"], leaf["requests"]) == ("zzlife", "h24", 1, 0)
    public = {c["code"]: c for c in get(client, world, "resident_a", "/categories")}
    assert public["zzlife.library"]["parent"] == "zzlife" and public["zzlife.library"]["name"] == "社区书屋"

    rid = submit(client, world, "resident_a", category="zzlife.library")["id"]
    runtime.drain()
    assert get(client, world, "resident_a", f"/requests/{rid}")["status"] == "open_task"  # its default route

    retired = call(client, world, "PATCH", f"{CATEGORIES}/zzlife.library", 200, body={"active": False})
    assert (retired["active"], retired["requests"]) == (False, 1)
    refused = submit(client, world, "resident_a", expect=422, category="zzlife.library")
    assert refused["error"]["code"] == "unknown_category"
    assert "zzlife.library" not in {c["code"] for c in get(client, world, "resident_a", "/categories")}
    old = get(client, world, "resident_a", f"/requests/{rid}")
    assert (old["category"], old["status"]) == ("zzlife.library", "open_task")
    assert admin_category(client, world, "zzlife") == {**top, "requests": 1}

    in_use = call(client, world, "DELETE", f"{CATEGORIES}/zzlife.library", 409)["error"]
    assert in_use["code"] == "category_in_use" and in_use["details"]["requests"] == 1
    assert "Retire it instead" in in_use["message"]
    parent_in_use = call(client, world, "DELETE", f"{CATEGORIES}/zzlife", 409)["error"]
    assert parent_in_use["code"] == "category_in_use" and parent_in_use["details"]["children"] == 1

    call(client, world, "PATCH", f"{CATEGORIES}/zzlife.library", 200, body={"active": True, "name_zh": "社区图书室"})
    assert submit(client, world, "resident_a", category="zzlife.library")["category"] == "zzlife.library"
    assert admin_category(client, world, "zzlife.library")["name_zh"] == "社区图书室"

    call(client, world, "POST", CATEGORIES, 201, body={
        "code": "zzlife.unused", "parent": "zzlife", "name_zh": "未用", "name_en": "Unused"})
    assert call(client, world, "DELETE", f"{CATEGORIES}/zzlife.unused", 204) is None
    assert "zzlife.unused" not in {c["code"] for c in get(client, world, "admin", "/admin/categories")}


def test_retiring_a_top_level_retires_its_leaves(client, world, runtime):
    """One call takes a branch out of use; a leaf cannot come back while its top level is retired."""
    call(client, world, "POST", CATEGORIES, 201, body={"code": "zzpark", "name_zh": "公园", "name_en": "Parks"})
    call(client, world, "POST", CATEGORIES, 201, body={
        "code": "zzpark.bench", "parent": "zzpark", "name_zh": "长椅", "name_en": "Benches"})
    call(client, world, "PATCH", f"{CATEGORIES}/zzpark", 200, body={"active": False})
    assert admin_category(client, world, "zzpark.bench")["active"] is False
    assert submit(client, world, "resident_a", expect=422, category="zzpark.bench")["error"]["code"] == \
        "unknown_category"
    back = call(client, world, "PATCH", f"{CATEGORIES}/zzpark.bench", 409, body={"active": True})["error"]
    assert back["code"] == "parent_retired"
    # Nothing uses the branch, so it can be deleted leaf first.
    call(client, world, "DELETE", f"{CATEGORIES}/zzpark.bench", 204)
    call(client, world, "DELETE", f"{CATEGORIES}/zzpark", 204)


def test_category_named_by_a_rule_cannot_be_deleted(client, world):
    call(client, world, "POST", CATEGORIES, 201, body={"code": "zzrule", "name_zh": "规则", "name_en": "Rule"})
    rule = call(client, world, "POST", "/api/v1/admin/rules", 201, body={
        "name": "zz", "categories": ["zzrule"], "target": "street"})
    error = call(client, world, "DELETE", f"{CATEGORIES}/zzrule", 409)["error"]
    assert error["code"] == "category_in_use" and error["details"]["rule_ids"] == [rule["id"]]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"code": "ZZ_Upper"}, 422, "invalid_category_code"),
    ({"code": "zz-dash"}, 422, "invalid_category_code"),
    ({"code": "zz.leaf"}, 422, "invalid_category_code"),  # a dotted code needs a parent
    ({"code": "zz" + "x" * 40}, 422, "invalid_category_code"),
    ({"code": "sanitation.zz", "parent": "disputes"}, 422, "invalid_category_code"),  # not under its parent
    ({"code": "sanitation.pests.zz", "parent": "sanitation.pests"}, 422, "parent_not_top_level"),
    ({"code": "zznone.leaf", "parent": "zznone"}, 422, "unknown_parent"),
    ({"code": "sanitation"}, 409, "category_exists"),
    ({"code": "zzx", "urgency": "whenever"}, 422, "unknown_urgency"),
    ({"code": "zzx", "deadline_class": "d30"}, 422, "unknown_deadline_class"),
    ({"code": "zzx", "default_route": "mars"}, 422, "unknown_route"),
    ({"code": "zzx", "name_zh": "  "}, 422, "name_required"),
    ({"code": "zzx", "sort_order": -1}, 422, "invalid_sort_order"),
    ({"code": "zzx", "sort_order": "1"}, 422, "validation_error"),
])
def test_bad_category_is_refused_and_nothing_changes(client, world, runtime, body, status, code):
    before = quiet_counts(runtime)
    listed = get(client, world, "admin", "/admin/categories")
    error = call(client, world, "POST", CATEGORIES, status,
                 body={"name_zh": "测试", "name_en": "Test", **body})["error"]
    assert error["code"] == code
    assert table_counts(runtime) == before
    assert get(client, world, "admin", "/admin/categories") == listed


def test_category_changes_are_checked_too(client, world, runtime):
    before = quiet_counts(runtime)
    assert call(client, world, "PATCH", f"{CATEGORIES}/zznothing", 404, body={"active": False})["error"]["code"] == \
        "category_not_found"
    assert call(client, world, "PATCH", f"{CATEGORIES}/disputes.noise", 422,
                body={"urgency": "later"})["error"]["code"] == "unknown_urgency"
    assert call(client, world, "DELETE", f"{CATEGORIES}/zznothing", 404)["error"]["code"] == "category_not_found"
    assert table_counts(runtime) == before
    listing = get(client, world, "admin", "/admin/categories")
    assert len(listing) == 48 and sum(1 for c in listing if c["parent"] is None) == 8


# --- calendar ------------------------------------------------------------------------------------

def resolve_by(runtime, world, now: datetime) -> datetime:
    """A new normal-class request (7 working days) submitted at ``now``: its resolve_by, local time."""
    with unit_of_work(runtime.sessions) as session:
        request = intake_submit(session, world.actors["resident_a"], Submission(
            channel="report", category="disputes.pets", description="楼上的狗整夜叫。",
            community_id=world.ids["community_A"]), now=now)
        return request.resolve_by.astimezone(CST)


def test_listing_shows_the_seeded_national_day(client, world):
    days = get(client, world, "admin", "/admin/calendar", year=2026)
    national = [(d["day"], d["kind"]) for d in days if d["name"].startswith("国庆节")]
    assert national == [
        ("2026-09-20", "workday"), ("2026-10-01", "holiday"), ("2026-10-02", "holiday"),
        ("2026-10-05", "holiday"), ("2026-10-06", "holiday"), ("2026-10-07", "holiday"), ("2026-10-10", "workday"),
    ]
    assert get(client, world, "admin", "/admin/calendar", year=2031) == []


def test_a_new_holiday_moves_new_deadlines_by_a_day(client, world, runtime):
    """Monday 16 November 2026 + 7 working days is Wednesday 25th; with Wednesday 18th off, Thursday 26th.
    A request taken in before the change keeps the deadline it was given."""
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
    before = resolve_by(runtime, world, monday)
    assert before == datetime(2026, 11, 25, 9, 0, tzinfo=CST)

    added = call(client, world, "PUT", f"{CALENDAR}/2026-11-18", 200, body={"kind": "holiday", "name": "zz 临时休息"})
    assert added == {"day": "2026-11-18", "kind": "holiday", "name": "zz 临时休息"}
    assert resolve_by(runtime, world, monday) == datetime(2026, 11, 26, 9, 0, tzinfo=CST)
    assert {"day": "2026-11-18", "kind": "holiday", "name": "zz 临时休息"} in \
        get(client, world, "admin", "/admin/calendar", year=2026)

    # A worked Saturday in between brings it back a day.
    call(client, world, "PUT", f"{CALENDAR}/2026-11-21", 200, body={"kind": "workday", "name": "zz 补班"})
    assert resolve_by(runtime, world, monday) == datetime(2026, 11, 25, 9, 0, tzinfo=CST)

    assert call(client, world, "DELETE", f"{CALENDAR}/2026-11-21", 204) is None
    assert call(client, world, "DELETE", f"{CALENDAR}/2026-11-18", 204) is None
    assert resolve_by(runtime, world, monday) == before
    missing = call(client, world, "DELETE", f"{CALENDAR}/2026-11-18", 404)["error"]
    assert missing["code"] == "calendar_day_not_found"


@pytest.mark.parametrize(("day", "body", "code"), [
    ("2026-11-21", {"kind": "holiday", "name": "zz"}, "not_a_weekday"),   # a Saturday
    ("2026-11-18", {"kind": "workday", "name": "zz"}, "not_a_weekend"),   # a Wednesday
    ("2026-11-18", {"kind": "vacation", "name": "zz"}, "unknown_day_kind"),
    ("2026-02-30", {"kind": "holiday", "name": "zz"}, "validation_error"),
])
def test_calendar_day_that_would_change_nothing_is_refused(client, world, runtime, day, body, code):
    before = quiet_counts(runtime)
    error = call(client, world, "PUT", f"{CALENDAR}/{day}", 422, body=body)["error"]
    assert error["code"] == code
    assert table_counts(runtime) == before


# --- who may ---------------------------------------------------------------------------------------

ADMIN_CALLS = [
    ("GET", CATEGORIES, None),
    ("POST", CATEGORIES, {"code": "zzdenied", "name_zh": "拒绝", "name_en": "Denied"}),
    ("PATCH", f"{CATEGORIES}/disputes.noise", {"active": False}),
    ("DELETE", f"{CATEGORIES}/disputes.family", None),
    ("GET", "/api/v1/admin/rules", None),
    ("POST", "/api/v1/admin/rules", {"name": "zz", "target": "street"}),
    ("PATCH", "/api/v1/admin/rules/1", {"enabled": False}),
    ("DELETE", "/api/v1/admin/rules/1", None),
    ("POST", "/api/v1/admin/rules/reorder", {"ids": [1]}),
    ("GET", f"{CALENDAR}?year=2026", None),
    ("PUT", f"{CALENDAR}/2026-11-18", {"kind": "holiday", "name": "zz"}),
    ("DELETE", f"{CALENDAR}/2026-10-01", None),
]


@pytest.mark.parametrize("user", ["resident_a", "staff_a", "member_1", "officer_1", "secretary_a"])
def test_only_admins_administer(client, world, runtime, user):
    """Every administration call by anyone but an admin is a 403 role_not_allowed and changes nothing."""
    call(client, world, "POST", "/api/v1/admin/rules", 201, body={"name": "zz", "target": "street"})
    before = quiet_counts(runtime)
    for method, path, body in ADMIN_CALLS:
        error = call(client, world, method, path, 403, user=user, body=body)["error"]
        assert error["code"] == "role_not_allowed", (method, path)
    assert table_counts(runtime) == before
    assert admin_category(client, world, "disputes.noise")["active"] is True
    anonymous = client.post(CATEGORIES, json={"code": "zzanon", "name_zh": "匿名", "name_en": "Anonymous"})
    assert anonymous.status_code == 401
