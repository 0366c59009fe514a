"""Who is acting, and what they may see.

An :class:`Actor` is an authenticated account (or a system process) reduced to what the rules need.
``can_view`` is the single answer to "may this actor see this request"; the list queries in
:mod:`workflow.repository.requests` apply the same rules in SQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Exists, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from .errors import Forbidden, InvalidInput
from .i18n import _
from .models import Account, Claim, Community, Member, Registration, RegistrationStatus, Request, RequestLink, Role
from .visits.models import BuildingLeader

SYSTEM_ROLES = ("router", "sweeper")
# Who reports and evaluates as a resident: residents, and volunteers (who are residents too).
RESIDENTS = frozenset({Role.resident, Role.volunteer})
# Who has a member row, registers with communities and claims tasks: members and volunteers.
CLAIMERS = frozenset({Role.member, Role.volunteer})
_MEMBER_IDS = "member_ids"  # session.info: account id -> member id, as authentication found it


def remember_member_id(session: Session, account_id: int, member_id: int | None) -> None:
    """Keep the member id that authentication read with the account, for :meth:`Actor.of` in the
    same session (a member row is made with its account and never removed)."""
    if member_id is not None:
        session.info.setdefault(_MEMBER_IDS, {})[account_id] = member_id


@dataclass(frozen=True)
class Actor:
    role: str
    account_id: int | None = None
    community_id: int | None = None
    street_id: int | None = None
    member_id: int | None = None

    @classmethod
    def system(cls, role: str) -> Actor:
        assert role in SYSTEM_ROLES
        return cls(role=role)

    @classmethod
    def of(cls, session: Session, account: Account) -> Actor:
        member_id = None
        if account.role in CLAIMERS:
            member_id = session.info.get(_MEMBER_IDS, {}).get(account.id)
            if member_id is None:
                member_id = session.scalar(_MEMBER_ID, {"account_id": account.id})
        return cls(
            role=account.role.value,
            account_id=account.id,
            community_id=account.community_id,
            street_id=account.street_id,
            member_id=member_id,
        )

    @property
    def is_system(self) -> bool:
        return self.role in SYSTEM_ROLES

    def covers(self, request: Request) -> bool:
        """Staff, officers and secretaries: is the request inside their community or street?"""
        if self.community_id is not None:
            return request.community_id == self.community_id
        return self.street_id is not None and request.street_id == self.street_id


# Built once: the checks below run on every command.
_MEMBER_ID = select(Member.id).where(Member.account_id == bindparam("account_id"))
def registered_clause(member_id, community_id) -> Exists:
    """The member has an active registration with the community (both bound parameters or columns)."""
    return exists().where(Registration.member_id == member_id, Registration.community_id == community_id,
                          Registration.status == RegistrationStatus.active)


_REGISTERED = select(registered_clause(bindparam("member_id"), bindparam("community_id")))
_CLAIMED = select(exists().where(Claim.member_id == bindparam("member_id"),
                                 Claim.request_id == bindparam("request_id")))
_LINKED = select(exists().where(RequestLink.request_id == bindparam("request_id"),
                                RequestLink.account_id == bindparam("account_id")))


def is_registered(session: Session, member_id: int | None, community_id: int) -> bool:
    if member_id is None:
        return False
    return bool(session.scalar(_REGISTERED, {"member_id": member_id, "community_id": community_id}))


def has_claimed(session: Session, member_id: int | None, request_id: int) -> bool:
    if member_id is None:
        return False
    return bool(session.scalar(_CLAIMED, {"member_id": member_id, "request_id": request_id}))


def is_linked(session: Session, request_id: int, account_id: int | None) -> bool:
    if account_id is None:
        return False
    return bool(session.scalar(_LINKED, {"request_id": request_id, "account_id": account_id}))


def leader_today() -> date:
    """Today where the deployment is: building leaders' terms are local days (the zone of
    SHOUBANPING_TIMEZONE, read without the rest of the settings)."""
    return datetime.now(ZoneInfo(os.environ.get("SHOUBANPING_TIMEZONE") or "Asia/Shanghai")).date()


_LEADS = select(exists().where(BuildingLeader.account_id == bindparam("account_id"),
                               BuildingLeader.building_id == bindparam("building_id"),
                               BuildingLeader.starts_on <= bindparam("day", type_=Date),
                               or_(BuildingLeader.ends_on.is_(None),
                                   BuildingLeader.ends_on >= bindparam("day", type_=Date))))


def leads(session: Session, account_id: int | None, building_id: int | None, day: date | None = None) -> bool:
    """楼栋长: does the account lead the building on ``day`` (today by default)?"""
    if account_id is None or building_id is None:
        return False
    return bool(session.scalar(_LEADS, {"account_id": account_id, "building_id": building_id,
                                        "day": day or leader_today()}))


def can_view(session: Session, actor: Actor, request: Request) -> bool:
    role = actor.role
    if actor.is_system or role == Role.admin:
        return True
    if role in RESIDENTS:
        # The reporter, and reporters of duplicates merged into this request; the building's leader.
        if request.reporter_id == actor.account_id or is_linked(session, request.id, actor.account_id) \
                or leads(session, actor.account_id, request.building_id):
            return True
        if role == Role.resident:
            return False
    if role in (Role.staff, Role.street_officer, Role.secretary):
        return actor.covers(request)
    if role in CLAIMERS:
        # Members (and volunteers) see what they collected or claimed, and every request of the
        # communities they are registered with that has been put on the task board.
        return (
            request.collector_id == actor.account_id
            or has_claimed(session, actor.member_id, request.id)
            or (request.published_at is not None and is_registered(session, actor.member_id, request.community_id))
        )
    return False


# --- role gates for the reads and admin acts that are not lifecycle triggers --------------------

DESK_ROLES = (Role.staff, Role.street_officer, Role.secretary, Role.admin)


def require_desk(actor: Actor) -> None:
    """Queues are for staff, street officers, secretaries and admins."""
    if actor.role not in DESK_ROLES:
        raise Forbidden(_("Only staff, street officers and secretaries have a queue."), code="role_not_allowed")


def require_member(actor: Actor) -> int:
    """What only party members have (亮身份, households they look after, the register's entry);
    returns the member id."""
    if actor.role != Role.member or actor.member_id is None:
        raise Forbidden(_("This is for members."), code="role_not_allowed")
    return actor.member_id


def require_claimer(actor: Actor) -> int:
    """Task board, claims, registrations and one's own record are for members and volunteers;
    returns the member id."""
    if actor.role not in CLAIMERS or actor.member_id is None:
        raise Forbidden(_("This is for members and volunteers."), code="role_not_allowed")
    return actor.member_id


KEEPERS = (Role.staff, Role.secretary)


def known_community(session: Session, community_id: object) -> Community:
    """The community named in a command's input, or 422 ``unknown_community``."""
    known = isinstance(community_id, int) and not isinstance(community_id, bool)
    community = session.get(Community, community_id) if known else None
    if community is None:
        raise InvalidInput(_("Unknown community {id}.", id=community_id), code="unknown_community",
                           details={"field": "community_id"})
    return community


def require_keeper(session: Session, actor: Actor, community_id: object, refusal) -> Community:
    """What a community's own staff and secretary keep (its suggestions and meetings, its party
    life): the community (422 ``unknown_community`` when there is none), once the actor is one of
    them; ``refusal`` is the message for anyone else."""
    community = known_community(session, community_id)
    if actor.role not in KEEPERS or actor.community_id is None:
        raise Forbidden(refusal, code="role_not_allowed")
    if actor.community_id != community.id:
        raise Forbidden(_("That belongs to another community."), code="out_of_scope")
    return community


def may_read_community(session: Session, actor: Actor, community_id: int) -> bool:
    """The desk side of a community: its staff and secretary, its street's officers and secretary,
    and admins."""
    if actor.role == Role.admin:
        return True
    if actor.role in KEEPERS and actor.community_id is not None:
        return actor.community_id == community_id
    if actor.role in (Role.secretary, Role.street_officer) and actor.street_id is not None:
        return session.scalar(select(Community.street_id).where(Community.id == community_id)) == actor.street_id
    return False


def require_community_reader(session: Session, actor: Actor, community_id: int, refusal) -> None:
    """403 ``role_not_allowed`` (with ``refusal``) off the desk side, ``out_of_scope`` for another
    community's or street's desk."""
    if actor.role not in (Role.admin, Role.staff, Role.secretary, Role.street_officer):
        raise Forbidden(refusal, code="role_not_allowed")
    if not may_read_community(session, actor, community_id):
        raise Forbidden(_("That belongs to another community."), code="out_of_scope")


def require_admin(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(_("Only administrators may do this."), code="role_not_allowed")

