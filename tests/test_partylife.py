"""组织生活 and annual targets, on both backends: staff post an activity with a check-in code, a
member checks in with it on the day (once, however often or by whom), the attendance's points move
the period's assessment while the run made before still reproduces, and the secretary's targets
are checked at mid-year and year end against the ledgers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from workflow.db import unit_of_work
from workflow.models import AuditEntry, PointEntry, utcnow
from workflow.partylife.models import Attendance
from workflow.scoring import runs
from workflow.scoring.periods import local_date

from .helpers import count, get, table_counts


def _today(runtime) -> date:
    return local_date(utcnow(), runtime.settings.timezone)


def _call(client, world, user, method, path, body=None, expect=200):
    answer = client.request(method, f"/api/v1{path}", json=body, headers=world.headers(user))
    assert answer.status_code == expect, answer.text
    return answer.json()


def _activity(client, world, runtime, held_on: date | None = None, kind: str = "theme_day") -> dict:
    return _call(client, world, "staff_a", "POST", f"/communities/{world.ids['community_A']}/activities",
                 {"kind": kind, "title": "主题党日：学习社区议事规则",
                  "held_on": (held_on or _today(runtime)).isoformat(), "place": "党群服务中心"}, expect=201)


def _member_id(client, world, user: str) -> int:
    return get(client, world, user, "/me")["member_id"]


def test_a_member_checks_in_with_the_posted_code_once_and_earns_the_points(client, world, runtime):
    activity = _activity(client, world, runtime)
    code = activity["code"]
    assert len(code) == 6 and activity["kind_label"] and activity["attended"] == 0
    # Members do not read the code from the list: it is posted at the activity.
    listed = get(client, world, "officer_1", f"/communities/{world.ids['community_A']}/activities")
    assert [a["id"] for a in listed] == [activity["id"]] and listed[0]["code"] is None

    first = _call(client, world, "member_1", "POST", "/activities/check-in", {"code": f" {code.lower()} "})
    assert first == {"activity_id": activity["id"], "title": activity["title"],
                     "held_on": activity["held_on"], "new": True}
    again = _call(client, world, "member_1", "POST", "/activities/check-in", {"code": code})
    assert again["new"] is False
    # The organiser checking the same member in changes nothing either.
    member_1 = _member_id(client, world, "member_1")
    detail = _call(client, world, "staff_a", "POST", f"/activities/{activity['id']}/attendance",
                   {"member_id": member_1})
    assert [(a["member_id"], a["method"]) for a in detail["attendees"]] == [(member_1, "code")]
    assert member_1 not in {m["member_id"] for m in detail["not_checked_in"]}
    assert count(runtime, Attendance) == 1
    with unit_of_work(runtime.sessions) as session:
        points = session.query(PointEntry).filter_by(reason="activity_attended").all()
        assert [(p.points, p.local_date) for p in points] == [(2, _today(runtime))]  # theme_day under the defaults
    mine = get(client, world, "member_1", "/activities/mine")
    assert [(m["activity_id"], m["method"]) for m in mine] == [(activity["id"], "code")]


def test_check_in_refusals_say_what_is_wrong_and_write_nothing(client, world, runtime):
    tomorrow = _activity(client, world, runtime, _today(runtime) + timedelta(days=1))
    yesterday = _activity(client, world, runtime, _today(runtime) - timedelta(days=1))
    today = _activity(client, world, runtime)
    before = table_counts(runtime)

    def refused(user, path, body, status, code):
        answer = client.post(f"/api/v1{path}", json=body, headers=world.headers(user))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
        assert answer.json()["error"]["message"]
        return answer.json()["error"]

    refused("member_1", "/activities/check-in", {"code": "ZZZZZZ"}, 404, "unknown_code")
    refused("member_1", "/activities/check-in", {"code": "   "}, 422, "code_required")
    assert yesterday["held_on"] in refused("member_1", "/activities/check-in", {"code": yesterday["code"]}, 409,
                                           "check_in_closed")["message"]
    refused("member_1", "/activities/check-in", {"code": tomorrow["code"]}, 409, "check_in_closed")
    # member_c is registered with community C, not A; residents and staff do not check in by code.
    refused("member_c", "/activities/check-in", {"code": today["code"]}, 403, "not_registered")
    refused("resident_a", "/activities/check-in", {"code": today["code"]}, 403, "role_not_allowed")
    refused("staff_a", f"/activities/{tomorrow['id']}/attendance", {"member_id": _member_id(client, world, "member_1")},
            409, "not_yet")
    refused("staff_a", f"/activities/{today['id']}/attendance", {"member_id": _member_id(client, world, "member_c")},
            404, "member_not_found")
    refused("staff_b", f"/activities/{today['id']}/attendance", {"member_id": _member_id(client, world, "member_1")},
            403, "out_of_scope")
    refused("staff_b", f"/communities/{world.ids['community_A']}/activities",
            {"kind": "study_day", "title": "x", "held_on": _today(runtime).isoformat()}, 403, "out_of_scope")
    refused("staff_a", f"/communities/{world.ids['community_A']}/activities",
            {"kind": "study_day", "title": "  ", "held_on": _today(runtime).isoformat()}, 422, "title_required")
    refused("member_1", f"/communities/{world.ids['community_A']}/activities",
            {"kind": "study_day", "title": "学习", "held_on": _today(runtime).isoformat()}, 403, "role_not_allowed")
    assert table_counts(runtime) == before
    # The organiser checks a member in afterwards, by the organiser's hand.
    late = _call(client, world, "staff_a", "POST", f"/activities/{yesterday['id']}/attendance",
                 {"member_id": _member_id(client, world, "member_1")})
    assert [a["method"] for a in late["attendees"]] == ["organiser"]
    assert count(runtime, AuditEntry, AuditEntry.action == "activity.check_in") == 1


def test_the_organiser_and_the_member_at_once_count_one_attendance(client, world, runtime):
    activity = _activity(client, world, runtime)
    member_1 = _member_id(client, world, "member_1")
    barrier = threading.Barrier(2)

    def by_code():
        barrier.wait()
        return client.post("/api/v1/activities/check-in", json={"code": activity["code"]},
                           headers=world.headers("member_1")).status_code

    def by_organiser():
        barrier.wait()
        return client.post(f"/api/v1/activities/{activity['id']}/attendance", json={"member_id": member_1},
                           headers=world.headers("staff_a")).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = [f.result() for f in [pool.submit(by_code), pool.submit(by_organiser)]]
    assert statuses == [200, 200]
    assert count(runtime, Attendance) == 1
    with unit_of_work(runtime.sessions) as session:
        assert session.query(PointEntry).filter_by(reason="activity_attended").count() == 1


def test_an_attendance_moves_the_assessment_and_the_run_before_still_reproduces(client, world, runtime):
    with unit_of_work(runtime.sessions) as session:
        period = runs.current_period(session, runtime.settings, utcnow())
        before = runs.recompute(session, runtime.settings, period)
        before_id = before.id
    record = get(client, world, "member_1", f"/members/me/scores/{period}")["records"][0]
    bonus = record["points"]["bonus"]
    activity = _activity(client, world, runtime, kind="care_visit")
    _call(client, world, "member_1", "POST", "/activities/check-in", {"code": activity["code"]})
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, period)
    after = get(client, world, "member_1", f"/members/me/scores/{period}")["records"][0]
    assert after["points"]["bonus"] == bonus + 3  # a care visit is worth 3 under the default policy
    assert [e["reason_label"] for e in after["points"]["entries"] if e["reason"] == "activity_attended"] \
        == ["参加组织生活"]
    with unit_of_work(runtime.sessions) as session:
        old = session.get(runs.ScoreRun, before_id)
        assert runs.reproduce(session, runtime.settings, old) == []


def test_targets_from_the_policy_or_the_secretary_checked_mid_year_and_at_year_end(client, world, runtime):
    year = _today(runtime).year
    community = world.ids["community_A"]
    member_1, member_2 = _member_id(client, world, "member_1"), _member_id(client, world, "member_2")
    code = _activity(client, world, runtime)["code"]
    _call(client, world, "member_1", "POST", "/activities/check-in", {"code": code})
    base = f"/communities/{community}/targets"
    end = get(client, world, "secretary_a", base, year=year, check="year_end")
    rows = {r["member_id"]: r for r in end["rows"]}
    assert set(rows) >= {member_1, member_2} and end["may_set"] is True
    assert rows[member_1]["figures"]["activities"] == {"target": 12, "expected": "12.0", "actual": 1, "met": False}
    assert rows[member_1]["own"] is False and rows[member_1]["status"] in ("behind", "on_track")

    # The secretary sets member_1's own targets: one activity, no hours, no visits. Met.
    saved = _call(client, world, "secretary_a", "PUT", f"/members/{member_1}/targets/{year}",
                  {"hours": "0", "visits": 0, "activities": 1, "note": "退休老党员，行动不便"})
    assert saved["activities"] == 1
    end = {r["member_id"]: r for r in get(client, world, "secretary_a", base, year=year)["rows"]}
    assert end[member_1]["own"] is True and end[member_1]["status"] == "met"
    assert end[member_1]["status_label"] == "已完成"
    # The mid-year check reads January to June against half of each target; it is over by December.
    mid = get(client, world, "secretary_a", base, year=year, check="mid_year")
    assert (mid["from"], mid["to"], mid["over"]) == (f"{year}-01-01", f"{year}-06-30", _today(runtime).month > 6)
    assert {r["member_id"]: r for r in mid["rows"]}[member_2]["figures"]["activities"]["expected"] == "6.0"
    # The member reads their own.
    mine = get(client, world, "member_1", "/me/targets", year=year)
    assert mine["row"]["figures"]["activities"]["actual"] == 1 and mine["row"]["note"] == "退休老党员，行动不便"

    def refused(user, body, status, code, member=member_1):
        answer = client.put(f"/api/v1/members/{member}/targets/{year}", json=body, headers=world.headers(user))
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text

    good = {"hours": "10", "visits": 4, "activities": 6}
    refused("staff_a", good, 403, "role_not_allowed")
    refused("secretary_a", good, 404, "member_not_found", member=_member_id(client, world, "member_c"))
    refused("secretary_a", {**good, "visits": -1}, 422, "validation_error")
    answer = client.put(f"/api/v1/members/{member_1}/targets/{year + 5}", json=good,
                        headers=world.headers("secretary_a"))
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_year")
    assert count(runtime, AuditEntry, AuditEntry.action == "target.set") == 1
    other = client.get(f"/api/v1/communities/{world.ids['community_C']}/targets", headers=world.headers("secretary_a"))
    assert (other.status_code, other.json()["error"]["code"]) == (403, "out_of_scope")
