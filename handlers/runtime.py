"""One process's moving parts: engine, sessions, broker, actors, relay and (optionally) a worker.

``serve`` builds a Runtime with the relay and, when no Redis URL is set, an in-process worker;
``worker`` builds one with a dramatiq worker on Redis; tests build either.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import time

import dramatiq
from dramatiq import Worker
from sqlalchemy import func, select

from workflow import outbox
from workflow.db import make_engine, make_session_factory, unit_of_work
from workflow.models import OutboxMessage, OutboxStatus
from workflow.settings import Settings
from workflow.sweeps import SweepReport, sweep

from .actors import declare
from .broker import QUEUE, build_broker
from .relay import Relay
from .scheduler import Scheduler

log = logging.getLogger(__name__)
# How long an idle dramatiq consumer sleeps at most between polls of its queue, in ms. dramatiq's
# Redis consumer polls, backing off up to this when its queue is empty: at 100 ms a message that
# found the worker idle waited 50-100 ms before its actor started. 20 ms keeps commit -> actor done
# within the queue target (bench/queue.py) for some idle CPU: measured on a loaded 2-core machine,
# one idle worker process polls for 1.9 % of a core at 100 ms, 7.9 % at 20 ms, 13.6 % at 10 ms.
WORKER_TIMEOUT_MS = 20


# glibc's mallopt parameter for the number of malloc arenas.
M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Let the threads of a server process share two malloc arenas. glibc gives threads arenas of
    their own as they contend (up to eight per core), and each keeps the memory its thread freed:
    an API process's 20 to 40 threads (requests, the embedded worker, the relay) held 12 to 20 MB
    more at peak for it (bench/memory.py, 139 -> 119 MB before the logins). Call it before the
    process starts its threads; it changes nothing where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


def freeze_startup_heap() -> None:
    """Exempt every object alive once a server process has started (modules, the app and its routes,
    compiled queries) from the cyclic garbage collector. Its full collections walk every tracked
    object: in an API worker process that was 200 k objects and 80 ms during which no request was
    answered, the p99 of the task board at half its peak rate. Objects made later are collected as
    usual. Only for processes that live until they stop: what is frozen is never collected."""
    gc.collect()
    gc.freeze()


class Runtime:
    def __init__(self, settings: Settings, *, worker: bool | None = None, relay: bool = True,
                 scheduler: bool = False):
        self.settings = settings
        self.engine = make_engine(settings.database_url)
        self.sessions = make_session_factory(self.engine)
        self.broker = build_broker(settings)
        dramatiq.set_broker(self.broker)
        self.actors = declare(self.broker, self.sessions, settings)
        self.relay = Relay(self.sessions, self.broker, interval=settings.relay_interval_seconds) if relay else None
        # Embedded mode always runs its own worker: nothing else would consume the StubBroker.
        self.run_worker = (settings.redis_url is None) if worker is None else worker
        self.worker: Worker | None = None
        self.scheduler = Scheduler(self.sessions, settings) if scheduler else None

    @property
    def embedded(self) -> bool:
        return self.settings.redis_url is None

    def start(self) -> Runtime:
        if self.relay is not None:
            if self.embedded:
                self.relay.recover_unprocessed()
            outbox.on_commit_wake(self.relay.committed)
            self.relay.start()
            self.relay.wake()  # rows left pending by an earlier run
        if self.run_worker:
            self.worker = Worker(self.broker, worker_threads=self.settings.worker_threads,
                                 worker_timeout=WORKER_TIMEOUT_MS)
            self.worker.start()
        if self.scheduler is not None:
            self.scheduler.start()
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.relay is not None:
            outbox.remove_wake(self.relay.committed)
            self.relay.stop()
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.broker.close()
        self.engine.dispose()

    def scheduler_once(self) -> SweepReport:
        return sweep(self.sessions, self.settings)

    def pending_outbox(self) -> int:
        with unit_of_work(self.sessions) as session:
            return session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.pending)
            ) or 0

    def drain(self, timeout: float = 30) -> None:
        """Publish every pending outbox row and wait until the worker has processed them all,
        including the messages those actors wrote in turn. For the CLI's demo and for tests."""
        deadline = time.monotonic() + timeout
        while True:
            if self.relay is not None:
                self.relay.publish_pending()
            # Counted before the join: a row the relay thread marks sent only after the join has
            # begun may have reached the broker after the join found it empty.
            published = self.pending_outbox() == 0
            remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
            self.broker.join(QUEUE, timeout=remaining_ms)
            if self.worker is not None:
                self.worker.join()
            if published and self.pending_outbox() == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox still has {self.pending_outbox()} pending rows after {timeout}s")
            time.sleep(0.05)

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
