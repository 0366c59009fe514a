"""The member register as the community's desk reads it, and a member's own entry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import Actor, can_view, require_desk, require_member
from ..errors import Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Community, Role, Status, utcnow
from ..repository import requests as requests_repo
from ..scoring import periods
from ..scoring import policy as policies
from . import repository as repo
from .models import AVAILABILITY, BUILTIN_CLASSES, MemberProfile

# When the members whose skills a request calls for are worth showing the desk: while it decides
# who works on the request, and while its task waits for a claim.
SKILLED_SHOWN = (Status.submitted, Status.community, Status.open_task)


def classes(session: Session, locale: str) -> list[dict[str, Any]]:
    builtin = [{"code": code, "name": name.render(locale), "builtin": True} for code, name in BUILTIN_CLASSES.items()]
    custom = [{"code": c.code, "name": c.name_en if locale == "en" else c.name_zh, "builtin": False}
              for c in repo.classes(session)]
    return builtin + custom


def availability_choices(locale: str) -> list[dict[str, str]]:
    return [{"code": code, "name": name.render(locale)} for code, name in AVAILABILITY.items()]


def profile_out(member_id: int, row: MemberProfile | None) -> dict[str, Any]:
    if row is None:
        return {"member_id": member_id, "class_code": None, "post": "", "skills": [], "availability": [],
                "updated_at": None}
    return {"member_id": member_id, "class_code": row.class_code, "post": row.post, "skills": list(row.skills or []),
            "availability": list(row.availability or []), "updated_at": row.updated_at}


def my_profile(session: Session, actor: Actor) -> dict[str, Any]:
    member_id = require_member(actor)
    return profile_out(member_id, repo.profile(session, member_id))


def quiet_weeks(session: Session, timezone: str, now: datetime) -> int:
    """The policy in force's weeks without a task or a visit after which a member is listed as quiet."""
    month = periods.label_of(periods.local_date(now, timezone), "month")
    return policies.rules_of(policies.in_force(session, month)).people.quiet_weeks


def register(session: Session, actor: Actor, community_id: int, *, timezone: str, class_code: str | None = None,
             quiet_only: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """党员名册: the members registered with the community, each with their class, unit, post,
    skills, availability and last task or visit; those with none for the policy's weeks are
    marked quiet (隐身) with the reason. ``class_code``, ``quiet_only``: filters."""
    now = now or utcnow()
    if session.get(Community, community_id) is None:
        raise NotFound(_("Community {id} does not exist.", id=community_id), code="community_not_found")
    require_reader(session, actor, community_id)
    if class_code is not None and class_code not in repo.known_classes(session):
        raise InvalidInput(_("Unknown member class {code}.", code=class_code[:32]), code="unknown_member_class",
                           details={"field": "class"})
    weeks = quiet_weeks(session, timezone, now)
    since = now - timedelta(weeks=weeks)
    rows, counts = [], {"members": 0, "quiet": 0}
    for member, account, unit, profile, registered_at, last_claim, last_visit in repo.register(session, community_id):
        last = repo.latest(last_claim, last_visit)
        quiet = (last or registered_at) < since
        counts["members"] += 1
        counts["quiet"] += quiet
        entry = profile_out(member.id, profile)
        if (class_code is not None and entry["class_code"] != class_code) or (quiet_only and not quiet):
            continue
        rows.append({**entry, "display_name": account.display_name, "unit": unit, "registered_at": registered_at,
                     "last_claim": last_claim, "last_visit": last_visit, "last_active": last, "quiet": quiet,
                     "quiet_reason": None if not quiet else ("nothing_since_registering" if last is None
                                                             else "nothing_since")})
    return {"community_id": community_id, "quiet_weeks": weeks, "quiet_since": since, **counts, "entries": rows}


def require_reader(session: Session, actor: Actor, community_id: int) -> None:
    """The register is read by the community's staff and secretary, its street's officers and
    secretary, and admins."""
    if actor.role == Role.admin:
        return
    if actor.role in (Role.staff, Role.secretary) and actor.community_id is not None:
        if actor.community_id != community_id:
            raise Forbidden(_("That belongs to another community."), code="out_of_scope")
        return
    if actor.role in (Role.secretary, Role.street_officer) and actor.street_id is not None:
        street_id = session.scalar(select(Community.street_id).where(Community.id == community_id))
        if street_id != actor.street_id:
            raise Forbidden(_("That belongs to another community."), code="out_of_scope")
        return
    raise Forbidden(_("The member register is kept by the community's staff and secretary."),
                    code="role_not_allowed")


def matching_categories(session: Session, member_id: int) -> set[int]:
    """The categories whose tasks call for a skill the member has (the task board's filter)."""
    mine = repo.member_skills(session, member_id)
    return {cid for cid, wanted in repo.category_skills(session).items() if wanted & mine}


def skilled_for(session: Session, actor: Actor, request_id: int) -> list[dict[str, Any]]:
    """For the desk: the members registered with the request's community whose skills its category
    calls for, the most matching skills first."""
    require_desk(actor)
    request = requests_repo.get(session, request_id)
    if request is None or not can_view(session, actor, request):
        raise requests_repo.not_found(request_id)
    wanted = repo.category_skills(session).get(request.category_id, set())
    return [{"member_id": m, "display_name": n, "skills": s}
            for m, n, s in repo.skilled_members(session, request.community_id, wanted)]
