"""Building the dramatiq broker: Redis in production, the StubBroker when embedded."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from dramatiq.errors import ConnectionClosed, DecodeError
from dramatiq.middleware import CurrentMessage

from workflow.settings import Settings

QUEUE = "default"
# How long a message that failed for good (its retries used up) stays in Redis's dead-letter queue,
# to be read by an operator: dramatiq's default, seven days, set here so it does not change under us.
DEAD_MESSAGE_TTL_MS = 7 * 24 * 3600 * 1000

log = logging.getLogger(__name__)


class _Consumer(_RedisConsumer):
    """dramatiq's Redis consumer, telling its broker which fetched messages this process has in hand
    (handed to the worker and not yet acknowledged)."""

    def __next__(self):
        try:
            proxy = super().__next__()
        except DecodeError as error:
            # Not a message dramatiq can read (written by something else, or damaged): dead-lettered
            # for an operator to read, rather than failing the consumer and coming back on each restart.
            try:
                self.broker.dead_letter(self.queue_name, error.data)
            except redis.RedisError as lost:
                raise ConnectionClosed(lost) from None
            return None
        except ConnectionClosed:
            if self.queue_name == dq_name(self.queue_name):
                # On a connection error dramatiq's consumer thread forgets the delayed messages it
                # kept in memory; they are no longer in hand, so the next consume takes them back.
                self.broker.let_go(self.queue_name)
            raise
        if proxy is not None:
            self.broker.in_hand(self.queue_name, proxy.options["redis_message_id"])
        return proxy

    # Called from the worker threads once a message is done. A connection error raises before the
    # message is let go: it stays in hand and the worker acknowledges it again.
    def ack(self, message):
        super().ack(message)
        self.broker.let_go(self.queue_name, message.options["redis_message_id"])

    def nack(self, message):
        super().nack(message)
        self.broker.let_go(self.queue_name, message.options["redis_message_id"])

    # Called as the worker stops or pauses, with the fetched messages it will not work on: back on
    # the queue, they are not in hand any more.
    def requeue(self, messages):
        super().requeue(messages)
        for message in messages:
            self.broker.let_go(self.queue_name, message.options["redis_message_id"])


class Broker(RedisBroker):
    """dramatiq's RedisBroker that takes back, each time a consumer (re)starts, the messages Redis
    counts as fetched by this worker but that the worker does not have in hand.

    A fetch moves messages into the worker's acknowledgement set and returns them. When its reply is
    lost (Redis shut down or a socket timed out right after running it, or the client retried it)
    or the consumer is replaced while it still had prefetched messages, those messages sit in the
    set of a worker that is alive and heartbeating: dramatiq's maintenance only returns a dead
    worker's messages, so they would wait for the worker's next restart. dramatiq's consumer thread
    starts a new consumer after every connection error, so that is where they are taken back. A
    message taken back while its first copy is somehow still being worked on runs twice, which the
    actors' processed-message record already makes harmless."""

    def __init__(self, **parameters):
        super().__init__(**parameters)
        self._held: defaultdict[str, set[str]] = defaultdict(set)
        self._lock = threading.Lock()  # the consumer thread adds, worker threads let go

    def in_hand(self, queue_name: str, message_id: str) -> None:
        with self._lock:
            self._held[queue_name].add(message_id)

    def let_go(self, queue_name: str, message_id: str | None = None) -> None:
        """Forget one message in hand, or all of a queue's."""
        with self._lock:
            if message_id is None:
                self._held[queue_name].clear()
            else:
                self._held[queue_name].discard(message_id)

    @property
    def consumer_class(self):
        return _Consumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        self.take_back(queue_name)
        return super().consume(queue_name, prefetch, timeout)

    def dead_letter(self, queue_name: str, data: bytes) -> str | None:
        """Move the fetched message whose stored form is ``data`` to the queue's dead letters, by the
        id under which Redis keeps it (it cannot be read for one); that id, None if it is gone."""
        messages = f"{self.namespace}:{queue_name}.msgs"
        found = next((key for key, value in self.client.hscan_iter(messages) if value == data), None)
        if found is None:
            return None
        message_id = found.decode()
        self.do_nack(queue_name, message_id)
        log.error("broker: a message on %s could not be decoded; moved to the dead letters as %s",
                  queue_name, message_id)
        return message_id

    def take_back(self, queue_name: str) -> int:
        """Put back on ``queue_name`` what this worker's acknowledgement set holds and the worker
        does not have in hand; the number put back."""
        key = f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"
        try:
            fetched = {member.decode() for member in self.client.smembers(key)}
            with self._lock:
                lost = sorted(fetched - self._held[queue_name])
            if lost:
                self.do_requeue(queue_name, *lost)
        except redis.RedisError as error:
            raise ConnectionClosed(error) from None
        if lost:
            log.warning("broker: %d message(s) fetched from %s but not in hand put back on the queue",
                        len(lost), queue_name)
        return len(lost)


def build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=15
        )
        broker: dramatiq.Broker = Broker(
            client=client, namespace=settings.redis_namespace,
            heartbeat_timeout=int(settings.redis_heartbeat_timeout_seconds * 1000),
            maintenance_chance=settings.redis_maintenance_chance,
            dead_message_ttl=DEAD_MESSAGE_TTL_MS,
        )
    else:
        broker = StubBroker()
        # The stub re-raises actor errors in join() by default; embedded mode retries like Redis does.
        broker.emit_after("process_boot")
    broker.add_middleware(CurrentMessage())
    return broker


def clear_namespace(redis_url: str, namespace: str) -> None:
    """Delete every key under ``namespace`` (the queues of a throw-away deployment: a test's or a
    benchmark's), leaving the rest of the Redis database alone."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(f"{namespace}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def describe(settings: Settings) -> str:
    if settings.redis_url:
        return f"redis ({_redact(settings.redis_url)}, namespace {settings.redis_namespace})"
    return "embedded (StubBroker, in-process worker)"


def _redact(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
