"""Limits on anonymous submission through Open311: a client key files at most so many service
requests a minute, and one e-mail address or phone number at most so many an hour whatever the
client. Over a limit the answer is 429 in the standard's error format with Retry-After, nothing is
written, and the wait ends as the oldest counted request leaves its window. Two submissions at the
limit at once never both pass."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from workflow import open311
from workflow.commands import clients
from workflow.db import unit_of_work
from workflow.errors import TooManyRequests
from workflow.models import Channel, Request

from .helpers import count, table_counts
from .test_open311 import _assert_error

BASE = "/open311/v2"
NOISE = "disputes.noise"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"open311_submissions_per_minute": 3,
                                       "open311_submissions_per_contact_per_hour": 2})


@pytest.fixture
def keys(runtime, world) -> list[str]:
    with unit_of_work(runtime.sessions) as session:
        return [clients.issue(session, None, name)[1] for name in ("市民热线", "街道小程序")]


def _form(key: str, **fields) -> dict:
    return {"api_key": key, "jurisdiction_id": "S1", "service_code": NOISE, "address_string": "社区A",
            "description": "夜里楼上装修，噪音很大。", **fields}


def _file(client, key: str, fmt: str = "json", headers: dict | None = None, **fields):
    return client.post(f"{BASE}/requests.{fmt}", data=_form(key, **fields), headers=headers)


def _age(runtime, delta: timedelta) -> None:
    """Move every request's submission back by ``delta``, as if that much time had passed (once the
    worker has routed them: it writes the same rows)."""
    runtime.drain()
    with unit_of_work(runtime.sessions) as session:
        for request in session.scalars(select(Request)):
            request.submitted_at -= delta


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_client_key_files_at_most_its_share_a_minute(client, runtime, keys, fmt):
    for i in range(3):
        assert _file(client, keys[0], fmt, email=f"person{i}@example.org").status_code == 201
    runtime.drain()
    before = table_counts(runtime)

    refused = _file(client, keys[0], fmt, {"Accept-Language": "en"}, email="someone.new@example.org")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert "3 service requests in the last minute" in _assert_error(refused, fmt, 429)
    assert table_counts(runtime) == before

    # Another client is not held up by this one.
    assert _file(client, keys[1], fmt).status_code == 201
    # A minute later the first three are out of the window.
    _age(runtime, timedelta(seconds=61))
    assert _file(client, keys[0], fmt).status_code == 201


def test_one_contact_files_at_most_its_share_an_hour_through_any_client(client, runtime, keys):
    assert _file(client, keys[0], email="Wang.Fang@example.org", phone="138 0000 1111").status_code == 201
    assert _file(client, keys[1], email="wang.fang@example.org", phone="138 0000 1111").status_code == 201
    runtime.drain()
    before = table_counts(runtime)

    # The same address (in any case) through either client, or the same phone, waits.
    for fields in ({"email": "WANG.FANG@example.org"}, {"phone": "138 0000 1111"},
                   {"email": "other@example.org", "phone": "138 0000 1111"}):
        refused = _file(client, keys[0], **fields)
        assert refused.status_code == 429, fields
        assert 3540 <= int(refused.headers["Retry-After"]) <= 3600
        assert "60 分钟" in _assert_error(refused, "json", 429)
    assert table_counts(runtime) == before

    # Other people, and people who leave no contact, file on.
    assert _file(client, keys[0], email="li.lei@example.org").status_code == 201
    assert _file(client, keys[0]).status_code == 201
    # An hour later the address may file again.
    _age(runtime, timedelta(minutes=61))
    assert _file(client, keys[1], email="wang.fang@example.org").status_code == 201


def test_submissions_at_the_limit_at_once_never_all_pass(runtime, world, keys):
    """Twelve submissions with one key at the same moment, each in its own transaction on its own
    connection (as in twelve server processes): exactly the limit's three are filed, the rest wait;
    then the same race on one contact through six clients."""

    def race(fields_of) -> list[str]:
        outcomes: list[str] = []
        start = threading.Barrier(12)

        def one(i: int) -> None:
            fields = {name: [value] for name, value in fields_of(i).items()}
            start.wait()
            try:
                with unit_of_work(runtime.sessions) as session:
                    client = clients.authenticate(session, fields["api_key"][0])
                    street = open311.jurisdiction(session, "S1")
                    open311.file_request(session, runtime.settings, client, street, fields, None,
                                         base_url="http://testserver", locale="zh_CN")
                outcomes.append("filed")
            except TooManyRequests as refused:
                outcomes.append(refused.code)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        return sorted(outcomes)

    assert race(lambda i: _form(keys[0], email=f"p{i}@example.org")) == ["filed"] * 3 + ["too_many_submissions"] * 9
    assert count(runtime, Request, Request.channel == Channel.open311) == 3

    # One address through six clients, each under its own limit: two pass, whichever they are.
    with unit_of_work(runtime.sessions) as session:
        keys = keys + [clients.issue(session, None, f"应用{i}")[1] for i in range(4)]
    _age(runtime, timedelta(seconds=61))
    assert race(lambda i: _form(keys[i % 6], email="same.person@example.org")) == ["filed"] * 2 + [
        "too_many_submissions"] * 10
    with unit_of_work(runtime.sessions) as session:
        emails = session.scalars(select(Request.contact_email).where(Request.channel == Channel.open311)).all()
    assert sorted(emails).count("same.person@example.org") == 2
