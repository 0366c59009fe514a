"""The member register (党员名册): classes, each member's entry kept by the desk and by the member,
and the members gone quiet (隐身), on both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx2 as httpx

from workflow.db import unit_of_work
from workflow.identity.models import MemberShowing
from workflow.models import AuditEntry, utcnow
from workflow.people import views
from workflow.people.models import MemberProfile
from workflow.visits import commands as visit_commands

from .helpers import act, all_rows, get, submit, table_counts
from .web.conftest import Browser

TZ = "Asia/Shanghai"


def _patch(client, world, user: str, path: str, body: dict, expect: int = 200) -> dict:
    answer = client.patch(f"/api/v1{path}", json=body, headers=world.headers(user))
    assert answer.status_code == expect, answer.text
    return answer.json()


def _entries(client, world, user: str = "staff_a", **params) -> dict[str, dict]:
    register = get(client, world, user, f"/communities/{world.ids['community_A']}/member-register", **params)
    return {e["display_name"]: e for e in register["entries"]}


def test_the_register_is_kept_by_the_desk_and_each_member_keeps_their_own_entry(client, world):
    member_1 = world.actors["member_1"].member_id
    mine = _patch(client, world, "member_1", "/members/me/profile", {
        "post": "科员", "skills": ["水电", " 法律 ", "水电"], "availability": ["weekend", "weekday_evening"]})
    # Duplicates and spaces go; availability in the register's order.
    assert (mine["skills"], mine["availability"]) == (["水电", "法律"], ["weekday_evening", "weekend"])
    assert get(client, world, "member_1", "/members/me/profile")["post"] == "科员"

    # A member's class is the party organisation's to record: refused, nothing written.
    before = table_counts(client.app.state.runtime)
    refused = client.patch("/api/v1/members/me/profile", json={"class_code": "retired"},
                           headers=world.headers("member_1"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "field_not_yours")
    assert table_counts(client.app.state.runtime) == before

    # The desk records it, and sees the entry in the register with the member's home unit.
    _patch(client, world, "staff_a", f"/members/{member_1}/profile", {"class_code": "retired"})
    entries = _entries(client, world)
    assert set(entries) == {"member_1", "member_2"}  # registered with A; member_c is C's
    assert {k: entries["member_1"][k] for k in ("class_code", "post", "skills", "unit")} == \
        {"class_code": "retired", "post": "科员", "skills": ["水电", "法律"], "unit": "区税务局"}
    assert entries["member_2"]["class_code"] is None
    assert set(_entries(client, world, **{"class": "retired"})) == {"member_1"}
    assert [e.action for e in all_rows(client.app.state.runtime, AuditEntry, order=AuditEntry.id)
            if e.action == "member.profile"] == ["member.profile"] * 2

    # Another community's desk cannot touch the entry of a member not registered there.
    other = client.patch(f"/api/v1/members/{world.actors['member_c'].member_id}/profile", json={"post": "x"},
                         headers=world.headers("staff_a"))
    assert (other.status_code, other.json()["error"]["code"]) == (403, "out_of_scope")


def test_bad_entries_are_refused_with_a_reason_and_write_nothing(client, world, runtime):
    member_1 = world.actors["member_1"].member_id
    cases = [
        ({"class_code": "astronaut"}, 422, "unknown_member_class"),
        # The schema's limits, with the field named.
        ({"skills": ["一" * 21]}, 422, "validation_error"),
        ({"skills": [f"s{i}" for i in range(11)]}, 422, "validation_error"),
        ({"availability": ["midnight"]}, 422, "validation_error"),
        ({"nickname": "x"}, 422, "validation_error"),
    ]
    before = table_counts(runtime)
    for body, status, code in cases:
        answer = client.patch(f"/api/v1/members/{member_1}/profile", json=body, headers=world.headers("staff_a"))
        assert answer.status_code == status, (body, answer.text)
        error = answer.json()["error"]
        assert error["message"] and error["code"] == code, (body, error)
    missing = client.patch("/api/v1/members/999999/profile", json={"post": "x"}, headers=world.headers("admin"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "member_not_found")
    assert table_counts(runtime) == before


def test_an_admin_adds_a_member_class_once(client, world):
    body = {"code": "student", "name_zh": "学生党员", "name_en": "Student member"}
    created = client.post("/api/v1/admin/member-classes", json=body, headers=world.headers("admin"))
    assert created.status_code == 201, created.text
    again = client.post("/api/v1/admin/member-classes", json=body, headers=world.headers("admin"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "member_class_exists")
    builtin = client.post("/api/v1/admin/member-classes", json={**body, "code": "retired"},
                          headers=world.headers("admin"))
    assert (builtin.status_code, builtin.json()["error"]["code"]) == (409, "member_class_exists")
    bad = client.post("/api/v1/admin/member-classes", json={**body, "code": "Student!"},
                      headers=world.headers("admin"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_code")
    listed = get(client, world, "member_1", "/member-classes", headers={"Accept-Language": "zh-CN"})
    assert [c["code"] for c in listed] == ["in_service", "retired", "mobile", "new_organisation", "student"]
    assert {c["code"]: c["name"] for c in listed}["retired"] == "离退休党员"
    _patch(client, world, "secretary_a", f"/members/{world.actors['member_2'].member_id}/profile",
           {"class_code": "student"})
    assert set(_entries(client, world, "secretary_a", **{"class": "student"})) == {"member_2"}
    unknown = client.get(f"/api/v1/communities/{world.ids['community_A']}/member-register",
                         params={"class": "astronaut"}, headers=world.headers("staff_a"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_member_class")


def test_members_gone_quiet_are_listed_with_the_reason_by_the_policys_weeks(client, world, runtime):
    """隐身 is computed from what members did: no task claimed and no visit recorded for the policy's
    quiet_weeks (8 by default). A visit brings a member back; a policy with fewer weeks finds them
    quiet again."""
    start = utcnow()
    with unit_of_work(runtime.sessions) as session:
        household = visit_commands.create_household(session, world.actors["staff_a"], {
            "building_id": world.ids["building_A"], "code": "A-201", "door": "2单元201", "tags": []},
            timezone=TZ, now=start)
        household_id = household.id

    def quiet(weeks_later: float) -> dict[str, str | None]:
        with unit_of_work(runtime.sessions) as session:
            found = views.register(session, world.actors["secretary_a"], world.ids["community_A"], timezone=TZ,
                                   now=start + timedelta(weeks=weeks_later))
        return {e["display_name"]: e["quiet_reason"] for e in found["entries"]}

    assert quiet(1) == {"member_1": None, "member_2": None}
    assert quiet(9) == {"member_1": "nothing_since_registering", "member_2": "nothing_since_registering"}

    visited = start + timedelta(weeks=5)
    with unit_of_work(runtime.sessions) as session:
        visit_commands.record_visit(session, world.actors["member_1"], household_id,
                                    {"date": (visited + timedelta(hours=8)).date()}, timezone=TZ, now=visited)
    assert quiet(9) == {"member_1": None, "member_2": "nothing_since_registering"}

    later = (start + timedelta(weeks=9)).astimezone().date()
    created = client.post("/api/v1/admin/scoring-policies", json={
        "effective_from": date(later.year, later.month, 1).isoformat(), "rules": {"people": {"quiet_weeks": 3}}},
        headers=world.headers("admin"))
    assert created.status_code == 201, created.text
    assert quiet(9) == {"member_1": "nothing_since", "member_2": "nothing_since_registering"}

    # Through the API, today: both registered just now, none quiet under the policy in force.
    register = get(client, world, "officer_1", f"/communities/{world.ids['community_A']}/member-register",
                   quiet="true")
    assert (register["members"], register["quiet"], register["quiet_weeks"], register["entries"]) == (2, 0, 8, [])


def _race(live_server, world, calls: list[tuple[str, str, str, dict]]) -> list:
    barrier = threading.Barrier(len(calls))

    def one(call):
        method, path, user, body = call
        with httpx.Client(base_url=live_server, timeout=60) as c:
            barrier.wait()
            return c.request(method, path, json=body, headers=world.headers(user))

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_the_member_and_the_desk_making_the_first_entry_at_once_both_land(live_server, world, runtime):
    member_1 = world.actors["member_1"].member_id
    answers = _race(live_server, world, [
        ("PATCH", "/api/v1/members/me/profile", "member_1", {"skills": ["理发"]}),
        ("PATCH", f"/api/v1/members/{member_1}/profile", "staff_a", {"class_code": "mobile"})])
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    (row,) = all_rows(runtime, MemberProfile)
    assert (row.skills, row.class_code) == (["理发"], "mobile")  # neither edit lost


def test_two_first_choices_of_what_residents_see_made_at_once_both_land(live_server, world, runtime):
    answers = _race(live_server, world, [
        ("PUT", "/api/v1/members/me/showing", "member_1", {"title": "楼栋长"}),
        ("PUT", "/api/v1/members/me/showing", "member_1", {"show_unit": False})])
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    (row,) = all_rows(runtime, MemberShowing)
    assert (row.title, row.show_unit, row.show_name) == ("楼栋长", False, True)


def _task(client, world, runtime, category: str) -> int:
    rid = submit(client, world, "resident_a", category=category)["id"]
    runtime.drain()
    status = get(client, world, "staff_a", f"/requests/{rid}")["status"]
    if status != "open_task":  # routed to the desk: it publishes the task
        assert status == "community", status
        act(client, world, "staff_a", rid, "publish-task")
    return rid


def test_a_task_calling_for_a_skill_finds_the_members_who_have_it_and_they_find_it(client, world, runtime):
    """Categories name the skills their tasks call for (a subcategory also its parent's). The desk
    sees the registered members who have them; a member's board can show only the tasks that call
    for their skills."""
    admin = world.headers("admin")
    set_skills = client.patch("/api/v1/admin/categories/disputes", json={"skills": ["调解", "法律"]}, headers=admin)
    assert set_skills.status_code == 200 and set_skills.json()["skills"] == ["调解", "法律"], set_skills.text
    too_many = client.patch("/api/v1/admin/categories/disputes", json={"skills": [f"s{i}" for i in range(11)]},
                            headers=admin)
    assert too_many.status_code == 422
    _patch(client, world, "member_1", "/members/me/profile", {"skills": ["法律", "水电"]})
    _patch(client, world, "member_2", "/members/me/profile", {"skills": ["理发"]})
    noise = _task(client, world, runtime, "disputes.noise")  # its parent calls for 调解 and 法律
    clutter = _task(client, world, runtime, "sanitation.corridor_clutter")  # calls for nothing

    skilled = get(client, world, "staff_a", f"/requests/{noise}/skilled-members")
    assert skilled == [{"member_id": world.actors["member_1"].member_id, "display_name": "member_1",
                        "skills": ["法律"]}]
    assert get(client, world, "staff_a", f"/requests/{clutter}/skilled-members") == []

    assert {t["id"] for t in get(client, world, "member_1", "/tasks")} == {noise, clutter}
    assert [t["id"] for t in get(client, world, "member_1", "/tasks", matching="true")] == [noise]
    assert get(client, world, "member_2", "/tasks", matching="true") == []

    # The desk sees them on the request page; the member filters the board.
    desk = Browser(client)
    desk.login("staff_a")
    page = desk.get(f"/requests/{noise}")
    assert "特长对口的党员" in page.text and "member_1：法律" in page.text
    board = Browser(client)
    board.login("member_1")
    assert f"/requests/{clutter}" not in board.get("/member/tasks?matching=true").text
    assert f"/requests/{noise}" in board.get("/member/tasks?matching=true").text
