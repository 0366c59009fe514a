"""Hostile input: what an attacker, a broken client or a bored tester sends, through the JSON API,
Open311 and the pages. Each is refused with a 4xx and a code (never a 500 or a hang, nothing
written), or stored verbatim and shown harmless.

Proved elsewhere, not repeated here: a page upload over its limit gets the 413 page, a chunked page
body 411 and a plain page form over 64 KiB 413 (tests/web/test_error_pages.py); a photo that is not
an image, too large or empty is refused (tests/test_photos.py, and through Open311
tests/test_open311_write.py); a JSON body that is not JSON, or of the wrong types
(tests/test_bad_input.py); text that looks like a spreadsheet formula stays text in the .xlsx report
(tests/test_exports.py; there is no CSV export).
"""

from __future__ import annotations

import io
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from workflow import audit, tracking
from workflow.commands import clients
from workflow.db import unit_of_work
from workflow.models import AuditEntry, Photo, Request, utcnow

from .helpers import act, get, submit, table_counts
from .test_open311 import _assert_error

MIB = 1024 * 1024
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE requests; --"


def jpeg() -> bytes:
    """A real JPEG, as a camera would send one."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def key(runtime, world) -> str:
    with unit_of_work(runtime.sessions) as session:
        return clients.issue(session, None, "hostile client")[1]


def open311_form(key: str, **fields) -> dict:
    return {"api_key": key, "jurisdiction_id": "S1", "service_code": "disputes.noise", "address_string": "社区A",
            **fields}


def error_code(answer) -> str:
    return answer.json()["error"]["code"]


# --- bodies over their limit, bodies that lie about their length ---------------------------------

def test_bodies_over_the_limit_are_refused_with_413_by_the_api_and_open311(client, world, runtime, key):
    before = table_counts(runtime)
    big = client.post("/api/v1/requests", content=b"{" + b" " * MIB + b"}",
                      headers=world.headers("resident_a", **{"Content-Type": "application/json"}))
    assert big.status_code == 413 and error_code(big) == "payload_too_large"
    photo = client.post("/api/v1/photos", headers=world.headers("resident_a"),
                        files={"file": ("big.jpg", jpeg() + b"\0" * (runtime.settings.max_photo_bytes + 65 * 1024),
                                        "image/jpeg")})
    assert photo.status_code == 413 and error_code(photo) == "payload_too_large"
    form = client.post("/open311/v2/requests.json", data=open311_form(key, description="很" * MIB))
    assert form.status_code == 413
    _assert_error(form, "json", 413)
    xml = client.post("/open311/v2/requests.xml", data=open311_form(key, description="很" * MIB))
    assert xml.status_code == 413
    _assert_error(xml, "xml", 413)
    assert table_counts(runtime) == before


def _raw(server: str, head: str, body: bytes = b"", rest: bytes = b"", *, read_timeout: float = 30) -> bytes:
    """Send ``head`` and ``body`` over a socket of its own, read the answer until the server closes
    the connection or stays silent for ``read_timeout`` seconds, then send ``rest`` (a server that
    stopped reading may refuse it)."""
    url = urlsplit(server)
    with socket.create_connection((url.hostname, url.port), timeout=read_timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer or len(answer) < answer.find(b"\r\n\r\n") + 4 + _length(answer):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass
        try:
            sock.sendall(rest)
        except OSError:
            pass
        return answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n")[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_body_that_lies_about_its_length_or_has_none(live_server, world, runtime, key):
    before = table_counts(runtime)
    token = world.token("resident_a")
    api = f"POST /api/v1/requests HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\nContent-Type: application/json\n"
    open311 = "POST /open311/v2/requests.json HTTP/1.1\nHost: x\nContent-Type: application/x-www-form-urlencoded\n"
    page = "POST /login HTTP/1.1\nHost: x\nContent-Type: application/x-www-form-urlencoded\n"

    # Claims 50 MiB and sends nothing yet: refused at once, from the header, without waiting for it.
    for head in (api, open311, page):
        answer = _raw(live_server, head + f"Content-Length: {50 * MIB}\n", rest=b"0123456789" * 1000)
        assert _status(answer) == 413, answer[:300]
    # No length, chunked: 411 before anything is read.
    for head in (api, open311):
        answer = _raw(live_server, head + "Transfer-Encoding: chunked\n", b"5\r\nhello\r\n0\r\n\r\n")
        assert _status(answer) == 411 and (b"length_required" in answer or head == open311), answer[:300]
    # Claims 20 bytes and sends 2 MiB: only the 20 are read (not JSON: refused) and answered before
    # the rest is sent; the rest is no request at all.
    answer = _raw(live_server, api + "Content-Length: 20\n", b'{"description": "xxx', b"x" * (2 * MIB) + b'"}')
    assert _status(answer) == 422, answer[:300]
    # A length that is no number.
    answer = _raw(live_server, api + "Content-Length: ten\n", b"{}")
    assert 400 <= _status(answer) < 500

    assert _status(_raw(live_server, "GET /healthz HTTP/1.1\nHost: x\nConnection: close\n")) == 200
    runtime.drain()
    assert table_counts(runtime) == before


# --- uploads are judged by their content, stored by their hash -----------------------------------

IMPOSTORS = {
    "php": b"<?php system($_GET['c']); ?>",
    "html": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>',
}


@pytest.mark.parametrize("kind", list(IMPOSTORS))
def test_a_script_named_like_a_photo_is_refused_everywhere(client, browser_factory, world, runtime, key, kind):
    browser = browser_factory()
    data = IMPOSTORS[kind]
    browser.login("resident_a")
    before = table_counts(runtime)
    api = client.post("/api/v1/photos", headers=world.headers("resident_a"),
                      files={"file": ("photo.jpg", data, "image/jpeg")})
    assert api.status_code == 422 and error_code(api) == "photo_type"
    open311 = client.post("/open311/v2/requests.json", data=open311_form(key),
                          files={"media": ("photo.jpg", data, "image/jpeg")})
    assert open311.status_code == 400
    _assert_error(open311, "json", 400)
    browser.get("/report")
    page = browser.post("/report", {"category": "disputes.noise", "community_id": str(world.ids["community_A"]),
                                    "description": "楼上噪音"}, files=[("photos", ("photo.jpg", data, "image/jpeg"))])
    assert page.status_code == 422 and "JPEG" in page.text
    assert table_counts(runtime) == before
    assert not list(Path(runtime.settings.media_dir).rglob("*")) or all(
        p.is_dir() for p in Path(runtime.settings.media_dir).rglob("*"))


def test_a_photo_named_like_a_path_is_stored_by_its_hash(client, world, runtime, key, tmp_path):
    data = jpeg()
    media = Path(runtime.settings.media_dir)
    uploaded = client.post("/api/v1/photos", headers=world.headers("resident_a"),
                           files={"file": ("../../etc/passwd", data, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    assert "passwd" not in uploaded.text and uploaded.json()["content_type"] == "image/jpeg"
    filed = client.post("/open311/v2/requests.json", data=open311_form(key),
                        files={"media": ("..%2F..%2F..%2Fpasswd", data, "image/jpeg")})
    assert filed.status_code == 201, filed.text

    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    stored = [p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()]
    assert stored == [f"{digest[:2]}/{digest}"]
    assert not [p for p in tmp_path.parent.rglob("*passwd*")]
    with unit_of_work(runtime.sessions) as session:
        assert set(session.scalars(select(Photo.sha256))) == {digest}
    download = client.get(f"/api/v1/photos/{uploaded.json()['id']}", headers=world.headers("resident_a"))
    assert download.content == data and download.headers["content-type"] == "image/jpeg"


# --- markup is shown as text on every page that shows it -----------------------------------------

def test_markup_in_a_request_is_shown_escaped_on_every_page(client, browser_factory, world, runtime, key):
    # A resident's report, a staff inspection with a contact, and a service request from an app.
    reported = submit(client, world, "resident_a", category="sanitation.corridor_clutter",
                      description=SCRIPT + BREAKOUT, address=BREAKOUT)["id"]
    inspected = submit(client, world, "staff_a", channel="inspection", category="disputes.noise",
                       description=BREAKOUT, contact_name=SCRIPT, contact_phone="13800000000")["id"]
    filed = client.post("/open311/v2/requests.json", data=open311_form(
        key, description=SCRIPT, address_string=BREAKOUT + " 社区A", first_name=SCRIPT, last_name=BREAKOUT))
    assert filed.status_code == 201, filed.text
    from_app = int(filed.json()[0]["service_request_id"])
    runtime.drain()
    act(client, world, "staff_a", inspected, "escalate", note=SCRIPT)
    act(client, world, "officer_1", inspected, "supervision", level="red", reason=BREAKOUT)

    pages = {
        "resident_a": ["/my/requests", f"/requests/{reported}"],
        "staff_a": ["/desk", f"/requests/{reported}", f"/requests/{inspected}", f"/requests/{from_app}"],
        "member_1": ["/member/tasks", f"/requests/{reported}"],
        "officer_1": ["/street", "/street/supervision", f"/requests/{inspected}"],
        "secretary_a": ["/desk", "/street/supervision", f"/requests/{from_app}", f"/requests/{inspected}"],
    }
    shown = set()
    for user, urls in pages.items():
        browser = browser_factory()
        browser.login(user)
        for url in urls:
            page = browser.get(url)
            assert page.status_code == 200, (user, url)
            assert SCRIPT not in page.text and "<img src=x" not in page.text, (user, url)
            if "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text or "&#34;&gt;&lt;img" in page.text:
                shown.add((user, url))
    # Every one of these pages showed the text, escaped: the checks above looked at something.
    assert shown == {(user, url) for user, urls in pages.items() for url in urls}
    tracked = browser_factory().get(f"/track/{tracking.code_for(runtime.settings, reported)}")
    assert tracked.status_code == 200 and SCRIPT not in tracked.text

    # Stored as typed, and handed back as typed by the API (escaping is the page's job).
    detail = get(client, world, "staff_a", f"/requests/{inspected}")
    assert detail["description"] == BREAKOUT and detail["contact_name"] == SCRIPT


# --- SQL-looking text ------------------------------------------------------------------------------

def test_sql_looking_text_is_stored_verbatim_and_wildcards_are_plain_characters(client, world, runtime):
    text = f"{SQL} 100% 的_问题 \\ \" ' ;"
    rid = submit(client, world, "resident_a", description=text, address=SQL)["id"]
    runtime.drain()
    detail = get(client, world, "resident_a", f"/requests/{rid}")
    assert detail["description"] == text and detail["address"] == SQL
    assert len(get(client, world, "admin", "/queue")) >= 0
    with unit_of_work(runtime.sessions) as session:
        assert session.scalar(select(Request.description).where(Request.id == rid)) == text

    # The audit log's filter is a prefix of plain characters: "%" and "_" match only themselves.
    with unit_of_work(runtime.sessions) as session:
        before = len(session.scalars(select(AuditEntry)).all())  # the world's registrations are audited too
        admin = world.actors["admin"]
        audit.record(session, admin, "scores.recompute", "2026-09/city", utcnow())
        audit.record(session, admin, "policy_100%", "v2", utcnow())
    assert [e["action"] for e in get(client, world, "admin", "/admin/audit", action="scores.")] == [
        "scores.recompute"]
    assert get(client, world, "admin", "/admin/audit", action="scores_") == []
    assert get(client, world, "admin", "/admin/audit", action="%") == []
    assert [e["action"] for e in get(client, world, "admin", "/admin/audit", action="policy_100%")] == [
        "policy_100%"]
    assert get(client, world, "admin", "/admin/logins", username="%") == []
    with unit_of_work(runtime.sessions) as session:
        assert len(session.scalars(select(AuditEntry)).all()) == before + 2


# --- text that is not text: invalid UTF-8, NUL, JSON nested past reason ---------------------------

def test_invalid_utf8_anywhere_is_refused_with_a_code(client, browser_factory, world, runtime, key):
    browser = browser_factory()
    before = table_counts(runtime)
    headers = world.headers("resident_a", **{"Content-Type": "application/json"})
    body = b'{"channel": "report", "category": "disputes.noise", "description": "\xff\xfe\xc3("}'
    json_body = client.post("/api/v1/requests", content=body, headers=headers)
    assert json_body.status_code == 400 and error_code(json_body) == "invalid_encoding"
    assert "UTF-8" in client.post("/api/v1/requests", content=body,
                                  headers={**headers, "Accept-Language": "en"}).json()["error"]["message"]

    form = client.post("/open311/v2/requests.json", content=b"api_key=" + key.encode() + b"&jurisdiction_id=S1"
                       b"&service_code=disputes.noise&address_string=%E7%A4%BE%E5%8C%BAA&description=%FF%FE",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 400
    assert "UTF-8" in _assert_error(form, "json", 400)

    query = client.get("/api/v1/requests/mine?limit=%FF", headers=world.headers("resident_a"))
    assert query.status_code == 400 and error_code(query) == "invalid_encoding"
    open311_query = client.get("/open311/v2/requests.xml?jurisdiction_id=S1&service_code=%C3%28")
    assert open311_query.status_code == 400
    _assert_error(open311_query, "xml", 400)
    path = client.get("/api/v1/admin/scoring-policies/%FF", headers=world.headers("admin"))
    assert path.status_code == 400 and error_code(path) == "invalid_encoding"
    page_path = browser.get("/track/%FF%FE")
    assert page_path.status_code == 400 and "UTF-8" in page_path.text

    browser.get("/login")
    login = browser.client.post("/login", content=b"username=%FF&password=x",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert login.status_code == 400
    assert table_counts(runtime) == before


def test_json_nested_ten_thousand_deep_is_refused_not_a_crash(client, world, runtime):
    before = table_counts(runtime)
    headers = world.headers("resident_a", **{"Content-Type": "application/json"})
    for body in (b"[" * 10_000 + b"]" * 10_000, b"[" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        answer = client.post("/api/v1/requests", content=body, headers=headers)
        assert answer.status_code == 400 and error_code(answer) == "too_deeply_nested", answer.text[:200]
    # Nested, but within what a parser follows: an ordinary validation error.
    shallow = client.post("/api/v1/requests", content=b"[" * 50 + b"]" * 50, headers=headers)
    assert shallow.status_code == 422 and error_code(shallow) == "validation_error"
    assert table_counts(runtime) == before


def test_nul_in_text_is_refused_on_every_door(client, browser_factory, world, runtime, key):
    browser = browser_factory()
    browser.login("resident_a")
    before = table_counts(runtime)
    nul_json = client.post("/api/v1/requests", headers=world.headers("resident_a"), json={
        "channel": "report", "category": "disputes.noise", "description": "楼上\u0000噪音",
        "community_id": world.ids["community_A"]})
    assert nul_json.status_code == 400 and error_code(nul_json) == "nul_character"
    escaped = client.post("/api/v1/requests", headers=world.headers("resident_a", **{
        "Content-Type": "application/json"}), content=b'{"channel": "report", "description": "a\\\\u0000"}')
    assert escaped.status_code == 422  # an escaped backslash before "u0000" is no NUL: validation goes on
    assert client.get("/api/v1/admin/logins?username=a%00b", headers=world.headers("admin")).status_code == 400
    assert client.get("/api/v1/admin/categories/a%00b", headers=world.headers("admin")).status_code == 400

    urlencoded = client.post("/open311/v2/requests.json", data=open311_form(key, description="楼上\x00噪音"))
    assert urlencoded.status_code == 400 and "\\0" in _assert_error(urlencoded, "json", 400)
    multipart = client.post("/open311/v2/requests.json", data=open311_form(key, first_name="王\x00"),
                            files={"media": ("p.jpg", jpeg(), "image/jpeg")})
    assert multipart.status_code == 400 and "\\0" in _assert_error(multipart, "json", 400)

    browser.get("/report")
    page = browser.post("/report", {"category": "disputes.noise", "community_id": str(world.ids["community_A"]),
                                    "description": "楼上\x00噪音"}, files=[("photos", ("", b"", "image/jpeg"))])
    assert page.status_code == 400 and "\\0" in page.text
    assert table_counts(runtime) == before


def test_the_json_api_answers_every_refusal_in_its_shape(client, world):
    """Whatever the door, the error is the API's one shape, with a code and a message for people."""
    answer = client.post("/api/v1/auth/login", content=b"\xff", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert set(answer.json()["error"]) == {"code", "message", "details"}

