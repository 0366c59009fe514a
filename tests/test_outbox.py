"""The transactional outbox: a request is accepted while the broker is unreachable, its messages
wait in the outbox, and go out exactly once when the broker is back. Actors are idempotent."""

from __future__ import annotations

from urllib.parse import urlparse

import dramatiq
import pytest
from dramatiq import Message
from dramatiq.middleware import MiddlewareError
from fastapi.testclient import TestClient

from api.app import create_app
from handlers.runtime import Runtime
from workflow.models import OutboxMessage, OutboxStatus, ProcessedMessage, Request, RequestEvent, Status

from .conftest import build_world
from .helpers import all_rows, count, submit, wait_for
from .netproxy import Proxy


class Unreachable(MiddlewareError, ConnectionError):
    """Dramatiq lets only MiddlewareError out of a middleware hook."""


class Outage(dramatiq.Middleware):
    """The embedded broker's way of being unreachable: enqueue fails like a lost connection."""

    def __init__(self):
        self.down = False

    def before_enqueue(self, broker, message, delay):
        if self.down:
            raise Unreachable("broker unreachable (test outage)")


@pytest.fixture
def outage_runtime(settings):
    """A runtime whose broker can be cut off: Redis behind a TCP proxy, or the stub with Outage."""
    if settings.redis_url:
        target = urlparse(settings.redis_url)
        proxy = Proxy(target.hostname, target.port or 6379).up()
        proxied = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{proxy.port}{target.path or ''}"})
        rt = Runtime(proxied, worker=True).start()
        yield rt, proxy.down, proxy.up
        rt.stop()
        proxy.down()
    else:
        rt = Runtime(settings, worker=True)
        switch = Outage()
        rt.broker.add_middleware(switch)
        rt.start()

        def cut():
            switch.down = True

        def restore():
            switch.down = False

        yield rt, cut, restore
        rt.stop()


def test_request_accepted_while_broker_down_and_delivered_once_after(outage_runtime):
    runtime, cut, restore = outage_runtime
    world = build_world(runtime)
    cut()
    with TestClient(create_app(runtime.settings, runtime)) as client:
        created = submit(client, world, "resident_a", category="disputes.noise")
        rid = created["id"]
        assert created["status"] == "submitted"

        (row,) = all_rows(runtime, OutboxMessage)
        # The relay tries, fails, and keeps the row.
        wait_for(lambda: all_rows(runtime, OutboxMessage)[0].attempts >= 1, what="a failed publish attempt")
        row = all_rows(runtime, OutboxMessage)[0]
        assert row.status == OutboxStatus.pending and row.last_error
        assert all_rows(runtime, Request, Request.id == rid)[0].status == Status.submitted

        restore()
        wait_for(lambda: all_rows(runtime, Request, Request.id == rid)[0].status == Status.community,
                 timeout=45, what="routing after the broker came back")
        runtime.drain()

    (row,) = all_rows(runtime, OutboxMessage)
    assert row.status == OutboxStatus.sent
    assert count(runtime, ProcessedMessage, ProcessedMessage.message_id == row.message_id) == 1
    routed = all_rows(runtime, RequestEvent, RequestEvent.request_id == rid, RequestEvent.trigger != "submit")
    assert [(e.trigger, e.actor_role) for e in routed] == [("route_to_community", "router")]


def test_a_message_delivered_twice_acts_once(client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    (row,) = all_rows(runtime, OutboxMessage)
    # Redeliver the very same message, as a broker may after a lost acknowledgement.
    runtime.broker.enqueue(Message(queue_name=row.queue_name, actor_name=row.actor_name, args=(),
                                   kwargs=dict(row.payload), options={}, message_id=row.message_id))
    runtime.drain()
    assert count(runtime, RequestEvent, RequestEvent.request_id == rid) == 2  # submit + one routing
    assert count(runtime, ProcessedMessage) == 1


def test_routing_message_for_an_already_routed_request_changes_nothing(client, world, runtime):
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    runtime.drain()
    # Staff act first, then a fresh routing message for the same round arrives: already done is success.
    runtime.actors["route_request"].send(request_id=rid, round=1)
    runtime.drain()
    events = all_rows(runtime, RequestEvent, RequestEvent.request_id == rid)
    assert [e.trigger for e in events] == ["submit", "route_to_community"]


def test_a_message_left_unprocessed_at_a_stop_is_processed_after_restart(settings):
    """Stop the service after the relay handed a message to the broker but before any worker ran
    it: after the restart the request is routed all the same (on Redis the queue kept the message;
    the embedded broker's memory is gone, so the relay sends it again)."""
    first = Runtime(settings, worker=False).start()
    world = build_world(first)
    with TestClient(create_app(settings, first)) as client:
        rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    first.relay.publish_pending()
    assert all(m.status == OutboxStatus.sent for m in all_rows(first, OutboxMessage))
    first.stop()

    second = Runtime(settings, worker=True).start()
    try:
        wait_for(lambda: all_rows(second, Request, Request.id == rid)[0].status == Status.community,
                 what="routing after the restart")
        second.drain()
        assert count(second, RequestEvent, RequestEvent.request_id == rid) == 2
        assert count(second, ProcessedMessage) == 1
    finally:
        second.stop()
