"""Residents' personal data: who sees the contact and the exact address whole, who sees them masked,
and the log of every look at them (workflow/privacy.py)."""

from __future__ import annotations

from sqlalchemy import select

from workflow.commands import clients
from workflow.db import unit_of_work
from workflow.models import Request
from workflow.privacy import mask_email, mask_name, mask_phone

from .helpers import act, get, submit

FLAT = "1号楼3单元502室"
BUILDING = "社区A1号楼"  # the world's building of community A
CONTACT = {"contact_name": "王阿姨", "contact_phone": "13800001234"}
MASKED = {"contact_name": "王**", "contact_phone": "138****1234"}


def reported(client, world, runtime, category: str = "disputes.noise") -> int:
    """A resident of A reports with a flat address and a phone number; the worker routes it."""
    rid = submit(client, world, "resident_a", category=category, address=FLAT,
                 building_id=world.ids["building_A"], **CONTACT)["id"]
    runtime.drain()
    return rid


def contact(row: dict) -> dict:
    return {"contact_name": row["contact_name"], "contact_phone": row["contact_phone"]}


def reads(client, world, **params) -> list[dict]:
    return get(client, world, "admin", "/admin/personal-data-reads", **params)


def test_masks_keep_enough_to_tell_people_apart():
    assert mask_phone("13800001234") == "138****1234"
    assert mask_phone("010-6512") == "0****6512" and mask_phone("110") == "***" and mask_phone("") == ""
    assert mask_name("王阿姨") == "王**" and mask_name("Ada") == "A**" and mask_name("") == ""
    assert mask_email("wang@example.cn") == "w***@example.cn" and mask_email("") == ""


def test_staff_see_the_request_whole_and_each_look_is_logged(client, world, runtime):
    rid = reported(client, world, runtime)
    mine = get(client, world, "resident_a", f"/requests/{rid}")
    assert mine["address"] == FLAT and contact(mine) == CONTACT
    assert reads(client, world, request_id=rid) == []  # the resident's own data: nothing to log

    seen = get(client, world, "staff_a", f"/requests/{rid}")
    assert seen["address"] == FLAT and contact(seen) == CONTACT
    get(client, world, "staff_a", f"/requests/{rid}")
    log = reads(client, world, request_id=rid)
    assert [(r["account_id"], r["role"], r["door"]) for r in log] == [(world.ids["staff_a"], "staff", "api")] * 2
    assert log[0]["fields"] == ["contact_name", "contact_phone", "address"]

    # The queue is for choosing what to open: the building and a masked contact, nothing logged.
    [row] = [r for r in get(client, world, "staff_a", "/queue") if r["id"] == rid]
    assert row["address"] == BUILDING and contact(row) == MASKED
    assert len(reads(client, world, request_id=rid)) == 2


def test_street_officers_see_the_contact_only_while_the_street_office_handles_it(client, world, runtime):
    rid = reported(client, world, runtime)
    before = get(client, world, "officer_1", f"/requests/{rid}")
    assert before["address"] == FLAT and contact(before) == MASKED
    assert [r["fields"] for r in reads(client, world, account_id=world.ids["officer_1"])] == [["address"]]

    act(client, world, "staff_a", rid, "escalate", note="需要执法部门")
    during = get(client, world, "officer_1", f"/requests/{rid}")
    assert during["status"] == "street" and contact(during) == CONTACT
    [latest, _first] = reads(client, world, account_id=world.ids["officer_1"])
    assert latest["fields"] == ["contact_name", "contact_phone", "address"]

    act(client, world, "officer_1", rid, "return_to_community", reason="社区可以协调")
    after = get(client, world, "officer_1", f"/requests/{rid}")
    assert after["status"] == "community" and contact(after) == MASKED


def test_members_see_the_building_not_the_flat_and_no_contact(client, world, runtime):
    rid = reported(client, world, runtime, category="sanitation.corridor_clutter")
    [task] = [t for t in get(client, world, "member_1", "/tasks") if t["id"] == rid]
    assert task["address"] == BUILDING and contact(task) == {"contact_name": None, "contact_phone": None}
    claimed = act(client, world, "member_1", rid, "claim")
    assert claimed["address"] == BUILDING and claimed["contact_phone"] is None
    detail = get(client, world, "member_1", f"/requests/{rid}")
    assert detail["address"] == BUILDING and detail["contact_email"] is None
    assert reads(client, world, account_id=world.ids["member_1"]) == []
    with unit_of_work(runtime.sessions) as session:  # what they were not shown is still stored whole
        stored = session.scalar(select(Request).where(Request.id == rid))
        assert (stored.address, stored.contact_phone) == (FLAT, CONTACT["contact_phone"])


def test_the_request_page_is_logged_like_the_api(runtime, world, browser_factory, client):
    rid = reported(client, world, runtime)
    browser = browser_factory()
    browser.login("staff_a")
    page = browser.get(f"/requests/{rid}")
    assert page.status_code == 200 and FLAT in page.text and CONTACT["contact_phone"] in page.text
    [read] = reads(client, world, request_id=rid)
    assert (read["account_id"], read["door"]) == (world.ids["staff_a"], "page")


def test_only_admins_read_the_log(client, world, runtime):
    rid = reported(client, world, runtime)
    get(client, world, "admin", f"/requests/{rid}")
    assert [r["role"] for r in reads(client, world)] == ["admin"]
    for user in ("staff_a", "secretary_a", "officer_1", "resident_a", "member_1"):
        refused = get(client, world, user, "/admin/personal-data-reads", expect=403)
        assert refused["error"]["code"] == "role_not_allowed"


def test_an_open311_client_sees_exact_places_only_of_what_it_filed(client, world, runtime):
    rid = reported(client, world, runtime)
    with unit_of_work(runtime.sessions) as session:
        _, key = clients.issue(session, None, "市民热线")
    base = "/open311/v2/requests"
    mine = client.post(f"{base}.json", data={"api_key": key, "jurisdiction_id": "S1", "service_code": "disputes.noise",
                                             "description": "楼上深夜装修", "address_string": "社区A1号楼2单元301",
                                             "phone": "13900002222"})
    assert mine.status_code == 201, mine.text
    filed = int(mine.json()[0]["service_request_id"])
    own = client.get(f"{base}/{filed}.json", params={"api_key": key, "jurisdiction_id": "S1"}).json()[0]
    assert own["address"] == "社区A1号楼2单元301"
    other = client.get(f"{base}/{rid}.json", params={"api_key": key, "jurisdiction_id": "S1"}).json()[0]
    assert other["address"] == BUILDING and other["description"]  # the problem, not where the resident lives
    listed = {r["service_request_id"]: r["address"] for r in client.get(
        f"{base}.json", params={"api_key": key, "jurisdiction_id": "S1"}).json()}
    assert listed[str(rid)] == BUILDING and listed[str(filed)] == "社区A1号楼2单元301"
