"""A city-scale simulator: a city and months of requests through every route and outcome.

``simulate(session, settings, seed=..., shape=CityShape(...))`` writes, in the caller's
transaction, a city (streets, communities, grids, buildings, home units, staff, officers,
secretaries, members registered with zones, residents, departments, an Open311 client) and the
requests of ``shape.months`` months ending ``now``: each one's whole history as the real commands
would have written it (see :mod:`workflow.simulate.lives`), ending with requests still open in
every state that is not terminal; and the city's planned collection over those months: households
on every building with their tags, each paired with a member, a grid worker for every grid, home
visits against the visit plan and weekly inspection rounds (see :mod:`workflow.simulate.visits`).
The same seed, shape and ``now`` give the same rows.

Layout: :mod:`.shape` (the city's size and words), :mod:`.city` (the city's rows), :mod:`.plan`
(every arrival's instant, id and community, cut into partitions by street), :mod:`.lives` (each
request's history), :mod:`.workers` (running partitions here or on worker processes),
:mod:`.visits` (households, pairings, visits and rounds) and :mod:`.bulk` (writing). Rows are
written in bulk with ids the generator chooses, never an ORM object per row: binary COPY on
PostgreSQL, with foreign keys and secondary indexes put back (and so checked) once at the end, and
executemany on SQLite. Every account has the password
:data:`PASSWORD`, hashed once. A database that already has streets or accounts is refused.

Not written: notifications, reminders, outbox messages (the requests are past their routing and
outcome actors), photos and co-evaluations by residents linked through a merge; the requests of
visits that found a problem and of rounds' findings (:mod:`.visits`).
"""

from __future__ import annotations

import calendar
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import deadlines
from ..commands import accounts
from ..models import Account, Category, Street, utcnow
from ..outcomes import period_month
from ..scoring import policy as policies
from ..settings import Settings
from . import visits as planned
from . import workers as runners
from .bulk import BulkWriter
from .city import build
from .lives import CATEGORY_WEIGHTS, TABLES, Cat, Rules
from .plan import plan
from .shape import CityShape

__all__ = ["PASSWORD", "CityShape", "Report", "simulate"]

PASSWORD = "city-pass-2026"
BATCH = 20_000  # requests per batch written
CITY_TABLES = ("streets", "communities", "grids", "buildings", "units", "accounts", "members", "registrations",
               "responsibility_zones", "departments", "open311_clients")
# How long before ``now`` each of the tail's requests came in.
TAIL_AGE = {"submitted": timedelta(seconds=20), "community": timedelta(hours=3), "street": timedelta(hours=5),
            "open_task": timedelta(hours=4), "claimed": timedelta(hours=9), "verifying": timedelta(hours=20),
            "resolved": timedelta(hours=30)}


@dataclass
class Report:
    seed: int
    shape: CityShape
    start: datetime
    now: datetime
    rows: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent on each step
    workers: int = 1

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def requests(self) -> int:
        return self.rows.get("requests", 0)

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    def text(self) -> str:
        lines = [f"simulated {self.start:%Y-%m-%d %H:%M} to {self.now:%Y-%m-%d %H:%M} UTC, seed {self.seed}: "
                 f"{self.rows.get('streets', 0)} street(s), {self.rows.get('communities', 0)} communities, "
                 f"{self.rows.get('members', 0)} members, {self.rows.get('accounts', 0)} accounts, "
                 f"{self.rows.get('households', 0)} households"]
        lines.append("requests by status: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())))
        lines.append("rows: " + ", ".join(f"{k} {v}" for k, v in self.rows.items() if v))
        lines.append(f"{self.total_rows} rows in {self.seconds:.1f} s: {self.rows_per_second:,.0f} rows/s, "
                     f"{self.requests / self.seconds if self.seconds else 0:,.0f} requests/s "
                     f"({', '.join(f'{k} {v:.1f} s' for k, v in self.phases.items())}; "
                     f"{self.workers} simulating process{'es' if self.workers > 1 else ''})")
        lines.append(f"every account's password: {PASSWORD}")
        return "\n".join(lines)


def months_before(now: datetime, months: int, timezone: str) -> datetime:
    """The same local time ``months`` calendar months before ``now`` (the last day of a shorter month)."""
    local = now.astimezone(ZoneInfo(timezone))
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day).astimezone(UTC)


def simulate(session: Session, settings: Settings, *, seed: int = 1, shape: CityShape | None = None,
             now: datetime | None = None, batch: int = BATCH, workers: int | None = None,
             progress: Callable[[int, int], None] | None = None, password: str = PASSWORD) -> Report | None:
    """Write a simulated city and its requests; None (and nothing written) when the database already
    has streets or accounts. ``workers``: processes simulating at once on PostgreSQL (default: one
    per core); the rows do not depend on it. ``progress(done, total)`` follows the requests.
    ``password``: every account's (the demo gives its own)."""
    if session.scalar(select(func.count()).select_from(Street)) or \
            session.scalar(select(func.count()).select_from(Account)):
        return None
    began = time.perf_counter()
    shape = shape or CityShape()
    now = (now or utcnow()).astimezone(UTC)
    start = months_before(now, shape.months, settings.timezone)
    rng = random.Random(seed)
    out = BulkWriter(session)
    report = Report(seed=seed, shape=shape, start=start, now=now)
    total = shape.total_requests((now - start).total_seconds() / 86400)
    tail = [(now - age, state) for state, age in TAIL_AGE.items() if now - age > start]
    done = 0

    def advance(requests: int) -> None:
        nonlocal done
        done += requests
        if progress:
            progress(done, total + len(tail))

    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        report.phases[name] = time.perf_counter() - clock
        clock = time.perf_counter()

    with out.checks_deferred(CITY_TABLES + tuple(table for table, _columns in TABLES) + planned.NEW_TABLES):
        phase("constraints off")
        city = build(rng, shape, out, accounts.hash_password(password), start)
        phase("city")
        parts = plan(rng, city, start, now, total, settings.timezone, out.next_id("requests"), tail)
        rules = Rules.of(settings, seed=seed, categories=_categories(session),
                         calendar=deadlines.load_calendar(session, settings.timezone),
                         policies=_policies(session, start, now),
                         first_ids={table: out.next_id(table) for table, _columns in TABLES if table != "requests"},
                         now=now)
        count = min(workers or os.cpu_count() or 1, len(parts)) if out.postgresql else 1
        report.workers = count
        phase("plan")
        if count > 1:
            url = session.get_bind().url.set(drivername="postgresql")
            statuses = runners.on_workers(rules, parts, out, batch, advance, count,
                                          url.render_as_string(hide_password=False))
        else:
            statuses = runners.in_process(rules, parts, out, batch, advance)
        phase("requests")
        planned.write(out, city, shape, seed, start, now, settings.timezone, rules.policies, batch)
        phase("visits")
    phase("constraints back")
    out.finish()
    report.rows = dict(out.counts)
    report.statuses = dict(statuses)
    report.seconds = time.perf_counter() - began
    return report


def _categories(session: Session) -> list[Cat]:
    parents = dict(session.execute(select(Category.id, Category.code).where(Category.parent_id.is_(None))).all())
    leaves = session.scalars(select(Category).where(Category.parent_id.is_not(None), Category.active.is_(True))
                             .order_by(Category.id)).all()
    return [Cat(c.id, c.code, parents[c.parent_id].split(".")[0], c.urgency, c.deadline_class, c.default_route.value,
                CATEGORY_WEIGHTS.get(c.code, 1.0)) for c in leaves]


def _policies(session: Session, start: datetime, now: datetime) -> dict[str, tuple[int, policies.PolicyRules]]:
    """The policy version in force for each month the requests' ledger entries can fall in."""
    found = {}
    month = period_month((start - timedelta(days=1)).date())
    last = period_month((now + timedelta(days=1)).date())
    while month <= last:
        policy = policies.in_force(session, month)
        found[month] = (policy.version, policies.rules_of(policy))
        year, number = int(month[:4]), int(month[5:])
        month = f"{year + (number == 12):04d}-{number % 12 + 1:02d}"
    return found
