"""Writing to the transactional outbox.

A command that has a side effect for a queue actor calls :func:`enqueue`; the row commits or rolls
back with the change. After the commit, registered callbacks run with the rows that unit of work
wrote (the relay in ``handlers/`` registers one): the relay publishes them at once from the
committing thread, and its own pass marks them sent. The rows are the safety net: whatever was not
published then (broker down, process stopped) goes out on the relay's next pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from .db import after_commit
from .models import OutboxMessage

# (the session's bind, the outbox rows its unit of work committed)
Committed = Callable[[Engine | Connection, list[OutboxMessage]], None]
_wakeups: list[Committed] = []
_WRITTEN = "outbox_written"


def on_commit_wake(callback: Committed) -> None:
    """Register ``callback`` to run after any commit that wrote outbox rows, with those rows."""
    if callback not in _wakeups:
        _wakeups.append(callback)


def remove_wake(callback: Committed) -> None:
    if callback in _wakeups:
        _wakeups.remove(callback)


def _wake_all(bind: Engine | Connection, rows: list[OutboxMessage]) -> None:
    # Rows the unit of work committed; a row whose insert did not survive is left out.
    committed = [row for row in rows if inspect(row).persistent]
    for callback in list(_wakeups):
        callback(bind, committed)


def enqueue(session: Session, actor_name: str, *, queue: str = "default", **payload: object) -> OutboxMessage:
    message = OutboxMessage(
        message_id=str(uuid.uuid4()), actor_name=actor_name, queue_name=queue, payload=payload
    )
    session.add(message)
    # One wake-up per unit of work, with every row it wrote; a new one after a commit or rollback
    # dropped the previous hook.
    state = session.info.get(_WRITTEN)
    if state is None or state[0] not in session.info.get("after_commit", ()):
        rows: list[OutboxMessage] = []
        bind = session.get_bind()

        def hook() -> None:
            _wake_all(bind, rows)

        state = session.info[_WRITTEN] = (hook, rows)
        after_commit(session, hook)
    state[1].append(message)
    return message
