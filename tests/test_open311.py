"""Open311 GeoReport v2, first part: discovery, the service list and service definitions, in both
formats (the XML read back with a real parser), the standard's error list, jurisdictions, and an
unmodified third-party client (PyPI's ``georeport``) reading the running server."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from georeport import GeoReport
from sqlalchemy import select

from workflow.db import unit_of_work
from workflow.models import Category

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
