"""Who serves a building, as each chose to show themselves."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..i18n import _
from ..models import Account, Building, Claim, ClaimStatus, Member, Request, ResponsibilityZone, Unit
from ..privacy import mask_name
from ..visits.models import CenterHousehold, GridWorker, Household, HouseholdPairing
from .models import MemberShowing

ROLE_LABELS = {"center": _("Party-member center household"), "household": _("Looks after households here"),
               "zone": _("Responsibility zone"), "grid_worker": _("Grid worker")}


def shown_members(session: Session, member_ids: list[int], locale: str) -> dict[int, dict[str, Any]]:
    """Member id → what residents see: the name (masked when hidden), the home unit (or None) and
    the title."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(Member.id, Account.display_name, Unit.name, MemberShowing.show_name, MemberShowing.show_unit,
               MemberShowing.title)
        .join(Account, Account.id == Member.account_id).join(Unit, Unit.id == Member.unit_id)
        .outerjoin(MemberShowing, MemberShowing.member_id == Member.id)
        .where(Member.id.in_(set(member_ids)))).all()
    out = {}
    for member_id, name, unit, show_name, show_unit, title in rows:
        out[member_id] = {"member_id": member_id, "name": name if show_name is not False else mask_name(name),
                          "unit": unit if show_unit is not False else None, "title": title or ""}
    return out


def showing_of(session: Session, member_id: int) -> dict[str, Any]:
    row = session.get(MemberShowing, member_id)
    return {"show_name": row.show_name if row else True, "show_unit": row.show_unit if row else True,
            "title": row.title if row else ""}


def serving(session: Session, building_id: int | None, today: date, locale: str) -> dict[str, Any]:
    """The members and grid workers serving a building today."""
    building = session.get(Building, building_id) if building_id else None
    if building is None:
        return {"building_id": None, "building": "", "members": [], "grid_workers": []}
    roles: dict[int, list[str]] = {}
    for member_id in session.scalars(select(CenterHousehold.member_id).where(
            CenterHousehold.building_id == building.id, CenterHousehold.starts_on <= today,
            or_(CenterHousehold.ends_on.is_(None), CenterHousehold.ends_on >= today))):
        roles.setdefault(member_id, []).append("center")
    paired = session.scalars(
        select(HouseholdPairing.member_id).join(Household, Household.id == HouseholdPairing.household_id)
        .where(Household.building_id == building.id, Household.active, HouseholdPairing.starts_on <= today,
               or_(HouseholdPairing.ends_on.is_(None), HouseholdPairing.ends_on >= today)).distinct())
    for member_id in paired:
        roles.setdefault(member_id, []).append("household")
    zone = or_(ResponsibilityZone.building_id == building.id,
               ResponsibilityZone.grid_id == building.grid_id) if building.grid_id else \
        ResponsibilityZone.building_id == building.id
    for member_id in session.scalars(select(ResponsibilityZone.member_id).where(zone).distinct()):
        roles.setdefault(member_id, []).append("zone")
    shown = shown_members(session, list(roles), locale)
    # The center household first, then the members with a title, then by name.
    members = sorted(({**shown[m], "center": "center" in rs, "roles": [ROLE_LABELS[r].render(locale) for r in rs]}
                      for m, rs in roles.items() if m in shown),
                     key=lambda m: (not m["center"], m["title"] == "", m["name"]))
    workers = []
    if building.grid_id:
        workers = [{"name": name, "role": ROLE_LABELS["grid_worker"].render(locale)} for name in session.scalars(
            select(Account.display_name).join(GridWorker, GridWorker.account_id == Account.id)
            .where(GridWorker.grid_id == building.grid_id, GridWorker.starts_on <= today, Account.is_active,
                   or_(GridWorker.ends_on.is_(None), GridWorker.ends_on >= today)).order_by(Account.display_name))]
    return {"building_id": building.id, "building": building.name, "members": members, "grid_workers": workers}


def handled_by(session: Session, request: Request, locale: str) -> list[dict[str, Any]]:
    """The members who did a request's task (verified), as they chose to show themselves."""
    member_ids = list(session.scalars(select(Claim.member_id).where(
        Claim.request_id == request.id, Claim.status == ClaimStatus.verified)))
    shown = shown_members(session, member_ids, locale)
    return [shown[m] for m in dict.fromkeys(member_ids) if m in shown]
