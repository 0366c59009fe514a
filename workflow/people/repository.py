"""The member register's queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Account, Category, Claim, Member, Registration, RegistrationStatus, Unit
from ..visits.models import Visit
from .models import BUILTIN_CLASSES, MemberClass, MemberProfile


def classes(session: Session) -> Sequence[MemberClass]:
    return session.scalars(select(MemberClass).order_by(MemberClass.code)).all()


def known_classes(session: Session) -> set[str]:
    return set(BUILTIN_CLASSES) | set(session.scalars(select(MemberClass.code)))


def profile(session: Session, member_id: int, *, lock: bool = False) -> MemberProfile | None:
    return session.get(MemberProfile, member_id, with_for_update=lock, populate_existing=lock)


def register(session: Session, community_id: int) -> Sequence:
    """The members registered with the community now: (member, account, unit name, profile or
    None, registered at, last claim, last visit), by name."""
    # Correlated: each reads one member's rows by their index, not the city's claims and visits.
    last_claim = select(func.max(Claim.claimed_at)).where(Claim.member_id == Member.id).scalar_subquery()
    last_visit = select(func.max(Visit.at)).where(Visit.member_id == Member.id).scalar_subquery()
    return session.execute(
        select(Member, Account, Unit.name, MemberProfile, Registration.registered_at, last_claim, last_visit)
        .join(Registration, Registration.member_id == Member.id)
        .join(Account, Account.id == Member.account_id)
        .join(Unit, Unit.id == Member.unit_id)
        .outerjoin(MemberProfile, MemberProfile.member_id == Member.id)
        .where(Registration.community_id == community_id, Registration.status == RegistrationStatus.active)
        .order_by(Account.display_name, Member.id)).all()


def registered_communities(session: Session, member_id: int) -> set[int]:
    return set(session.scalars(select(Registration.community_id).where(
        Registration.member_id == member_id, Registration.status == RegistrationStatus.active)))


def latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def category_skills(session: Session) -> dict[int, set[str]]:
    """Each category's skills: its own and, for a subcategory, its parent's (a few hundred rows)."""
    rows = session.execute(select(Category.id, Category.parent_id, Category.skills)).all()
    own = {cid: set(skills or []) for cid, _parent, skills in rows}
    return {cid: own[cid] | own.get(parent, set()) for cid, parent, _skills in rows}


def member_skills(session: Session, member_id: int) -> set[str]:
    return set(session.scalar(select(MemberProfile.skills).where(MemberProfile.member_id == member_id)) or [])


def skilled_members(session: Session, community_id: int, wanted: set[str]) -> list[tuple[int, str, list[str]]]:
    """The members registered with the community whose skills meet ``wanted``: (member, display
    name, the skills that match), the most matches first."""
    if not wanted:
        return []
    rows = session.execute(
        select(Member.id, Account.display_name, MemberProfile.skills)
        .join(Registration, Registration.member_id == Member.id)
        .join(Account, Account.id == Member.account_id)
        .join(MemberProfile, MemberProfile.member_id == Member.id)
        .where(Registration.community_id == community_id, Registration.status == RegistrationStatus.active))
    found = [(m, name, [s for s in (skills or []) if s in wanted]) for m, name, skills in rows]
    return sorted(((m, n, s) for m, n, s in found if s), key=lambda r: (-len(r[2]), r[1], r[0]))
