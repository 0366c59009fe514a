"""Notifications: written to the outbox with the change that causes them, delivered by a queue
actor through each channel. The in-app inbox is built in; webhooks, SMS and WeChat plug in as
further channels."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .models import Notification


def notify(session: Session, kind: str, request_id: int | None, recipients: Sequence[int], **data: object) -> None:
    """Queue one notification event for ``recipients`` (account ids), in the caller's transaction."""
    people = sorted(set(recipients))
    if people:
        outbox.enqueue(session, "send_notification", event_id=str(uuid.uuid4()), kind=kind,
                       request_id=request_id, recipients=people, data=data)


def deliver_to_inbox(session: Session, event_id: str, kind: str, request_id: int | None,
                     recipients: Sequence[int], data: dict) -> int:
    """Write the inbox rows of one event; rows already written for it are left alone."""
    done = set(session.scalars(select(Notification.account_id).where(Notification.event_id == event_id)))
    new = [a for a in recipients if a not in done]
    session.add_all(Notification(event_id=event_id, account_id=a, kind=kind, request_id=request_id, data=data)
                    for a in new)
    session.flush()
    return len(new)


def inbox(session: Session, account_id: int, *, unread_only: bool = False, limit: int = 50,
          offset: int = 0) -> Sequence[Notification]:
    stmt = select(Notification).where(Notification.account_id == account_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return session.scalars(stmt.order_by(Notification.id.desc()).limit(limit).offset(offset)).all()


def mark_read(session: Session, account_id: int, notification_id: int, now) -> Notification | None:
    row = session.get(Notification, notification_id)
    if row is None or row.account_id != account_id:
        return None
    if row.read_at is None:
        row.read_at = now
    return row
