"""What the desk and members read of party life: activities, attendance, and the annual targets
with the mid-year check and the year-end assessment."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from ..access import CLAIMERS, KEEPERS, Actor, require_community_reader, require_member
from ..errors import Forbidden, InvalidInput, NotFound
from ..i18n import Text, _
from ..models import Role
from ..repository import places
from ..scoring import policy as policies
from . import repository as repo
from .commands import REFUSAL
from .models import Activity, ActivityKind, AnnualTarget, CheckIn

KIND_LABELS: dict[ActivityKind, Text] = {
    ActivityKind.study_day: _("Fixed study day"),
    ActivityKind.theme_day: _("Theme party day"),
    ActivityKind.volunteer_activity: _("Volunteer activity"),
    ActivityKind.care_visit: _("Care visit to a needy or elderly member"),
}
METHOD_LABELS: dict[CheckIn, Text] = {CheckIn.code: _("Checked in with the code"),
                                      CheckIn.organiser: _("Checked in by the organiser")}
CHECKS = ("mid_year", "year_end")
CHECK_LABELS: dict[str, Text] = {"mid_year": _("Mid-year check"), "year_end": _("Year-end assessment")}
STATUS_LABELS: dict[str, Text] = {"met": _("Met"), "short": _("Short of target"),
                                  "on_track": _("On track"), "behind": _("Behind")}
TENTH = Decimal("0.1")


def kind_options(locale: str) -> list[tuple[str, str]]:
    return [(k.value, label.render(locale)) for k, label in KIND_LABELS.items()]


def activity_out(activity: Activity, locale: str, attended: int, *, keeper: bool) -> dict[str, Any]:
    """An activity; its check-in code only for those who post it (members get it at the activity)."""
    return {"id": activity.id, "community_id": activity.community_id, "kind": activity.kind.value,
            "kind_label": KIND_LABELS[activity.kind].render(locale), "title": activity.title,
            "held_on": activity.held_on, "place": activity.place, "attended": attended,
            "code": activity.code if keeper else None}


def _keeper(actor: Actor, community_id: int) -> bool:
    return actor.role in KEEPERS and actor.community_id == community_id


def community_activities(session: Session, actor: Actor, community_id: int, locale: str) -> list[dict[str, Any]]:
    require_community_reader(session, actor, community_id, REFUSAL)
    keeper = _keeper(actor, community_id)
    return [activity_out(a, locale, n, keeper=keeper) for a, n in repo.activities(session, community_id)]


def activity(session: Session, actor: Actor, activity_id: int, locale: str) -> dict[str, Any]:
    """One activity with who attended and, for its keepers, the registered members not yet checked in."""
    found = session.get(Activity, activity_id)
    if found is None:
        raise NotFound(_("There is no activity {id}.", id=activity_id), code="activity_not_found")
    require_community_reader(session, actor, found.community_id, REFUSAL)
    keeper = _keeper(actor, found.community_id)
    present = repo.attendees(session, found.id)
    out = activity_out(found, locale, len(present), keeper=keeper)
    out["attendees"] = [{"member_id": a.member_id, "display_name": name, "method": a.method.value,
                         "method_label": METHOD_LABELS[a.method].render(locale), "at": a.created_at}
                        for a, name in present]
    here = {a.member_id for a, _name in present}
    out["not_checked_in"] = [{"member_id": m, "display_name": name}
                             for m, name in repo.registered_members(session, found.community_id)
                             if m not in here] if keeper else []
    return out


def my_activities(session: Session, actor: Actor, locale: str) -> list[dict[str, Any]]:
    if actor.role not in CLAIMERS or actor.member_id is None:
        raise Forbidden(_("Members and volunteers check in to activities."), code="role_not_allowed")
    names = {c.id: c.name for c, _s in places.member_communities(session, actor.member_id)}
    return [{"activity_id": act.id, "title": act.title, "kind": act.kind.value,
             "kind_label": KIND_LABELS[act.kind].render(locale), "held_on": act.held_on,
             "community": names.get(act.community_id) or places.community_name(session, act.community_id),
             "method": a.method.value, "method_label": METHOD_LABELS[a.method].render(locale)}
            for a, act in repo.attended_by(session, actor.member_id)]


# --- annual targets ------------------------------------------------------------------------------

def _check(value: str | None) -> str:
    if value is None:
        return "year_end"
    if value not in CHECKS:
        raise InvalidInput(_("The check is mid_year or year_end."), code="invalid_check",
                           details={"field": "check", "allowed": list(CHECKS)})
    return value


def _year(value: int | None, today: date) -> int:
    year = today.year if value is None else value
    if not 2000 <= year <= today.year + 1:
        raise InvalidInput(_("Choose a year from 2000 to next year."), code="invalid_year", details={"field": "year"})
    return year


def policy_targets(session: Session, year: int) -> policies.PartyLifeRules:
    """The targets of the policy in force at the start of the year (the defaults before any)."""
    try:
        return policies.rules_of(policies.in_force(session, f"{year:04d}-01")).party_life
    except NotFound:
        return policies.DEFAULT_RULES.party_life


def _progress(session: Session, member_ids: list[int], year: int, check: str, today: date) -> dict[str, Any]:
    """The window of the check and, per member, each target against what the ledgers hold."""
    start = date(year, 1, 1)
    end = date(year, 6, 30) if check == "mid_year" else date(year, 12, 31)
    share = Decimal("0.5") if check == "mid_year" else Decimal(1)
    as_of = min(end, today)
    over = today > end
    # How much of the window has passed: while it runs, a member is on track at that share of it.
    elapsed = Decimal(1) if over else (Decimal((as_of - start).days + 1) / Decimal((end - start).days + 1))
    default = policy_targets(session, year)
    own = repo.own_targets(session, member_ids, year)
    figures = repo.year_figures(session, member_ids, start, as_of) if as_of >= start else {}
    rows = {}
    for member_id in member_ids:
        target: AnnualTarget | None = own.get(member_id)
        goals = {"hours": target.hours if target else default.target_hours,
                 "visits": Decimal(target.visits if target else default.target_visits),
                 "activities": Decimal(target.activities if target else default.target_activities)}
        actual = dict(zip(("hours", "visits", "activities"), figures.get(member_id, (Decimal(0), 0, 0)), strict=True))
        parts, all_met, all_pace = {}, True, True
        for name, goal in goals.items():
            expected = (goal * share).quantize(TENTH, ROUND_HALF_UP)
            pace = (expected * elapsed).quantize(TENTH, ROUND_HALF_UP)
            met = Decimal(actual[name]) >= expected
            all_met &= met
            all_pace &= Decimal(actual[name]) >= pace
            parts[name] = {"target": goal if name == "hours" else int(goal), "expected": expected,
                           "actual": actual[name], "met": met}
        status = "met" if all_met else ("short" if over else ("on_track" if all_pace else "behind"))
        rows[member_id] = {"member_id": member_id, "own": target is not None, "figures": parts, "status": status,
                           "note": target.note if target else ""}
    return {"year": year, "check": check, "from": start, "to": end, "as_of": as_of, "over": over, "rows": rows}


def _labelled(progress: dict[str, Any], rows: list[dict[str, Any]], locale: str) -> dict[str, Any]:
    progress["check_label"] = CHECK_LABELS[progress["check"]].render(locale)
    for row in rows:
        row["status_label"] = STATUS_LABELS[row["status"]].render(locale)
    return progress


def community_targets(session: Session, actor: Actor, community_id: int, locale: str, *, year: int | None,
                      check: str | None, today: date) -> dict[str, Any]:
    """The community's party members against their annual targets, for its desk and street."""
    require_community_reader(session, actor, community_id, REFUSAL)
    year, check = _year(year, today), _check(check)
    members = repo.registered_members(session, community_id, party_only=True)
    progress = _progress(session, [m for m, _n in members], year, check, today)
    names = dict(members)
    progress["rows"] = [{**row, "display_name": names[m]} for m, row in progress["rows"].items()]
    progress["community_id"] = community_id
    progress["may_set"] = actor.role == Role.secretary and actor.community_id == community_id
    return _labelled(progress, progress["rows"], locale)


def my_targets(session: Session, actor: Actor, locale: str, *, year: int | None, check: str | None,
               today: date) -> dict[str, Any]:
    member_id = require_member(actor)
    year, check = _year(year, today), _check(check)
    progress = _progress(session, [member_id], year, check, today)
    progress["row"] = progress.pop("rows")[member_id]
    return _labelled(progress, [progress["row"]], locale)
