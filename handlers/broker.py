"""Building the dramatiq broker: Redis in production, the StubBroker when embedded."""

from __future__ import annotations

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from workflow.settings import Settings

QUEUE = "default"
# How long a message that failed for good (its retries used up) stays in Redis's dead-letter queue,
# to be read by an operator: dramatiq's default, seven days, set here so it does not change under us.
DEAD_MESSAGE_TTL_MS = 7 * 24 * 3600 * 1000


def build_broker(settings: Settings) -> dramatiq.Broker:
    if settings.redis_url:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=15
        )
        broker: dramatiq.Broker = RedisBroker(
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
