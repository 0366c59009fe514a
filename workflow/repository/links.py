"""Reporters linked to a request by merging their duplicate into it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import is_linked
from ..models import RequestLink

__all__ = ["is_linked", "link", "linked_accounts"]


def link(session: Session, request_id: int, account_id: int, from_request_id: int, now: datetime) -> int:
    """Link ``account_id`` to ``request_id`` (once); returns the account id."""
    if not is_linked(session, request_id, account_id):
        session.add(RequestLink(request_id=request_id, account_id=account_id, from_request_id=from_request_id,
                                created_at=now))
        session.flush()
    return account_id


def linked_accounts(session: Session, request_id: int) -> list[int]:
    return list(session.scalars(
        select(RequestLink.account_id).where(RequestLink.request_id == request_id).order_by(RequestLink.id)
    ))
