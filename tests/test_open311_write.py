"""Open311 GeoReport v2, write side: filing service requests as a keyed client (a form, or a
multipart form with a photo), in both formats (the XML read back with a real parser); the
standard's error list for every way a request is refused, with nothing half-written; where a
report from outside lands; what a keyed and a public reader see; the 90-day window and the 1000
cap; and an unmodified third-party client from PyPI (``civicbot``) filing and reading on the
running server."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from civicbot import Endpoint, Open311Client
from sqlalchemy import insert, select

from tests.helpers import submit, table_counts
from tests.test_open311 import _assert_error
from tests.test_photos import png
from workflow import attributes as attribute_rules
from workflow import tracking
from workflow.commands import clients
from workflow.commands import rules as rule_cmds
from workflow.db import unit_of_work
from workflow.models import Building, Category, Channel, Photo, PhotoStage, Request, utcnow

BASE = "/open311/v2"
LIGHT = "facilities.streetlight"  # routed to the street office by default
NOISE = "disputes.noise"  # routed to the community by default
# Where the test world's buildings stand: A and B in street S1 (about 1.4 km apart), C in S2.
SPOTS = {"A": (31.2300, 121.4700), "B": (31.2400, 121.4800), "C": (31.2301, 121.4701)}
NEAR_B = (31.2408, 121.4803)  # about 90 m from building B
FAR = (31.9000, 120.1000)  # tens of kilometres from every building
LIGHT_ATTRIBUTES = [
    {"code": "pole_number", "datatype": "string", "description_zh": "灯杆编号", "description_en": "Pole number"},
    {"code": "lamps_out", "datatype": "number", "required": True, "description_zh": "不亮的灯数",
     "description_en": "Lamps out"},
    {"code": "hazard", "datatype": "singlevaluelist", "required": True, "description_zh": "危险程度",
     "description_en": "Hazard",
     "values": [{"key": "dark", "name_zh": "太暗", "name_en": "Too dark"},
                {"key": "wires", "name_zh": "电线外露", "name_en": "Exposed wires"}]},
    {"code": "sides", "datatype": "multivaluelist", "description_zh": "哪几侧", "description_en": "Which sides",
     "values": [{"key": "north", "name_zh": "北侧", "name_en": "North"},
                {"key": "south", "name_zh": "南侧", "name_en": "South"},
                {"key": "east", "name_zh": "东侧", "name_en": "East"}]},
    {"code": "notice", "datatype": "string", "variable": False, "description_zh": "夜间请注意安全",
     "description_en": "Take care at night"},
]
GOOD_LIGHT = {"attribute[lamps_out]": "3", "attribute[hazard]": "dark"}


@dataclass
class Keyed:
    key: str
    client_id: int
    account_id: int


@pytest.fixture
def keyed(runtime, world) -> Keyed:
    """A client with a key, coordinates for the world's buildings, and questions for street lights.
    The taxonomy outlives a test on PostgreSQL, so the questions are taken back afterwards."""
    with unit_of_work(runtime.sessions) as session:
        client, key = clients.issue(session, None, "测试客户端")
        for code, (lat, lng) in SPOTS.items():
            building = session.get(Building, world.ids[f"building_{code}"])
            building.latitude, building.longitude = lat, lng
        light = session.scalar(select(Category).where(Category.code == LIGHT))
        before = light.attributes
        light.attributes = attribute_rules.definitions(LIGHT_ATTRIBUTES)
        made = Keyed(key=key, client_id=client.id, account_id=client.account_id)
    yield made
    with unit_of_work(runtime.sessions) as session:
        session.scalar(select(Category).where(Category.code == LIGHT)).attributes = before


# --- calling and reading -------------------------------------------------------------------------

def _rows(answer, fmt: str) -> list[dict]:
    """A list answer (requests, or the POST's list of one) as dicts of text, from either format."""
    if fmt == "json":
        rows = answer.json()
        assert isinstance(rows, list)
        return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    assert answer.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(answer.content)
    assert root.tag == "service_requests"
    return [{child.tag: child.text or "" for child in row} for row in root.findall("request")]


def _error(answer, fmt: str, status: int) -> str:
    """The status, and the standard's error body: a list of {code, description}, even for one."""
    assert answer.status_code == status, answer.text
    return _assert_error(answer, fmt, status)


def _post(client, fmt: str, form: dict, *, photo: bytes | None = None, name: str = "lamp.png"):
    files = {"media": (name, photo, "image/png")} if photo is not None else None
    return client.post(f"{BASE}/requests.{fmt}", data=form, files=files)


def _file(client, keyed: Keyed, fmt: str = "json", *, service_code: str = LIGHT, photo: bytes | None = None,
          jurisdiction: str = "S1", **fields) -> dict:
    """File a request and return the POST's one row."""
    form = {"api_key": keyed.key, "jurisdiction_id": jurisdiction, "service_code": service_code,
            **(GOOD_LIGHT if service_code == LIGHT else {}), **fields}
    answer = _post(client, fmt, form, photo=photo)
    assert answer.status_code == 201, answer.text
    [row] = _rows(answer, fmt)
    return row


def _stored(runtime, request_id: int) -> Request:
    with unit_of_work(runtime.sessions) as session:
        request = session.get(Request, int(request_id))
        session.expunge(request)
        return request


def _get(client, fmt: str, request_id, **params) -> dict:
    answer = client.get(f"{BASE}/requests/{request_id}.{fmt}", params={"jurisdiction_id": "S1", **params})
    assert answer.status_code == 200, answer.text
    [row] = _rows(answer, fmt)
    return row


# --- filing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_form_files_a_request_that_is_routed_like_any_other(client, world, runtime, keyed, fmt):
    row = _file(client, keyed, fmt, lat=SPOTS["A"][0], long=SPOTS["A"][1], address_string="社区A1号楼北门外",
                description="北门外三盏路灯不亮。", first_name="小明", last_name="王", phone="138 0000 0000",
                email="xiaoming@example.cn", **{"attribute[pole_number]": "L-17", "attribute[sides][]": "north"})
    assert set(row) == {"service_request_id", "service_notice", "account_id"}
    rid = row["service_request_id"]
    assert rid.isdigit()
    code = tracking.code_for(runtime.settings, int(rid))
    assert code in row["service_notice"] and "社区A" in row["service_notice"]

    request = _stored(runtime, rid)
    assert request.channel == Channel.open311 and request.collector_id == keyed.account_id
    assert request.reporter_id is None
    assert request.community_id == world.ids["community_A"] and request.building_id == world.ids["building_A"]
    assert request.street_id == world.ids["street_S1"]
    assert (request.contact_name, request.contact_phone, request.contact_email) == \
        ("王小明", "138 0000 0000", "xiaoming@example.cn")
    assert request.description == "北门外三盏路灯不亮。" and request.address == "社区A1号楼北门外"
    assert request.attributes == {"pole_number": "L-17", "lamps_out": 3, "hazard": "dark", "sides": ["north"]}

    runtime.drain()  # the worker routes it by the category's default route, as any report
    with unit_of_work(runtime.sessions) as session:
        default = session.scalar(select(Category).where(Category.code == LIGHT)).default_route.value
    assert _stored(runtime, rid).status.value == default == "street"
    shown = _get(client, fmt, rid)
    assert shown["status"] == "open" and shown["agency_responsible"] == "街道S1"


def test_routing_rules_see_the_open311_channel(client, world, runtime, keyed):
    row = _file(client, keyed, service_code=NOISE, address_string="社区B", description="楼上深夜装修。",
                first_name="Ada", last_name="Lovelace")
    request = _stored(runtime, row["service_request_id"])
    assert request.contact_name == "Ada Lovelace" and request.attributes == {}
    runtime.drain()
    assert _stored(runtime, row["service_request_id"]).status.value == "community"  # the category's default
    with unit_of_work(runtime.sessions) as session:
        rule_cmds.create_rule(session, world.actors["admin"], {"name": "开放接口噪音交街道", "channels": ["open311"],
                                                               "categories": [NOISE], "target": "street"})
    ruled = _file(client, keyed, service_code=NOISE, address_string="社区B")["service_request_id"]
    resident = submit(client, world, "resident_a", category=NOISE)["id"]
    runtime.drain()
    assert _stored(runtime, ruled).status.value == "street"
    assert _stored(runtime, resident).status.value == "community"


def test_a_request_without_a_description_takes_the_services_name(client, world, runtime, keyed):
    row = _file(client, keyed, service_code=NOISE, address_id=str(world.ids["building_A"]))
    assert _stored(runtime, row["service_request_id"]).description == "噪音扰民"


def test_empty_parameters_count_as_absent(client, world, runtime, keyed):
    row = _file(client, keyed, address_string="社区B1号楼", lat="", long="", address_id="", email="", phone="",
                first_name="", last_name="", media_url="", description="",
                **{"attribute[pole_number]": "", "attribute[sides][]": ""})
    request = _stored(runtime, row["service_request_id"])
    assert request.building_id == world.ids["building_B"] and request.latitude is None
    assert (request.contact_name, request.contact_phone, request.contact_email, request.media_url) == ("",) * 4
    assert request.attributes == {"lamps_out": 3, "hazard": "dark"}


def test_a_multivaluelist_is_the_repeated_field(client, world, runtime, keyed):
    form = [("api_key", keyed.key), ("jurisdiction_id", "S1"), ("service_code", LIGHT),
            ("address_id", str(world.ids["building_A"])), ("attribute[lamps_out]", "2.5"),
            ("attribute[hazard]", "wires"), ("attribute[sides][]", "south"), ("attribute[sides][]", "north"),
            ("attribute[sides][]", "south")]
    answer = client.post(f"{BASE}/requests.json", content="&".join(f"{k}={v}" for k, v in form).encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 201, answer.text
    request = _stored(runtime, answer.json()[0]["service_request_id"])
    assert request.attributes == {"lamps_out": 2.5, "hazard": "wires", "sides": ["south", "north"]}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_service_definition_lists_the_questions(client, world, keyed, fmt):
    answer = client.get(f"{BASE}/services/{LIGHT}.{fmt}", params={"jurisdiction_id": "S1"},
                        headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    if fmt == "json":
        rows = answer.json()["attributes"]
        rows = [{**r, "values": [(v["key"], v["name"]) for v in r.get("values", [])]} for r in rows]
    else:
        root = ET.fromstring(answer.content)
        assert root.findtext("service_code") == LIGHT
        rows = [{"code": a.findtext("code"), "datatype": a.findtext("datatype"),
                 "required": a.findtext("required") == "true", "variable": a.findtext("variable") == "true",
                 "order": int(a.findtext("order")), "description": a.findtext("description"),
                 "values": [(v.findtext("key"), v.findtext("name")) for v in a.findall("values/value")]}
                for a in root.findall("attributes/attribute")]
    assert [(r["code"], r["datatype"], r["required"], r["variable"], r["order"]) for r in rows] == [
        ("pole_number", "string", False, True, 1), ("lamps_out", "number", True, True, 2),
        ("hazard", "singlevaluelist", True, True, 3), ("sides", "multivaluelist", False, True, 4),
        ("notice", "string", False, False, 5)]
    assert rows[2]["description"] == "Hazard"
    assert rows[2]["values"] == [("dark", "Too dark"), ("wires", "Exposed wires")]
    services = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "S1"}).json()
    metadata = {s["service_code"]: s["metadata"] for s in services}
    assert metadata[LIGHT] is True and metadata[NOISE] is False


# --- the photo ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_multipart_photo_is_attached_and_shown_to_keyed_readers(client, world, runtime, keyed, fmt):
    photo = png(5, 4)
    row = _file(client, keyed, fmt, photo=photo, lat=SPOTS["A"][0] + 0.0004, long=SPOTS["A"][1],
                address_string="社区A1号楼3单元502室门口", description="灯杆倾斜，灯罩掉了。")
    rid = int(row["service_request_id"])
    with unit_of_work(runtime.sessions) as session:
        [(stage, uploader)] = session.execute(select(Photo.stage, Photo.uploader_id)
                                              .where(Photo.request_id == rid)).all()
    assert stage == PhotoStage.report and uploader == keyed.account_id

    full = _get(client, fmt, rid, api_key=keyed.key)
    assert full["description"] == "灯杆倾斜，灯罩掉了。" and full["address"] == "社区A1号楼3单元502室门口"
    assert float(full["lat"]) == pytest.approx(SPOTS["A"][0] + 0.0004)
    assert full["address_id"] == str(world.ids["building_A"])
    media = client.get(urlsplit(full["media_url"]).path)
    assert media.status_code == 200 and media.content == photo
    assert media.headers["content-type"] == "image/png"

    public = _get(client, fmt, rid)  # no key: where it stands and its building, nothing the reporter wrote
    assert public["media_url"] == "" and public["description"] == ""
    assert public["address"] == "社区A1号楼"
    assert (float(public["lat"]), float(public["long"])) == SPOTS["A"]
    listed = _rows(client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "S1", "api_key": keyed.key}),
                   fmt)
    assert [r["media_url"] for r in listed] == [full["media_url"]]

    for code in (f"{rid}-AAAAAAAAAA", tracking.code_for(runtime.settings, rid)):  # a tracking code is no media code
        _error(client.get(f"{BASE}/media/{code}"), "json", 404)


def test_a_media_url_given_is_shown_to_keyed_readers(client, world, keyed):
    row = _file(client, keyed, address_id=str(world.ids["building_B"]), media_url="https://img.example.cn/l.jpg")
    assert _get(client, "json", row["service_request_id"], api_key=keyed.key)["media_url"] == \
        "https://img.example.cn/l.jpg"
    assert _get(client, "json", row["service_request_id"])["media_url"] == ""


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_file_that_is_not_an_image_is_refused(client, world, runtime, keyed, fmt):
    before = table_counts(runtime)
    form = {"api_key": keyed.key, "jurisdiction_id": "S1", "service_code": LIGHT,
            "address_id": str(world.ids["building_A"]), **GOOD_LIGHT}
    answer = _post(client, fmt, form, photo=b"%PDF-1.4 not a photo at all", name="lamp.png")
    assert "PNG" in _error(answer, fmt, 400)
    assert table_counts(runtime) == before


# --- errors ---------------------------------------------------------------------------------------

def _refusals(world, keyed: Keyed) -> list[tuple[str, dict, int, str]]:
    """(what, form, status, a word the description names) for each way a POST is refused."""
    good = {"api_key": keyed.key, "jurisdiction_id": "S1", "service_code": LIGHT,
            "address_id": str(world.ids["building_A"]), **GOOD_LIGHT}

    def but(**changes):
        return {k: v for k, v in {**good, **changes}.items() if v is not None}

    return [
        ("no key", but(api_key=None), 403, "api_key"),
        ("a bad key", but(api_key="sbp_not-a-key"), 403, "api_key"),
        ("no service", but(service_code=None), 400, "service_code"),
        ("an unknown service", but(service_code="no.such"), 400, "no.such"),
        ("a top category", but(service_code="facilities"), 400, "facilities"),
        ("lat without long", but(address_id=None, lat="31.23"), 400, "lat"),
        ("lat out of range", but(address_id=None, lat="91", long="121.47"), 400, "lat"),
        ("long not a number", but(address_id=None, lat="31.23", long="east"), 400, "long"),
        ("an address no community matches", but(address_id=None, address_string="火星路1号"), 400, "社区B"),
        ("coordinates far from every building", but(address_id=None, lat=FAR[0], long=FAR[1]), 400, "社区A"),
        ("no place at all", but(address_id=None), 400, "address_string"),
        ("a building of another street", but(address_id=str(world.ids["building_C"])), 400, "address_id"),
        ("an address_id that is not a number", but(address_id="1号楼"), 400, "address_id"),
        ("a bad email", but(email="not-an-email"), 400, "email"),
        ("a bad phone", but(phone="call me"), 400, "phone"),
        ("a media_url that is not http", but(media_url="ftp://x.cn/a.png"), 400, "media_url"),
        ("a required attribute missing", but(**{"attribute[lamps_out]": None}), 400, "lamps_out"),
        ("a list value not offered", but(**{"attribute[hazard]": "fire"}), 400, "fire"),
        ("a multivaluelist value not offered", but(**{"attribute[sides][]": "up"}), 400, "up"),
        ("a number that is not one", but(**{"attribute[lamps_out]": "three"}), 400, "lamps_out"),
        ("an unknown attribute", but(**{"attribute[colour]": "red"}), 400, "colour"),
        ("an answer to a notice", but(**{"attribute[notice]": "ok"}), 400, "notice"),
        ("a description over 2000 characters", but(description="灯" * 2001), 400, "2000"),
        ("no jurisdiction while two are served", but(jurisdiction_id=None), 400, "jurisdiction_id"),
        ("an unknown jurisdiction", but(jurisdiction_id="S9"), 404, "S9"),
    ]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_refusal_is_the_standards_error_and_writes_nothing(client, world, runtime, keyed, fmt):
    before = table_counts(runtime)
    for what, form, status, word in _refusals(world, keyed):
        # Sent with a photo: one stored before the refusal would show up as a row.
        answer = _post(client, fmt, form, photo=png())
        description = _error(answer, fmt, status)
        assert word in description, (what, description)
        assert table_counts(runtime) == before, what
    answer = client.post(f"{BASE}/requests.{fmt}", json={"api_key": keyed.key, "service_code": LIGHT,
                                                         "jurisdiction_id": "S1"})
    assert "表单" in _error(answer, fmt, 400)
    good = _refusals(world, keyed)[0][1] | {"api_key": keyed.key}
    two = [("media", ("a.png", png(), "image/png")), ("media", ("b.png", png(3, 3), "image/png"))]
    assert "media" in _error(client.post(f"{BASE}/requests.{fmt}", data=good, files=two), fmt, 400)
    assert table_counts(runtime) == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_revoked_key_files_nothing_and_reads_nothing(client, world, runtime, keyed, fmt):
    kept = _file(client, keyed, address_id=str(world.ids["building_A"]))
    runtime.drain()
    with unit_of_work(runtime.sessions) as session:
        clients.revoke(session, world.actors["admin"], keyed.client_id)
    before = table_counts(runtime)
    form = {"api_key": keyed.key, "jurisdiction_id": "S1", "service_code": LIGHT,
            "address_id": str(world.ids["building_A"]), **GOOD_LIGHT}
    assert "api_key" in _error(_post(client, fmt, form, photo=png()), fmt, 403)
    assert table_counts(runtime) == before
    # A reader that gives a key learns it stopped working; without one it reads as the public.
    refused = client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "S1", "api_key": keyed.key})
    _error(refused, fmt, 403)
    assert _get(client, fmt, kept["service_request_id"])["service_code"] == LIGHT
    assert _stored(runtime, kept["service_request_id"]).collector_id == keyed.account_id


def test_errors_speak_the_readers_language(client, world, keyed):
    answer = client.post(f"{BASE}/requests.json", data={"jurisdiction_id": "S1", "service_code": LIGHT},
                         headers={"Accept-Language": "en"})
    assert _error(answer, "json", 403) == \
        "An api_key is required to file a service request. Ask the administrator for one."
    answer = client.post(f"{BASE}/requests.xml", data={"api_key": keyed.key, "jurisdiction_id": "S1",
                                                       "service_code": LIGHT, "address_string": "社区A",
                                                       "attribute[hazard]": "dark"},
                         headers={"Accept-Language": "en"})
    assert _error(answer, "xml", 400) == "Please answer Lamps out (attribute lamps_out)."
    answer = client.post(f"{BASE}/requests.json", data={"api_key": keyed.key, "jurisdiction_id": "S1",
                                                        "service_code": LIGHT, "address_string": "社区A",
                                                        "attribute[hazard]": "dark"})
    assert _error(answer, "json", 400) == "请填写“不亮的灯数”（附加项 lamps_out）。"


# --- where a report lands ---------------------------------------------------------------------------

def _place(runtime, row) -> tuple[int, int | None, int | None]:
    request = _stored(runtime, row["service_request_id"])
    return request.community_id, request.grid_id, request.building_id


def test_where_a_report_from_outside_lands(client, world, runtime, keyed):
    ids = world.ids
    building_a = (ids["community_A"], ids["grid_A"], ids["building_A"])
    building_b = (ids["community_B"], ids["grid_B"], ids["building_B"])
    # address_id: that building, whatever else is said.
    assert _place(runtime, _file(client, keyed, address_id=str(ids["building_B"]), address_string="社区A1号楼",
                                 lat=SPOTS["A"][0], long=SPOTS["A"][1])) == building_b
    # Coordinates within reach of a building: the nearest one, before the text.
    assert _place(runtime, _file(client, keyed, lat=NEAR_B[0], long=NEAR_B[1], address_string="社区A")) == building_b
    # Coordinates far from every building: the address text decides.
    assert _place(runtime, _file(client, keyed, lat=FAR[0], long=FAR[1], address_string="社区A1号楼旁")) \
        == building_a
    # A building's address inside a longer text, full-width forms and spaces folded.
    assert _place(runtime, _file(client, keyed, address_string="某市某区 社区Ｂ １号楼 东侧")) == building_b
    # A community named, no building: the community, without a grid or building.
    assert _place(runtime, _file(client, keyed, address_string="社区B北门口")) == (ids["community_B"], None, None)
    # A building of the street near the given point only counts for that street: C is in S2.
    near_c_only = (SPOTS["C"][0] + 0.0001, SPOTS["C"][1] + 0.0001)
    assert _place(runtime, _file(client, keyed, lat=near_c_only[0], long=near_c_only[1])) == building_a
    # A street with one community takes any location, or none.
    for fields in ({"address_string": "火星路1号"}, {"lat": FAR[0], "long": FAR[1]}, {}):
        row = _file(client, keyed, service_code=NOISE, jurisdiction="S2", **fields)
        assert _place(runtime, row)[0] == ids["community_C"]
    near_c = _file(client, keyed, service_code=NOISE, jurisdiction="S2", lat=SPOTS["C"][0], long=SPOTS["C"][1])
    assert _place(runtime, near_c) == (ids["community_C"], ids["grid_C"], ids["building_C"])


# --- reading what was filed ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_notices_tracking_code_is_a_token(client, world, runtime, keyed, fmt):
    row = _file(client, keyed, fmt, address_id=str(world.ids["building_A"]))
    [code] = re.findall(r"/track/([0-9]+-[0-9A-Z]+)", row["service_notice"])
    answer = client.get(f"{BASE}/tokens/{code}.{fmt}", params={"jurisdiction_id": "S1"})
    assert answer.status_code == 200
    if fmt == "json":
        assert answer.json() == [{"service_request_id": row["service_request_id"], "token": code}]
    else:
        root = ET.fromstring(answer.content)
        assert root.findtext("request/service_request_id") == row["service_request_id"]
        assert root.findtext("request/token") == code
    elsewhere = client.get(f"{BASE}/tokens/{code}.{fmt}", params={"jurisdiction_id": "S2"})
    _error(elsewhere, fmt, 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_window_opens_from_either_date(client, world, runtime, keyed, fmt):
    fresh = _file(client, keyed, address_id=str(world.ids["building_A"]))["service_request_id"]
    old = _file(client, keyed, address_id=str(world.ids["building_A"]))["service_request_id"]
    runtime.drain()  # routed first: the worker and the backdating would change the same row
    with unit_of_work(runtime.sessions) as session:
        session.get(Request, int(old)).submitted_at = utcnow() - timedelta(days=100)
    now = utcnow()

    def ids(**params) -> list[str]:
        answer = client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "S1", **params})
        return [r["service_request_id"] for r in _rows(answer, fmt)]

    assert ids() == [fresh]
    # start alone: the 90 days from it; end alone: the 90 days up to it; exactly 90 days is allowed.
    assert ids(start_date=(now - timedelta(days=120)).isoformat()) == [old]
    assert ids(end_date=(now - timedelta(days=95)).isoformat()) == [old]
    assert ids(start_date=(now - timedelta(days=90)).isoformat(), end_date=now.isoformat()) == [fresh]
    # A date without an offset is the street's own time.
    assert ids(start_date=(now - timedelta(days=101)).strftime("%Y-%m-%dT%H:%M:%S")) == [old]
    assert ids(service_request_id=f"{old},{fresh}", start_date=now.isoformat()) == [fresh, old]


def test_at_most_1000_requests_in_both_formats(client, world, runtime, keyed):
    first = _file(client, keyed, address_id=str(world.ids["building_A"]))["service_request_id"]
    with unit_of_work(runtime.sessions) as session:
        template = session.get(Request, int(first))
        values = {c.key: getattr(template, c.key) for c in Request.__table__.columns if c.key != "id"}
        session.execute(insert(Request), [values] * 1000)
    for fmt in ("json", "xml"):
        rows = _rows(client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "S1"}), fmt)
        assert len(rows) == 1000 and first not in {r["service_request_id"] for r in rows}  # newest first
        assert {r["service_code"] for r in rows} == {LIGHT}
    everything = ",".join(str(i) for i in range(int(first), int(first) + 1001))
    rows = _rows(client.get(f"{BASE}/requests.xml", params={"jurisdiction_id": "S1",
                                                             "service_request_id": everything}), "xml")
    assert len(rows) == 1000


# --- a third-party client -------------------------------------------------------------------------

def test_a_third_party_client_files_and_reads(live_server, world, runtime, keyed):
    """PyPI's civicbot, unmodified: it reads the services and the definition, checks its form
    against them, posts it as a form, then reads the request back."""
    bot = Open311Client(Endpoint("sbp", "Shoubanping", f"{live_server}/open311/v2", write=True),
                        jurisdiction_id="S1")
    services = bot.list_services()
    assert LIGHT in {s["service_code"] for s in services}
    definition = bot.get_service_definition(LIGHT)
    assert [a["code"] for a in definition["attributes"] if a["required"]] == ["lamps_out", "hazard"]
    prepared = bot.create_request(LIGHT, dry_run=False, confirm="SEND", api_key=keyed.key, lat=NEAR_B[0],
                                  lng=NEAR_B[1], attributes={"lamps_out": 2, "hazard": "wires",
                                                             "sides": ["east", "north"]},
                                  description="两根灯杆电线外露。", validate_remote=True)
    [filed] = prepared.response
    rid = filed["service_request_id"]
    request = _stored(runtime, rid)
    assert request.channel == Channel.open311 and request.building_id == world.ids["building_B"]
    assert request.attributes == {"lamps_out": 2, "hazard": "wires", "sides": ["east", "north"]}
    runtime.drain()
    one = bot.get_request(rid)
    assert one["service_code"] == LIGHT and one["status"] == "open" and one["agency_responsible"] == "街道S1"
    assert one["description"] == "" and one["address"] == "社区B1号楼"  # the public view
    assert [r["service_request_id"] for r in bot.list_requests(service_code=LIGHT, status="open")] == [rid]
