"""Open311 GeoReport v2, first part: discovery, the service list and service definitions, in both
formats (the XML read back with a real parser), the standard's error list, jurisdictions, and an
unmodified third-party client (PyPI's ``georeport``) reading the running server."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from georeport import GeoReport
from sqlalchemy import select

from tests.helpers import act, in_community, submit
from workflow import tracking
from workflow.db import unit_of_work
from workflow.models import Category, Request, utcnow

BASE = "/open311/v2"


def _leaves(runtime) -> dict[str, str]:
    """Leaf category code -> its Chinese name, straight from the taxonomy."""
    with unit_of_work(runtime.sessions) as session:
        rows = session.scalars(select(Category).where(Category.parent_id.is_not(None), Category.active)).all()
        return {c.code: c.name_zh for c in rows}


def test_discovery_in_both_formats(client, world):
    doc = client.get(f"{BASE}/discovery.json").json()
    [endpoint] = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and set(endpoint["formats"]) == {"text/xml", "application/json"}
    answer = client.get(f"{BASE}/discovery.xml")
    assert answer.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(answer.content)
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_are_the_leaf_categories_with_their_group(client, world, runtime, fmt):
    leaves = _leaves(runtime)
    answer = client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "S1"})
    assert answer.status_code == 200
    if fmt == "json":
        services = answer.json()
        assert isinstance(services, list)
    else:
        root = ET.fromstring(answer.content)
        assert root.tag == "services"
        services = [{child.tag: child.text for child in s} for s in root.findall("service")]
    assert {s["service_code"] for s in services} == set(leaves)
    clutter = next(s for s in services if s["service_code"] == "sanitation.corridor_clutter")
    assert clutter["service_name"] == leaves["sanitation.corridor_clutter"]
    assert clutter["group"] and clutter["type"] == "realtime"
    assert clutter["metadata"] in (False, "false")
    assert isinstance(clutter["service_code"], str)


def test_english_names_follow_accept_language(client, world):
    services = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "S1"},
                          headers={"Accept-Language": "en"}).json()
    clutter = next(s for s in services if s["service_code"] == "sanitation.corridor_clutter")
    assert clutter["service_name"].isascii()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_service_definition_and_an_unknown_service(client, world, fmt):
    answer = client.get(f"{BASE}/services/sanitation.corridor_clutter.{fmt}", params={"jurisdiction_id": "S1"})
    assert answer.status_code == 200
    if fmt == "json":
        assert answer.json() == {"service_code": "sanitation.corridor_clutter", "attributes": []}
    else:
        root = ET.fromstring(answer.content)
        assert root.tag == "service_definition" and root.findtext("service_code") == "sanitation.corridor_clutter"
        assert root.find("attributes") is not None and list(root.find("attributes")) == []
    missing = client.get(f"{BASE}/services/no.such.{fmt}", params={"jurisdiction_id": "S1"})
    assert missing.status_code == 404
    _assert_error(missing, fmt, 404)


def _assert_error(answer, fmt: str, code: int) -> str:
    """The standard's error body: a list of {code, description}, even for one error."""
    if fmt == "json":
        [error] = answer.json()
        assert error["code"] == code and error["description"]
        return error["description"]
    root = ET.fromstring(answer.content)
    assert root.tag == "errors"
    [error] = root.findall("error")
    assert error.findtext("code") == str(code) and error.findtext("description")
    return error.findtext("description")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdictions(client, world, fmt):
    # Two street offices are served: a client must say which (an empty value counts as absent).
    for params in ({}, {"jurisdiction_id": ""}):
        answer = client.get(f"{BASE}/services.{fmt}", params=params)
        assert answer.status_code == 400
        assert "jurisdiction_id" in _assert_error(answer, fmt, 400)
    unknown = client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "nowhere"})
    assert unknown.status_code == 404
    _assert_error(unknown, fmt, 404)
    assert client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "S2"}).status_code == 200


def test_an_unknown_format_is_not_found_in_the_standards_shape(client, world):
    answer = client.get(f"{BASE}/services.html", params={"jurisdiction_id": "S1"})
    assert answer.status_code == 404
    assert answer.json()[0]["code"] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_third_party_client_reads_the_services(live_server, world, runtime, fmt):
    """PyPI's georeport, unmodified, against the running server."""
    client = GeoReport(f"{live_server}/open311/v2", jurisdiction="S1", output_format=fmt)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == set(_leaves(runtime))
    definition = client.get_service_definition("sanitation.corridor_clutter")
    definition = definition.get("service_definition", definition)  # the XML reader keeps the root
    assert definition["service_code"] == "sanitation.corridor_clutter"


# --- service requests ----------------------------------------------------------------------------

def _requests(client, fmt: str, **params) -> list[dict]:
    answer = client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "S1", **params})
    assert answer.status_code == 200, answer.text
    if fmt == "json":
        return answer.json()
    root = ET.fromstring(answer.content)
    assert root.tag == "service_requests"
    return [{child.tag: child.text for child in r} for r in root.findall("request")]


def _backdate(runtime, request_id: int, days: int) -> None:
    with unit_of_work(runtime.sessions) as session:
        session.get(Request, request_id).submitted_at = utcnow() - timedelta(days=days)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_with_each_filter(client, world, runtime, fmt):
    noise = in_community(client, world, runtime)  # open, in community handling
    clutter = submit(client, world, "resident_a")["id"]
    runtime.drain()
    rejected = in_community(client, world, runtime)
    act(client, world, "staff_a", rejected, "reject", reason="不属于社区职责")
    other_street = submit(client, world, "resident_a", community="C")["id"]
    old = in_community(client, world, runtime)
    _backdate(runtime, old, 120)

    rows = _requests(client, fmt)  # the last 90 days by default, this street only
    assert [r["service_request_id"] for r in rows] == [str(rejected), str(clutter), str(noise)]
    by_id = {r["service_request_id"]: r for r in rows}
    assert by_id[str(noise)]["status"] == "open" and by_id[str(rejected)]["status"] == "closed"
    assert by_id[str(rejected)]["status_notes"] == "不予受理"
    assert by_id[str(noise)]["agency_responsible"] == "社区A"
    assert by_id[str(noise)]["requested_datetime"].endswith("+08:00")  # the street's own time zone
    assert by_id[str(noise)]["expected_datetime"]
    assert [r["service_request_id"] for r in _requests(client, fmt, status="closed")] == [str(rejected)]
    assert [r["service_request_id"] for r in _requests(client, fmt, status="open,closed")] == \
        [str(rejected), str(clutter), str(noise)]
    assert [r["service_request_id"] for r in _requests(client, fmt, service_code="sanitation.corridor_clutter")] \
        == [str(clutter)]
    # Ids override every other filter, but stay within the jurisdiction.
    ids = f"{old},{noise},{other_street}"
    assert {r["service_request_id"] for r in _requests(client, fmt, service_request_id=ids, status="closed")} \
        == {str(old), str(noise)}
    # A window of dates; an empty parameter counts as absent.
    start = (utcnow() - timedelta(days=130)).isoformat()
    end = (utcnow() - timedelta(days=100)).isoformat()
    assert [r["service_request_id"] for r in _requests(client, fmt, start_date=start, end_date=end)] == [str(old)]
    assert len(_requests(client, fmt, start_date="", end_date="", status="")) == 3

    single = client.get(f"{BASE}/requests/{noise}.{fmt}", params={"jurisdiction_id": "S1"})
    assert single.status_code == 200
    if fmt == "json":
        assert [r["service_request_id"] for r in single.json()] == [str(noise)]
    else:
        assert ET.fromstring(single.content).findtext("request/service_request_id") == str(noise)
    elsewhere = client.get(f"{BASE}/requests/{other_street}.{fmt}", params={"jurisdiction_id": "S1"})
    assert elsewhere.status_code == 404
    _assert_error(elsewhere, fmt, 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_request_filters_are_400(client, world, fmt):
    now = utcnow()
    for params in ({"start_date": "yesterday"}, {"status": "pending"}, {"service_request_id": "1,x"},
                   {"start_date": (now - timedelta(days=91)).isoformat(), "end_date": now.isoformat()},
                   {"start_date": now.isoformat(), "end_date": (now - timedelta(days=1)).isoformat()}):
        answer = client.get(f"{BASE}/requests.{fmt}", params={"jurisdiction_id": "S1", **params})
        assert answer.status_code == 400, params
        _assert_error(answer, fmt, 400)


def test_at_most_1000_requests_are_listed(client, world, runtime):
    with unit_of_work(runtime.sessions) as session:
        template = session.get(Request, submit(client, world, "resident_a")["id"])
        fields = {c.key: getattr(template, c.key) for c in Request.__table__.columns if c.key != "id"}
        session.add_all([Request(**fields) for _ in range(1000)])
    rows = client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "S1"}).json()
    assert len(rows) == 1000


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_is_the_tracking_code(client, world, runtime, fmt):
    rid = submit(client, world, "resident_a")["id"]
    code = tracking.code_for(runtime.settings, rid)
    answer = client.get(f"{BASE}/tokens/{code}.{fmt}", params={"jurisdiction_id": "S1"})
    assert answer.status_code == 200
    if fmt == "json":
        assert answer.json() == [{"service_request_id": str(rid), "token": code}]
    else:
        assert ET.fromstring(answer.content).findtext("request/service_request_id") == str(rid)
    forged = client.get(f"{BASE}/tokens/{rid}-AAAAAAAAAA.{fmt}", params={"jurisdiction_id": "S1"})
    assert forged.status_code == 404
    _assert_error(forged, fmt, 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_third_party_client_reads_the_requests(live_server, client, world, runtime, fmt):
    rid = in_community(client, world, runtime)
    reader = GeoReport(f"{live_server}/open311/v2", jurisdiction="S1", output_format=fmt)
    rows = reader.get_service_requests(status="open")
    rows = rows if isinstance(rows, list) else [rows]
    assert [r["service_request_id"] for r in rows] == [str(rid)]
    one = reader.get_service_request(str(rid))
    one = one[0] if isinstance(one, list) else one
    assert one["service_request_id"] == str(rid) and one["status"] == "open"
