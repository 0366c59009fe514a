"""Becoming a volunteer, and spending hours from the time bank."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor, is_registered
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Account, Member, MemberKind, Role, utcnow
from ..scoring.periods import local_date
from ..validation import clean_text
from . import repository as repo
from .models import TimeBankEntry, TimeBankReason

MAX_NOTE = 200
MAX_HOURS = Decimal("24")


def become_volunteer(session: Session, actor: Actor, *, now: datetime | None = None) -> Account:
    """A resident signs up to serve as a volunteer (志愿者): their account takes the volunteer role
    and gets a member row of kind volunteer, so they can register with communities and claim the
    tasks that allow volunteers. Their reports and evaluations stay theirs."""
    now = now or utcnow()
    if actor.role != Role.resident or actor.account_id is None:
        raise Forbidden(_("Only residents can sign up as volunteers."), code="role_not_allowed")
    account = session.get(Account, actor.account_id, with_for_update=True)
    if account.role != Role.resident:  # a second tap that lost the race to the first
        raise Conflict(_("You are already a volunteer."), code="already_volunteer")
    account.role = Role.volunteer
    member = Member(account_id=account.id, kind=MemberKind.volunteer, unit_id=None)
    session.add(member)
    session.flush()
    audit.record(session, actor, "account.volunteer", f"account:{account.id}", now,
                 {"before": {"role": Role.resident.value}, "after": {"role": Role.volunteer.value,
                                                                    "member_id": member.id}})
    return account


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1")) if value is not None else None
    except (InvalidOperation, ValueError):
        hours = None
    if hours is None or isinstance(value, bool) or not (Decimal("0") < hours <= MAX_HOURS):
        raise InvalidInput(_("Hours must be a number greater than 0 and at most {limit}.", limit=MAX_HOURS),
                           code="invalid_hours", details={"field": "hours"})
    return hours


def record_service(session: Session, timezone: str, actor: Actor, member_id: int, hours, note,
                   *, now: datetime | None = None) -> TimeBankEntry:
    """时间银行: staff (or the secretary) of a community the volunteer is registered with record a
    service the volunteer received, paid from their hours. The volunteer's row is locked while the
    balance is read, so two desks recording at once cannot spend the same hours twice."""
    now = now or utcnow()
    community_id = actor.community_id
    if actor.role not in (Role.staff, Role.secretary) or community_id is None:
        raise Forbidden(_("Only the staff and secretary of a community record services from the time bank."),
                        code="role_not_allowed")
    spent = _hours(hours)
    text = clean_text(note, "note", code="note_required", message=_("Please say what service was received."),
                      limit=MAX_NOTE)
    member = session.get(Member, member_id, with_for_update=True) if isinstance(member_id, int) else None
    if member is None or member.kind != MemberKind.volunteer or not is_registered(session, member.id, community_id):
        raise NotFound(_("No volunteer {id} is registered with your community.", id=member_id),
                       code="volunteer_not_found")
    earned, used = repo.balance(session, member.id)
    left = earned - used
    if spent > left:
        raise Conflict(_("The volunteer has {left} hours in the time bank; {hours} cannot be spent.",
                         left=left, hours=spent), code="insufficient_hours",
                       details={"balance": str(left), "hours": str(spent)})
    entry = TimeBankEntry(member_id=member.id, community_id=community_id, reason=TimeBankReason.service_received,
                          hours=-spent, note=text, recorded_by=actor.account_id,
                          local_date=local_date(now, timezone), created_at=now)
    session.add(entry)
    session.flush()
    audit.record(session, actor, "time_bank.spend", f"member:{member.id}", now,
                 {"after": {"hours": str(spent), "community_id": community_id, "entry_id": entry.id}})
    return entry


def volunteer_of(session: Session, account_id: int) -> Member | None:
    return session.scalar(select(Member).where(Member.account_id == account_id,
                                               Member.kind == MemberKind.volunteer))
