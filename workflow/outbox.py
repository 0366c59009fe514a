"""Writing to the transactional outbox.

A command that has a side effect for a queue actor calls :func:`enqueue`; the row commits or rolls
back with the change. After the commit, registered wake-up callbacks run (the relay in
``handlers/`` registers one) so that messages go out at once instead of at the next poll.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from .db import after_commit
from .models import OutboxMessage

_wakeups: list[Callable[[], None]] = []


def on_commit_wake(callback: Callable[[], None]) -> None:
    """Register ``callback`` to run after any commit that wrote outbox rows."""
    if callback not in _wakeups:
        _wakeups.append(callback)


def remove_wake(callback: Callable[[], None]) -> None:
    if callback in _wakeups:
        _wakeups.remove(callback)


def _wake_all() -> None:
    for callback in list(_wakeups):
        callback()


def enqueue(session: Session, actor_name: str, *, queue: str = "default", **payload: object) -> OutboxMessage:
    message = OutboxMessage(
        message_id=str(uuid.uuid4()), actor_name=actor_name, queue_name=queue, payload=payload
    )
    session.add(message)
    after_commit(session, _wake_all)
    return message
