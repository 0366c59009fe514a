"""The queue suite's floor: one worker process running a no-op dramatiq actor.

``python -m bench.noop_actor`` builds its broker with the product's own ``handlers.broker.build_broker``
(the same Redis client, namespace and middleware) and runs a dramatiq ``Worker`` with the settings
``shoubanping worker`` uses (``SHOUBANPING_WORKER_THREADS`` threads, the runtime's worker timeout),
from the same ``SHOUBANPING_*`` environment variables. Its one actor, ``noop``, does nothing. It prints
``noop worker running`` on stderr once the worker has started and stops on SIGTERM or SIGINT.

The embedded variant (:func:`declare`) is used in-process on a StubBroker.
"""

from __future__ import annotations

import signal
import sys
import threading

import dramatiq
from dramatiq import Worker

from handlers.broker import QUEUE, build_broker
from handlers.runtime import WORKER_TIMEOUT_MS
from workflow.settings import Settings

ACTOR = "noop"


def declare(broker: dramatiq.Broker) -> dramatiq.Actor:
    def noop(n: int) -> None:
        return None

    return dramatiq.actor(noop, broker=broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=0)


def main() -> int:
    settings = Settings()
    if not settings.redis_url:
        print("SHOUBANPING_REDIS_URL is not set", file=sys.stderr)
        return 2
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    declare(broker)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker = Worker(broker, worker_threads=settings.worker_threads, worker_timeout=WORKER_TIMEOUT_MS)
    worker.start()
    print(f"noop worker running: {settings.worker_threads} threads", file=sys.stderr, flush=True)
    try:
        stop.wait()
    finally:
        worker.stop()
        broker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
