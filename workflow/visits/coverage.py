"""覆盖率: who was visited, who was missed, computed from the visits themselves.

For a period (a calendar month, YYYY-MM) the figures are taken as of its last day, or as of today
while it runs. Each household on the register then (active, created by that day) is held against
every rule of the visit plan in force for the period that applies to it (its tags, or ``*``):

- the rule's window holding that day (this week, this half-month, month or quarter) is *visited*
  when it has at least ``times`` visits by the kind of visitor the rule names;
- it is *overdue* when it is not visited and either the window has closed (a past period) or the
  window before it was missed too; a window is owed only when the household was on the register
  on its first day;
- otherwise it is *due*, by the window's last day (a window not owed: by the next one's).

A household takes the worst of its rules (overdue, then due, then visited) and the earliest date
one of them is due by. *Never visited*: no visit at all by that day, whoever made it. Grids count
the rounds ended in the period against the plan's round rule, window by window.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
import zlib
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, and_, case, cast, delete, func, literal, or_, select, text
from sqlalchemy.orm import Session

from ..access import Actor
from ..db import bulk_insert, is_postgresql
from ..errors import Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Account, Building, Community, Grid, Member, Role, Street, utcnow
from ..scoring import periods
from ..scoring.policy import in_force, rules_of
from .models import CoverageCount, GridWorker, Household, HouseholdPairing, InspectionRound, RegisterChange, Visit
from .plan import RoundRule, VisitPlan, VisitRule, next_window, previous_window, window

STATUSES = ("overdue", "due", "visited")


@dataclass
class Figures:
    households: int = 0  # on the register, with at least one rule of the plan
    visited: int = 0
    due: int = 0
    overdue: int = 0
    never_visited: int = 0
    visits: int = 0  # visits made in the period, of any household, by anyone

    def add(self, status: str, never: bool, n: int = 1) -> None:
        self.households += n
        setattr(self, status, getattr(self, status) + n)
        self.never_visited += n if never else 0

    @property
    def coverage(self) -> float | None:
        return round(self.visited / self.households, 4) if self.households else None

    def as_dict(self) -> dict[str, Any]:
        return {"households": self.households, "visited": self.visited, "due": self.due, "overdue": self.overdue,
                "never_visited": self.never_visited, "visits": self.visits, "coverage": self.coverage}


@dataclass
class HouseholdState:
    household_id: int
    community_id: int
    building_id: int
    grid_id: int | None
    code: str
    door: str
    tags: list[str]
    status: str
    due_on: date | None
    last_visit: date | None
    members: list[tuple[int, str]] = field(default_factory=list)

    @property
    def never_visited(self) -> bool:
        return self.last_visit is None


def _qualifies(rule: VisitRule, role: str, paired: bool) -> bool:
    if rule.by == "paired_member":
        return paired
    if rule.by == "any_member":
        return role == Role.member
    if rule.by == "staff":
        return role == Role.staff
    return True


def rule_state(rule: VisitRule, visits: list[tuple[date, str, bool]], created_on: date, as_of: date,
               today: date) -> tuple[str, date]:
    """(status, due by) of one household under one rule, from its visits ``(day, role, paired)``."""
    start, _end = window(as_of, rule.per)
    before_start, before_end = previous_window(start, rule.per)
    counted = [day for day, role, paired in visits if _qualifies(rule, role, paired)]
    return _rule_status(rule, sum(start <= d <= as_of for d in counted) >= rule.times,
                        sum(before_start <= d <= before_end for d in counted) >= rule.times,
                        start < created_on, created_on <= before_start, as_of, today)


def _rule_status(rule: VisitRule, met: bool, met_before: bool, late: bool, owed_before: bool, as_of: date,
                 today: date) -> tuple[str, date]:
    """(status, due by) under one rule: ``met``, the window holding ``as_of`` has its visits by that
    day; ``met_before``, the window before had its own; ``late``, the household joined the register
    after this window had begun; ``owed_before``, it was on the register when the one before began."""
    end = window(as_of, rule.per)[1]
    if met:
        return "visited", next_window(end, rule.per)[1]
    if late:
        return "due", end if end >= today else next_window(end, rule.per)[1]
    if end < today or (owed_before and not met_before):
        return "overdue", end
    return "due", end


def household_state(plan: VisitPlan, tags: list[str], visits: list[tuple[date, str, bool]], created_on: date,
                    as_of: date, today: date) -> tuple[str, date | None] | None:
    """The worst state over the rules that apply to the household; None when none does."""
    return _worst([rule_state(r, visits, created_on, as_of, today) for r in plan.rules_for(tags)])


def _worst(states: list[tuple[str, date]]) -> tuple[str, date | None] | None:
    if not states:
        return None
    worst = min(states, key=lambda s: STATUSES.index(s[0]))[0]
    pending = [due for status, due in states if status != "visited"]
    return worst, min(pending) if pending else min(due for _s, due in states)


def _lookback(plan: VisitPlan, as_of: date) -> date:
    starts = [previous_window(window(as_of, r.per)[0], r.per)[0] for r in plan.rules] or [as_of]
    return min(starts)


def _as_of(period: str, today: date) -> tuple[date, date]:
    periods.parse(period)
    start, end = periods.bounds(period, "month")
    if start > today:
        raise InvalidInput(_("Coverage is counted for months that have begun."), code="period_in_future",
                           details={"field": "period"})
    return start, min(end, today)


def plan_for(session: Session, period: str) -> VisitPlan:
    return rules_of(in_force(session, period)).visits


def states(session: Session, community_ids: list[int], period: str, today: date, *,
           household_ids: list[int] | None = None, unplanned: bool = False
           ) -> tuple[list[HouseholdState], date, date]:
    """Every household's state for ``period``, with the period's first day and the day counted to.
    Households no rule applies to are left out, unless ``unplanned`` (status ``not_due``)."""
    start, as_of = _as_of(period, today)
    plan = plan_for(session, period)
    if not community_ids:
        return [], start, as_of
    where = [Household.community_id.in_(community_ids)]
    if household_ids is not None:
        where = [Household.id.in_(household_ids)]
    rows = session.execute(
        select(Household.id, Household.community_id, Household.building_id, Building.grid_id, Household.code,
               Household.door, Household.tags, Household.created_on)
        .join(Building, Building.id == Household.building_id)
        .where(*where, Household.active, Household.created_on <= as_of)
        .order_by(Household.building_id, Household.door, Household.id)).all()
    if not rows:
        return [], start, as_of
    lookback = _lookback(plan, as_of)
    # A few households (a member's): their own visits; else the communities' visits.
    of = [Visit.household_id.in_([r.id for r in rows])] if household_ids is not None \
        else [Visit.community_id.in_(community_ids)]
    visits: dict[int, list[tuple[date, str, bool]]] = defaultdict(list)
    for household_id, day, role, paired in session.execute(
            select(Visit.household_id, Visit.local_date, Visit.visitor_role, Visit.paired)
            .where(*of, Visit.local_date >= lookback, Visit.local_date <= as_of)):
        visits[household_id].append((day, role, paired))
    last = dict(session.execute(
        select(Visit.household_id, func.max(Visit.local_date))
        .where(*of, Visit.local_date <= as_of).group_by(Visit.household_id)).all())
    members = paired_on(session, community_ids, as_of)
    out = []
    for r in rows:
        found = household_state(plan, r.tags or [], visits.get(r.id, []), r.created_on, as_of, today)
        if found is None:
            if not unplanned:
                continue
            found = ("not_due", None)
        out.append(HouseholdState(r.id, r.community_id, r.building_id, r.grid_id, r.code, r.door, list(r.tags or []),
                                  found[0], found[1], last.get(r.id), members.get(r.id, [])))
    return out, start, as_of


def paired_on(session: Session, community_ids: list[int], on: date) -> dict[int, list[tuple[int, str]]]:
    out: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for household_id, member_id, name in session.execute(
            select(HouseholdPairing.household_id, Member.id, Account.display_name)
            .join(Household, Household.id == HouseholdPairing.household_id)
            .join(Member, Member.id == HouseholdPairing.member_id).join(Account, Account.id == Member.account_id)
            .where(Household.community_id.in_(community_ids), HouseholdPairing.starts_on <= on,
                   (HouseholdPairing.ends_on.is_(None)) | (HouseholdPairing.ends_on >= on))
            .order_by(Account.display_name, Member.id)):
        out[household_id].append((member_id, name))
    return out


# --- who may read it ------------------------------------------------------------------------

def _scope(session: Session, actor: Actor, scope_kind: str, scope_id: int) -> tuple[str, list[int]]:
    """The scope's name and communities, once the actor may read it."""
    if actor.role not in (Role.staff, Role.secretary, Role.street_officer, Role.admin):
        raise Forbidden(_("Coverage is for community staff, secretaries and street officers."),
                        code="role_not_allowed")
    if scope_kind == "community":
        community = session.get(Community, scope_id)
        if community is None:
            raise NotFound(_("Community {id} does not exist.", id=scope_id), code="community_not_found")
        allowed = actor.role == Role.admin or actor.community_id == community.id or (
            actor.community_id is None and actor.street_id == community.street_id
            and actor.role in (Role.secretary, Role.street_officer))
        if not allowed:
            raise Forbidden(_("That is outside your community or street."), code="out_of_scope")
        return community.name, [community.id]
    if scope_kind == "street":
        street = session.get(Street, scope_id)
        if street is None:
            raise NotFound(_("Street {id} does not exist.", id=scope_id), code="street_not_found")
        allowed = actor.role == Role.admin or (actor.community_id is None and actor.street_id == street.id
                                               and actor.role in (Role.secretary, Role.street_officer))
        if not allowed:
            raise Forbidden(_("That is outside your community or street."), code="out_of_scope")
        ids = list(session.scalars(select(Community.id).where(Community.street_id == street.id)
                                   .order_by(Community.id)))
        return street.name, ids
    raise NotFound(_("Coverage is kept per community and per street."), code="scope_not_found")


def scopes(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The streets and communities whose coverage the actor reads, their own first."""
    streets = select(Street).order_by(Street.id)
    communities = select(Community).order_by(Community.street_id, Community.id)
    if actor.role == Role.admin:
        pass
    elif actor.community_id is not None:
        streets = streets.where(Street.id.is_(None))
        communities = communities.where(Community.id == actor.community_id)
    elif actor.street_id is not None and actor.role in (Role.secretary, Role.street_officer):
        streets = streets.where(Street.id == actor.street_id)
        communities = communities.where(Community.street_id == actor.street_id)
    else:
        return []
    out = [{"kind": "street", "id": s.id, "name": s.name} for s in session.scalars(streets)]
    return out + [{"kind": "community", "id": c.id, "name": c.name} for c in session.scalars(communities)]


# --- the figures -----------------------------------------------------------------------------

def report(session: Session, actor: Actor, scope_kind: str, scope_id: int, period: str, today: date
           ) -> dict[str, Any]:
    """The coverage of a community (by building, grid and member) or a street (by community).

    The same figures as adding up ``states``, asked of the database in groups: a street has tens of
    thousands of households, and each one's state depends only on its tags and on a few facts the
    database counts (see ``_Tally``), so the rules are applied once per distinct group. Each
    community's groups are kept (``_parts``) until its visits or its register change."""
    name, community_ids = _scope(session, actor, scope_kind, scope_id)
    start, as_of = _as_of(period, today)
    plan = plan_for(session, period)
    community = scope_kind == "community"
    total = Figures()
    by: dict[str, dict[int, Figures]] = {"community": defaultdict(Figures), "building": defaultdict(Figures),
                                         "grid": defaultdict(Figures), "member": defaultdict(Figures)}
    parts = _parts(session, plan, community_ids, period, as_of, today)
    for community_id in community_ids:
        part = parts[community_id]
        for (grid_id, building_id, status, never), n in part.households.items():
            total.add(status, never, n)
            by["community"][community_id].add(status, never, n)
            if community:
                by["building"][building_id].add(status, never, n)
            if grid_id is not None:
                by["grid"][grid_id].add(status, never, n)
        for (member_id, status, never), n in part.members.items() if community else ():  # members' households
            by["member"][member_id].add(status, never, n)
    for community_id in community_ids:
        for (grid_id, building_id, member_id, counted), n in parts[community_id].visits.items():
            total.visits += n
            by["community"][community_id].visits += n
            if counted:  # a visit of a household on the register with a rule, counted for its place
                if community:
                    by["building"][building_id].visits += n
                if grid_id is not None:
                    by["grid"][grid_id].visits += n
            if community and member_id in by["member"]:
                by["member"][member_id].visits += n
    out: dict[str, Any] = {"scope": {"kind": scope_kind, "id": scope_id, "name": name}, "period": period,
                           "from": start, "as_of": as_of, "totals": total.as_dict(),
                           "grids": grid_rounds(session, community_ids, period, start, as_of, today, by["grid"])}
    names = dict(session.execute(select(Community.id, Community.name).where(Community.id.in_(community_ids))).all()) \
        if community_ids else {}
    out["communities"] = [{"id": cid, "name": names.get(cid, ""), **by["community"][cid].as_dict()}
                          for cid in community_ids if cid in by["community"] or scope_kind == "street"]
    if community:
        buildings = session.execute(select(Building.id, Building.name).where(Building.community_id.in_(community_ids))
                                    .order_by(Building.name, Building.id)).all()
        out["buildings"] = [{"id": bid, "name": bname, **by["building"][bid].as_dict()} for bid, bname in buildings
                            if bid in by["building"]]
        member_names = dict(session.execute(
            select(Member.id, Account.display_name).join(Account, Account.id == Member.account_id)
            .where(Member.id.in_(list(by["member"])))).all()) if by["member"] else {}
        out["members"] = sorted(({"member_id": m, "display_name": member_names.get(m, ""), **f.as_dict()}
                                 for m, f in by["member"].items()),
                                key=lambda row: (row["coverage"] if row["coverage"] is not None else 1,
                                                 row["display_name"], row["member_id"]))
    else:
        out["buildings"] = []
        out["members"] = []
    return out


def totals(session: Session, community_ids: list[int], period: str, today: date) -> tuple[Figures, date]:
    """The communities' figures added up (the public board's), with the day they are counted to."""
    _start, as_of = _as_of(period, today)
    figures = Figures()
    parts = _parts(session, plan_for(session, period), community_ids, period, as_of, today)
    for part in parts.values():
        for (_grid, _building, status, never), n in part.households.items():
            figures.add(status, never, n)
        figures.visits += sum(part.visits.values())
    return figures, as_of


# --- each community's groups, kept while they hold ----------------------------------------------

CACHE_ENTRIES = 4096  # (community, period, day) parts kept per database
CACHE_SECONDS = 300.0  # and counted afresh after this long whatever else wrote to the database
FACT_BITS = 30  # facts to a column of ``_Tally.facts``


@dataclass(frozen=True)
class _Part:
    """One community's figures for one period as counted on one day, as counts: of its households
    by (grid, building, status, never visited); of the period's visits by (grid, building, member,
    whether counted for the place: a household on the register with a rule); and of the pairings
    in force by (member, status of the household, never visited). Never changed once made."""

    households: dict[tuple[int | None, int, str, bool], int]
    visits: dict[tuple[int | None, int, int | None, bool], int]
    members: dict[tuple[int, str, bool], int]


class _Parts:
    """The parts counted lately, per database (engine), each with the version of the facts it was
    counted from (``_versions``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, engine, key: tuple) -> tuple[tuple, _Part, float] | None:
        """The kept (version, part, when it was counted from nothing), unless counted too long ago."""
        with self._lock:
            entries = self._by_engine.get(engine)
            found = entries.get(key) if entries is not None else None
            if found is None or time.monotonic() - found[2] > CACHE_SECONDS:
                return None
            entries.move_to_end(key)
            return found

    def put(self, engine, key: tuple, version: tuple, part: _Part, counted: float) -> None:
        """Keep ``part``; ``counted``: when it was counted from nothing (a part moved on keeps the
        time of the count it came from, so even a busy community is counted afresh now and then)."""
        with self._lock:
            entries = self._by_engine.get(engine)
            if entries is None:
                entries = self._by_engine[engine] = OrderedDict()
            entries[key] = (version, part, counted)
            entries.move_to_end(key)
            while len(entries) > CACHE_ENTRIES:
                entries.popitem(last=False)


_PARTS = _Parts()
_PLACE = [Household.community_id, Building.grid_id, Household.building_id]


def _versions(session: Session, community_ids: list[int], as_of: date) -> dict[int, tuple]:
    """Each community's version: the number and the last id of its visits up to ``as_of``, and of
    its register changes (``RegisterChange``). Both tables are only added to, so a part counted at
    a version that still holds is what counting again would give. Read before counting, so that a
    fact committed meanwhile makes the next read count again."""
    visits = {c: (n, last) for c, n, last in session.execute(
        select(Visit.community_id, func.count(), func.max(Visit.id))
        .where(Visit.community_id.in_(community_ids), Visit.local_date <= as_of).group_by(Visit.community_id))}
    changes = _register_versions(session, community_ids)
    return {c: (visits.get(c, (0, 0)), changes[c]) for c in community_ids}


def _register_versions(session: Session, community_ids: list[int]) -> dict[int, tuple[int, int]]:
    found = {c: (n, last) for c, n, last in session.execute(
        select(RegisterChange.community_id, func.count(), func.max(RegisterChange.id))
        .where(RegisterChange.community_id.in_(community_ids)).group_by(RegisterChange.community_id))}
    return {c: found.get(c, (0, 0)) for c in community_ids}


def _parts(session: Session, plan: VisitPlan, community_ids: list[int], period: str, as_of: date, today: date,
           ) -> dict[int, _Part]:
    """Each community's part: a kept one whose version holds; a kept one moved on by the visits
    recorded since (``_moved_on``); or, for the rest, counted afresh (together)."""
    if not community_ids:
        return {}
    engine = session.get_bind().engine
    versions = _versions(session, community_ids, as_of)
    found: dict[int, _Part] = {}
    for c in community_ids:
        kept = _PARTS.get(engine, (c, period, today, plan))
        if kept is None:
            continue
        held, part, counted = kept
        if held != versions[c]:
            part = _moved_on(session, plan, c, part, held, versions[c], period, as_of, today)
            if part is not None:
                _PARTS.put(engine, (c, period, today, plan), versions[c], part, counted)
        if part is not None:
            found[c] = part
    stale = [c for c in community_ids if c not in found]
    if stale:
        counted = time.monotonic()
        caps = {c: versions[c][0][1] for c in stale}
        for c, part in _count(session, plan, stale, period, as_of, today, caps).items():
            _PARTS.put(engine, (c, period, today, plan), versions[c], part, counted)
            found[c] = part
    return found


def _bump(counts: dict, key: tuple, n: int) -> None:
    counts[key] = counts.get(key, 0) + n
    if not counts[key]:
        del counts[key]


def _moved_on(session: Session, plan: VisitPlan, community_id: int, part: _Part, held: tuple, version: tuple,
              period: str, as_of: date, today: date) -> _Part | None:
    """The part as it is after the visits recorded since it was counted, when those are all that
    changed: each household they visited is taken out as it was (its facts from the visits up to
    the old last id) and put back as it is at the new version (up to the new last id; a visit
    committed since is left for the next read). None (count afresh) when the register changed,
    when the new visits do not account for the change of number (a visit committed late under a
    lower id, or one removed), or when taking out would leave a count below zero."""
    (old_n, old_last), old_changes = held
    (new_n, new_last), new_changes = version
    if old_changes != new_changes:
        return None
    fresh = session.scalars(select(Visit.household_id).where(
        Visit.community_id == community_id, Visit.local_date <= as_of, Visit.id > old_last,
        Visit.id <= new_last)).all()
    if len(fresh) != new_n - old_n:
        return None
    ids = sorted(set(fresh))
    households, members, visits = dict(part.households), dict(part.members), dict(part.visits)
    # A few households: their states worked out here (``household_state``, the rule itself) from
    # their visits up to each last id; building a counting statement would cost more than this.
    rows = session.execute(
        select(Household.id, Building.grid_id, Household.building_id, Household.tags, Household.created_on)
        .join(Building, Building.id == Household.building_id)
        .where(Household.id.in_(ids), Household.active, Household.created_on <= as_of)).all()
    seen: dict[int, list[tuple[int, tuple[date, str, bool]]]] = defaultdict(list)
    for household_id, visit_id, day, role, paired in session.execute(
            select(Visit.household_id, Visit.id, Visit.local_date, Visit.visitor_role, Visit.paired)
            .where(Visit.household_id.in_(ids), Visit.local_date <= as_of, Visit.id <= new_last)):
        seen[household_id].append((visit_id, (day, role, paired)))
    pairings = session.execute(
        select(HouseholdPairing.household_id, HouseholdPairing.member_id)
        .where(HouseholdPairing.household_id.in_([r.id for r in rows]), HouseholdPairing.starts_on <= as_of,
               (HouseholdPairing.ends_on.is_(None)) | (HouseholdPairing.ends_on >= as_of))).all()
    for last, sign in ((old_last, -1), (new_last, 1)):
        state: dict[int, tuple[str, bool]] = {}
        for household_id, grid_id, building_id, tags, created_on in rows:
            mine = [v for visit_id, v in seen[household_id] if visit_id <= last]
            found = household_state(plan, tags or [], mine, created_on, as_of, today)
            if found is not None:
                _bump(households, (grid_id, building_id, found[0], not mine), sign)
                state[household_id] = (found[0], not mine)
        for household_id, member_id in pairings:
            if household_id in state:
                _bump(members, (member_id, *state[household_id]), sign)
    start = periods.bounds(period, "month")[0]
    for grid_id, building_id, member_id, tags, active, created_on, n in session.execute(
            select(Building.grid_id, Household.building_id, Visit.member_id, _TAGS, Household.active,
                   Household.created_on, func.count())
            .select_from(Visit).join(Household, Household.id == Visit.household_id)
            .join(Building, Building.id == Household.building_id)
            .where(Visit.community_id == community_id, Visit.id > old_last, Visit.id <= new_last,
                   Visit.local_date >= start, Visit.local_date <= as_of)
            .group_by(Building.grid_id, Household.building_id, Visit.member_id, _TAGS, Household.active,
                      Household.created_on)):
        counted = bool(active and created_on <= as_of and plan.rules_for(json.loads(tags) if tags else []))
        _bump(visits, (grid_id, building_id, member_id, counted), n)
    if any(n < 0 for counts in (households, members) for n in counts.values()):
        return None
    # The register read by those statements is the version's (else the next read counts afresh anyway).
    if _register_versions(session, [community_id])[community_id] != new_changes:
        return None
    return _Part(households, visits, members)


def _count(session: Session, plan: VisitPlan, community_ids: list[int], period: str, as_of: date, today: date,
           caps: dict[int, int]) -> dict[int, _Part]:
    """Count the communities' parts: each household once (its state kept for the pairings, so
    one count serves the street's page and the community's), then the pairings and the visits;
    each community's visits up to its last id in ``caps``."""
    start = periods.bounds(period, "month")[0]
    tally = _Tally(plan, community_ids, as_of, today, caps=caps)
    parts = {c: _Part({}, {}, {}) for c in community_ids}
    state: dict[int, tuple[int, str, bool]] = {}
    for community_id, grid_id, building_id, household_id, tags, never, *chunks in session.execute(
            tally.each(_PLACE)):
        status = tally.status(tags, tally.bits(chunks))
        if status is not None:
            _bump(parts[community_id].households, (grid_id, building_id, status, bool(never)), 1)
            state[household_id] = (community_id, status, bool(never))
    for household_id, member_id in session.execute(tally.pairings()):
        if household_id in state:
            community_id, status, never = state[household_id]
            _bump(parts[community_id].members, (member_id, status, never), 1)
    for community_id, grid_id, building_id, member_id, tags, on_register, n in session.execute(
            tally.visits(start, _PLACE)):
        _bump(parts[community_id].visits, (grid_id, building_id, member_id, bool(on_register and tally.planned(tags))),
              n)
    return parts


_COUNTED_BY = {"paired_member": Visit.paired.is_(True), "any_member": Visit.visitor_role == Role.member.value,
               "staff": Visit.visitor_role == Role.staff.value, "anyone": None}
_TAGS = cast(Household.tags, String)  # grouped by as text, read once per distinct text


class _Tally:
    """What ``_rule_status`` needs to know of each household on the register on ``as_of``, as
    columns the database computes: for each distinct (per, by, times) of the plan's rules, whether
    the window holding ``as_of`` and the one before had their visits; for each kind of window,
    whether the household joined after it began and whether it was on the register when the one
    before began; and whether it was never visited. Households with the same tags and the same
    facts have the same state."""

    def __init__(self, plan: VisitPlan, community_ids: list[int] | None, as_of: date, today: date, *,
                 caps: dict[int, int] | int):
        """``caps``: each community's last visit id to count (the version its part is kept under:
        on PostgreSQL each statement sees what is committed when it starts, so a visit committed
        since the version was read must not be counted), or one for all. ``community_ids`` None:
        every community (no list to filter by)."""
        self.plan, self.community_ids, self.as_of, self.today = plan, community_ids, as_of, today
        if isinstance(caps, int):
            self.capped = Visit.id <= caps
        elif len(set(caps.values())) == 1:
            self.capped = Visit.id <= next(iter(caps.values()))
        else:
            self.capped = or_(*(and_(Visit.community_id == c, Visit.id <= caps[c]) for c in community_ids))
        self.counters: dict[tuple[str, str, int], int] = {}
        self.pers: dict[str, int] = {}
        sums, facts, joined = [], [], []
        for rule in plan.rules:
            start = window(as_of, rule.per)[0]
            if rule.per not in self.pers:
                self.pers[rule.per] = len(self.pers)
                joined += [Household.created_on > start,
                           Household.created_on <= previous_window(start, rule.per)[0]]
            key = (rule.per, rule.by, rule.times)
            if key in self.counters:
                continue
            self.counters[key] = len(self.counters)
            for a, b in ((start, as_of), previous_window(start, rule.per)):
                counted = [Visit.local_date >= a, Visit.local_date <= b]
                if _COUNTED_BY[rule.by] is not None:
                    counted.append(_COUNTED_BY[rule.by])
                sums.append(func.sum(case((and_(*counted), 1), else_=0)))
        visited = (select(Visit.household_id, *(c.label(f"c{i}") for i, c in enumerate(sums)))
                   .where(*self._in(Visit.community_id), self.capped, Visit.local_date <= as_of)
                   .group_by(Visit.household_id).subquery())
        for (_per, _by, times), i in self.counters.items():
            facts += [func.coalesce(visited.c[f"c{2 * i}"], 0) >= times,
                      func.coalesce(visited.c[f"c{2 * i + 1}"], 0) >= times]
        # The facts as the bits of a few numbers (30 to a column, an integer on every backend):
        # few columns to read, one Python int to look a state up by.
        every = facts + joined
        self.facts = [sum((case((fact, 1 << (i - k)), else_=0) for i, fact in enumerate(every[k:k + FACT_BITS], k)),
                          literal(0)).label(f"facts{k // FACT_BITS}")
                      for k in range(0, max(len(every), 1), FACT_BITS)]
        self.visited = visited
        self._tags: dict[str | None, list[str]] = {}
        self._states: dict[tuple, str | None] = {}

    @staticmethod
    def bits(chunks) -> int:
        """The facts of a row (its last columns, ``facts0``, ``facts1``, ...) as one number."""
        return sum(int(chunk) << (FACT_BITS * k) for k, chunk in enumerate(chunks))

    def _in(self, column) -> list:
        return [] if self.community_ids is None else [column.in_(self.community_ids)]

    def _household_rows(self, *columns, buildings: bool = True):
        rows = select(*columns, _TAGS.label("tags"), self.visited.c.household_id.is_(None).label("never"), *self.facts)
        rows = rows.select_from(Household)
        if buildings:
            rows = rows.join(Building, Building.id == Household.building_id)
        return (rows.outerjoin(self.visited, self.visited.c.household_id == Household.id)
                .where(*self._in(Household.community_id), Household.active, Household.created_on <= self.as_of))

    def each(self, place: list):
        """Each household with its place, id, tags and facts."""
        return self._household_rows(*place, Household.id)

    def grouped(self):
        """The households counted by community, tags and facts (whether never visited among them)."""
        rows = self._household_rows(Household.community_id, buildings=False).subquery()
        return select(*rows.c, func.count()).group_by(*rows.c)

    def pairings(self):
        """Each pairing in force on ``as_of`` of a household on the register: (household, member)."""
        return (select(HouseholdPairing.household_id, HouseholdPairing.member_id)
                .join(Household, Household.id == HouseholdPairing.household_id)
                .where(Household.community_id.in_(self.community_ids), Household.active,
                       Household.created_on <= self.as_of, HouseholdPairing.starts_on <= self.as_of,
                       (HouseholdPairing.ends_on.is_(None)) | (HouseholdPairing.ends_on >= self.as_of))
                .order_by(HouseholdPairing.member_id))

    def visits(self, start: date, place: list):
        """The visits made from ``start`` to ``as_of``, counted by place and member, with their
        household's tags and whether it is on the register."""
        columns = [Visit.community_id, *place[1:], Visit.member_id]
        rows = (select(*(c.label(f"k{i}") for i, c in enumerate(columns)), _TAGS.label("tags"),
                       and_(Household.active, Household.created_on <= self.as_of).label("on_register"))
                .select_from(Visit).join(Household, Household.id == Visit.household_id)
                .join(Building, Building.id == Household.building_id)
                .where(Visit.community_id.in_(self.community_ids), self.capped, Visit.local_date >= start,
                       Visit.local_date <= self.as_of)).subquery()
        return select(*rows.c, func.count()).group_by(*rows.c)

    def tags(self, text: str | None) -> list[str]:
        found = self._tags.get(text)
        if found is None:
            found = self._tags[text] = (json.loads(text) if text else None) or []
        return found

    def planned(self, text: str | None) -> bool:
        return bool(self.plan.rules_for(self.tags(text)))

    def status(self, text: str | None, bits: int) -> str | None:
        """The household's status from its tags and facts; None when no rule applies to it."""
        key = (text, bits)
        if key not in self._states:
            facts = [bool(bits >> i & 1) for i in range(2 * len(self.counters) + 2 * len(self.pers))]
            counters = 2 * len(self.counters)
            found = _worst([_rule_status(
                rule, bool(facts[2 * i]), bool(facts[2 * i + 1]), bool(facts[counters + 2 * p]),
                bool(facts[counters + 2 * p + 1]), self.as_of, self.today)
                for rule in self.plan.rules_for(self.tags(text))
                for i, p in [(self.counters[(rule.per, rule.by, rule.times)], self.pers[rule.per])]])
            self._states[key] = found[0] if found else None
        return self._states[key]


def grid_rounds(session: Session, community_ids: list[int], period: str, start: date, as_of: date, today: date,
                figures: dict[int, Figures]) -> list[dict[str, Any]]:
    """Each grid of the scope: its workers, the rounds ended in the period, and the round rule's
    windows met out of those that have begun in it."""
    if not community_ids:
        return []
    rule = plan_for(session, period).rounds
    grids = session.execute(select(Grid.id, Grid.name, Grid.community_id).where(Grid.community_id.in_(community_ids))
                            .order_by(Grid.community_id, Grid.name, Grid.id)).all()
    days: dict[int, list[date]] = defaultdict(list)
    for grid_id, day in session.execute(
            select(InspectionRound.grid_id, InspectionRound.local_date)
            .where(InspectionRound.community_id.in_(community_ids), InspectionRound.ended_at.is_not(None),
                   InspectionRound.local_date >= start, InspectionRound.local_date <= as_of)):
        days[grid_id].append(day)
    workers: dict[int, list[str]] = defaultdict(list)
    for grid_id, name in session.execute(
            select(GridWorker.grid_id, Account.display_name).join(Account, Account.id == GridWorker.account_id)
            .join(Grid, Grid.id == GridWorker.grid_id)
            .where(Grid.community_id.in_(community_ids), GridWorker.starts_on <= as_of,
                   (GridWorker.ends_on.is_(None)) | (GridWorker.ends_on >= as_of))
            .order_by(Account.display_name)):
        workers[grid_id].append(name)
    windows = round_windows(rule, start, as_of)
    weeks = max((as_of - start).days + 1, 1) / 7
    out = []
    for grid_id, name, community_id in grids:
        held = days.get(grid_id, [])
        met = windows_met(rule, windows, held)
        # A window still running is not missed yet.
        closed = sum(1 for a, b in windows if b < today)
        out.append({"id": grid_id, "name": name, "community_id": community_id, "workers": workers.get(grid_id, []),
                    "rounds": len(held), "rounds_per_week": round(len(held) / weeks, 2),
                    "windows": len(windows), "windows_met": met, "windows_missed": max(closed - met, 0),
                    "inspected": bool(held), "households": figures[grid_id].as_dict() if grid_id in figures else None})
    return out


def round_windows(rule: RoundRule, start: date, as_of: date) -> list[tuple[date, date]]:
    """The round rule's windows that have begun between ``start`` and ``as_of``."""
    windows = []
    cursor = window(start, rule.per)
    while cursor[0] <= as_of:
        windows.append(cursor)
        cursor = next_window(cursor[1], rule.per)
    return windows


def windows_met(rule: RoundRule, windows: list[tuple[date, date]], days: list[date]) -> int:
    """How many of ``windows`` hold the rule's number of rounds, given the days rounds ended."""
    return sum(sum(a <= d <= b for d in days) >= rule.times for a, b in windows)


@dataclass
class Collection:
    """A community's planned collection in a scoring period: its households' figures and its
    grids' rounds against the round rule."""

    figures: Figures
    rounds: int = 0
    round_windows: int = 0  # each grid's windows begun in the month, added up
    round_windows_met: int = 0


MEMO_DAYS = 35  # coverage counts counted on a day this much older than today are dropped


def plan_key(plan: VisitPlan) -> str:
    return hashlib.sha256(plan.model_dump_json().encode()).hexdigest()


def collection(ask: Callable[..., Callable[[], list]], session: Session, plan: VisitPlan, community_ids: list[int],
               start: date, as_of: date, today: date, *, visit_cap: int, ended_by: Any, everywhere: bool = False,
               keep: bool = False) -> Callable[[], dict[int, Collection]]:
    """For the scores (``workflow.scoring.engine``): each community's coverage as of ``as_of``
    under ``plan`` (the scored policy's, not the one in force), from the visits up to id
    ``visit_cap``, and its visits and its grids' rounds from ``start`` (the period's first day)
    to ``as_of``, the rounds ended by ``ended_by`` (an instant); ``everywhere``:
    ``community_ids`` are all the communities.

    The same rule as ``report``, counted in SQL groups of community, tags and facts, for the
    communities whose facts changed since a run last counted them: the others' figures are read
    from ``coverage_counts`` when their version (``CoverageCount``) still holds, which is what
    counting them again would give. ``keep``: write what was counted there (the caller's
    transaction can write). ``ask`` sends a statement and returns what gives its rows
    (``workflow.db.Reads.ask``: on PostgreSQL these count while the rates are counted)."""
    if not community_ids:
        return dict
    key = plan_key(plan)
    where = [] if everywhere else [Visit.community_id.in_(community_ids)]
    visits_at = {c: (n, last) for c, n, last in session.execute(
        select(Visit.community_id, func.count(), func.max(Visit.id))
        .where(*where, Visit.id <= visit_cap, Visit.local_date <= as_of).group_by(Visit.community_id))}
    changes_at = {c: (n, last) for c, n, last in session.execute(
        select(RegisterChange.community_id, func.count(), func.max(RegisterChange.id))
        .where(*([] if everywhere else [RegisterChange.community_id.in_(community_ids)]))
        .group_by(RegisterChange.community_id))}
    versions = {c: (*visits_at.get(c, (0, 0)), *changes_at.get(c, (0, 0))) for c in community_ids}
    kept: dict[int, Figures] = {}
    for row in session.scalars(select(CoverageCount).where(
            CoverageCount.as_of == as_of, CoverageCount.today == today, CoverageCount.plan_key == key,
            *([] if everywhere else [CoverageCount.community_id.in_(community_ids)]))):
        if versions.get(row.community_id) == (row.visits_n, row.visits_last, row.changes_n, row.changes_last):
            kept[row.community_id] = Figures(households=row.households, visited=row.visited, due=row.due,
                                             overdue=row.overdue, never_visited=row.never_visited)
    stale = [c for c in community_ids if c not in kept]
    tally = _Tally(plan, None if everywhere and len(stale) == len(community_ids) else stale, as_of, today,
                   caps=visit_cap) if stale else None
    households = ask(tally.grouped()) if tally is not None else list
    visits = ask(select(Visit.community_id, func.count()).where(
        *where, Visit.id <= visit_cap, Visit.local_date >= start, Visit.local_date <= as_of)
        .group_by(Visit.community_id))
    rounds = ask(select(Grid.community_id, Grid.id, InspectionRound.local_date)
                 .select_from(Grid).outerjoin(InspectionRound, and_(
                     InspectionRound.grid_id == Grid.id, InspectionRound.ended_at.is_not(None),
                     InspectionRound.ended_at <= ended_by, InspectionRound.local_date >= start,
                     InspectionRound.local_date <= as_of))
                 .where(*([] if everywhere else [Grid.community_id.in_(community_ids)])))

    def rows() -> dict[int, Collection]:
        out = {c: Collection(kept.get(c) or Figures()) for c in community_ids}
        counted = _grouped_figures(tally, households(), set(stale)) if tally is not None else {}
        for c in stale:
            out[c].figures = counted.get(c) or Figures()
        if keep and stale:
            _keep(session, stale, everywhere and len(stale) == len(community_ids), as_of, today, key, versions, out)
        for community_id, n in visits():
            if community_id in out:
                out[community_id].figures.visits = n
        rule = plan.rounds
        windows = round_windows(rule, start, as_of)
        days: dict[tuple[int, int], list[date]] = defaultdict(list)
        for community_id, grid_id, day in rounds():
            held = days[(community_id, grid_id)]
            if day is not None:
                held.append(day)
        for (community_id, _grid), held in days.items():
            if community_id not in out:
                continue
            out[community_id].rounds += len(held)
            out[community_id].round_windows += len(windows)
            out[community_id].round_windows_met += windows_met(rule, windows, held)
        return out

    return rows


def _grouped_figures(tally: _Tally, rows: list, wanted: set[int]) -> dict[int, Figures]:
    """Each community's figures from ``_Tally.grouped`` rows. A city's groups are a few hundred
    thousand rows of a few hundred kinds (tags and facts): each kind is looked up once, and the
    counts added up by community before Figures."""
    statuses: dict[tuple, str | None] = {}
    counts: dict[tuple[int, str, bool], int] = defaultdict(int)
    for row in rows:
        kind = row[1:-1]
        status = statuses.get(kind, False)
        if status is False:
            status = statuses[kind] = tally.status(kind[0], tally.bits(kind[2:]))
        if status is not None:
            counts[(row[0], status, bool(kind[1]))] += row[-1]
    out: dict[int, Figures] = {}
    for (community_id, status, never), n in counts.items():
        if community_id in wanted:
            out.setdefault(community_id, Figures()).add(status, never, n)
    return out


def _keep(session: Session, community_ids: list[int], everywhere: bool, as_of: date, today: date, key: str,
          versions: dict[int, tuple], out: dict[int, Collection]) -> None:
    """Write the communities' counts to ``coverage_counts`` in the caller's transaction, in place
    of what was kept for the same day, plan and day counted to; drop counts of days long past."""
    if is_postgresql(session):
        # Runs of two periods may count to the same day (the running one and one that ended today):
        # one writer of the kept counts at a time, so that neither inserts what the other did.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(b"coverage_counts")})
    same = [CoverageCount.as_of == as_of, CoverageCount.today == today, CoverageCount.plan_key == key]
    if not everywhere:
        same.append(CoverageCount.community_id.in_(community_ids))
    session.execute(delete(CoverageCount).where(*same))
    session.execute(delete(CoverageCount).where(CoverageCount.today < today - timedelta(days=MEMO_DAYS)))
    now = utcnow()
    columns = ["community_id", "as_of", "today", "plan_key", "visits_n", "visits_last", "changes_n", "changes_last",
               "households", "visited", "due", "overdue", "never_visited", "counted_at"]
    bulk_insert(session, CoverageCount.__table__, columns, [
        (c, as_of, today, key, *versions[c], f.households, f.visited, f.due, f.overdue, f.never_visited, now)
        for c in community_ids for f in [out[c].figures]])


def missed(session: Session, actor: Actor, scope_kind: str, scope_id: int, period: str, today: date, *,
           limit: int = 200, offset: int = 0) -> dict[str, Any]:
    """The households overdue or never visited, the longest waiting first, each with who looks after it."""
    name, community_ids = _scope(session, actor, scope_kind, scope_id)
    found, _start, as_of = states(session, community_ids, period, today)
    rows = [s for s in found if s.status == "overdue" or (s.never_visited and s.status != "visited")]
    rows.sort(key=lambda s: (s.status != "overdue", s.last_visit or date.min, s.household_id))
    buildings = dict(session.execute(select(Building.id, Building.name).where(
        Building.id.in_({s.building_id for s in rows}))).all()) if rows else {}
    return {"scope": {"kind": scope_kind, "id": scope_id, "name": name}, "period": period, "as_of": as_of,
            "total": len(rows),
            "households": [{"household_id": s.household_id, "code": s.code, "building_id": s.building_id,
                            "building": buildings.get(s.building_id, ""), "door": s.door, "tags": s.tags,
                            "status": s.status, "due_on": s.due_on, "last_visit": s.last_visit,
                            "never_visited": s.never_visited,
                            "members": [{"member_id": m, "display_name": n} for m, n in s.members]}
                           for s in rows[offset:offset + limit]]}


def my_households(session: Session, member_id: int, today: date) -> list[HouseholdState]:
    """A member's households (paired today), the soonest due first."""
    community_ids = list(session.scalars(
        select(Household.community_id).join(HouseholdPairing, HouseholdPairing.household_id == Household.id)
        .where(HouseholdPairing.member_id == member_id, HouseholdPairing.starts_on <= today,
               (HouseholdPairing.ends_on.is_(None)) | (HouseholdPairing.ends_on >= today)).distinct()))
    household_ids = list(session.scalars(
        select(HouseholdPairing.household_id).where(
            HouseholdPairing.member_id == member_id, HouseholdPairing.starts_on <= today,
            (HouseholdPairing.ends_on.is_(None)) | (HouseholdPairing.ends_on >= today))))
    if not household_ids:
        return []
    found, _start, _as_of = states(session, community_ids, periods.label_of(today, "month"), today,
                                   household_ids=household_ids, unplanned=True)
    order = {"overdue": 0, "due": 1, "visited": 2, "not_due": 3}
    return sorted(found, key=lambda s: (order[s.status], s.due_on or date.max, s.household_id))
