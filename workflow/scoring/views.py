"""Reading scores, scoped to who asks (DESIGN.md §5, "explainable").

- Admins read everything; a community secretary reads their community, its grids and the members
  registered with it; a street secretary reads their street and everything in it; a member reads
  their own figures and breakdown, and nobody else's. Everyone else is refused.
- A read of a community or street takes its publication when there is one, else the period's draft.
- Every figure opens down to the facts behind it: the tasks with their verdicts and appraisals, the
  ledger entries, the gates and the criterion that set each member's rank, as of the run's marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..access import Actor
from ..errors import Forbidden, InvalidInput, NotFound
from ..i18n import Text, _
from ..models import (
    Account,
    Community,
    Evaluation,
    Grid,
    HoursEntry,
    Member,
    MemberScore,
    PointEntry,
    Registration,
    Role,
    RunStatus,
    ScopeKind,
    ScoreRun,
    Street,
    Unit,
    UnitKind,
    UnitScore,
)
from ..settings import Settings
from . import engine, periods, runs
from . import policy as policies

GRADE_LABELS: dict[str, Text] = {
    "excellent": _("Excellent"),
    "good": _("Good"),
    "competent": _("Competent"),
    "basic": _("Basic"),
    "improve": _("Needs improvement"),
}
DECIDED_BY_LABELS: dict[str, Text] = {
    "composite": _("a higher composite score"),
    "quality": _("equal composite, higher quality"),
    "tasks": _("equal composite and quality, more verified tasks"),
    "hours": _("equal composite, quality and tasks, more service hours"),
    "points": _("equal on everything else, more points"),
    "tie": _("tied on every criterion: same rank"),
}
POINT_REASON_LABELS: dict[str, Text] = {
    "task_verified": _("Task verified"),
    "visit_collected": _("Problem found on a home visit was closed"),
    "household_visit": _("Household visited (once a month each)"),
    "activity_attended": _("Party-life activity attended"),
    "resident_satisfied": _("Resident satisfied with the task"),
    "released": _("Task given back"),
    "sent_back": _("Result sent back by staff"),
    "overdue": _("Task held past its deadline"),
}


def gate_message(failure: dict) -> Text:
    if failure.get("gate") == "min_verified_tasks":
        return _("Fewer than {required} verified tasks in the period ({actual}).", required=failure["required"],
                 actual=failure["actual"])
    return _("A red supervision mark was put on a task while they held it.")


@dataclass(frozen=True)
class Scope:
    """What the actor may read: the city, one street, one community, or one member."""

    kind: str
    id: int


def scope_of(actor: Actor) -> Scope:
    if actor.role == Role.admin:
        return Scope("city", 0)
    if actor.role == Role.secretary:
        if actor.community_id is not None:
            return Scope("community", actor.community_id)
        if actor.street_id is not None:
            return Scope("street", actor.street_id)
    if actor.role in (Role.member, Role.volunteer) and actor.member_id is not None:
        return Scope("member", actor.member_id)  # a volunteer's own record, as a member's
    raise Forbidden(_("Scores are for secretaries, administrators and each member's own record."),
                    code="role_not_allowed")


def _out_of_scope() -> Forbidden:
    return Forbidden(_("These scores are outside your community or street."), code="out_of_scope")


def _community(session: Session, community_id: int) -> Community:
    community = session.get(Community, community_id)
    if community is None:
        raise NotFound(_("Community {id} does not exist.", id=community_id), code="community_not_found")
    return community


def _member_communities(session: Session, member_id: int) -> list[int]:
    return list(session.scalars(select(Registration.community_id).where(Registration.member_id == member_id)
                                .distinct()))


def _unit(session: Session, unit_kind: str, unit_id: int) -> tuple[str, int, int | None]:
    """(name, street, community) of a unit; 404 if it does not exist."""
    if unit_kind == UnitKind.street:
        street = session.get(Street, unit_id)
        if street is not None:
            return street.name, street.id, None
    elif unit_kind == UnitKind.community:
        community = session.get(Community, unit_id)
        if community is not None:
            return community.name, community.street_id, community.id
    elif unit_kind == UnitKind.grid:
        grid = session.get(Grid, unit_id)
        if grid is not None:
            community = session.get(Community, grid.community_id)
            return f"{community.name} {grid.name}", community.street_id, community.id
    elif unit_kind == UnitKind.member:
        row = session.execute(select(Account.display_name).join(Member, Member.account_id == Account.id)
                              .where(Member.id == unit_id)).first()
        if row is not None:
            return row[0], 0, None
    raise NotFound(_("There is no {kind} {id}.", kind=unit_kind, id=unit_id), code="unit_not_found")


def _may_read(session: Session, scope: Scope, unit_kind: str, unit_id: int, street_id: int,
              community_id: int | None) -> bool:
    if scope.kind == "city":
        return True
    if unit_kind == UnitKind.member:
        if scope.kind == "member":
            return scope.id == unit_id
        communities = _member_communities(session, unit_id)
        if scope.kind == "community":
            return scope.id in communities
        return bool(communities) and session.scalar(
            select(Community.id).where(Community.id.in_(communities), Community.street_id == scope.id).limit(1)
        ) is not None
    if scope.kind == "community":
        return community_id == scope.id
    if scope.kind == "street":
        return street_id == scope.id
    return False


def run_for(session: Session, settings: Settings, period: str, street_id: int,
            community_id: int | None) -> ScoreRun:
    """The run a unit is read from, the same for every reader: its community's publication, else
    its street's, else the period's draft."""
    return runs_for(session, settings, [period], street_id, community_id)[period]


def runs_for(session: Session, settings: Settings, labels: list[str], street_id: int,
             community_id: int | None) -> dict[str, ScoreRun]:
    """:func:`run_for` of several periods, read in one query; a started period with no draft yet
    gets one computed."""
    published = [ScoreRun.status == RunStatus.draft]
    if community_id is not None:
        published.append(and_(ScoreRun.status == RunStatus.published, ScoreRun.scope_kind == ScopeKind.community,
                              ScoreRun.scope_id == community_id))
    if street_id:
        published.append(and_(ScoreRun.status == RunStatus.published, ScoreRun.scope_kind == ScopeKind.street,
                              ScoreRun.scope_id == street_id))
    preference = {ScopeKind.community: 0, ScopeKind.street: 1, ScopeKind.city: 2}
    found: dict[str, ScoreRun] = {}
    for run in session.scalars(select(ScoreRun).where(ScoreRun.period.in_(labels), or_(*published))):
        chosen = found.get(run.period)
        if chosen is None or preference[run.scope_kind] < preference[chosen.scope_kind]:
            found[run.period] = run
    for label in labels:
        if label not in found:
            found[label] = runs.effective(session, settings, label, ScopeKind.city, 0)
    return found


def run_meta(run: ScoreRun) -> dict[str, Any]:
    return {"period": run.period, "period_kind": run.period_kind, "period_start": run.period_start.isoformat(),
            "period_end": run.period_end.isoformat(), "policy_version": run.policy_version,
            "published": run.status.value != "draft", "status": run.status.value, "revision": run.revision,
            "computed_at": run.computed_at.isoformat(),
            "published_at": run.published_at.isoformat() if run.published_at else None}


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _rates(row: UnitScore | None) -> dict[str, Any]:
    names = ("received", "responded_in_time", "evaluated", "solved", "satisfied", "basically_satisfied")
    rates = ("response_rate", "resolution_rate", "satisfaction_rate", "composite")
    if row is None:
        return {**{n: 0 for n in names}, **{r: None for r in rates}, "collection": None}
    return {**{n: getattr(row, n) for n in names}, **{r: _num(getattr(row, r)) for r in rates},
            "collection": _collection(row)}


COLLECTION_COUNTS = ("households", "visited", "overdue", "never_visited", "visits", "rounds", "round_windows",
                     "round_windows_met")


def _collection(row: UnitScore) -> dict[str, Any] | None:
    """A community's or street's planned collection as its run counted it; None for other units
    and for runs made before collection was part of the scores."""
    if row.households is None:
        return None
    return {**{n: getattr(row, n) for n in COLLECTION_COUNTS}, "coverage": _num(row.coverage),
            "round_rate": _num(row.round_rate), "rates_composite": _num(row.rates_composite)}


def collection_weights(session: Session, run: ScoreRun) -> dict[str, float]:
    """The weights of coverage, rounds and the rates in the run's composite (its policy's)."""
    weights = policies.rules_of(policies.by_version(session, run.policy_version)).collection
    return {"coverage": float(weights.coverage), "rounds": float(weights.rounds),
            "rates": float(1 - weights.coverage - weights.rounds)}


def unit_rates(session: Session, settings: Settings, actor: Actor, unit_kind: str, unit_id: int,
               period: str) -> dict[str, Any]:
    """The three rates and their composite of one street, community, grid or member in a period."""
    periods.parse(period)
    scope = scope_of(actor)
    name, street_id, community_id = _unit(session, unit_kind, unit_id)
    _check_rates_access(session, scope, unit_kind, unit_id, street_id, community_id)
    run = run_for(session, settings, period, street_id, community_id)
    rates = _rates(_unit_row(session, run, unit_kind, unit_id))
    return {"unit": {"kind": unit_kind, "id": unit_id, "name": name}, **run_meta(run), **rates,
            "weights": _weighed(collection_weights(session, run), rates["collection"])}


def _weighed(weights: dict[str, float], collection: dict[str, Any] | None) -> dict[str, float]:
    """The weights as the unit's composite used them: a part the unit has no figure for (coverage
    without households, rounds without grids) is left out and the others share its weight; all 0
    when there is no composite of the three rates to weigh."""
    if collection is None:
        return weights
    if collection["rates_composite"] is None:
        return {name: 0.0 for name in weights}
    present = {"rates": True, "coverage": collection["coverage"] is not None,
               "rounds": collection["round_rate"] is not None}
    share = sum(w for name, w in weights.items() if present[name])
    return {name: round(w / share, 4) if present[name] and share else 0.0 for name, w in weights.items()}


def _check_rates_access(session: Session, scope: Scope, unit_kind: str, unit_id: int, street_id: int,
                        community_id: int | None) -> None:
    """A member's rates cover their work in every community, so only admins and the member read
    them; secretaries read members through their own community's ranking and breakdowns."""
    if unit_kind == UnitKind.member and scope.kind in ("community", "street"):
        raise Forbidden(_("A member's own rates cover every community they serve; secretaries read members "
                          "through their community's ranking."), code="out_of_scope")
    if not _may_read(session, scope, unit_kind, unit_id, street_id, community_id):
        raise _out_of_scope()


def _unit_row(session: Session, run: ScoreRun, unit_kind: str, unit_id: int) -> UnitScore | None:
    return session.scalar(select(UnitScore).where(UnitScore.run_id == run.id, UnitScore.unit_kind == unit_kind,
                                                  UnitScore.unit_id == unit_id))


def trend(session: Session, settings: Settings, actor: Actor, unit_kind: str, unit_id: int, end: str,
          count: int = runs.TREND) -> dict[str, Any]:
    """The rates of the ``count`` periods ending with ``end``, oldest first."""
    periods.parse(end)
    scope = scope_of(actor)
    name, street_id, community_id = _unit(session, unit_kind, unit_id)
    _check_rates_access(session, scope, unit_kind, unit_id, street_id, community_id)
    labels = [periods.shift(end, -offset) for offset in range(count - 1, -1, -1)]
    labels = [label for label in labels if label >= "2000-01"]
    versions = policies.versions(session)
    started = [label for label in labels if not runs.not_started(session, settings, label, versions=versions)]
    chosen = runs_for(session, settings, started, street_id, community_id)
    rows = {row.run_id: row for row in session.scalars(select(UnitScore).where(
        UnitScore.run_id.in_([run.id for run in chosen.values()]), UnitScore.unit_kind == unit_kind,
        UnitScore.unit_id == unit_id))}
    points = []
    for label in labels:
        run = chosen.get(label)
        if run is None:
            points.append({"period": label, "published": False, **_rates(None)})
        else:
            points.append({"period": label, "published": run.status.value != "draft", **_rates(rows.get(run.id))})
    return {"unit": {"kind": unit_kind, "id": unit_id, "name": name}, "periods": points}


# --- rankings --------------------------------------------------------------------------------------

MEMBER_KINDS = ("party", "volunteer")


def _kind(kind: str) -> str:
    if kind not in MEMBER_KINDS:
        raise InvalidInput(_("Rankings are of party members (party) or of volunteers (volunteer)."),
                           code="unknown_member_kind", details={"field": "kind"})
    return kind


def ranking(session: Session, settings: Settings, actor: Actor, scope_kind: str, scope_id: int, period: str,
            locale: str, kind: str = "party") -> dict[str, Any]:
    """评先推优: one community's or street's ranking, with grades, quotas and who was not ranked and why.
    Party members and volunteers (``kind``) are ranked apart."""
    periods.parse(period)
    _kind(kind)
    name = ranking_access(session, actor, scope_kind, scope_id)
    street_id = _unit(session, scope_kind, scope_id)[1]
    level = scope_kind
    if scope_kind == "community":
        run = run_for(session, settings, period, street_id, scope_id)
    else:  # a community's publication holds no street ranking
        run = runs.effective(session, settings, period, ScopeKind.street, scope_id)
    column = MemberScore.community_id if level == "community" else MemberScore.street_id
    rows = _member_rows(session, run, column == scope_id, MemberScore.kind == kind)
    ranked = [r for r in rows if getattr(r[0], f"{level}_rank") is not None]
    ranked.sort(key=lambda r: (getattr(r[0], f"{level}_rank"), r[1]))
    # Not ranked: kept out by a gate. (An eligible record without a street rank is a second record of a
    # member ranked once already by their better one.)
    not_ranked = sorted((r for r in rows if getattr(r[0], f"{level}_rank") is None and not r[0].eligible),
                        key=lambda r: r[1])
    rules = policies.rules_of(policies.by_version(session, run.policy_version))
    cutoffs = engine.grade_cutoffs(rules, len(ranked))
    return {
        "scope": {"kind": scope_kind, "id": scope_id, "name": name}, "member_kind": kind, **run_meta(run),
        "quotas": [{"grade": q.grade, "label": GRADE_LABELS[q.grade].render(locale), "share": float(q.share),
                    "last_position": last} for q, (_g, last) in zip(rules.grade_quotas, cutoffs, strict=False)],
        "ranked": [_member_line(r, level, locale) for r in ranked],
        "not_ranked": [_member_line(r, level, locale) for r in not_ranked],
    }


def ranking_access(session: Session, actor: Actor, scope_kind: str, scope_id: int) -> str:
    """Rankings are read by the secretaries of the scope (and admins); returns the scope's name."""
    scope = scope_of(actor)
    if scope_kind not in ("community", "street"):
        raise NotFound(_("Rankings are kept per community and per street."), code="unit_not_found")
    name, street_id, community_id = _unit(session, scope_kind, scope_id)
    if scope.kind == "member" or not _may_read(session, scope, scope_kind, scope_id, street_id, community_id):
        raise _out_of_scope()
    return name


def _member_rows(session: Session, run: ScoreRun, *where) -> list[tuple[MemberScore, str, str, str]]:
    stmt = (select(MemberScore, Account.username, Account.display_name, Unit.name)
            .join(Member, Member.id == MemberScore.member_id).join(Account, Account.id == Member.account_id)
            .outerjoin(Unit, Unit.id == MemberScore.unit_id)  # a volunteer has none
            .where(MemberScore.run_id == run.id, *where))
    return [tuple(row) for row in session.execute(stmt)]


def _member_line(row: tuple[MemberScore, str, str, str], level: str, locale: str) -> dict[str, Any]:
    score, username, display_name, unit_name = row
    grade = getattr(score, f"{level}_grade")
    decided = getattr(score, f"{level}_decided_by")
    return {
        "member_id": score.member_id, "name": display_name, "username": username, "unit": unit_name or "",
        "kind": score.kind,
        "community_id": score.community_id, "rank": getattr(score, f"{level}_rank"), "grade": grade,
        "grade_label": GRADE_LABELS[grade].render(locale) if grade else None,
        "decided_by": decided, "decided_by_label": DECIDED_BY_LABELS[decided].render(locale) if decided else None,
        "tasks": score.tasks, "hours": float(score.hours), "quality": _num(score.quality),
        "points": score.points, "composite": float(score.composite), "eligible": score.eligible,
        "gate_failures": [{**g, "message": gate_message(g).render(locale)} for g in score.gate_failures],
    }


# --- one member's breakdown: "why this rank" ------------------------------------------------------

def member_breakdown(session: Session, settings: Settings, actor: Actor, member_id: int, period: str,
                     locale: str, community_id: int | None = None) -> dict[str, Any]:
    periods.parse(period)
    scope = scope_of(actor)
    name, _street, _c = _unit(session, UnitKind.member, member_id)
    if not _may_read(session, scope, UnitKind.member, member_id, 0, None):
        raise _out_of_scope()
    communities = _member_communities(session, member_id)
    if scope.kind == "community":
        communities = [c for c in communities if c == scope.id]
    elif scope.kind == "street":
        communities = [c for c in communities if _community(session, c).street_id == scope.id]
    if community_id is not None:
        if community_id not in communities:
            raise NotFound(_("This member has no record in community {id}.", id=community_id),
                           code="record_not_found")
        communities = [community_id]
    records = []
    for cid in sorted(communities):
        community = _community(session, cid)
        run = run_for(session, settings, period, community.street_id, cid)
        score = session.scalar(select(MemberScore).where(MemberScore.run_id == run.id,
                                                         MemberScore.member_id == member_id,
                                                         MemberScore.community_id == cid))
        if score is not None:
            records.append(_explain(session, run, score, community, scope, locale))
    return {"member": {"id": member_id, "name": name}, "period": period, "records": records}


def _explain(session: Session, run: ScoreRun, score: MemberScore, community: Community, scope: Scope,
             locale: str) -> dict[str, Any]:
    rules = policies.rules_of(policies.by_version(session, run.policy_version))
    marks = engine.Marks.load(run.marks)
    weights = rules.assessment
    quality = score.quality or Decimal(0)
    parts = [
        {"part": "quality", "weight": float(weights.quality), "score": _num(score.quality),
         "contribution": float(engine.cents(weights.quality * quality))},
        {"part": "hours", "weight": float(weights.hours), "score": float(score.hours_score),
         "contribution": float(engine.cents(weights.hours * score.hours_score))},
        {"part": "points", "weight": float(weights.points), "score": float(score.points_score),
         "contribution": float(engine.cents(weights.points * score.points_score))},
    ]
    return {
        "community": {"id": community.id, "name": community.name}, **run_meta(run),
        "composite": float(score.composite), "parts": parts,
        "quality": {"tasks": score.tasks, "mean": _num(score.quality_mean), "community_mean":
                    float(score.community_mean), "shrinkage_strength": float(rules.quality.shrinkage_strength),
                    "value": _num(score.quality),
                    "formula": "(sum of task scores + strength × community mean) / (tasks + strength)"},
        "hours": {"hours": float(score.hours), "full_hours": float(weights.full_hours),
                  "score": float(score.hours_score)},
        "points": {"base": rules.points.base, "bonus": score.points_bonus, "deduction": score.points_deduction,
                   "total": score.points, "floored": rules.points.base + score.points_bonus
                   - score.points_deduction < 0, "full_score": rules.points.full_score,
                   "score": float(score.points_score),
                   "entries": _ledger(session, score.member_id, engine.year_start(run.period_end, run.period_kind),
                                      run.period_end, marks, locale, scope)},
        "tasks": _tasks(session, rules, run, score, marks),
        "eligible": score.eligible,
        "gate_failures": [{**g, "message": gate_message(g).render(locale)} for g in score.gate_failures],
        "community_ranking": _standing(session, run, score, "community", scope, locale),
        "street_ranking": _standing(session, run, score, "street", scope, locale),
    }


def _tasks(session: Session, rules: policies.PolicyRules, run: ScoreRun, score: MemberScore,
           marks: engine.Marks) -> list[dict[str, Any]]:
    period_col = getattr(HoursEntry, periods.COLUMNS[run.period_kind])
    stmt = (select(HoursEntry, Evaluation.satisfaction, Evaluation.solved)
            .outerjoin(Evaluation, and_(Evaluation.request_id == HoursEntry.request_id,
                                        Evaluation.round == HoursEntry.round, Evaluation.decisive.is_(True),
                                        Evaluation.id <= marks.evaluation))
            .where(HoursEntry.member_id == score.member_id, HoursEntry.community_id == score.community_id,
                   period_col == run.period, HoursEntry.id <= marks.hours)
            .order_by(HoursEntry.local_date, HoursEntry.id))
    out = []
    w = rules.quality.appraisal_weight
    for entry, satisfaction, solved in session.execute(stmt):
        appraisal_score = Decimal(entry.appraisal * 20)
        if satisfaction is None:
            task_score = appraisal_score
        else:
            task_score = w * appraisal_score + (1 - w) * getattr(rules.quality, satisfaction.value)
        out.append({"request_id": entry.request_id, "round": entry.round, "verified_on": entry.local_date.isoformat(),
                    "hours": float(entry.hours), "appraisal": entry.appraisal,
                    "satisfaction": satisfaction.value if satisfaction else None, "solved": solved,
                    "task_score": float(engine.cents(task_score))})
    return out


def _ledger(session: Session, member_id: int, start: date, end: date, marks: engine.Marks, locale: str,
            scope: Scope) -> list[dict[str, Any]]:
    """The year's points entries behind the balance. The balance is the member's, across every
    community they serve; a secretary sees the entries earned in their own community or street
    (the others are listed without their request)."""
    stmt = (select(PointEntry).where(PointEntry.member_id == member_id, PointEntry.local_date >= start,
                                     PointEntry.local_date <= end, PointEntry.id <= marks.points)
            .order_by(PointEntry.local_date, PointEntry.id))
    def visible(entry: PointEntry) -> bool:
        return scope.kind in ("city", "member") or (scope.kind == "community" and entry.community_id == scope.id) \
            or (scope.kind == "street" and entry.street_id == scope.id)

    return [{"id": e.id, "date": e.local_date.isoformat(), "reason": e.reason.value,
             "reason_label": POINT_REASON_LABELS[e.reason.value].render(locale), "points": e.points,
             "request_id": e.request_id if visible(e) else None, "in_your_scope": visible(e),
             "policy_version": e.policy_version} for e in session.scalars(stmt)]


def _standing(session: Session, run: ScoreRun, score: MemberScore, level: str, scope: Scope,
              locale: str) -> dict[str, Any] | None:
    """Rank, grade, how many were ranked, and what separated the member from the one just above."""
    rank = getattr(score, f"{level}_rank")
    column = MemberScore.community_id if level == "community" else MemberScore.street_id
    unit = score.community_id if level == "community" else score.street_id
    if level == "street" and run.scope_kind == ScopeKind.community:
        return None  # a community's publication holds only its own members: no street standing
    rank_col = getattr(MemberScore, f"{level}_rank")
    same = MemberScore.kind == score.kind  # ranked against their own kind
    ranked = session.scalar(select(func.count()).select_from(MemberScore)
                            .where(MemberScore.run_id == run.id, column == unit, same, rank_col.is_not(None)))
    result = {"rank": rank, "of": ranked, "grade": getattr(score, f"{level}_grade"), "grade_label": None,
              "decided_by": getattr(score, f"{level}_decided_by"), "decided_by_label": None, "above": None}
    if result["grade"]:
        result["grade_label"] = GRADE_LABELS[result["grade"]].render(locale)
    if result["decided_by"]:
        result["decided_by_label"] = DECIDED_BY_LABELS[result["decided_by"]].render(locale)
    if rank is not None and rank > 1:
        above = session.execute(
            select(MemberScore, Account.display_name).join(Member, Member.id == MemberScore.member_id)
            .join(Account, Account.id == Member.account_id)
            .where(MemberScore.run_id == run.id, column == unit, same, rank_col.is_not(None), rank_col < rank)
            .order_by(rank_col.desc(), MemberScore.composite).limit(1)).first()
        if above is not None:
            other, other_name = above
            result["above"] = {"rank": getattr(other, f"{level}_rank"), "composite": float(other.composite),
                               "quality": _num(other.quality), "tasks": other.tasks, "hours": float(other.hours),
                               "points": other.points}
            # A member sees the figures to beat, not whose they are; a community's secretary sees names
            # in their community's ranking, not in the street's.
            if scope.kind in ("city", "street") or (scope.kind == "community" and level == "community"):
                result["above"]["name"] = other_name
    return result


def registration_facts(session: Session, member_id: int, community_id: int, at: datetime) -> tuple[datetime, bool]:
    """When the member first registered with the community, and whether a registration was active,
    as registrations stood at ``at`` (a run's instant)."""
    rows = session.execute(select(Registration.registered_at, Registration.ended_at).where(
        Registration.member_id == member_id, Registration.community_id == community_id,
        Registration.registered_at <= at)).all()
    if not rows:
        return at, False
    return min(r[0] for r in rows), any(r[1] is None or r[1] > at for r in rows)


# --- the secretary's pages: which units to offer, and the member assessment table ------------------

def readable_scopes(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The streets and communities whose figures the actor reads, their own first: an admin every
    one, a street secretary their street and its communities, a community secretary their community."""
    scope = scope_of(actor)
    if scope.kind == "member":
        raise Forbidden(_("Scores of a community or street are for secretaries and administrators."),
                        code="role_not_allowed")
    streets = select(Street).order_by(Street.id)
    communities = select(Community).order_by(Community.street_id, Community.id)
    if scope.kind == "street":
        streets = streets.where(Street.id == scope.id)
        communities = communities.where(Community.street_id == scope.id)
    elif scope.kind == "community":
        streets = streets.where(Street.id.is_(None))
        communities = communities.where(Community.id == scope.id)
    out = [{"kind": "street", "id": s.id, "name": s.name} for s in session.scalars(streets)]
    out += [{"kind": "community", "id": c.id, "name": c.name, "street_id": c.street_id}
            for c in session.scalars(communities)]
    return out


def assessment(session: Session, settings: Settings, actor: Actor, scope_kind: str, scope_id: int, period: str,
               locale: str, kind: str = "party") -> dict[str, Any]:
    """Every member registered with a community (or the communities of a street) in the period, one
    row per member and community: tasks, hours, mean appraisal, quality, points, composite, and rank
    and grade in that scope's ranking; members kept out by a gate carry the gate's message."""
    periods.parse(period)
    name = ranking_access(session, actor, scope_kind, scope_id)
    street_id = _unit(session, scope_kind, scope_id)[1]
    if scope_kind == "community":
        run = run_for(session, settings, period, street_id, scope_id)
    else:
        run = runs.effective(session, settings, period, ScopeKind.street, scope_id)
    column = MemberScore.community_id if scope_kind == "community" else MemberScore.street_id
    marks = engine.Marks.load(run.marks)
    period_col = getattr(HoursEntry, periods.COLUMNS[run.period_kind])
    appraisals = {(m, c): avg for m, c, avg in session.execute(
        select(HoursEntry.member_id, HoursEntry.community_id, func.avg(HoursEntry.appraisal))
        .where(period_col == run.period, HoursEntry.id <= marks.hours,
               (HoursEntry.community_id == scope_id) if scope_kind == "community" else
               (HoursEntry.street_id == scope_id))
        .group_by(HoursEntry.member_id, HoursEntry.community_id))}
    communities = dict(session.execute(select(Community.id, Community.name)).all())
    rows = []
    for row in _member_rows(session, run, column == scope_id, MemberScore.kind == _kind(kind)):
        score = row[0]
        line = _member_line(row, scope_kind, locale)
        average = appraisals.get((score.member_id, score.community_id))
        line.update(unit_id=score.unit_id, community=communities.get(score.community_id, ""),
                    appraisal_average=None if average is None else round(float(average), 2))
        rows.append(line)
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"], r["community_id"]))
    return {"scope": {"kind": scope_kind, "id": scope_id, "name": name}, "member_kind": kind, **run_meta(run),
            "members": rows}
