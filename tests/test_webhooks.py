"""Outgoing webhooks, end to end: a real HTTP receiver on loopback, real notifications from the
deadline sweep, the real outbox relay and dramatiq worker, retries with (short) backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dramatiq import Message

from workflow import notifications
from workflow.db import unit_of_work
from workflow.models import (
    DeliveryStatus,
    Notification,
    OutboxMessage,
    ProcessedMessage,
    Webhook,
    WebhookDelivery,
    utcnow,
)
from workflow.sweeps import sweep

from .helpers import all_rows, count, get, submit, table_counts, wait_for


@pytest.fixture
def settings(settings):
    """Short backoff and two attempts, so that retries and giving up happen within a test."""
    return settings.model_copy(update={"webhook_min_backoff_ms": 50, "webhook_max_backoff_ms": 200,
                                       "webhook_max_attempts": 2, "webhook_timeout_seconds": 5})


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST; per path it answers 200, or 500 to the
    first POST only, or 500 always."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_first: set[str] = set()
        self.always_fail: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    seen = sum(1 for r in receiver.requests if r["path"] == self.path)
                    failing = self.path in receiver.always_fail or (self.path in receiver.fail_first and seen == 0)
                    status = 500 if failing else 200
                    receiver.requests.append({"path": self.path, "status": status, "body": body,
                                              "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"boom" if failing else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def hits(self, path: str) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]




def register(client, world, expect: int = 201, user: str = "admin", **body) -> dict:
    response = client.post("/api/v1/webhooks", json=body, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def signed_by(secret: str, request: dict) -> bool:
    timestamp = request["headers"]["x-shoubanping-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", request["headers"]["x-shoubanping-signature"])


def deliveries_of(runtime, webhook_id: int) -> list[WebhookDelivery]:
    return all_rows(runtime, WebhookDelivery, WebhookDelivery.webhook_id == webhook_id, order=WebhookDelivery.id)


def settled(runtime, webhook_id: int, status: DeliveryStatus) -> WebhookDelivery | None:
    rows = deliveries_of(runtime, webhook_id)
    return rows[0] if len(rows) == 1 and rows[0].status == status else None


def notify(runtime, kind: str, recipients: list[int], request_id: int | None = None, **data) -> None:
    with unit_of_work(runtime.sessions) as session:
        notifications.notify(session, kind, request_id, recipients, **data)


def test_reminder_reaches_the_webhook_once_after_a_temporary_failure(client, world, runtime, receiver):
    receiver.fail_first.add("/hook")
    hook = register(client, world, url=receiver.url("/hook"), kinds=["deadline_respond"])
    everything = register(client, world, url=receiver.url("/all"))
    other_kind = register(client, world, url=receiver.url("/other"), kinds=["deadline_evaluate"])
    inactive = register(client, world, url=receiver.url("/inactive"), active=False)
    deleted = register(client, world, url=receiver.url("/deleted"))
    assert client.delete(f"/api/v1/webhooks/{deleted['id']}", headers=world.headers("admin")).json()["active"] is False

    # A noise complaint must be answered within 2 hours; at 85 % of that the sweep reminds staff.
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    assert sweep(runtime.sessions, runtime.settings, now=utcnow() + timedelta(minutes=102)).reminded == 1
    delivery = wait_for(lambda: settled(runtime, hook["id"], DeliveryStatus.delivered), what="the webhook delivery")
    wait_for(lambda: settled(runtime, everything["id"], DeliveryStatus.delivered), what="the catch-all delivery")
    runtime.drain()

    first, second = receiver.hits("/hook")
    assert (first["status"], second["status"]) == (500, 200)
    assert first["body"] == second["body"] == delivery.payload["body"].encode()  # the same bytes every time
    event = json.loads(second["body"])
    assert event["kind"] == "deadline_respond" and event["request_id"] == rid and event["data"]["due_at"]
    assert set(event) == {"event_id", "kind", "request_id", "data", "created_at"}
    for attempt in (first, second):
        headers = attempt["headers"]
        assert headers["content-type"] == "application/json"
        assert headers["x-shoubanping-event"] == event["event_id"] == delivery.event_id
        assert headers["x-shoubanping-delivery"] == str(delivery.id)
        assert abs(int(headers["x-shoubanping-timestamp"]) - time.time()) < 120
        assert signed_by(hook["secret"], attempt)
        assert not signed_by(everything["secret"], attempt)
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")
    assert delivery.delivered_at is not None

    # The same event also reached the inbox, and the catch-all webhook got it once, first time.
    (note,) = all_rows(runtime, Notification, Notification.event_id == event["event_id"])
    assert note.account_id == world.ids["staff_a"]
    assert [(n["kind"], n["request_id"]) for n in get(client, world, "staff_a", "/notifications")] == [
        ("deadline_respond", rid)]
    assert [r["status"] for r in receiver.hits("/all")] == [200]
    # A webhook for other kinds, an inactive one and a deleted one get nothing.
    for webhook, path in ((other_kind, "/other"), (inactive, "/inactive"), (deleted, "/deleted")):
        assert deliveries_of(runtime, webhook["id"]) == [] and receiver.hits(path) == []

    listed = get(client, world, "admin", f"/webhooks/{hook['id']}/deliveries")
    assert [(d["event_id"], d["status"], d["attempts"]) for d in listed] == [(event["event_id"], "delivered", 2)]

    # The notification message redelivered as is (same message id), then sent anew with the same
    # event id: no second delivery is planned, nothing more is POSTed, the inbox keeps one row.
    (row,) = all_rows(runtime, OutboxMessage, OutboxMessage.actor_name == "send_notification")
    runtime.broker.enqueue(Message(queue_name=row.queue_name, actor_name=row.actor_name, args=(),
                                   kwargs=dict(row.payload), options={}, message_id=row.message_id))
    runtime.drain()
    runtime.actors["send_notification"].send(**row.payload)
    runtime.drain()
    assert count(runtime, WebhookDelivery) == 2  # /hook and /all
    assert count(runtime, OutboxMessage, OutboxMessage.actor_name == "deliver_webhook") == 2
    assert count(runtime, ProcessedMessage, ProcessedMessage.message_id == row.message_id) == 1
    assert count(runtime, Notification) == 1
    assert len(receiver.hits("/hook")) == 2 and len(receiver.hits("/all")) == 1


def test_a_receiver_that_keeps_failing_ends_failed_after_the_last_attempt(client, world, runtime, receiver):
    receiver.always_fail.add("/down")
    down = register(client, world, url=receiver.url("/down"))
    with socket.socket() as s:  # a port with nobody listening: no answer at all
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    nobody = register(client, world, url=f"http://127.0.0.1:{closed_port}/hook")

    notify(runtime, "deadline_resolve", [world.ids["staff_a"]], due_at="2026-05-01T10:00:00+00:00")
    failed = wait_for(lambda: settled(runtime, down["id"], DeliveryStatus.failed), what="the delivery to give up")
    unanswered = wait_for(lambda: settled(runtime, nobody["id"], DeliveryStatus.failed), what="the unanswered one")
    runtime.drain()

    assert (failed.attempts, failed.last_status_code) == (2, 500)  # webhook_max_attempts
    assert failed.last_error.startswith("HTTP 500") and failed.delivered_at is None
    assert [r["status"] for r in receiver.hits("/down")] == [500, 500]
    assert unanswered.attempts == 2 and unanswered.last_status_code is None and unanswered.last_error
    # Finished messages are recorded as processed, so a restart of the embedded broker does not resend them.
    for message in all_rows(runtime, OutboxMessage, OutboxMessage.actor_name == "deliver_webhook"):
        assert count(runtime, ProcessedMessage, ProcessedMessage.message_id == message.message_id) == 1
    listed = get(client, world, "admin", f"/webhooks/{down['id']}/deliveries", status="failed")
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in listed] == [("failed", 2, 500)]


def test_secret_is_shown_once_and_rotation_signs_later_events(client, world, runtime, receiver):
    given = "a-secret-of-our-own-1234"
    created = register(client, world, url=receiver.url("/rotating"), secret=given, kinds=["deadline_claim"])
    assert created["secret"] == given and created["active"] is True
    listed = get(client, world, "admin", "/webhooks")
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]

    path = f"/api/v1/webhooks/{created['id']}"
    moved = client.patch(path, json={"kinds": ["deadline_claim", "deadline_claim", "deadline_resolve"]},
                         headers=world.headers("admin")).json()
    assert moved["kinds"] == ["deadline_claim", "deadline_resolve"] and moved["secret"] is None
    rotated = client.patch(path, json={"rotate_secret": True}, headers=world.headers("admin")).json()
    assert rotated["secret"] not in (None, given) and len(rotated["secret"]) >= 16
    generated = register(client, world, url="https://example.org/hook", active=False)
    assert len(generated["secret"]) >= 16

    notify(runtime, "deadline_resolve", [world.ids["staff_a"]])
    wait_for(lambda: settled(runtime, created["id"], DeliveryStatus.delivered), what="the delivery")
    (hit,) = receiver.hits("/rotating")
    assert signed_by(rotated["secret"], hit) and not signed_by(given, hit)

    turned_off = client.delete(path, headers=world.headers("admin"))
    assert turned_off.status_code == 200 and turned_off.json()["active"] is False
    notify(runtime, "deadline_resolve", [world.ids["staff_a"]])
    runtime.drain()
    assert len(receiver.hits("/rotating")) == 1 and len(deliveries_of(runtime, created["id"])) == 1
    assert get(client, world, "admin", f"/webhooks/{created['id']}/deliveries")[0]["status"] == "delivered"


@pytest.mark.parametrize(("body", "code"), [
    ({"url": "ftp://example.org/hook"}, "invalid_url"),
    ({"url": "http://"}, "invalid_url"),
    ({"url": "example.org/hook"}, "invalid_url"),
    ({"url": "javascript:alert(1)"}, "invalid_url"),
    ({"url": "https://user:pw@example.org/hook"}, "invalid_url"),
    ({"url": "https://example.org:99999/hook"}, "invalid_url"),
    ({"url": "https://exa mple.org/hook"}, "invalid_url"),
    ({"url": "https://example.org/" + "a" * 500}, "invalid_url"),
    ({"url": "https://example.org/hook", "secret": "too-short"}, "invalid_secret"),
    ({"url": "https://example.org/hook", "secret": "s" * 201}, "invalid_secret"),
    ({"url": "https://example.org/hook", "secret": "with a space in it!"}, "invalid_secret"),
    ({"url": "https://example.org/hook", "kinds": ["Deadline Respond"]}, "invalid_kinds"),
    ({"url": "https://example.org/hook", "kinds": [""]}, "invalid_kinds"),
    ({"url": "https://example.org/hook", "kinds": [f"kind_{i}" for i in range(51)]}, "invalid_kinds"),
    ({"url": 5}, "validation_error"),
    ({"url": "https://example.org/hook", "kinds": "deadline_respond"}, "validation_error"),
    ({"url": "https://example.org/hook", "colour": "red"}, "validation_error"),
    ({}, "validation_error"),
])
def test_bad_registration_is_refused_and_writes_nothing(client, world, runtime, body, code):
    runtime.drain()
    before = table_counts(runtime)
    refused = register(client, world, expect=422, **body)
    assert refused["error"]["code"] == code
    assert table_counts(runtime) == before


def test_bad_changes_are_refused_and_change_nothing(client, world, runtime):
    created = register(client, world, url="https://example.org/hook", kinds=["deadline_respond"])
    path = f"/api/v1/webhooks/{created['id']}"
    for body, code in (({"url": "mailto:ops@example.org", "rotate_secret": True}, "invalid_url"),
                       ({"secret": "short", "active": False}, "invalid_secret"),
                       ({"kinds": ["OK", "deadline_claim"], "url": "https://example.org/new"}, "invalid_kinds"),
                       ({"active": "no"}, "validation_error")):
        response = client.patch(path, json=body, headers=world.headers("admin"))
        assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text
    (row,) = all_rows(runtime, Webhook)
    assert (row.url, row.kinds, row.active, row.secret) == (
        "https://example.org/hook", ["deadline_respond"], True, created["secret"])
    for method, suffix in (("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries")):
        missing = client.request(method, f"/api/v1/webhooks/999{suffix}", headers=world.headers("admin"),
                                 json={} if method == "PATCH" else None)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "webhook_not_found"


@pytest.mark.parametrize("user", ["staff_a", "resident_a", "officer_1", "secretary_a", "member_1"])
def test_only_admins_manage_webhooks(client, world, runtime, user):
    created = register(client, world, url="https://example.org/hook")
    runtime.drain()
    before = table_counts(runtime)
    path = f"/api/v1/webhooks/{created['id']}"
    calls = [("POST", "/api/v1/webhooks", {"url": "https://example.org/other"}), ("GET", "/api/v1/webhooks", None),
             ("PATCH", path, {"rotate_secret": True}), ("DELETE", path, None), ("GET", f"{path}/deliveries", None)]
    for method, url, body in calls:
        refused = client.request(method, url, json=body, headers=world.headers(user))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_not_allowed", (method, url)
        anonymous = client.request(method, url, json=body)
        assert anonymous.status_code == 401, (method, url)
    assert table_counts(runtime) == before
    (row,) = all_rows(runtime, Webhook)
    assert row.active and row.secret == created["secret"]
