"""Stored score runs: each period's draft (recomputed as facts arrive), and publications, which
freeze one community's or street's figures with the policy version that made them.

- ``recompute`` replaces a period's draft with a fresh computation; twice in a row gives the same rows.
- ``refresh`` is the scheduler's job: recompute the drafts whose facts changed.
- ``publish`` freezes a scope; republishing is explicit, needs a reason, supersedes the previous
  revision (which is kept) and is written to the audit log.
- ``reproduce`` recomputes a stored run as of its marks and policy version, to show it still holds.
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from .. import audit
from ..access import Actor
from ..db import bulk_insert, is_postgresql, unit_of_work
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Community, Grid, MemberScore, RunStatus, ScopeKind, ScoreRun, Street, UnitScore, utcnow
from ..settings import Settings
from ..validation import clean_text
from ..visits.models import RegisterChange
from . import engine, periods
from . import policy as policies

log = logging.getLogger(__name__)
TREND = 12  # periods in a trend, the last one included
RETIRED_KEPT = timedelta(minutes=10)
SETTLE_SECONDS = 10.0
SCORING_APP = "shoubanping-scores"
WORK_MEM = "64MB"
CLEAR_STATUS = text("SELECT pg_stat_clear_snapshot()")
# Other backends of this database holding a transaction id: (pid, xid) identifies one transaction.
WRITERS = text("SELECT pid, backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
               "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid() "
               "AND application_name IS DISTINCT FROM :app AND wait_event IS DISTINCT FROM 'advisory'")


def current_period(session: Session, settings: Settings, now: datetime) -> str:
    """The label of the period running at ``now``, in the kind the policy in force uses."""
    today = periods.local_date(now, settings.timezone)
    kind = policies.rules_of(policies.in_force(session, periods.label_of(today, "month"))).period_kind
    return periods.label_of(today, kind)


def not_started(session: Session, settings: Settings, period: str, now: datetime | None = None,
                versions: list | None = None) -> bool:
    """True for a period whose first day is still ahead: nothing to compute or store. ``versions``:
    the policy versions, when the caller has them already."""
    today = periods.local_date(now or utcnow(), settings.timezone)
    policy = policies.in_force(session, period) if versions is None else policies.governing(versions, period)
    return periods.bounds(period, policies.rules_of(policy).period_kind)[0] > today


def _lock(session: Session, period: str) -> None:
    """One writer of a period's runs at a time (SQLite's write lock already serialises them)."""
    if is_postgresql(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(f"scores:{period}".encode())})


def store(session: Session, comp: engine.Computation, *, status: RunStatus, scope_kind: ScopeKind, scope_id: int,
          now: datetime, revision: int = 0, published_by: int | None = None, reason: str = "") -> ScoreRun:
    run = ScoreRun(period=comp.period, period_kind=comp.period_kind, period_start=comp.period_start,
                   period_end=comp.period_end, status=status, scope_kind=scope_kind, scope_id=scope_id,
                   revision=revision, policy_version=comp.policy_version, marks=asdict(comp.marks), computed_at=now,
                   published_at=now if status == RunStatus.published else None, published_by=published_by,
                   reason=reason)
    session.add(run)
    session.flush()
    for table, rows in ((UnitScore.__table__, comp.rates), (MemberScore.__table__, comp.members)):
        columns = [c.name for c in table.columns if c.name not in ("id", "run_id")]
        values = attrgetter(*columns)
        bulk_insert(session, table, ["run_id", *columns], [(run.id, *values(row)) for row in rows])
    return run


def _computation(session: Session, settings: Settings, period: str, now: datetime,
                 street_ids: list[int] | None = None) -> engine.Computation:
    # A city's month grouped by unit and member is hash tables of tens of megabytes: kept in memory
    # for the statements that count them, not sorted on disk (4 times faster at 2 M requests a month).
    setup = [f"SET LOCAL work_mem = '{WORK_MEM}'"] if is_postgresql(session) else []
    policy = policies.in_force(session, period)
    marks = engine.Marks.current(session, policy.version, now)
    marks = replace(marks, settled=settle(session))
    return engine.compute(session, period, settings.timezone, policy, marks, street_ids, setup=setup, keep=True)


def settle(session: Session, timeout: float = SETTLE_SECONDS) -> bool:
    """Wait for the transactions that were writing when the marks were taken.

    PostgreSQL hands out ids before commit, so a row below a mark may belong to a transaction still
    in flight; once those have finished, the rows up to each mark are final, and the computation
    (whose statements each see what is committed) can be repeated later to the same result.
    Transactions that start later get higher ids. Only this database's writers count, and not
    other score computations (they write no facts; they mark themselves with the application name)
    nor a transaction queued behind a score lock. SQLite needs nothing: this transaction already
    holds its only write lock. False if some were still running after ``timeout`` seconds."""
    if not is_postgresql(session):
        return True
    session.execute(text(f"SET LOCAL application_name = '{SCORING_APP}'"))
    session.execute(CLEAR_STATUS)
    waiting = set(session.execute(WRITERS, {"app": SCORING_APP}).all())
    deadline = time.monotonic() + timeout
    while waiting:
        session.execute(CLEAR_STATUS)  # pg_stat_activity is otherwise read once per transaction
        waiting &= set(session.execute(WRITERS, {"app": SCORING_APP}).all())
        if waiting and time.monotonic() > deadline:
            log.warning("scores computed while %d transactions were still writing", len(waiting))
            return False
        if waiting:
            time.sleep(0.02)
    return True


def draft_of(session: Session, period: str) -> ScoreRun | None:
    return session.scalar(select(ScoreRun).where(ScoreRun.period == period, ScoreRun.status == RunStatus.draft))


def recompute(session: Session, settings: Settings, period: str, *, now: datetime | None = None,
              actor: Actor | None = None) -> ScoreRun:
    """Replace the period's draft with a computation of every street, community, grid and member.
    ``actor``: the person who asked for it (an administrator, an operator's CLI), written to the
    audit log; the scheduler's refreshes and reads that find no draft pass none."""
    now = now or utcnow()
    periods.parse(period)
    if not_started(session, settings, period, now):
        raise NotFound(_("Period {period} has not started yet.", period=period), code="period_not_started")
    _lock(session, period)
    comp = _computation(session, settings, period, now)
    old = draft_of(session, period)
    if old is not None:
        # Retire rather than delete: a read that picked the old draft a moment ago still finds its
        # rows. Drafts retired a while ago go now.
        old.status = RunStatus.retired
        old.retired_at = now
        session.flush()
    for run_id in session.scalars(select(ScoreRun.id).where(ScoreRun.status == RunStatus.retired,
                                                            ScoreRun.retired_at < now - RETIRED_KEPT)):
        _drop(session, run_id)
    run = store(session, comp, status=RunStatus.draft, scope_kind=ScopeKind.city, scope_id=0, now=now)
    if actor is not None:
        audit.record(session, actor, "scores.recompute", f"{period}/city", now,
                     {"run_id": run.id, "policy_version": run.policy_version,
                      "replaced_run_id": old.id if old is not None else None})
    return run


def stored_runs(session: Session, period: str) -> list[ScoreRun]:
    """The period's draft and publications (current and superseded), oldest first; not retired drafts."""
    return list(session.scalars(select(ScoreRun).where(ScoreRun.period == period,
                                                       ScoreRun.status != RunStatus.retired).order_by(ScoreRun.id)))


def row_counts(session: Session, run: ScoreRun) -> dict[str, int]:
    def count(model, *where) -> int:
        return session.scalar(select(func.count()).select_from(model).where(model.run_id == run.id, *where)) or 0

    return {"unit_rows": count(UnitScore), "member_rows": count(MemberScore),
            "ranked": count(MemberScore, MemberScore.community_rank.is_not(None))}


def _drop(session: Session, run_id: int) -> None:
    session.execute(delete(UnitScore).where(UnitScore.run_id == run_id))
    session.execute(delete(MemberScore).where(MemberScore.run_id == run_id))
    session.execute(delete(ScoreRun).where(ScoreRun.id == run_id))


def is_stale(session: Session, run: ScoreRun) -> bool:
    policy = policies.in_force(session, run.period)
    stored = engine.Marks.load(run.marks)
    current = engine.Marks.current(session, policy.version, utcnow())
    return not stored.settled or current.facts() != stored.facts()


def refresh(sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None) -> list[str]:
    """The scheduler's score job: compute the drafts of the last 12 periods that have none, and
    recompute the current and previous periods' drafts when facts arrived since."""
    now = now or utcnow()
    with unit_of_work(sessions) as session:
        latest = current_period(session, settings, now)
        wanted = [periods.shift(latest, -i) for i in range(TREND)]
        existing = {run.period: run for run in session.scalars(
            select(ScoreRun).where(ScoreRun.period.in_(wanted), ScoreRun.status == RunStatus.draft))}
        due = [p for p in wanted if p not in existing
               or (p in wanted[:2] and is_stale(session, existing[p]))]
    done = []
    for period in due:
        with unit_of_work(sessions) as session:
            run = recompute(session, settings, period, now=now)
        done.append(period)
        if not run.marks.get("settled", True):
            break  # a long writer is in the way: the rest wait for the next round, not this thread
    due = done
    if due:
        log.info("scores recomputed for %s", ", ".join(due))
    return due


# --- publishing ----------------------------------------------------------------------------------

def scope_street(session: Session, scope_kind: ScopeKind, scope_id: int) -> int:
    if scope_kind == ScopeKind.community:
        community = session.get(Community, scope_id)
        if community is None:
            raise NotFound(_("Community {id} does not exist.", id=scope_id), code="community_not_found")
        return community.street_id
    if scope_kind == ScopeKind.street and session.get(Street, scope_id) is not None:
        return scope_id
    raise NotFound(_("Street {id} does not exist.", id=scope_id), code="street_not_found")


def published_of(session: Session, period: str, scope_kind: ScopeKind, scope_id: int) -> ScoreRun | None:
    return session.scalar(select(ScoreRun).where(
        ScoreRun.period == period, ScoreRun.scope_kind == scope_kind, ScoreRun.scope_id == scope_id,
        ScoreRun.status == RunStatus.published))


def publications(session: Session, period: str, scope_kind: ScopeKind, scope_id: int) -> list[ScoreRun]:
    return list(session.scalars(select(ScoreRun).where(
        ScoreRun.period == period, ScoreRun.scope_kind == scope_kind, ScoreRun.scope_id == scope_id,
        ScoreRun.status.in_((RunStatus.published, RunStatus.superseded))).order_by(ScoreRun.revision)))


def require_publisher(actor: Actor, session: Session, scope_kind: ScopeKind, scope_id: int) -> None:
    """Secretaries publish their own community or street; admins any."""
    if actor.role == "admin":
        return
    if actor.role == "secretary":
        if actor.community_id is not None:
            if scope_kind == ScopeKind.community and scope_id == actor.community_id:
                return
        elif actor.street_id is not None and scope_street(session, scope_kind, scope_id) == actor.street_id:
            return
        raise Forbidden(_("You can publish only your own community's or street's scores."), code="out_of_scope")
    raise Forbidden(_("Only secretaries publish scores."), code="role_not_allowed")


def publish(session: Session, settings: Settings, actor: Actor, period: str, scope_kind: ScopeKind, scope_id: int,
            *, republish: bool = False, reason: object = "", now: datetime | None = None) -> ScoreRun:
    now = now or utcnow()
    periods.parse(period)
    if scope_kind not in (ScopeKind.community, ScopeKind.street):
        raise InvalidInput(_("Scores are published for a community or a street."), code="invalid_scope",
                           details={"field": "scope"})
    require_publisher(actor, session, scope_kind, scope_id)
    street_id = scope_street(session, scope_kind, scope_id)
    _lock(session, period)
    comp = _computation(session, settings, period, now, [street_id])
    if periods.local_date(now, settings.timezone) <= comp.period_end:
        raise Conflict(_("Period {period} runs until {end}; it can be published after it ends.",
                         period=period, end=comp.period_end.isoformat()),
                       code="period_not_over", details={"period_end": comp.period_end.isoformat()})
    previous = published_of(session, period, scope_kind, scope_id)
    if previous is not None and not republish:
        raise Conflict(_("Period {period} is already published (revision {revision}). Republishing replaces it "
                         "and must be asked for explicitly, with a reason.", period=period,
                         revision=previous.revision),
                       code="already_published", details={"revision": previous.revision})
    note = clean_text(reason, "reason", code="reason_required", message=_("Please give a reason."), limit=500,
                      required=previous is not None)
    if previous is not None:
        previous.status = RunStatus.superseded
        session.flush()
    _narrow(session, comp, scope_kind, scope_id)
    run = store(session, comp, status=RunStatus.published, scope_kind=scope_kind, scope_id=scope_id, now=now,
                revision=(previous.revision + 1) if previous else 1, published_by=actor.account_id, reason=note)
    audit.record(session, actor, "scores.republish" if previous else "scores.publish",
                 f"{period}/{scope_kind.value}:{scope_id}", now,
                 {"run_id": run.id, "revision": run.revision, "policy_version": run.policy_version,
                  "reason": note, "superseded_run_id": previous.id if previous else None})
    return run


def _narrow(session: Session, comp: engine.Computation, scope_kind: ScopeKind, scope_id: int) -> None:
    """Keep only the rows of one community or one street."""
    if scope_kind == ScopeKind.community:
        comp.members = [m for m in comp.members if m.community_id == scope_id]
        communities = {scope_id}
    else:
        comp.members = [m for m in comp.members if m.street_id == scope_id]
        communities = set(session.scalars(select(Community.id).where(Community.street_id == scope_id)))
    grids = set(session.scalars(select(Grid.id).where(Grid.community_id.in_(communities))))
    keep = {"community": communities, "grid": grids, "member": {m.member_id for m in comp.members},
            "street": {scope_id} if scope_kind == ScopeKind.street else set()}
    comp.rates = [r for r in comp.rates if r.unit_id in keep[r.unit_kind]]


# --- which run answers a read --------------------------------------------------------------------

def effective(session: Session, settings: Settings, period: str, scope_kind: ScopeKind, scope_id: int,
              *, now: datetime | None = None) -> ScoreRun:
    """The scope's publication if there is one, else the period's draft (computed now if missing)."""
    periods.parse(period)
    if not_started(session, settings, period):
        raise NotFound(_("Period {period} has not started yet.", period=period), code="period_not_started")
    if scope_kind != ScopeKind.city:
        published = published_of(session, period, scope_kind, scope_id)
        if published is not None:
            return published
    return draft_of(session, period) or recompute(session, settings, period, now=now)


# A unit's figures counted from the household register (as it stood when the run was made).
REGISTER_FIGURES = ("households", "visited", "overdue", "never_visited", "coverage")


def register_changed(session: Session, run: ScoreRun) -> set[int]:
    """The communities whose household register changed after the run counted their coverage
    (every community with a change, for a run that counted coverage without keeping the mark)."""
    marks = engine.Marks.load(run.marks)
    if marks.visit is None:  # the run counted no coverage
        return set()
    query = select(RegisterChange.community_id).distinct()
    if marks.register is not None:
        query = query.where(RegisterChange.id > marks.register)
    return set(session.scalars(query))


def reproduce(session: Session, settings: Settings, run: ScoreRun, notes: list[str] | None = None) -> list[str]:
    """Recompute a stored run as of its own marks and policy version; the differences (none, if
    the run holds) as readable lines.

    Rows and ledgers count up to their marks; the household register is current state. Where a
    community's register changed since the run, its figures counted from the register (and its
    street's, and their composites when the policy weighs coverage) are not compared: ``notes``
    gets a line saying which, and every other figure still is."""
    marks = engine.Marks.load(run.marks)
    policy = policies.by_version(session, run.policy_version)
    comp = engine.compute(session, run.period, settings.timezone, policy, marks,
                          None if run.scope_kind == ScopeKind.city else
                          [scope_street(session, run.scope_kind, run.scope_id)])
    if run.scope_kind != ScopeKind.city:
        _narrow(session, comp, run.scope_kind, run.scope_id)
    changed = register_changed(session, run)
    if changed:
        streets = set(session.scalars(select(Community.street_id).where(Community.id.in_(changed))))
        unsure = {("community", c) for c in changed} | {("street", s) for s in streets}
        skip = REGISTER_FIGURES + (("composite",) if policies.rules_of(policy).collection.coverage else ())
        shown = {(r.unit_kind, r.unit_id) for r in comp.rates} & unsure
        if shown and notes is not None:
            notes.append(f"{', '.join(skip)} not compared for {len(shown)} units: the household register of "
                         f"communities {sorted(changed)} changed since the run")
    else:
        unsure, skip = set(), ()
    fresh_rates = {(r.unit_kind, r.unit_id): _without(asdict(r), skip if (r.unit_kind, r.unit_id) in unsure else ())
                   for r in comp.rates}
    fresh_members = {(m.member_id, m.community_id): {k: v for k, v in asdict(m).items() if k != "username"}
                     for m in comp.members}
    stored_rates = {(r.unit_kind.value, r.unit_id): _row(r, UnitScore) for r in
                    session.scalars(select(UnitScore).where(UnitScore.run_id == run.id))}
    if changed:  # a unit that had no households before the change (or after) is no difference
        for key in list(fresh_rates.keys() ^ stored_rates.keys()):
            if key in unsure and _register_only(fresh_rates.get(key) or stored_rates[key]):
                fresh_rates.pop(key, None)
                stored_rates.pop(key, None)
    stored_members = {(m.member_id, m.community_id): _row(m, MemberScore) for m in
                      session.scalars(select(MemberScore).where(MemberScore.run_id == run.id))}
    return _diff("unit", fresh_rates, stored_rates) + _diff("member", fresh_members, stored_members)


def _without(data: dict, names: tuple[str, ...]) -> dict:
    for name in names:
        data.pop(name, None)
    return data


def _register_only(row: dict) -> bool:
    """A unit row with no requests, visits or rounds: its only figures came from the register."""
    return not row.get("received") and not row.get("visits") and not row.get("round_windows")


def _row(obj, model) -> dict:
    skip = {"id", "run_id"}
    data = {c.key: getattr(obj, c.key) for c in model.__table__.columns if c.key not in skip}
    if "unit_kind" in data:
        data["unit_kind"] = data["unit_kind"].value
    return data


def _diff(what: str, fresh: dict, stored: dict) -> list[str]:
    lines = [f"{what} {key}: missing from the stored run" for key in fresh.keys() - stored.keys()]
    lines += [f"{what} {key}: stored but not recomputed" for key in stored.keys() - fresh.keys()]
    for key in sorted(fresh.keys() & stored.keys(), key=str):
        for name, value in fresh[key].items():
            if _normal(value) != _normal(stored[key].get(name)):
                lines.append(f"{what} {key} {name}: stored {stored[key].get(name)!r}, recomputed {value!r}")
    return lines


def _normal(value):
    return Decimal(value).normalize() if isinstance(value, Decimal | int) and not isinstance(value, bool) else value
