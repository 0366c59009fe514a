"""公示 and 亮身份: the public board shows only published periods and nothing personal; a building's
members and grid worker are shown as each chose; the notice and the poster print as PDFs."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

from sqlalchemy import update

from workflow import tracking
from workflow.db import unit_of_work
from workflow.models import Community, Request
from workflow.visits import commands as visits

from .test_scores import SEPT, _september_community, _task

TZ = "Asia/Shanghai"
PERSONAL = ("13800001234", "王阿姨", "2单元301", "resident_a", "resident_b")


def _code(runtime, world, key: str = "community_A") -> str:
    with unit_of_work(runtime.sessions) as session:
        return session.get(Community, world.ids[key]).code


def _personal_request(runtime, world) -> None:
    """A September task whose description and result name a flat, a phone and a resident."""
    rid = _task(runtime, world, "member_1", at=SEPT + timedelta(days=5))
    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Request).where(Request.id == rid).values(
            description="1号楼2单元301王阿姨家门口堆满纸箱，电话13800001234", result="已清理纸箱，2单元301门口通畅",
            contact_name="王阿姨", contact_phone="13800001234", address="1号楼2单元301"))


def _serving(runtime, world) -> int:
    """member_1 looks after a household of 1号楼 of A, and shows only the first character of their
    name; staff_a is the grid worker."""
    with unit_of_work(runtime.sessions) as session:
        staff = world.actors["staff_a"]
        household = visits.create_household(session, staff, {
            "building_id": world.ids["building_A"], "code": "A-301", "door": "2单元301", "tags": ["needy"],
            "contact_name": "王阿姨", "contact_phone": "13800001234"}, timezone=TZ)
        visits.pair_member(session, staff, household.id, world.actors["member_1"].member_id, timezone=TZ)
        visits.assign_grid_worker(session, staff, world.ids["grid_A"], world.ids["staff_a"], timezone=TZ)
    return world.ids["building_A"]


def test_the_board_shows_only_published_periods_and_nothing_personal(client, browser_factory, world, runtime):
    _september_community(runtime, world)
    _personal_request(runtime, world)
    code = _code(runtime, world)
    visitor = browser_factory()

    # Before a publication: no rates, no ranking, whatever the drafts hold.
    before = client.get(f"/api/v1/board/community/{code}")
    assert before.status_code == 200, before.text
    assert (before.json()["period"], before.json()["rates"], before.json()["ranking"]) == (None, None, [])
    page = visitor.get(f"/board/community/{code}")
    assert page.status_code == 200 and "data-unpublished" in page.text and 'data-rate="' not in page.text
    asked = client.get(f"/api/v1/board/community/{code}", params={"period": "2026-09"})
    assert (asked.status_code, asked.json()["error"]["code"]) == (404, "not_published")

    published = client.post("/api/v1/scores/2026-09/publications", headers=world.headers("secretary_a"),
                            json={"scope_kind": "community", "scope_id": world.ids["community_A"]})
    assert published.status_code == 201, published.text
    board = client.get(f"/api/v1/board/community/{code}").json()
    assert board["period"] == "2026-09" and board["rates"]["received"] == 5
    assert [r["rank"] for r in board["ranking"]] == [1]  # member_1 passed the gates; member_2 did not
    assert board["ranking"][0]["name"] == "member_1" and board["ranking"][0]["unit"] == "区税务局"
    [example] = [e for e in board["examples"] if "纸箱" in e["description"]]
    assert example["place"] == "社区A"  # its community: it named no building
    assert example["description"] == "1号楼**居民家门口堆满纸箱，电话***"
    assert example["result"] == "已清理纸箱，**门口通畅"

    page = visitor.get(f"/board/community/{code}")
    assert page.status_code == 200 and 'data-period="2026-09"' in page.text
    html = page.text
    for datum in PERSONAL:
        assert datum not in html, datum
    assert "member_1" in html and "区税务局" in html

    # The notice board's PDF holds the same, and nothing personal either.
    pdf = visitor.get(f"/board/community/{code}/notice.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    assert "社区A" in text and "member_1" in text
    for datum in PERSONAL:
        assert datum not in text, datum

    street = client.get(f"/api/v1/board/street/{_street_code(runtime, world)}")
    assert street.status_code == 200 and street.json()["period"] is None  # A's publication is not S1's
    missing = client.get("/api/v1/board/community/NOPE")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "board_not_found")


def _street_code(runtime, world) -> str:
    from workflow.models import Street

    with unit_of_work(runtime.sessions) as session:
        return session.get(Street, world.ids["street_S1"]).code


def test_members_show_residents_what_they_chose(client, browser_factory, world, runtime):
    building = _serving(runtime, world)
    shown = client.get(f"/api/v1/buildings/{building}/serving").json()
    assert [(m["name"], m["unit"]) for m in shown["members"]] == [("member_1", "区税务局")]
    assert [w["name"] for w in shown["grid_workers"]] == ["staff_a"]

    changed = client.put("/api/v1/members/me/showing", json={"show_name": False, "title": "党员中心户"},
                         headers=world.headers("member_1"))
    assert changed.status_code == 200 and changed.json() == {"show_name": False, "show_unit": True,
                                                            "title": "党员中心户"}
    [member] = client.get(f"/api/v1/buildings/{building}/serving").json()["members"]
    assert (member["name"], member["title"]) == ("m*******", "党员中心户")
    refused = client.put("/api/v1/members/me/showing", json={"show_name": True}, headers=world.headers("staff_a"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "role_not_allowed")

    # The resident's own request page and the tracking page show them; the poster prints them.
    resident = browser_factory()
    resident.login("resident_a")
    created = client.post("/api/v1/requests", headers=world.headers("resident_a"), json={
        "channel": "report", "category": "disputes.noise", "description": "楼上深夜装修",
        "building_id": building})
    assert created.status_code == 201, created.text
    page = resident.get(f"/requests/{created.json()['id']}")
    assert "data-serving" in page.text and "m*******" in page.text and "党员中心户" in page.text
    code = tracking.code_for(runtime.settings, created.json()["id"])
    tracked = browser_factory().get(f"/track/{code}")
    assert tracked.status_code == 200 and "m*******" in tracked.text and "staff_a" in tracked.text

    poster = browser_factory().get(f"/buildings/{building}/poster.pdf")
    assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=poster.content, capture_output=True,
                          check=True).stdout.decode()
    assert "1号楼" in text and "m*******" in text and "staff_a" in text and "党员中心户" in text
    assert re.search(r"/report\?community_id=\d+", text.replace("\n", ""))
    assert "13800001234" not in text and "王阿姨" not in text
