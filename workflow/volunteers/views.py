"""What volunteers and the desk read of the volunteer side."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import Actor, require_claimer
from ..errors import Forbidden, NotFound
from ..i18n import _
from ..models import Account, Community, HoursEntry, Member, MemberKind, Registration, RegistrationStatus, Role
from ..people import views as people_views
from . import repository as repo
from .models import TimeBankEntry


def board_categories(session: Session, actor: Actor, matching: bool) -> set[int] | None:
    """The categories a caller's task board shows (None: all). A volunteer sees only the tasks they
    may claim; ``matching`` keeps those whose category calls for one of the caller's skills."""
    member_id = require_claimer(actor)
    chosen = people_views.matching_categories(session, member_id) if matching else None
    if actor.role == Role.volunteer:
        allowed = set(repo.volunteer_categories(session))
        chosen = allowed if chosen is None else chosen & allowed
    return chosen


def _account(session: Session, member_id: int) -> tuple[Member, Account] | None:
    return session.execute(select(Member, Account).join(Account, Account.id == Member.account_id)
                           .where(Member.id == member_id, Member.kind == MemberKind.volunteer)).first()


def time_bank(session: Session, actor: Actor, member_id: int | None = None) -> dict[str, Any]:
    """A volunteer's time bank: hours earned (their verified tasks), spent (services received) and
    the balance, with the newest movements. The volunteer reads their own (``member_id`` None); the
    staff and secretary of a community they are registered with, and admins, read anyone's."""
    if member_id is None:
        if actor.role != Role.volunteer or actor.member_id is None:
            raise Forbidden(_("The time bank is for volunteers."), code="role_not_allowed")
        member_id = actor.member_id
    else:
        _desk_reader(session, actor, member_id)
    found = _account(session, member_id)
    if found is None:
        raise NotFound(_("No volunteer {id} is registered with your community.", id=member_id),
                       code="volunteer_not_found")
    _member, account = found
    earned, spent = repo.balance(session, member_id)
    return {"member_id": member_id, "display_name": account.display_name, "earned": earned, "spent": spent,
            "balance": earned - spent, "entries": repo.statement(session, member_id)}


def _desk_reader(session: Session, actor: Actor, member_id: int) -> None:
    if actor.role == Role.admin:
        return
    if actor.role not in (Role.staff, Role.secretary) or actor.community_id is None:
        raise Forbidden(_("A volunteer's time bank is kept by the staff of their communities."),
                        code="role_not_allowed")
    registered = session.scalar(select(Registration.id).where(
        Registration.member_id == member_id, Registration.community_id == actor.community_id,
        Registration.status == RegistrationStatus.active))
    if registered is None:
        raise NotFound(_("No volunteer {id} is registered with your community.", id=member_id),
                       code="volunteer_not_found")


def community_volunteers(session: Session, actor: Actor, community_id: int) -> dict[str, Any]:
    """The volunteers registered with a community, with their tasks and time bank, for its desk
    (readers as for the member register)."""
    if session.get(Community, community_id) is None:
        raise NotFound(_("Community {id} does not exist.", id=community_id), code="community_not_found")
    people_views.require_reader(session, actor, community_id)
    earned = (select(func.coalesce(func.sum(HoursEntry.hours), 0)).where(HoursEntry.member_id == Member.id)
              .scalar_subquery())
    tasks = select(func.count(HoursEntry.id)).where(HoursEntry.member_id == Member.id).scalar_subquery()
    spent = (select(func.coalesce(func.sum(-TimeBankEntry.hours), 0)).where(TimeBankEntry.member_id == Member.id)
             .scalar_subquery())
    rows = session.execute(
        select(Member.id, Account.display_name, Registration.registered_at, tasks, earned, spent)
        .join(Registration, Registration.member_id == Member.id)
        .join(Account, Account.id == Member.account_id)
        .where(Registration.community_id == community_id, Registration.status == RegistrationStatus.active,
               Member.kind == MemberKind.volunteer)
        .order_by(Account.display_name, Member.id)).all()
    entries = []
    for member_id, name, registered_at, n, got, used in rows:
        got, used = repo.as_hours(got), repo.as_hours(used)
        entries.append({"member_id": member_id, "display_name": name, "registered_at": registered_at,
                        "tasks": int(n or 0), "earned": got, "spent": used, "balance": got - used})
    return {"community_id": community_id, "volunteers": entries}
