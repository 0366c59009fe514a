"""Scores: recomputing a month's three rates for every street, community and grid, the member
assessments and the rankings, on a simulated city; and one community's secretary dashboard.

The data: ``shoubanping simulate``, and the month of October in it. Quick: 20 k requests over two
months in 2 streets (about 10 k closed in October); full: 60 k in 4 streets on SQLite, and on
PostgreSQL the issue's scale, about 2 M closed in October in 343 streets; every city has 40
members and 60 resident accounts a community, so the small ones keep the large one's proportions
of members to requests. The recompute is ``workflow.scoring.runs.recompute`` whole, in its own
transaction, rolled back after timing so every repetition does the same work.

The floor: one plain ``GROUP BY community_id`` over the month's outcome rows, counting what the
three rates count (received, responded in time, and the sums of every round's verdicts: evaluated,
solved, satisfied, basically satisfied), on the same database, best of three. Target: recompute
≤ 3 × floor, and (full, on PostgreSQL) under 10 s.

The dashboard: ``GET /dashboard`` as the community's secretary through the app (TestClient, the
page rendered whole), p95 over repeated loads once the draft exists. Target p95 < 100 ms.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import case, func, select, text

from workflow.db import make_engine, make_session_factory, unit_of_work
from workflow.models import Account, Outcome, Role
from workflow.scoring import runs
from workflow.settings import Settings
from workflow.simulate import PASSWORD, CityShape, simulate

from .core import Context, Result, best_of, percentile

PERIOD = "2026-10"


def _shape(ctx: Context, backend: str) -> tuple[CityShape, datetime]:
    """The city and the simulation's end. Small: two months ending on 20 November. The issue's
    scale: October alone, ending at noon on 1 November local time, 2.5 M requests so that about
    2 M of them are closed in October (the last days' are still open)."""
    people = {"members_per_community": 40, "residents_per_community": 60}
    if ctx.quick or backend == "sqlite":
        return (CityShape(streets=2 if ctx.quick else 4, months=2, requests=20_000 if ctx.quick else 60_000, **people),
                datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    return CityShape(streets=343, months=1, requests=2_500_000, **people), datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


def _floor(session) -> None:
    session.execute(
        select(Outcome.community_id, func.count(), func.sum(case((Outcome.responded_in_time.is_(True), 1), else_=0)),
               func.sum(Outcome.verdicts), func.sum(Outcome.verdicts_solved), func.sum(Outcome.verdicts_satisfied),
               func.sum(Outcome.verdicts_basically))
        .where(Outcome.period_month == PERIOD).group_by(Outcome.community_id)).all()


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        with ctx.database(backend, "scores") as url:
            settings = Settings(dev_mode=True, database_url=url, media_dir=str(ctx.workdir / "media"))
            engine = make_engine(url)
            sessions = make_session_factory(engine)
            try:
                _run(ctx, backend, settings, sessions)
            finally:
                engine.dispose()


def _run(ctx: Context, backend: str, settings: Settings, sessions) -> None:
    shape, now = _shape(ctx, backend)
    started = time.perf_counter()
    with unit_of_work(sessions) as session:
        report = simulate(session, settings, seed=ctx.seed, shape=shape, now=now)
    outcomes = report.rows.get("outcomes", 0)
    ctx.add(Result("scores", "simulate: requests written per second", backend,
                   report.requests / (time.perf_counter() - started), "req/s",
                   detail={"requests": report.requests, "outcomes": outcomes, "rows": report.total_rows}))
    with unit_of_work(sessions) as session:
        if backend == "postgresql":
            # Planner statistics of the freshly loaded tables, as autovacuum would gather them.
            session.execute(text("ANALYZE"))
        month = session.scalar(select(func.count()).select_from(Outcome).where(Outcome.period_month == PERIOD))

    def floor() -> None:
        with unit_of_work(sessions, read_only=True) as session:
            _floor(session)

    def recompute() -> None:
        session = sessions()
        try:
            runs.recompute(session, settings, PERIOD, now=now)
            session.flush()
        finally:
            session.rollback()
            session.close()

    floor_s = best_of(3, floor)
    subject_s = best_of(2 if ctx.quick else 3, recompute)
    detail = {"outcomes_in_month": month, "floor_s": round(floor_s, 3), "recompute_s": round(subject_s, 3)}
    ctx.add(Result("scores", f"recompute {PERIOD} / GROUP BY floor", backend, subject_s / floor_s, "x",
                   target=3.0, op="<=", floor=floor_s, detail=detail))
    ctx.add(Result("scores", f"recompute {PERIOD} ({month} outcomes)", backend, subject_s, "s",
                   target=10.0 if month >= 1_000_000 else None, op="<=", detail=detail))

    # The dashboard of one community, as its secretary sees it, once the draft is stored.
    with unit_of_work(sessions) as session:
        runs.recompute(session, settings, PERIOD, now=now)
        username = session.scalar(select(Account.username).where(Account.role == Role.secretary,
                                                                 Account.community_id.is_not(None)).limit(1))
    from api.app import create_app
    from handlers.runtime import Runtime

    runtime = Runtime(settings, worker=False).start()
    try:
        with TestClient(create_app(settings, runtime)) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            login = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                                follow_redirects=False)
            if login.status_code not in (302, 303):
                raise RuntimeError(f"secretary login failed: {login.status_code}")
            times = []
            for _ in range(20 if ctx.quick else 100):
                began = time.perf_counter()
                page = client.get("/dashboard", params={"period": PERIOD})
                times.append(time.perf_counter() - began)
                if page.status_code != 200:
                    raise RuntimeError(f"dashboard answered {page.status_code}")
    finally:
        runtime.stop()
    ctx.add(Result("scores", "secretary dashboard p95", backend, percentile(times, 95) * 1000, "ms",
                   target=100.0, op="<=", detail={"p50_ms": round(percentile(times, 50) * 1000, 1)}))
