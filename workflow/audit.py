"""The audit log: who changed a scoring policy, published or republished scores, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .access import Actor
from .models import AuditEntry


def record(session: Session, actor: Actor, action: str, target: str, at: datetime,
           details: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(at=at, actor_id=actor.account_id, actor_role=actor.role, action=action, target=target,
                       details=details or {})
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, action_prefix: str | None = None, limit: int = 100,
            offset: int = 0) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if action_prefix:
        stmt = stmt.where(AuditEntry.action.startswith(action_prefix, autoescape=True))  # "%" and "_" are text
    return list(session.scalars(stmt))
