"""Queries on accounts: who is responsible for a place, who is told about what."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account, Member, Role


def _active(session: Session, *conds) -> list[int]:
    return list(session.scalars(select(Account.id).where(Account.is_active.is_(True), *conds).order_by(Account.id)))


def staff_of(session: Session, community_id: int) -> list[int]:
    return _active(session, Account.role == Role.staff, Account.community_id == community_id)


def officers_of(session: Session, street_id: int) -> list[int]:
    return _active(session, Account.role == Role.street_officer, Account.street_id == street_id)


def secretaries_of(session: Session, community_id: int) -> list[int]:
    return _active(session, Account.role == Role.secretary, Account.community_id == community_id)


def account_of_member(session: Session, member_id: int) -> int | None:
    return session.scalar(select(Member.account_id).where(Member.id == member_id))
