"""The outbox relay: publishes committed outbox rows to the broker.

Right after a commit that wrote outbox rows, the committing thread hands those rows to the broker
itself (:meth:`Relay.committed`), so a message is on its way without waiting for another
transaction; the relay's thread then marks them sent. Its passes, woken after each commit and on a
timer, publish whatever is still pending (the broker was down, the process stopped in between).
A row is marked sent only after the broker took it; if the process dies in between, the row goes
out again and the actor's processed-message guard absorbs the duplicate (as it does for a row that
another process's relay finds in the instant between its commit and its hand-off). Several relays
may run at once: on PostgreSQL each takes rows with SKIP LOCKED.

A row the broker refused waits out a backoff (1, 2, 4 ... 30 s). Meanwhile each pass with nothing
due tries the row due first, and the first message the broker takes again makes every held-back
row due: after an outage everything goes out within a pass or two, not over the next 30 s.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import dramatiq
from dramatiq import Message
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from workflow.db import unit_of_work
from workflow.models import OutboxMessage, OutboxStatus, ProcessedMessage, utcnow

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30


_OUTBOX = OutboxMessage.__table__
# Rows the committing threads published: sent, unless a pass of another relay marked them already.
_MARK_SENT = (update(_OUTBOX)
              .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.status == OutboxStatus.pending)
              .values(status=OutboxStatus.sent, sent_at=bindparam("now")))

# Rows waiting out a backoff after failed publishes: due now.
_RELEASE = (update(_OUTBOX)
            .where(_OUTBOX.c.status == OutboxStatus.pending, _OUTBOX.c.available_at > bindparam("now"))
            .values(available_at=bindparam("now")))


class Relay:
    def __init__(self, sessions: sessionmaker[Session], broker: dramatiq.Broker, *, interval: float = 1.0,
                 batch: int = 100):
        self.sessions = sessions
        self.broker = broker
        self.interval = interval
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one publishing pass at a time in this process
        # Rows the committing threads publish themselves: id -> True once the broker took it.
        # A pass skips rows still being published and marks the published ones sent.
        self._direct: dict[int, bool] = {}
        self._direct_lock = threading.Lock()
        # Off after a failed publish from a committing thread, so that requests do not wait on a
        # broker that is down; on again once a pass of the relay's own got messages through.
        self._direct_ok = True
        # On after a publish failed (and at start, for rows an earlier run left pending): rows wait
        # out their backoff, so while it is on a pass with nothing due tries the pending row due
        # first, and the first message the broker takes makes every held-back row due at once.
        # Without it the rows of an outage trickled out over up to MAX_BACKOFF_SECONDS after the
        # broker was back.
        self._held_back = True
        # The rows a pass publishes: due, oldest first, a batch at a time, none another relay holds.
        self._due = (select(OutboxMessage)
                     .where(OutboxMessage.status == OutboxStatus.pending,
                            OutboxMessage.available_at <= bindparam("now"))
                     .order_by(OutboxMessage.id).limit(batch).with_for_update(skip_locked=True))
        # The row a pass tries when none is due while rows are held back: whether the broker is back.
        self._probe = (select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.pending)
                       .order_by(OutboxMessage.available_at, OutboxMessage.id).limit(1)
                       .with_for_update(skip_locked=True))

    def wake(self) -> None:
        self._wake.set()

    def committed(self, bind: Engine | Connection, rows: list[OutboxMessage]) -> None:
        """After a commit that wrote ``rows``: publish them now, in the committing thread, and wake
        the relay's thread to mark them sent. Never raises: a row the broker did not take stays
        pending for the relay's passes."""
        try:
            if rows and self._direct_ok and bind is self.sessions.kw.get("bind"):
                with self._direct_lock:
                    for row in rows:
                        self._direct[row.id] = False
                for row in rows:
                    try:
                        self.broker.enqueue(self._message(row))
                    except Exception as exc:  # the broker is unreachable: the relay retries these rows
                        self._direct_ok = False
                        log.warning("outbox: publishing at commit failed (%s: %s); the relay retries",
                                    type(exc).__name__, exc)
                        with self._direct_lock:
                            for left in rows[rows.index(row):]:
                                self._direct.pop(left.id, None)
                        break
                    with self._direct_lock:
                        self._direct[row.id] = True
        except Exception:  # pragma: no cover - a commit must never fail after the fact
            log.exception("outbox: publishing at commit failed")
        finally:
            self._wake.set()

    def publish_pending(self) -> int:
        """Publish due rows. Returns how many went out; stops at the first broker failure."""
        sent = 0
        with self._lock:
            while True:
                published, failed, full = self._publish_batch()
                sent += published
                if failed or not full:
                    return sent

    def _publish_batch(self) -> tuple[int, bool, bool]:
        now = utcnow()
        published, failed, skipped = 0, False, False
        with self._direct_lock:
            done = [row_id for row_id, sent in self._direct.items() if sent]
        with unit_of_work(self.sessions) as session:
            if done:  # published at commit: the broker has them
                session.execute(_MARK_SENT, {"ids": done, "now": now})
            rows = session.scalars(self._due, {"now": now}).all()
            if not rows and self._held_back:
                rows = session.scalars(self._probe).all()
                if not rows:
                    self._held_back = False  # nothing pending anywhere
            with self._direct_lock:
                publishing = set(self._direct)
            for row in rows:
                if row.id in publishing:  # a committing thread is publishing it right now
                    skipped = True
                    continue
                try:
                    self.broker.enqueue(self._message(row))
                except Exception as exc:  # the broker is unreachable or refused: keep the row
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    row.available_at = now + timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** (row.attempts - 1)))
                    log.warning("outbox: broker unavailable, %s kept pending (%s)", row.message_id, row.last_error)
                    failed = True
                    self._held_back = True
                    break
                row.status = OutboxStatus.sent
                row.sent_at = now
                published += 1
        released = 0
        if published and not failed and self._held_back:
            # The broker took a message: it is back, and the rows waiting out a backoff go now (in a
            # transaction of its own, so that it holds no row of the batch while it waits on others).
            self._held_back = False
            with unit_of_work(self.sessions) as session:
                released = session.execute(_RELEASE, {"now": now}).rowcount or 0
            if released:
                log.info("outbox: the broker is back, %d held-back rows are due again", released)
        if done:
            with self._direct_lock:
                for row_id in done:
                    self._direct.pop(row_id, None)
        if published and not failed:
            self._direct_ok = True
        return published, failed, (len(rows) == self.batch and not skipped) or released > 0

    def recover_unprocessed(self) -> int:
        """Put back rows that were handed to a broker which kept them only in memory.

        The embedded StubBroker loses what it held when the process stops. A sent row whose message
        id has no processed_messages row was never acted on (the guard commits with the effect),
        so it is published again. Returns how many rows were put back.
        """
        done = select(ProcessedMessage.message_id)
        with unit_of_work(self.sessions) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.sent, OutboxMessage.message_id.not_in(done))
                .values(status=OutboxStatus.pending, available_at=utcnow(), sent_at=None)
            )
            count = result.rowcount or 0
        if count:
            log.warning("outbox: %d messages the embedded broker lost at the last stop are sent again", count)
        return count

    @staticmethod
    def _message(row: OutboxMessage) -> Message:
        return Message(
            queue_name=row.queue_name,
            actor_name=row.actor_name,
            args=(),
            kwargs=dict(row.payload),
            options={},
            message_id=row.message_id,
            message_timestamp=int(row.created_at.timestamp() * 1000),
        )

    # --- background thread -------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.publish_pending()
            except OperationalError as exc:  # the database is down or restarting: one line per pass
                log.warning("outbox relay: database unavailable, retrying (%s)", str(exc.orig or exc).splitlines()[0])
                time.sleep(min(self.interval, 1.0))
            except Exception:  # anything else: log it whole and try again on the next tick
                log.exception("outbox relay pass failed")
                time.sleep(min(self.interval, 1.0))
