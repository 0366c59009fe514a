"""收 as planned work: households, pairings, home visits (走访), inspection rounds (巡查) and the
coverage computed from them, on both backends."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import delete, select

from workflow.db import unit_of_work
from workflow.models import (
    Channel,
    Notification,
    PersonalDataRead,
    PointEntry,
    Request,
    Satisfaction,
    ScopeKind,
    ScoreRun,
    UnitScore,
    utcnow,
)
from workflow.scoring import runs
from workflow.scoring.periods import local_date
from workflow.visits import commands, coverage
from workflow.visits.models import CoverageCount, Visit

from .helpers import all_rows, count, get, table_counts
from .test_concurrency import _race
from .test_scoring_engine import Facts
from .web.conftest import Browser

TZ = "Asia/Shanghai"
SEPT = datetime(2026, 9, 20, 2, tzinfo=UTC)  # the register was made then


def _at(day: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, 3, tzinfo=UTC)  # 11:00 in Shanghai


def _household(runtime, world, code: str, tags: list[str], pair: str | None, *, community: str = "A",
               staff: str = "staff_a", contact: tuple[str, str] = ("", "")) -> int:
    with unit_of_work(runtime.sessions) as session:
        household = commands.create_household(session, world.actors[staff], {
            "building_id": world.ids[f"building_{community}"], "code": code, "door": f"1单元{code[-3:]}",
            "tags": tags, "contact_name": contact[0], "contact_phone": contact[1]}, timezone=TZ, now=SEPT)
        if pair:
            commands.pair_member(session, world.actors[staff], household.id, world.actors[pair].member_id,
                                 timezone=TZ, now=SEPT)
        return household.id


def _visit(runtime, world, who: str, household_id: int, day: int, **data) -> None:
    with unit_of_work(runtime.sessions) as session:
        commands.record_visit(session, world.actors[who], household_id, {"date": date(2026, 10, day), **data},
                              timezone=TZ, now=_at(day))


def _october(runtime, world) -> dict[str, int]:
    """Four households of community A and what their members did in October 2026."""
    h = {
        "h1": _household(runtime, world, "A-101", ["party_member"], "member_1"),
        "h2": _household(runtime, world, "A-102", ["party_member"], "member_2"),
        "h3": _household(runtime, world, "A-103", ["needy"], "member_1"),
        "h4": _household(runtime, world, "A-104", [], "member_2"),
    }
    _visit(runtime, world, "member_1", h["h1"], 10)  # its own member: the month and the quarter are done
    _visit(runtime, world, "member_2", h["h3"], 5)  # any member counts for a household in need...
    _visit(runtime, world, "member_2", h["h3"], 20)  # ...twice a month; the quarter wants its own member
    _visit(runtime, world, "member_2", h["h4"], 3)  # every household once a quarter, by its member
    return h  # h2: nobody went


def test_a_month_of_visits_gives_the_coverage_of_every_level(client, world, runtime):
    h = _october(runtime, world)
    report = get(client, world, "secretary_a", f"/coverage/2026-10/community/{world.ids['community_A']}")
    assert report["as_of"] == "2026-10-31"
    assert report["totals"] == {"households": 4, "visited": 2, "due": 1, "overdue": 1, "never_visited": 1,
                                "visits": 4, "coverage": 0.5}
    [building] = report["buildings"]
    assert (building["name"], building["visited"], building["overdue"]) == ("1号楼", 2, 1)
    members = {m["display_name"]: m for m in report["members"]}
    assert {k: (m["households"], m["visited"], m["due"], m["overdue"], m["visits"]) for k, m in members.items()} == {
        "member_1": (2, 1, 1, 0, 1), "member_2": (2, 1, 0, 1, 3)}
    [grid] = report["grids"]
    assert (grid["name"], grid["households"]["households"], grid["rounds"], grid["inspected"]) == \
        ("一网格", 4, 0, False)

    street = get(client, world, "officer_1", f"/coverage/2026-10/street/{world.ids['street_S1']}")
    assert street["totals"] == report["totals"]
    assert {c["name"]: c["households"] for c in street["communities"]} == {"社区A": 4, "社区B": 0}

    # Who was missed: h2, overdue and never visited, with the member who looks after it.
    missed = get(client, world, "secretary_a", f"/coverage/2026-10/community/{world.ids['community_A']}/missed")
    assert [(m["household_id"], m["status"], m["never_visited"], [x["display_name"] for x in m["members"]])
            for m in missed["households"]] == [(h["h2"], "overdue", True, ["member_2"])]
    assert missed["households"][0]["door"] == "1单元102"

    # The secretary's reminder reaches that member's inbox.
    response = client.post(f"/api/v1/households/{h['h2']}/reminders", headers=world.headers("secretary_a"))
    assert response.status_code == 201, response.text
    assert response.json() == {"household_id": h["h2"], "recipients": 1}
    runtime.drain()
    [note] = get(client, world, "member_2", "/notifications")
    assert note["kind"] == "visit_due" and note["data"]["household_id"] == h["h2"]
    assert get(client, world, "member_1", "/notifications") == []


def test_coverage_read_again_follows_every_change(client, world, runtime):
    """The figures are kept per community between reads: each change a secretary could make shows
    at the next read, on the community's page and on the street's."""
    h = _october(runtime, world)
    community = f"/coverage/2026-10/community/{world.ids['community_A']}"
    street = f"/coverage/2026-10/street/{world.ids['street_S1']}"

    def read() -> tuple[dict, dict, dict]:
        report = get(client, world, "secretary_a", community)
        members = {m["display_name"]: (m["households"], m["visited"]) for m in report["members"]}
        return report["totals"], get(client, world, "officer_1", street)["totals"], members

    first, first_street, members = read()
    assert (first["visited"], first["overdue"], first_street == first) == (2, 1, True)
    assert members == {"member_1": (2, 1), "member_2": (2, 1)}
    assert read()[0] == first  # read again, nothing changed
    # A late visit of the household nobody went to (recorded on the 31st, for the 25th).
    with unit_of_work(runtime.sessions) as session:
        commands.record_visit(session, world.actors["member_2"], h["h2"], {"date": date(2026, 10, 25)},
                              timezone=TZ, now=_at(31))
    totals, street_totals, members = read()
    assert (totals["visited"], totals["overdue"], totals["visits"], street_totals == totals) == (3, 0, 5, True)
    assert members["member_2"] == (2, 2)
    # The household in need is no longer counted (moved away): one household fewer.
    with unit_of_work(runtime.sessions) as session:
        commands.update_household(session, world.actors["staff_a"], h["h3"], {"active": False}, now=_at(31))
    totals, street_totals, members = read()
    assert (totals["households"], street_totals["households"], members["member_1"]) == (3, 3, (1, 1))
    # Its tag changed: h4 becomes a household in need, visited once where twice a month are wanted.
    with unit_of_work(runtime.sessions) as session:
        commands.update_household(session, world.actors["staff_a"], h["h4"], {"tags": ["needy"]}, now=_at(31))
    totals, _street, _members = read()
    assert (totals["households"], totals["visited"]) == (3, 2)
    # member_1 hands h1 over on the 30th: on the 31st they look after nobody.
    with unit_of_work(runtime.sessions) as session:
        [pairing] = [p for p in commands.repo.pairings_of_household(session, h["h1"], on=date(2026, 10, 1))]
        commands.end_pairing(session, world.actors["staff_a"], h["h1"], pairing.id, ends_on=date(2026, 10, 30),
                             timezone=TZ, now=_at(30))
    assert "member_1" not in read()[2]


def test_kept_coverage_moved_on_by_visits_equals_counting_afresh(client, world, runtime):
    """Between reads the kept figures are moved on by the visits recorded since: after each visit
    (its own member, another member, staff, two on one day, one late) every page reads what a
    count from nothing gives."""
    h = _october(runtime, world)
    pages = [("secretary_a", f"/coverage/2026-10/community/{world.ids['community_A']}"),
             ("officer_1", f"/coverage/2026-10/street/{world.ids['street_S1']}"),
             ("secretary_a", f"/coverage/2026-09/community/{world.ids['community_A']}")]

    def both() -> tuple[list, list]:
        kept = [get(client, world, who, url) for who, url in pages]
        coverage._PARTS._by_engine.clear()  # nothing kept: what counting afresh gives
        return kept, [get(client, world, who, url) for who, url in pages]

    kept, fresh = both()
    assert kept == fresh
    for who, household, day in [("member_2", "h2", 12), ("member_1", "h2", 12), ("staff_a", "h4", 14),
                                ("member_1", "h3", 28), ("member_2", "h1", 30), ("member_1", "h2", 30)]:
        get(client, world, "secretary_a", pages[0][1])  # kept at the version before the visit
        _visit(runtime, world, who, h[household], day)
        kept, fresh = both()
        assert kept == fresh, (who, household, day)
    assert kept[0]["totals"]["visits"] == 10 and kept[0]["totals"]["visited"] == 4


def test_a_wide_plan_counts_the_same_as_household_by_household(client, world, runtime):
    """A street office's plan with many rules (more facts than fit in one column of the counting
    query): the grouped figures still equal the households' own states, one by one."""
    pers, bys = ["week", "half_month", "month", "quarter"], ["paired_member", "any_member", "staff", "anyone"]
    tags = ["party_member", "needy", "key", "special", "empty_nest", "*"]
    rules = [{"tag": tag, "by": by, "per": pers[(t + b) % 4], "times": 1 + (t * 4 + b) % 3}
             for t, tag in enumerate(tags) for b, by in enumerate(bys)]
    created = client.post("/api/v1/admin/scoring-policies", headers=world.headers("admin"), json={
        "effective_from": "2026-10-01", "rules": {"visits": {"rules": rules}}})
    assert created.status_code == 201, created.text
    h = _october(runtime, world)
    _visit(runtime, world, "staff_a", h["h2"], 21)
    _visit(runtime, world, "member_2", h["h1"], 22)
    report = get(client, world, "secretary_a", f"/coverage/2026-10/community/{world.ids['community_A']}")
    with unit_of_work(runtime.sessions) as session:
        found, _start, _as_of = coverage.states(session, [world.ids["community_A"]], "2026-10",
                                                local_date(utcnow(), TZ))
    expected = {status: sum(1 for s in found if s.status == status) for status in ("visited", "due", "overdue")}
    assert {k: report["totals"][k] for k in expected} == expected
    assert report["totals"]["households"] == len(found) == 4
    assert expected["visited"] < 4  # the wide plan asks for more than was done


def test_a_window_the_household_joined_late_is_not_owed(client, world, runtime):
    """Read for September, when the register was made on the 20th: every window then (the month,
    the second half-month, the third quarter) had begun before, so none is overdue; all are due."""
    _october(runtime, world)
    report = get(client, world, "secretary_a", f"/coverage/2026-09/community/{world.ids['community_A']}")
    assert report["as_of"] == "2026-09-30"
    assert report["totals"] == {"households": 4, "visited": 0, "due": 4, "overdue": 0, "never_visited": 4,
                                "visits": 0, "coverage": 0.0}
    # Before the register, there is nothing to count.
    august = get(client, world, "secretary_a", f"/coverage/2026-08/community/{world.ids['community_A']}")
    assert august["totals"]["households"] == 0 and august["totals"]["coverage"] is None


def test_my_households_are_sorted_by_when_they_are_due(client, world, runtime):
    with unit_of_work(runtime.sessions) as session:
        staff = world.actors["staff_a"]
        # Due by the half-month's end, the month's, the quarter's (ties, at a month's end, by age).
        for code, tags in (("A-201", ["needy"]), ("A-202", ["party_member"]), ("A-203", [])):
            h = commands.create_household(session, staff, {"building_id": world.ids["building_A"], "code": code,
                                                           "door": code, "tags": tags}, timezone=TZ)
            commands.pair_member(session, staff, h.id, world.actors["member_1"].member_id, timezone=TZ)
    mine = get(client, world, "member_1", "/members/me/households")
    assert [m["code"] for m in mine] == ["A-201", "A-202", "A-203"]
    assert all(m["status"] == "due" and not m["visited_today"] for m in mine)
    first = mine[0]["id"]

    # One tap: an empty body is a visit today, at home, all well.
    response = client.post(f"/api/v1/households/{first}/visits", headers=world.headers("member_1"))
    assert response.status_code == 201, response.text
    assert response.json()["paired"] is True and response.json()["outcome"] == "all_well"
    mine = get(client, world, "member_1", "/members/me/households")
    assert [m["code"] for m in mine][-1] == "A-201" and mine[-1]["visited_today"]
    assert mine[-1]["status"] == "visited"


def test_a_visit_that_found_a_problem_opens_exactly_one_request(client, world, runtime):
    household = _household(runtime, world, "A-301", ["empty_nest"], "member_1", contact=("王阿姨", "13800001234"))
    body = {"outcome": "problem", "note": "楼道灯坏了",
            "problem": {"category": "facilities.streetlight", "description": "3楼楼道灯不亮，老人夜里看不见"}}
    first = client.post(f"/api/v1/households/{household}/visits", json=body, headers=world.headers("member_1"))
    assert first.status_code == 201, first.text
    again = client.post(f"/api/v1/households/{household}/visits", json=body, headers=world.headers("member_1"))
    assert again.status_code == 200 and again.json() == first.json()  # the same visit, nothing more
    requests = all_rows(runtime, Request)
    assert len(requests) == 1
    request = requests[0]
    assert first.json()["request_id"] == request.id
    assert request.channel == Channel.visit and request.collector_id == world.ids["member_1"]
    assert request.building_id == world.ids["building_A"] and request.address == "1号楼 1单元301"
    assert (request.contact_name, request.contact_phone) == ("王阿姨", "13800001234")
    assert count(runtime, Visit) == 1


def test_refused_visits_write_nothing(client, world, runtime):
    own = _household(runtime, world, "A-401", ["party_member"], "member_1")
    other = _household(runtime, world, "C-401", [], None, community="C", staff="admin")
    before = table_counts(runtime)
    cases = [
        ("member_1", own, {"date": "2099-01-01"}, 422, "visit_in_future"),
        ("member_1", own, {"date": "2026-09-01"}, 422, "visit_before_household"),
        ("resident_a", own, {}, 403, "role_not_allowed"),
        ("staff_b", own, {}, 403, "out_of_scope"),
        ("officer_1", own, {}, 403, "role_not_allowed"),
        ("member_c", own, {}, 403, "not_registered"),
        ("member_1", own, {"outcome": "problem"}, 422, "problem_required"),
        ("member_1", own, {"outcome": "problem", "problem": {"category": "nope.nope", "description": "x"}}, 422,
         "unknown_category"),
        ("member_1", own, {"method": "carrier_pigeon"}, 422, "validation_error"),
        ("member_1", 2_000_000, {}, 404, "household_not_found"),
        ("member_1", other, {}, 403, "not_registered"),
        ("staff_a", other, {}, 403, "out_of_scope"),
    ]
    for who, household, body, status, code in cases:
        response = client.post(f"/api/v1/households/{household}/visits", json=body, headers=world.headers(who))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (who, body, response.text)
        assert response.json()["error"]["message"]
    assert table_counts(runtime) == before


def _photo(client, world, who: str, colour: tuple[int, int, int] = (20, 120, 40)) -> int:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "JPEG")
    response = client.post("/api/v1/photos", headers=world.headers(who),
                           files={"file": ("visit.jpg", out.getvalue(), "image/jpeg")})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_visit_keeps_its_photos_for_its_visitor_and_the_communitys_desk(client, world, runtime):
    """A visit with all well (or a need) keeps the photos taken on it; they may show a home, so
    only the visitor and the community's staff and secretary see them."""
    household = _household(runtime, world, "A-501", ["needy"], "member_1")
    first = _photo(client, world, "member_1")
    visit = client.post(f"/api/v1/households/{household}/visits", headers=world.headers("member_1"),
                        json={"outcome": "need", "note": "灯泡坏了，想请人换", "photo_ids": [first]})
    assert visit.status_code == 201, visit.text
    assert visit.json()["photo_ids"] == [first] and visit.json()["request_id"] is None
    # Tapped again the same day with another photo: the same visit, the photo joins it.
    second = _photo(client, world, "member_1", (90, 90, 200))
    again = client.post(f"/api/v1/households/{household}/visits", headers=world.headers("member_1"),
                        json={"photo_ids": [second]})
    assert (again.status_code, again.json()["id"], again.json()["photo_ids"]) == (200, visit.json()["id"],
                                                                                  [first, second])
    for who in ("member_1", "staff_a", "secretary_a"):
        read = get(client, world, who, f"/households/{household}")
        assert read["visits"][0]["photo_ids"] == [first, second], who
        assert client.get(f"/api/v1/photos/{first}", headers=world.headers(who)).status_code == 200, who
    for who in ("member_2", "officer_1", "staff_b"):  # another member of the community, the street, another desk
        response = client.get(f"/api/v1/photos/{first}", headers=world.headers(who))
        assert response.status_code == 404, who
    assert get(client, world, "member_2", f"/households/{household}")["visits"][0]["photo_ids"] == []
    # A photo attached once is not attached again, to another visit: refused, nothing written.
    other = _household(runtime, world, "A-502", [], "member_1")
    before = table_counts(runtime)
    reused = client.post(f"/api/v1/households/{other}/visits", headers=world.headers("member_1"),
                         json={"photo_ids": [first]})
    assert (reused.status_code, reused.json()["error"]["code"]) == (422, "invalid_photo")
    assert table_counts(runtime) == before


def test_households_are_kept_by_their_staff_and_read_masked(client, world, runtime):
    headers = world.headers("staff_a")
    body = {"building_id": world.ids["building_A"], "code": "A-501", "door": "2单元501", "tags": ["needy", "key"],
            "contact_name": "李大爷", "contact_phone": "13900005678"}
    response = client.post("/api/v1/households", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["contact_name"], created["tags"]) == ("李大爷", ["needy", "key"])
    # The same code twice, an unknown tag, another community's staff: refused, nothing written.
    before = table_counts(runtime)
    for who, payload, status, code in (
            ("staff_a", body, 409, "household_code_taken"),
            ("staff_a", {**body, "code": "A-502", "tags": ["vip"]}, 422, "unknown_tag"),
            ("staff_b", {**body, "code": "A-503"}, 403, "out_of_scope"),
            ("member_1", {**body, "code": "A-504"}, 403, "role_not_allowed")):
        refused = client.post("/api/v1/households", json=payload, headers=world.headers(who))
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), refused.text
    assert table_counts(runtime) == before

    # Lists mask the contact for everyone; the member registered there reads the household masked.
    listed = get(client, world, "staff_a", f"/communities/{world.ids['community_A']}/households")
    assert [(h["code"], h["contact_name"], h["contact_phone"]) for h in listed] == [("A-501", "李**", "139****5678")]
    member_view = get(client, world, "member_1", f"/households/{created['id']}")
    assert member_view["contact_phone"] == "139****5678"
    reads = count(runtime, PersonalDataRead)
    desk_view = get(client, world, "secretary_a", f"/households/{created['id']}")
    assert desk_view["contact_phone"] == "13900005678"
    assert count(runtime, PersonalDataRead) == reads + 1  # the whole contact was read, and that is logged
    with unit_of_work(runtime.sessions) as session:
        row = session.scalars(select(PersonalDataRead).order_by(PersonalDataRead.id.desc())).first()
        assert (row.household_id, row.request_id, row.account_id) == (created["id"], None, world.ids["secretary_a"])

    # An admin adds a kind of household; staff may then use it.
    tag = client.post("/api/v1/admin/household-tags", json={"code": "disabled", "name_zh": "残疾人户",
                                                            "name_en": "Disabled resident"},
                      headers=world.headers("admin"))
    assert tag.status_code == 201, tag.text
    patched = client.patch(f"/api/v1/households/{created['id']}", json={"tags": ["disabled"]}, headers=headers)
    assert patched.status_code == 200 and patched.json()["tags"] == ["disabled"]
    names = {t["code"]: t["name"] for t in get(client, world, "member_1", "/household-tags")}
    assert names["party_member"] == "党员户" and names["disabled"] == "残疾人户"


def test_pairings_keep_their_history(client, world, runtime):
    household = _household(runtime, world, "A-601", [], "member_1")
    [pairing] = get(client, world, "staff_a", f"/households/{household}")["pairings"]
    response = client.post(f"/api/v1/households/{household}/pairings/{pairing['id']}/end", json={},
                           headers=world.headers("staff_a"))
    assert response.status_code == 200, response.text
    again = client.post(f"/api/v1/households/{household}/pairings",
                        json={"member_id": world.actors["member_2"].member_id}, headers=world.headers("staff_a"))
    assert again.status_code == 201, again.text
    pairings = get(client, world, "staff_a", f"/households/{household}")["pairings"]
    assert [(p["display_name"], p["ends_on"] is None) for p in pairings] == [("member_1", False), ("member_2", True)]
    not_there = client.post(f"/api/v1/households/{household}/pairings",
                            json={"member_id": world.actors["member_c"].member_id}, headers=world.headers("staff_a"))
    assert (not_there.status_code, not_there.json()["error"]["code"]) == (422, "not_registered")


def test_a_building_has_one_center_household_at_a_time_and_residents_see_it(client, world, runtime):
    """党员中心户: staff name a member; naming the next one hands over the day before; the history is
    kept; the building's serving list (and so its poster) puts the center household first."""
    building = world.ids["building_A"]
    url = f"/api/v1/buildings/{building}/center-households"
    _household(runtime, world, "A-701", [], "member_2")  # member_2 serves the building too
    first = client.post(url, json={"member_id": world.actors["member_1"].member_id, "starts_on": "2026-09-01"},
                        headers=world.headers("staff_a"))
    assert first.status_code == 201, first.text
    serving = client.get(f"/api/v1/buildings/{building}/serving").json()["members"]
    assert [(m["name"], m["center"], m["roles"]) for m in serving][0] == ("member_1", True, ["党员中心户"])
    assert [m["name"] for m in serving] == ["member_1", "member_2"]
    poster = client.get(f"/buildings/{building}/poster.pdf")
    assert poster.status_code == 200 and poster.content.startswith(b"%PDF")

    before = table_counts(runtime)
    for who, body, status, code in [
        ("staff_b", {"member_id": world.actors["member_2"].member_id}, 403, "out_of_scope"),
        ("member_1", {"member_id": world.actors["member_2"].member_id}, 403, "role_not_allowed"),
        ("staff_a", {"member_id": world.actors["member_c"].member_id}, 422, "not_registered"),
        ("staff_a", {"member_id": world.actors["member_1"].member_id}, 409, "already_center_household"),
        ("staff_a", {"member_id": world.actors["member_2"].member_id, "starts_on": "2026-08-01"}, 409,
         "center_household_later"),
    ]:
        refused = client.post(url, json=body, headers=world.headers(who))
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), (who, body, refused.text)
    missing = client.post("/api/v1/buildings/999999/center-households",
                          json={"member_id": world.actors["member_2"].member_id}, headers=world.headers("staff_a"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "building_not_found")
    assert table_counts(runtime) == before

    handed = client.post(url, json={"member_id": world.actors["member_2"].member_id, "starts_on": "2026-10-15"},
                         headers=world.headers("staff_a"))
    assert handed.status_code == 201, handed.text
    history = get(client, world, "secretary_a", f"/buildings/{building}/center-households")
    assert [(c["display_name"], c["starts_on"], c["ends_on"]) for c in history] == [
        ("member_1", "2026-09-01", "2026-10-14"), ("member_2", "2026-10-15", None)]
    serving = client.get(f"/api/v1/buildings/{building}/serving").json()["members"]
    assert [(m["name"], m["center"]) for m in serving] == [("member_2", True)]  # member_1 serves here no more
    ended = client.post(f"{url}/{handed.json()['id']}/end", json={}, headers=world.headers("staff_a"))
    assert ended.status_code == 200 and ended.json()["ends_on"] is not None
    again = client.post(f"{url}/{handed.json()['id']}/end", json={}, headers=world.headers("staff_a"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "center_household_ended")
    other = get(client, world, "member_c", f"/buildings/{building}/center-households", expect=403)
    assert other["error"]["code"] == "not_registered"


def test_a_grid_worker_does_a_round(client, world, runtime):
    grid = world.ids["grid_A"]
    staff = world.headers("staff_a")
    # Not their grid yet: refused.
    refused = client.post("/api/v1/rounds", json={"grid_id": grid}, headers=staff)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_grid_worker")
    assigned = client.post(f"/api/v1/grids/{grid}/workers", json={"account_id": world.ids["staff_a"]}, headers=staff)
    assert assigned.status_code == 201, assigned.text
    other = client.post("/api/v1/rounds", json={"grid_id": world.ids["grid_B"]}, headers=world.headers("staff_a"))
    assert (other.status_code, other.json()["error"]["code"]) == (403, "out_of_scope")

    started = client.post("/api/v1/rounds", json={"grid_id": grid}, headers=staff)
    assert started.status_code == 201, started.text
    again = client.post("/api/v1/rounds", json={"grid_id": grid}, headers=staff)
    assert again.status_code == 200 and again.json()["id"] == started.json()["id"]
    round_id = started.json()["id"]
    ticked = client.post(f"/api/v1/rounds/{round_id}/ticks",
                         json={"building_ids": [world.ids["building_A"]], "areas": ["地下车库"]}, headers=staff)
    assert ticked.status_code == 200 and ticked.json()["areas"] == ["地下车库"]
    outside = client.post(f"/api/v1/rounds/{round_id}/ticks", json={"building_ids": [world.ids["building_C"]]},
                          headers=staff)
    assert (outside.status_code, outside.json()["error"]["code"]) == (422, "invalid_location")
    found = client.post(f"/api/v1/rounds/{round_id}/findings",
                        json={"category": "sanitation.corridor_clutter", "description": "车库通道堆放杂物"},
                        headers=staff)
    assert found.status_code == 201, found.text
    assert found.json()["channel"] == "inspection"
    ended = client.post(f"/api/v1/rounds/{round_id}/end", json={"note": "一切正常"}, headers=staff)
    assert ended.status_code == 200 and ended.json()["finding_ids"] == [found.json()["id"]]
    late = client.post(f"/api/v1/rounds/{round_id}/ticks", json={"areas": ["广场"]}, headers=staff)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "round_ended")

    today = datetime.now(ZoneInfo(TZ)).date()
    period = f"{today.year:04d}-{today.month:02d}"
    report = get(client, world, "secretary_a", f"/coverage/{period}/community/{world.ids['community_A']}")
    [grid_row] = report["grids"]
    assert (grid_row["rounds"], grid_row["inspected"], grid_row["workers"]) == (1, True, ["staff_a"])
    assert [r["id"] for r in get(client, world, "staff_a", "/rounds/mine")] == [round_id]


def test_coverage_is_read_only_inside_the_readers_scope(client, world, runtime):
    _october(runtime, world)
    community = world.ids["community_A"]
    for who, path, status, code in (
            ("member_1", f"/coverage/2026-10/community/{community}", 403, "role_not_allowed"),
            ("resident_a", f"/coverage/2026-10/community/{community}", 403, "role_not_allowed"),
            ("staff_b", f"/coverage/2026-10/community/{community}", 403, "out_of_scope"),
            ("officer_2", f"/coverage/2026-10/community/{community}", 403, "out_of_scope"),
            ("secretary_a", f"/coverage/2026-10/street/{world.ids['street_S1']}", 403, "out_of_scope"),
            ("secretary_a", f"/coverage/2099-01/community/{community}", 422, "period_in_future")):
        response = client.get(f"/api/v1{path}", headers=world.headers(who))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (who, path)


def test_the_same_visit_tapped_twice_at_once_is_one_visit(live_server, world, runtime):
    household = _household(runtime, world, "A-701", [], "member_1")
    token = world.token("member_1")
    answers = _race(live_server, [(f"/api/v1/households/{household}/visits", token)] * 8)
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert count(runtime, Visit) == 1


def test_a_members_visits_earn_points_once_a_household_and_month(client, world, runtime):
    h = _october(runtime, world)
    _visit(runtime, world, "member_1", h["h1"], 25)  # a second visit of the same household that month
    entries = all_rows(runtime, PointEntry, order=PointEntry.id)
    assert sorted((e.member_id, e.reason.value, e.points, e.local_date.isoformat()) for e in entries) == sorted([
        (world.actors["member_1"].member_id, "household_visit", 1, "2026-10-10"),  # h1, once
        (world.actors["member_2"].member_id, "household_visit", 1, "2026-10-05"),  # h3, once for two visits
        (world.actors["member_2"].member_id, "household_visit", 1, "2026-10-03"),  # h4
    ])
    # "Why this score": this month's visits are in the member's points ledger, with their reason.
    today = datetime.now(ZoneInfo(TZ)).date()
    for household in (h["h2"], h["h4"]):
        response = client.post(f"/api/v1/households/{household}/visits", headers=world.headers("member_2"))
        assert response.status_code == 201, response.text
    [record] = get(client, world, "member_2", f"/members/me/scores/{today:%Y-%m}")["records"]
    entries = [e for e in record["points"]["entries"] if e["reason"] == "household_visit"]
    assert len([e for e in entries if e["date"] >= f"{today:%Y-%m}-01"]) == 2
    assert entries[0]["reason_label"] == "走访联系户（每户每月一次）"
    # The balance runs from the year's start: base 60 and a point for each household and month.
    assert (record["points"]["bonus"], record["points"]["total"]) == (len(entries), 60 + len(entries))


def test_the_sweep_reminds_members_before_a_visit_is_due_and_tells_the_secretary_of_the_overdue(world, runtime):
    """October 2026 again, swept on the 28th: h2 (a party member's household, nobody went) is due
    by the 31st, within the plan's three days, so member_2 hears of it; swept on 2 November, h2 is
    overdue and the secretary hears of it, once a day however often the sweep runs."""
    from workflow.visits import sweep

    h = _october(runtime, world)
    first = sweep.sweep(runtime.sessions, TZ, now=_at(28))
    again = sweep.sweep(runtime.sessions, TZ, now=_at(28) + timedelta(hours=1))
    assert (first.reminded, again.reminded) == (1, 0)
    runtime.drain()
    [note] = all_rows(runtime, Notification)
    assert (note.kind, note.account_id, note.data["household_id"], note.data["due_on"]) == (
        "visit_due", world.ids["member_2"], h["h2"], "2026-10-31")

    later = sweep.sweep(runtime.sessions, TZ, now=_at(2, month=11))
    sweep.sweep(runtime.sessions, TZ, now=_at(2, month=11) + timedelta(hours=2))
    assert later.flagged == 1
    runtime.drain()
    flags = [n for n in all_rows(runtime, Notification) if n.kind == "coverage_overdue"]
    assert [(n.account_id, n.data["overdue"]) for n in flags] == [(world.ids["secretary_a"], 1)]


def _rounds(runtime, world, days: list[int]) -> None:
    """staff_a, community A's grid worker, does a round of its grid on each of ``days`` (October)."""
    with unit_of_work(runtime.sessions) as session:
        commands.assign_grid_worker(session, world.actors["staff_a"], world.ids["grid_A"], world.ids["staff_a"],
                                    starts_on="2026-09-20", timezone=TZ, now=SEPT)
    for day in days:
        with unit_of_work(runtime.sessions) as session:
            row, _new = commands.start_round(session, world.actors["staff_a"], world.ids["grid_A"], timezone=TZ,
                                             now=_at(day))
            commands.end_round(session, world.actors["staff_a"], row.id, now=_at(day) + timedelta(hours=1))


def test_visits_and_rounds_count_in_the_scores_by_the_policys_weights(client, world, runtime):
    """A community's and a street's scores carry their coverage and rounds, as the scored policy's
    visit plan counts them; the policy's collection weights fold them into the composite. Old
    versions (weights 0) keep the composite the three rates alone, and a publication made under
    one still reproduces after the policy changed."""
    _october(runtime, world)
    _rounds(runtime, world, [6, 8, 20])  # two in the week of the 5th, one in the week of the 19th
    community, street = world.ids["community_A"], world.ids["street_S1"]
    with unit_of_work(runtime.sessions) as session:  # one request of A, answered in time and solved
        Facts(session, world).outcome(community, in_time=True, evaluated=True, solved=True,
                                      satisfaction=Satisfaction.satisfied, day=date(2026, 10, 15))
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-10")
        published = runs.publish(session, runtime.settings, world.actors["secretary_a"], "2026-10",
                                 ScopeKind.community, community).id

    rates = get(client, world, "secretary_a", f"/scores/2026-10/units/community/{community}")
    # The weeks begun in October: those of Sep 28, Oct 5, 12, 19 and 26; two of them had a round.
    assert rates["collection"] == {"households": 4, "visited": 2, "overdue": 1, "never_visited": 1, "visits": 4,
                                   "rounds": 3, "round_windows": 5, "round_windows_met": 2, "coverage": 0.5,
                                   "round_rate": 0.4, "rates_composite": 1.0}
    assert rates["weights"] == {"coverage": 0.0, "rounds": 0.0, "rates": 1.0}
    assert rates["composite"] == 1.0  # collection weighs nothing yet
    # Community B has a grid and no households: a row of its own, its rounds missed, no composite.
    other = get(client, world, "admin", f"/scores/2026-10/units/community/{world.ids['community_B']}")
    assert (other["received"], other["collection"]["households"], other["collection"]["coverage"],
            other["collection"]["round_rate"], other["composite"]) == (0, 0, None, 0.0, None)
    whole = get(client, world, "admin", f"/scores/2026-10/units/street/{street}")
    assert {k: whole["collection"][k] for k in ("households", "visited", "rounds", "round_windows",
                                                 "round_windows_met")} == \
        {"households": 4, "visited": 2, "rounds": 3, "round_windows": 10, "round_windows_met": 2}

    bad = client.post("/api/v1/admin/scoring-policies", json={
        "effective_from": "2026-10-01", "rules": {"collection": {"coverage": "0.6", "rounds": "0.4"}}},
        headers=world.headers("admin"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_policy")
    created = client.post("/api/v1/admin/scoring-policies", json={
        "effective_from": "2026-10-01", "note": "走访覆盖率计入社区综合",
        "rules": {"collection": {"coverage": "0.2", "rounds": "0.1"}}}, headers=world.headers("admin"))
    assert created.status_code == 201, created.text
    with unit_of_work(runtime.sessions) as session:
        draft = runs.recompute(session, runtime.settings, "2026-10")
        assert runs.reproduce(session, runtime.settings, draft) == []
        # The publication of version 1 reproduces as it was.
        assert runs.reproduce(session, runtime.settings, session.get(ScoreRun, published)) == []
    street_rates = get(client, world, "admin", f"/scores/2026-10/units/street/{street}")
    assert street_rates["weights"] == {"coverage": 0.2, "rounds": 0.1, "rates": 0.7}
    # 0.7 × the rates' 1.0 + 0.2 × coverage 0.5 + 0.1 × rounds 0.2 (B's grid missed every week).
    assert (street_rates["collection"]["coverage"], street_rates["collection"]["round_rate"]) == (0.5, 0.2)
    assert (street_rates["collection"]["rates_composite"], street_rates["composite"]) == (1.0, 0.82)
    # B has no requests: coverage and rounds alone make no composite, and nothing is weighed.
    other = get(client, world, "admin", f"/scores/2026-10/units/community/{world.ids['community_B']}")
    assert (other["composite"], other["weights"]) == (None, {"coverage": 0.0, "rounds": 0.0, "rates": 0.0})
    # The community's publication stays as it was published, under version 1.
    published_rates = get(client, world, "secretary_a", f"/scores/2026-10/units/community/{community}")
    assert (published_rates["policy_version"], published_rates["composite"]) == (1, 1.0)

    # The secretary's dashboard shows them.
    browser = Browser(client)
    browser.login("secretary_a")
    page = browser.get(f"/dashboard?period=2026-10&scope=community&id={community}")
    assert page.status_code == 200
    html = page.text
    assert "计划收集" in html and "50.0%" in html and "40.0%" in html


def test_a_score_run_reuses_the_coverage_counted_while_the_facts_hold(client, world, runtime):
    """A run keeps each community's coverage counts with the version of its facts; the next run
    reads them while the community's visits and register are unchanged and counts a community
    again once it has a new visit or a register change. What it shows is always what counting
    afresh gives (the kept counts emptied)."""
    h = _october(runtime, world)
    community = world.ids["community_A"]

    def scores() -> dict:
        with unit_of_work(runtime.sessions) as session:
            runs.recompute(session, runtime.settings, "2026-10")
        return get(client, world, "admin", f"/scores/2026-10/units/community/{community}")["collection"]

    def kept() -> dict[int, tuple]:
        return {row.community_id: (row.visits_n, row.households, row.visited, row.overdue)
                for row in all_rows(runtime, CoverageCount)}

    first = scores()
    assert kept()[community] == (4, 4, 2, 1) and kept()[world.ids["community_B"]] == (0, 0, 0, 0)
    assert scores() == first  # read back, the same

    _visit(runtime, world, "member_2", h["h2"], 28)  # the household nobody went to
    after = scores()
    assert (after["visited"], after["overdue"], after["visits"]) == (3, 0, 5)
    assert kept()[community] == (5, 4, 3, 0)

    # A register change: a fifth household, nobody went.
    _household(runtime, world, "A-105", ["party_member"], "member_1")
    changed = scores()
    assert (changed["households"], changed["visited"]) == (5, 3)
    with unit_of_work(runtime.sessions) as session:
        session.execute(delete(CoverageCount))
    assert scores() == changed  # counted afresh: the same


def test_a_run_still_reproduces_after_the_register_changed_and_says_what_it_did_not_compare(client, world, runtime):
    """The register is current state: once a community's register changed, a run made before can
    no longer count its households again. Reproducing it compares everything else and says which
    figures it left out; the change makes the draft stale, so the next refresh counts it."""
    _october(runtime, world)
    community = world.ids["community_A"]
    with unit_of_work(runtime.sessions) as session:
        run_id = runs.recompute(session, runtime.settings, "2026-10").id
    with unit_of_work(runtime.sessions) as session:
        run = session.get(ScoreRun, run_id)
        notes: list[str] = []
        assert runs.reproduce(session, runtime.settings, run, notes) == [] and notes == []
        assert not runs.is_stale(session, run)

    _household(runtime, world, "A-105", ["party_member"], "member_1")  # after the run
    with unit_of_work(runtime.sessions) as session:
        run = session.get(ScoreRun, run_id)
        notes = []
        assert runs.reproduce(session, runtime.settings, run, notes) == []
        assert len(notes) == 1 and "households" in notes[0] and f"[{community}]" in notes[0], notes
        assert runs.is_stale(session, run)
        # A figure the register does not decide is still compared.
        row = session.scalar(select(UnitScore).where(UnitScore.run_id == run_id, UnitScore.unit_id == community,
                                                     UnitScore.unit_kind == "community"))
        row.visits += 1
        session.flush()
        assert runs.reproduce(session, runtime.settings, run) == [
            f"unit ('community', {community}) visits: stored 5, recomputed 4"]
        session.rollback()


def test_19th_periods_count_the_visits_and_rounds_of_their_own_days(client, world, runtime):
    """Under 19th-to-18th periods, "2026-10" runs from 19 September to 18 October: its visits and
    rounds are those days', not October's."""
    created = client.post("/api/v1/admin/scoring-policies", json={
        "effective_from": "2026-09-19", "rules": {"period_kind": "19th"}}, headers=world.headers("admin"))
    assert created.status_code == 201, created.text
    h = _october(runtime, world)  # visits on 3, 5, 10 and 20 October
    with unit_of_work(runtime.sessions) as session:
        commands.record_visit(session, world.actors["member_2"], h["h2"], {"date": date(2026, 9, 25)}, timezone=TZ,
                              now=datetime(2026, 9, 25, 3, tzinfo=UTC))
    _rounds(runtime, world, [6, 8, 20])
    with unit_of_work(runtime.sessions) as session:
        run = runs.recompute(session, runtime.settings, "2026-10")
        assert (run.period_kind, run.period_start, run.period_end) == ("19th", date(2026, 9, 19), date(2026, 10, 18))
    rates = get(client, world, "admin", f"/scores/2026-10/units/community/{world.ids['community_A']}")
    assert (rates["collection"]["visits"], rates["collection"]["rounds"]) == (4, 2)  # 25 Sep, 3, 5, 10 Oct; 6, 8


def test_a_community_with_nothing_to_collect_gets_no_row_and_a_period_not_begun_is_not_computed(client, world,
                                                                                                 runtime):
    with unit_of_work(runtime.sessions) as session:
        empty = Facts(session, world).new_community("Z9", world.ids["street_S1"])
    _october(runtime, world)
    with unit_of_work(runtime.sessions) as session:
        run = runs.recompute(session, runtime.settings, "2026-10")
        units = {(r.unit_kind.value, r.unit_id) for r in session.scalars(
            select(UnitScore).where(UnitScore.run_id == run.id))}
    assert ("community", world.ids["community_A"]) in units and ("community", empty) not in units
    future = client.post("/api/v1/admin/scores/2099-01/recompute", headers=world.headers("admin"))
    assert (future.status_code, future.json()["error"]["code"]) == (404, "period_not_started")
