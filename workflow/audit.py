"""The audit log: who changed what, when, with the values before and after.

Every change of policy-like configuration is recorded in the transaction that makes it: scoring
policies, score recomputes and publications, Open311 client keys, the category taxonomy and its
deadline classes, routing rules and their order, the working-day calendar, street departments,
webhooks, accounts, members' community registrations, claim limits and responsibility zones.
Entries are only ever added: nothing updates or deletes them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .access import Actor
from .models import AuditEntry


class AppendOnly(RuntimeError):
    """Code tried to change or delete an audit entry: a bug, never a user's error."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper, _connection, entry: AuditEntry) -> None:
    raise AppendOnly(f"audit entry {entry.id} may not be changed or deleted")


def record(session: Session, actor: Actor, action: str, target: str, at: datetime,
           details: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(at=at, actor_id=actor.account_id, actor_role=actor.role, action=action, target=target,
                       details=details or {})
    session.add(entry)
    session.flush()
    return entry


def plain(value: Any) -> Any:
    """A value as JSON keeps it: enums by value, times and dates in ISO 8601."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def snapshot(row: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a row, as :func:`plain` values."""
    return {name: plain(getattr(row, name)) for name in fields}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only what changed: ``{"before": {...}, "after": {...}}`` over the keys whose values differ."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


def entries(session: Session, *, action_prefix: str | None = None, limit: int = 100,
            offset: int = 0) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if action_prefix:
        stmt = stmt.where(AuditEntry.action.startswith(action_prefix, autoescape=True))  # "%" and "_" are text
    return list(session.scalars(stmt))
