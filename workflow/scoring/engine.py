"""Computing a period's scores (DESIGN.md §5) from SQL aggregates over outcomes and ledgers.

The database does the counting: a handful of GROUP BY queries return one row per street, community,
grid, member or (member, community). Python then does exact decimal arithmetic on those aggregate
rows (never on requests), applies the gates, and ranks. Every query reads the facts "as of" a set
of high-water marks (the largest id of each append-only table, and an instant for registrations),
so a computation can be repeated later, and gives the same result, however many facts arrived since.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from operator import attrgetter
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from ..db import Reads
from ..models import (
    Account,
    Claim,
    Community,
    Evaluation,
    HoursEntry,
    Member,
    Outcome,
    PointEntry,
    Registration,
    Request,
    RequestEvent,
    Satisfaction,
    ScoringPolicy,
)
from ..models.requests import SUPERVISE_TRIGGER
from ..visits import coverage
from ..visits.models import RegisterChange, Visit
from . import periods
from .policy import PolicyRules, rules_of

CENT = Decimal("0.01")
RATE = Decimal("0.0001")
HUNDRED = Decimal(100)
# The order in which ties are broken, after the composite; the last resort is a shared rank.
TIE_BREAKERS = ("composite", "quality", "tasks", "hours", "points")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Marks:
    """What a computation read: rows up to these ids, registrations as they stood at ``at``."""

    outcome: int
    hours: int
    points: int
    evaluation: int
    event: int
    registration: int
    registration_ended: str | None
    at: str
    policy: int
    # False when transactions that were writing as the marks were taken had not finished in time
    # (PostgreSQL): rows below a mark may then still appear, and a reproduction may differ.
    settled: bool = True
    # The last visit counted for coverage; None in runs made before coverage was part of the scores
    # (they reproduce without it). Rounds count when ended by ``at``.
    visit: int | None = None
    # The last change to the household register when the run counted coverage (None in runs made
    # before the mark was kept). The register is current state, not rows added up to a mark: a run
    # whose communities' registers changed since cannot count their coverage again (see
    # ``runs.reproduce``), and a change makes the draft stale.
    register: int | None = None

    @classmethod
    def current(cls, session: Session, policy_version: int, now: datetime) -> Marks:
        def top(column) -> int:
            return session.scalar(select(func.coalesce(func.max(column), 0)))

        ended = session.scalar(select(func.max(Registration.ended_at)))
        return cls(outcome=top(Outcome.id), hours=top(HoursEntry.id), points=top(PointEntry.id),
                   evaluation=top(Evaluation.id), event=top(RequestEvent.id), registration=top(Registration.id),
                   registration_ended=ended.astimezone(UTC).isoformat() if ended else None,
                   at=now.astimezone(UTC).isoformat(), policy=policy_version, visit=top(Visit.id),
                   register=top(RegisterChange.id))

    @classmethod
    def load(cls, data: dict) -> Marks:
        return cls(**data)

    def facts(self) -> dict:
        """The marks that change when facts change (not the instant of the computation)."""
        data = asdict(self)
        data.pop("at")
        data.pop("settled")
        return data

    @property
    def instant(self) -> datetime:
        return datetime.fromisoformat(self.at)


@dataclass(slots=True)
class RateRow:
    unit_kind: str
    unit_id: int
    received: int
    responded_in_time: int
    evaluated: int
    solved: int
    satisfied: int
    basically_satisfied: int
    response_rate: Decimal | None = None
    resolution_rate: Decimal | None = None
    satisfaction_rate: Decimal | None = None
    composite: Decimal | None = None
    households: int | None = None
    visited: int | None = None
    overdue: int | None = None
    never_visited: int | None = None
    visits: int | None = None
    rounds: int | None = None
    round_windows: int | None = None
    round_windows_met: int | None = None
    coverage: Decimal | None = None
    round_rate: Decimal | None = None
    rates_composite: Decimal | None = None


@dataclass(slots=True)
class MemberRow:
    member_id: int
    community_id: int
    street_id: int
    unit_id: int | None  # None for a volunteer
    username: str
    tasks: int = 0
    hours: Decimal = Decimal("0.0")
    quality_sum: Decimal = Decimal(0)
    quality_mean: Decimal | None = None
    community_mean: Decimal = Decimal(0)
    quality: Decimal | None = None
    hours_score: Decimal = Decimal(0)
    points_bonus: int = 0
    points_deduction: int = 0
    points: int = 0
    points_score: Decimal = Decimal(0)
    composite: Decimal = Decimal(0)
    eligible: bool = False
    gate_failures: list[dict] = field(default_factory=list)
    community_rank: int | None = None
    community_grade: str | None = None
    community_decided_by: str | None = None
    street_rank: int | None = None
    street_grade: str | None = None
    street_decided_by: str | None = None
    kind: str = "party"  # MemberKind: party members and volunteers are ranked apart

    def sort_key(self) -> tuple:
        return tuple(-value for value in self.tie_values()) + (self.username,)

    def tie_values(self) -> tuple:
        return (self.composite, self.quality or Decimal(0), self.tasks, self.hours, self.points)


@dataclass
class Computation:
    period: str
    period_kind: str
    period_start: date
    period_end: date
    policy_version: int
    marks: Marks
    rates: list[RateRow]
    members: list[MemberRow]


def compute(session: Session, period: str, timezone: str, policy: ScoringPolicy, marks: Marks,
            street_ids: Iterable[int] | None = None, *, setup: Sequence[str] = (), keep: bool = False) -> Computation:
    """Every score of ``period`` under ``policy``, as of ``marks``; only ``street_ids`` if given.

    Every aggregate is asked for first and worked on as it arrives (:class:`workflow.db.Reads`: on
    PostgreSQL the database counts on its own connections while Python works on what it has). Each
    statement reads only rows up to the marks, so where it runs does not change what it counts.
    ``setup``: statements each of those connections runs first (session settings). ``keep``: the
    communities' coverage counted afresh is kept for later runs (``coverage_counts``, written in
    the caller's transaction)."""
    rules = rules_of(policy)
    kind = rules.period_kind
    start, end = periods.bounds(period, kind)
    streets = sorted(set(street_ids)) if street_ids is not None else None
    with Reads(session, setup) as reads:
        # Asked first: the households' count is the longest statement at a city's scale.
        collection = _collection(reads, session, rules, marks, start, end, timezone, streets, keep)
        rates = _rates(reads, rules, period, kind, marks, streets)
        members = _members(reads, rules, period, kind, start, end, timezone, marks, streets)
        rows = rates()
        collection(rows)
        return Computation(period=period, period_kind=kind, period_start=start, period_end=end,
                           policy_version=policy.version, marks=marks, rates=rows, members=members())


# --- the three rates ---------------------------------------------------------------------------

def _count(condition) -> object:
    return func.sum(case((condition, 1), else_=0))


def _rates(reads: Reads, rules: PolicyRules, period: str, kind: str, marks: Marks,
           streets: list[int] | None) -> Callable[[], list[RateRow]]:
    period_col = getattr(Outcome, periods.COLUMNS[kind])
    measures = (
        func.count(Outcome.id),
        _count(Outcome.responded_in_time.is_(True)),
        # Every decisive verdict, the unsatisfied ones that reopened a request included.
        func.sum(Outcome.verdicts), func.sum(Outcome.verdicts_solved), func.sum(Outcome.verdicts_satisfied),
        func.sum(Outcome.verdicts_basically),
    )
    where = [period_col == period, Outcome.id <= marks.outcome]
    if streets is not None:
        where.append(Outcome.street_id.in_(streets))
    # Streets, communities and grids from one GROUP BY over the period's outcomes, added up per
    # unit here (sums of sums: the same totals as a GROUP BY per kind of unit, for a third of the
    # reading); members from their own GROUP BY over the outcomes that name one.
    units = ("street", "community", "grid")
    keys = (Outcome.street_id, Outcome.community_id, Outcome.grid_id)
    places = reads.ask(select(*keys, *measures).where(*where).group_by(*keys))
    members = reads.ask(select(Outcome.member_id, *measures).where(*where, Outcome.member_id.is_not(None))
                        .group_by(Outcome.member_id).order_by(Outcome.member_id))
    return lambda: _rate_rows(rules, units, len(keys), places(), members())


def _rate_rows(rules: PolicyRules, units: tuple[str, ...], n_keys: int, places: list, members: list) -> list[RateRow]:
    totals: dict[str, dict[int, list[int]]] = {name: {} for name in units}
    for row in places:
        counts = [int(c or 0) for c in row[n_keys:]]
        for name, unit_id in zip(units, row[:n_keys], strict=True):
            if unit_id is None:
                continue
            total = totals[name].get(unit_id)
            if total is None:
                totals[name][unit_id] = counts.copy()
            else:
                for i, count in enumerate(counts):
                    total[i] += count
    rows = [rate_row(rules, name, unit_id, *total) for name in units for unit_id, total in sorted(totals[name].items())]
    # A city's members are a hundred thousand rows of a few requests each: most share their counts
    # with others, and equal counts make equal rates.
    rates: dict[tuple, tuple] = {}
    for member_id, *counts in members:
        counts = tuple(int(c or 0) for c in counts)
        known = rates.get(counts)
        if known is None:
            row = rate_row(rules, "member", member_id, *counts)
            rates[counts] = (row.response_rate, row.resolution_rate, row.satisfaction_rate, row.composite)
        else:
            row = RateRow("member", member_id, *counts, *known)
        rows.append(row)
    return rows


def rate_row(rules: PolicyRules, unit_kind: str, unit_id: int, received: int, responded: int, evaluated: int,
             solved: int, satisfied: int, basically: int) -> RateRow:
    """response = in time / received; resolution = solved / evaluated, where ``evaluated`` counts the
    decisive verdicts of every round (an unsatisfied verdict that reopened the request counts too);
    satisfaction = (satisfied + k·basically satisfied) / evaluated; composite = weighted sum."""
    row = RateRow(unit_kind, unit_id, received, responded, evaluated, solved, satisfied, basically)
    if received:
        row.response_rate = (Decimal(responded) / received).quantize(RATE, ROUND_HALF_UP)
    if evaluated:
        row.resolution_rate = (Decimal(solved) / evaluated).quantize(RATE, ROUND_HALF_UP)
        row.satisfaction_rate = ((satisfied + rules.satisfaction_k * basically) / evaluated).quantize(
            RATE, ROUND_HALF_UP)
    if row.response_rate is not None and row.resolution_rate is not None:
        weights = rules.rate_weights
        row.composite = (weights.response * row.response_rate + weights.resolution * row.resolution_rate
                         + weights.satisfaction * row.satisfaction_rate).quantize(RATE, ROUND_HALF_UP)
    return row


# --- planned collection ------------------------------------------------------------------------

def _collection(reads: Reads, session: Session, rules: PolicyRules, marks: Marks, start: date, end: date,
                timezone: str, streets: list[int] | None, keep: bool) -> Callable[[list[RateRow]], None]:
    """Each community's and street's coverage and rounds (``workflow.visits.coverage.collection``),
    as of the period's last day or the day of the marks if sooner, under the scored policy's visit
    plan, with the visits and rounds from the period's first day; folded into the composite by the
    policy's collection weights. Returns what adds them to the rate rows. A community with
    households, grids or visits and no requests gets a row of its own; one with none of them, none."""
    if marks.visit is None:
        return lambda rows: None
    today = marks.instant.astimezone(ZoneInfo(timezone)).date()
    as_of = min(end, today)
    query = select(Community.id, Community.street_id).order_by(Community.id)
    if streets is not None:
        query = query.where(Community.street_id.in_(streets))
    street_of = dict(session.execute(query).all())
    counted = coverage.collection(reads.ask, session, rules.visits, list(street_of), start, as_of, today,
                                  visit_cap=marks.visit, ended_by=marks.instant, everywhere=streets is None, keep=keep)

    def add(rows: list[RateRow]) -> None:
        found = counted()
        by_unit = {(row.unit_kind, row.unit_id): row for row in rows}
        streets_total: dict[int, coverage.Collection] = {}
        found = {c: part for c, part in found.items()
                 if part.figures.households or part.figures.visits or part.round_windows}
        for community_id, part in found.items():
            total = streets_total.setdefault(street_of[community_id], coverage.Collection(coverage.Figures()))
            for name in ("households", "visited", "due", "overdue", "never_visited", "visits"):
                setattr(total.figures, name, getattr(total.figures, name) + getattr(part.figures, name))
            total.rounds += part.rounds
            total.round_windows += part.round_windows
            total.round_windows_met += part.round_windows_met
        for kind, parts in (("community", found), ("street", streets_total)):
            for unit_id, part in parts.items():
                row = by_unit.get((kind, unit_id))
                if row is None:
                    row = RateRow(kind, unit_id, 0, 0, 0, 0, 0, 0)
                    rows.append(row)
                _fold(rules, row, part)

    return add


def _fold(rules: PolicyRules, row: RateRow, part) -> None:
    figures = part.figures
    row.households, row.visited, row.overdue = figures.households, figures.visited, figures.overdue
    row.never_visited, row.visits = figures.never_visited, figures.visits
    row.rounds, row.round_windows, row.round_windows_met = part.rounds, part.round_windows, part.round_windows_met
    if figures.households:
        row.coverage = (Decimal(figures.visited) / figures.households).quantize(RATE, ROUND_HALF_UP)
    if part.round_windows:
        row.round_rate = (Decimal(part.round_windows_met) / part.round_windows).quantize(RATE, ROUND_HALF_UP)
    row.rates_composite = row.composite
    weights = rules.collection
    if not weights.coverage and not weights.rounds:
        return
    if row.rates_composite is None:
        return  # no composite without the three rates: coverage alone does not stand for the work
    # The parts the unit has, each by its weight, over the weights of those parts.
    parts = [(1 - weights.coverage - weights.rounds, row.rates_composite), (weights.coverage, row.coverage),
             (weights.rounds, row.round_rate)]
    present = [(w, v) for w, v in parts if v is not None and w]
    share = sum((w for w, _v in present), Decimal(0))
    row.composite = (sum((w * v for w, v in present), Decimal(0)) / share).quantize(RATE, ROUND_HALF_UP) \
        if share else None


# --- member assessments ------------------------------------------------------------------------

def _members(reads: Reads, rules: PolicyRules, period: str, kind: str, start: date, end: date, timezone: str,
             marks: Marks, streets: list[int] | None) -> Callable[[], list[MemberRow]]:
    begins, ends = periods.utc_range(start, end, timezone)
    registered = _registered(reads, begins, ends, marks, streets)
    tasks = _task_aggregates(reads, rules, period, kind, begins, marks, streets)
    points = _point_aggregates(reads, year_start(end, kind), end, marks)
    red = _red_marked(reads, period, kind, begins, ends, marks) if rules.gates.no_red_supervision else set
    return lambda: _assess(rules, registered(), tasks(), points(), red())


def _assess(rules: PolicyRules, registered: list, tasks: dict, points: dict, red: set) -> list[MemberRow]:
    # The community mean every member's quality is shrunk toward: all task scores of the community.
    community_sum: dict[int, Decimal] = defaultdict(Decimal)
    community_n: dict[int, int] = defaultdict(int)
    for (_member, community), (count, _hours, score_sum) in tasks.items():
        community_sum[community] += score_sum
        community_n[community] += count
    means = {community: cents(community_sum[community] / n) for community, n in community_n.items()}
    prior = cents(rules.quality.prior_mean)
    assess = _Assessor(rules)
    no_tasks = (0, Decimal("0.0"), Decimal(0))
    members = []
    for member_id, community_id, street_id, unit_id, username, kind in registered:
        count, hours, score_sum = tasks.get((member_id, community_id), no_tasks)
        bonus, deduction = points.get(member_id, (0, 0))
        row = assess(member_id, community_id, street_id, unit_id, username, count, hours, score_sum,
                     means.get(community_id, prior), bonus, deduction, (member_id, community_id) in red)
        row.kind = kind.value if hasattr(kind, "value") else kind
        members.append(row)
    # Party members and volunteers are ranked apart, each against their own kind.
    _rank(rules, members, "community", attrgetter("kind", "community_id"))
    _rank(rules, members, "street", attrgetter("kind", "street_id"))
    members.sort(key=attrgetter("street_id", "community_id", "member_id"))
    return members


class _Assessor:
    """One member's assessment from their aggregates. A city has a hundred thousand members and most
    of them share their hours, points or gate failures with many others, so every figure that
    depends on one of those alone is worked out once per distinct value (the same exact decimals)."""

    def __init__(self, rules: PolicyRules) -> None:
        self.rules = rules
        self.strength = rules.quality.shrinkage_strength
        self.weights = rules.assessment
        self.hours_scores: dict[Decimal, Decimal] = {}
        self.points_scores: dict[int, tuple[int, Decimal]] = {}
        self.failures: dict[tuple[int, bool], list[dict]] = {}
        self.composites: dict[tuple, Decimal] = {}

    def __call__(self, member_id: int, community_id: int, street_id: int, unit_id: int, username: str, count: int,
                 hours: Decimal, score_sum: Decimal, community_mean: Decimal, bonus: int, deduction: int,
                 red: bool) -> MemberRow:
        rules, weights = self.rules, self.weights
        quality_mean = quality = None
        if count:
            quality_mean = cents(score_sum / count)
            quality = cents((score_sum + self.strength * community_mean) / (count + self.strength))
        hours_score = self.hours_scores.get(hours)
        if hours_score is None:
            hours_score = self.hours_scores[hours] = cents(min(hours / weights.full_hours, Decimal(1)) * HUNDRED)
        balance = rules.points.base + bonus - deduction
        scored = self.points_scores.get(balance)
        if scored is None:
            points = max(0, balance)
            scored = self.points_scores[balance] = (points, cents(
                min(Decimal(points) / rules.points.full_score, Decimal(1)) * HUNDRED))
        points, points_score = scored
        key = (quality, hours_score, points_score)
        composite = self.composites.get(key)
        if composite is None:
            composite = self.composites[key] = cents(weights.quality * (quality or Decimal(0))
                                                     + weights.hours * hours_score + weights.points * points_score)
        short = count < rules.gates.min_verified_tasks
        failures = self.failures.get((count if short else -1, red))
        if failures is None:
            failures = []
            if short:
                failures.append({"gate": "min_verified_tasks", "required": rules.gates.min_verified_tasks,
                                 "actual": count})
            if red:
                failures.append({"gate": "no_red_supervision"})
            self.failures[(count if short else -1, red)] = failures
        return MemberRow(member_id, community_id, street_id, unit_id, username, count, hours, score_sum,
                         quality_mean, community_mean, quality, hours_score, bonus, deduction, points, points_score,
                         composite, not failures, failures)


def year_start(end: date, kind: str) -> date:
    """Points reset with the first period of the year: 1 January, or 19 December for 19th-to-18th
    periods (period YYYY-01 starts then), so that no day falls between two years."""
    return periods.bounds(f"{end.year:04d}-01", kind)[0]


def _registered(reads: Reads, begins: datetime, ends: datetime, marks: Marks,
                streets: list[int] | None) -> Callable[[], list[tuple[int, int, int, int | None, str, str]]]:
    """Members registered with a community at some time in the period, as registrations stood then."""
    at = marks.instant
    ended = case((Registration.ended_at <= at, Registration.ended_at), else_=None)
    stmt = (
        select(Registration.member_id, Registration.community_id, Community.street_id, Member.unit_id,
               Account.username, Member.kind)
        .join(Community, Community.id == Registration.community_id)
        .join(Member, Member.id == Registration.member_id)
        .join(Account, Account.id == Member.account_id)
        .where(Registration.id <= marks.registration, Registration.registered_at < ends,
               Registration.registered_at <= at, or_(ended.is_(None), ended >= begins))
        .distinct()
    )
    if streets is not None:
        stmt = stmt.where(Community.street_id.in_(streets))
    return reads.ask(stmt)


def _task_aggregates(reads: Reads, rules: PolicyRules, period: str, kind: str, begins: datetime, marks: Marks,
                     streets: list[int] | None) -> Callable[[], dict[tuple[int, int], tuple[int, Decimal, Decimal]]]:
    """Per (member, community): verified tasks, hours, and the sum of task scores.

    A task scores w·(appraisal × 20) + (1 − w)·(the verdict's score) with the decisive verdict on
    its round, or appraisal × 20 alone while its round has none. The SQL returns the sums those
    formulas need; the decimal arithmetic happens here, identically on every backend."""
    verdict = Evaluation
    period_col = getattr(HoursEntry, periods.COLUMNS[kind])
    has_verdict = verdict.id.is_not(None)
    stmt = (
        select(
            HoursEntry.member_id, HoursEntry.community_id, func.count(HoursEntry.id), func.sum(HoursEntry.hours),
            func.sum(case((has_verdict, HoursEntry.appraisal), else_=0)),
            func.sum(case((has_verdict, 0), else_=HoursEntry.appraisal)),
            _count(verdict.satisfaction == Satisfaction.satisfied),
            _count(verdict.satisfaction == Satisfaction.basically_satisfied),
            _count(verdict.satisfaction == Satisfaction.unsatisfied),
        )
        # A verdict follows the verification that made the task's hours entry, so none given before
        # the period began can belong to one of its tasks: the join reads the period's verdicts, not
        # every verdict ever given.
        .outerjoin(verdict, and_(verdict.request_id == HoursEntry.request_id, verdict.round == HoursEntry.round,
                                 verdict.decisive.is_(True), verdict.id <= marks.evaluation,
                                 verdict.created_at >= begins))
        .where(period_col == period, HoursEntry.id <= marks.hours)
        .group_by(HoursEntry.member_id, HoursEntry.community_id)
    )
    if streets is not None:
        stmt = stmt.where(HoursEntry.street_id.in_(streets))
    return partial(_task_scores, rules, reads.ask(stmt))


def _task_scores(rules: PolicyRules, rows: Callable[[], list]) -> dict[tuple[int, int], tuple[int, Decimal, Decimal]]:
    quality = rules.quality
    w = quality.appraisal_weight
    result = {}
    for member, community, count, hours, appraised, appraisal_only, n_sat, n_basic, n_unsat in rows():
        verdicts = quality.satisfied * n_sat + quality.basically_satisfied * n_basic + quality.unsatisfied * n_unsat
        score_sum = (w * 20 * int(appraised or 0) + (1 - w) * verdicts + 20 * int(appraisal_only or 0)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP)  # as stored, so that a reproduction compares equal
        result[(member, community)] = (int(count), Decimal(hours or 0).quantize(Decimal("0.1")), score_sum)
    return result


def _point_aggregates(reads: Reads, year_start: date, end: date,
                      marks: Marks) -> Callable[[], dict[int, tuple[int, int]]]:
    """Per member: the year's bonuses and deductions up to the end of the period."""
    stmt = (
        select(PointEntry.member_id,
               func.sum(case((PointEntry.points > 0, PointEntry.points), else_=0)),
               func.sum(case((PointEntry.points < 0, -PointEntry.points), else_=0)))
        .where(PointEntry.local_date >= year_start, PointEntry.local_date <= end, PointEntry.id <= marks.points)
        .group_by(PointEntry.member_id)
    )
    rows = reads.ask(stmt)
    return lambda: {member: (int(bonus or 0), int(deduction or 0)) for member, bonus, deduction in rows()}


def _red_marked(reads: Reads, period: str, kind: str, begins: datetime, ends: datetime,
                marks: Marks) -> Callable[[], set[tuple[int, int]]]:
    """(member, community) pairs barred by a red supervision mark (督办) put on a task of that
    community while the member held it: a task counted in this period, or a mark put in this period."""
    # The trigger as a literal, not a bound parameter, so that both planners see the condition of
    # the partial index ix_request_events_supervise and read the few supervision events through it.
    red = and_(RequestEvent.trigger == literal_column(f"'{SUPERVISE_TRIGGER}'"), RequestEvent.id <= marks.event,
               RequestEvent.data["level"].as_string() == literal("red"),
               RequestEvent.created_at >= Claim.claimed_at,
               or_(Claim.ended_at.is_(None), RequestEvent.created_at <= Claim.ended_at))
    marked_in_period = (
        select(Claim.member_id, Request.community_id)
        .join(RequestEvent, RequestEvent.request_id == Claim.request_id)
        .join(Request, Request.id == Claim.request_id)
        .where(red, RequestEvent.created_at >= begins, RequestEvent.created_at < ends)
    )
    period_col = getattr(HoursEntry, periods.COLUMNS[kind])
    task_of_period = (
        select(HoursEntry.member_id, HoursEntry.community_id)
        .join(Claim, Claim.id == HoursEntry.claim_id)
        .join(RequestEvent, RequestEvent.request_id == Claim.request_id)
        .where(red, period_col == period, HoursEntry.id <= marks.hours)
    )
    marked, counted = reads.ask(marked_in_period.distinct()), reads.ask(task_of_period.distinct())
    return lambda: {(member, community) for member, community in (*marked(), *counted())}


# --- rankings and grades -----------------------------------------------------------------------

def _rank(rules: PolicyRules, members: list[MemberRow], level: str, scope_of) -> None:
    """Rank the eligible members of each scope: composite first, then the tie-breakers; members
    equal on all of them share a rank and the better grade. Grades follow the quotas by position."""
    by_scope: dict[int, list[MemberRow]] = defaultdict(list)
    for row in members:
        setattr(row, f"{level}_rank", None)
        setattr(row, f"{level}_grade", None)
        setattr(row, f"{level}_decided_by", None)
        if row.eligible:
            by_scope[scope_of(row)].append(row)
    for scope, rows in by_scope.items():
        rows.sort(key=MemberRow.sort_key)
        # A person is ranked once per scope: a member registered with two communities of one street
        # stands in the street ranking with their better community record only.
        seen: set[int] = set()
        rows = by_scope[scope] = [r for r in rows if not (r.member_id in seen or seen.add(r.member_id))]
        cutoffs = grade_cutoffs(rules, len(rows))
        previous: MemberRow | None = None
        rank = 0
        for position, row in enumerate(rows, start=1):
            decided_by = None if previous is None else _decided_by(previous, row)
            if decided_by != "tie":
                rank = position
            setattr(row, f"{level}_rank", rank)
            setattr(row, f"{level}_decided_by", decided_by)
            setattr(row, f"{level}_grade", grade_at(cutoffs, rank))
            previous = row


def _decided_by(above: MemberRow, row: MemberRow) -> str:
    for name, a, b in zip(TIE_BREAKERS, above.tie_values(), row.tie_values(), strict=True):
        if a != b:
            return name
    return "tie"


def grade_cutoffs(rules: PolicyRules, count: int) -> list[tuple[str, int]]:
    """(grade, last position in it): the cumulative quota share of ``count``, rounded half up."""
    cutoffs, share = [], Decimal(0)
    for quota in rules.grade_quotas:
        share += quota.share
        cutoffs.append((quota.grade, int((share * count).quantize(Decimal(1), ROUND_HALF_UP))))
    cutoffs[-1] = (cutoffs[-1][0], count)
    return cutoffs


def grade_at(cutoffs: list[tuple[str, int]], rank: int) -> str:
    for grade, last in cutoffs:
        if rank <= last:
            return grade
    return cutoffs[-1][0]  # pragma: no cover - the last cutoff is the count
