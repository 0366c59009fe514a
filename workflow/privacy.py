"""Residents' personal data: who sees it whole, who sees it masked, and the log of every look.

A request carries two kinds of personal data: the reporter's contact (name, phone, e-mail) and the
exact address, which often names a flat. What a viewer gets:

- the resident who reported it, and whoever took it in (the staff member on an inspection round,
  the member on a home visit, the Open311 client's account): everything, as given;
- community staff, secretaries and administrators: everything, on the request itself; they handle
  it and may need to call back;
- street officers: the exact address, and the contact only while the request is at the street
  office (escalated to them); otherwise the contact masked (``138****1234``, ``王**``);
- members doing the task, and residents following a merged duplicate: the building, not the flat,
  and no contact at all.

Lists (queues, the task board, "mine") never show more than the building and a masked contact: a
list is for choosing what to open. Each time a request's unmasked data is shown to someone other
than its reporter, a :class:`~workflow.models.PersonalDataRead` row records who, which request,
which fields and through which door, in the transaction that read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .access import Actor, require_admin
from .models import Building, PersonalDataRead, Request, Role, Status, utcnow
from .repository.places import community_name, keep_many, kept

CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")
DESKS = (Role.staff, Role.secretary, Role.admin)
DOORS = ("api", "page", "open311")


@dataclass(frozen=True, slots=True)
class Shown:
    """A request's personal data as one viewer may see it. ``None``: not shown at all."""

    address: str
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    unmasked: tuple[str, ...]  # the personal fields shown whole to someone who is not the reporter


def mask_phone(phone: str) -> str:
    """``13800001234`` → ``138****1234``: enough to tell two numbers apart, not to dial."""
    digits = phone.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 1
    return f"{digits[:keep]}****{digits[-4:]}"


def mask_name(name: str) -> str:
    """``王阿姨`` → ``王**``, ``Ada Lovelace`` → ``A***********``: the first character only."""
    name = name.strip()
    return f"{name[0]}{'*' * (len(name) - 1)}" if name else ""


def mask_email(email: str) -> str:
    """``wang@example.cn`` → ``w***@example.cn``."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return mask_name(email)
    return f"{local[:1]}***@{domain}"


def building_level(session: Session, request: Request) -> str:
    """Where a request is, no finer than its building: the building's address (or name), else the
    community's name. Never the flat or landmark a resident typed."""
    building = kept(session, Building, request.building_id)
    if building is not None and building.address:
        return building.address
    community = community_name(session, request.community_id) or ""
    return f"{community}{building.name}" if building is not None else community


def keep_places(session: Session, requests) -> None:
    """Read the buildings :func:`building_level` needs for a list in one query (communities' names
    come from the process's copy)."""
    keep_many(session, Building, (r.building_id for r in requests))


def _is_source(actor: Actor, request: Request) -> bool:
    return actor.account_id is not None and actor.account_id in (request.reporter_id, request.collector_id)


def shown(session: Session, actor: Actor, request: Request, *, whole: bool) -> Shown:
    """What ``actor`` sees of ``request``'s personal data. ``whole``: the request itself is shown
    (its page, its detail answer), as opposed to a row of a list."""
    contact = (request.contact_name, request.contact_phone, request.contact_email)
    if _is_source(actor, request):
        # Their own report, or what they wrote down themselves on a round or a visit.
        unmasked = () if actor.account_id == request.reporter_id else _present(request, exact=True)
        return Shown(request.address, *contact, unmasked=unmasked)
    role = actor.role
    desk = role in DESKS or role == Role.street_officer
    if whole and desk:
        full_contact = role != Role.street_officer or request.status == Status.street
        shown_contact = contact if full_contact else _masked(contact)
        return Shown(request.address, *shown_contact, unmasked=_present(request, exact=True, contact=full_contact))
    if desk:  # a row of a queue
        return Shown(building_level(session, request), *_masked(contact), unmasked=())
    return Shown(building_level(session, request), None, None, None, unmasked=())


def _masked(contact: tuple[str, str, str]) -> tuple[str, str, str]:
    name, phone, email = contact
    return mask_name(name), mask_phone(phone), mask_email(email)


def _present(request: Request, *, exact: bool, contact: bool = True) -> tuple[str, ...]:
    """The personal fields that are filled in (what a log line should name)."""
    fields = [f for f in CONTACT_FIELDS if contact and getattr(request, f)]
    if exact and request.address:
        fields.append("address")
    return tuple(fields)


def log_read(session: Session, actor: Actor, request_id: int, fields: tuple[str, ...], door: str) -> None:
    """Record that ``actor`` was shown ``fields`` of a request, unmasked."""
    if fields:
        assert door in DOORS, door
        session.execute(insert(PersonalDataRead).values(
            at=utcnow(), account_id=actor.account_id, role=actor.role, request_id=request_id,
            fields=",".join(fields), door=door))


_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Below the building: a unit (2单元), a room or a floor (301室, 12层), a bare room number (301).
_BELOW_BUILDING = re.compile(r"\d+\s*单元(?:\s*\d+\s*(?:室|号|户)?)?|\d+\s*(?:室|户|层)"
                             r"|(?<![\d号楼])\d{3,4}(?=\s*(?:号|房|$|[，。,.;；、\s]))")
# How residents are named in a description: 王阿姨, 李大爷, 张先生.
_NAMED = re.compile(r"[\u4e00-\u9fff](?:阿姨|大爷|大妈|奶奶|爷爷|先生|女士|师傅|老师|同学)")


def scrub(text: str) -> str:
    """Text for a public page (the notice board): phone numbers and e-mail addresses, anything
    below the building (units, rooms, floors) and residents named by surname taken out."""
    text = _PHONE.sub("***", text or "")
    text = _EMAIL.sub("***", text)
    text = _BELOW_BUILDING.sub("**", text)
    return _NAMED.sub("居民", text)


def log_household_read(session: Session, actor: Actor, household_id: int, fields: tuple[str, ...],
                       door: str) -> None:
    """Record that ``actor`` was shown ``fields`` of a household's contact, unmasked."""
    if fields:
        assert door in DOORS, door
        session.execute(insert(PersonalDataRead).values(
            at=utcnow(), account_id=actor.account_id, role=actor.role, household_id=household_id,
            fields=",".join(fields), door=door))


def reads(session: Session, actor: Actor, *, request_id: int | None = None, account_id: int | None = None,
          limit: int = 100, offset: int = 0) -> list[PersonalDataRead]:
    """The log of reads of personal data, newest first, optionally of one request or one reader.
    Admins only."""
    require_admin(actor)
    stmt = select(PersonalDataRead).order_by(PersonalDataRead.id.desc()).limit(limit).offset(offset)
    if request_id is not None:
        stmt = stmt.where(PersonalDataRead.request_id == request_id)
    if account_id is not None:
        stmt = stmt.where(PersonalDataRead.account_id == account_id)
    return list(session.scalars(stmt))
