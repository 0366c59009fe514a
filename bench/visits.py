"""Visits: a street's coverage read, and a visit recorded against a request submitted, through the
app on a simulated city.

The data: ``shoubanping simulate`` of one street (8 communities of 30 buildings) ending now, three
months of requests (quick 2 000, full 10 000) and of the planned collection: quick 25 households a
building (about 6 000 in the street), full 125 (about 30 000, the issue's street), paired with the
communities' members, their visits against the default visit plan and the grids' weekly rounds
(``workflow.simulate.visits``). On PostgreSQL the tables are then analysed, as autovacuum would.

Coverage: ``GET /api/v1/coverage/{this month}/street/{id}`` as the street's secretary and
``.../community/{id}`` as the secretary of its largest community, and the street's public board
(``GET /board/street/{code}``, no login, last month published by the street's secretary first),
through the app (TestClient in this process, the whole answer). Each read follows a visit just
recorded in that community (not timed), so the community's figures are counted again for every
read (the other communities' are kept while their visits and register do not change): the worst a
secretary sees while visits come in. p95 over repeated reads (quick 15, full 60) after two unmeasured ones; target p95 <
100 ms for each. The first read of the street, with nothing kept, is given too (no target).

Visit against submission: ``POST /api/v1/households/{id}/visits`` with an empty body (today, at
home, all well: the one tap) by the member paired with the household, each time a household not
visited today, alternating with ``POST /api/v1/requests`` (the http suite's noise report) by a
resident of the same community, on the same database and app (quick 30 of each, full 150, after
three of each unmeasured). The figure is the ratio of their median latencies, target <= 1.0: a
visit costs no more than a submission. The app runs with no worker and no relay, so the routing a
submission sets off in the background is not counted: the ratio leans towards the submission.
"""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from workflow.access import Actor
from workflow.db import make_engine, make_session_factory, unit_of_work
from workflow.models import Account, Member, Role, ScopeKind, Street, utcnow
from workflow.scoring import runs
from workflow.scoring.periods import label_of, local_date, shift
from workflow.settings import Settings
from workflow.simulate import CityShape, simulate
from workflow.visits.models import Household, HouseholdPairing, Visit

from .core import Context, Result, median, percentile
from .http import NOISE

SECRET = "shoubanping-bench-secret-key"


def _shape(ctx: Context) -> CityShape:
    return CityShape(streets=1, households_per_building=25 if ctx.quick else 125,
                     requests=2_000 if ctx.quick else 10_000, months=3)


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        with ctx.database(backend, "visits") as url:
            settings = Settings(dev_mode=True, database_url=url, secret_key=SECRET,
                                media_dir=str(ctx.workdir / "media"))
            engine = make_engine(url)
            try:
                _run(ctx, backend, settings, make_session_factory(engine))
            finally:
                engine.dispose()


def _run(ctx: Context, backend: str, settings: Settings, sessions) -> None:
    from api.app import create_app
    from handlers.runtime import Runtime
    from workflow.commands import accounts

    reads, taps, warm = (15, 30, 3) if ctx.quick else (60, 150, 3)
    now = utcnow()
    today = local_date(now, settings.timezone)
    period = label_of(today, "month")
    started = time.perf_counter()
    with unit_of_work(sessions) as session:
        report = simulate(session, settings, seed=ctx.seed, shape=_shape(ctx), now=now)
    simulated = time.perf_counter() - started
    with unit_of_work(sessions) as session:
        if backend == "postgresql":
            session.execute(text("ANALYZE"))  # the planner's statistics of the fresh tables
        street_id, street_code = session.execute(select(Street.id, Street.code)).one()
        community_id, community_households = session.execute(
            select(Household.community_id, func.count()).group_by(Household.community_id)
            .order_by(func.count().desc(), Household.community_id).limit(1)).one()

        def token(*where) -> str:
            return accounts.issue_token(session, settings, session.scalar(select(Account).where(*where)
                                                                          .order_by(Account.id).limit(1)))[0]

        street_secretary = session.scalar(select(Account).where(
            Account.role == Role.secretary, Account.street_id == street_id, Account.community_id.is_(None))
            .order_by(Account.id).limit(1))
        street_token = accounts.issue_token(session, settings, street_secretary)[0]
        secretary_id = street_secretary.id
        community_token = token(Account.role == Role.secretary, Account.community_id == community_id)
        resident_token = token(Account.role == Role.resident, Account.community_id == community_id)
        # Households of the community nobody visited today, each with the member who looks after it.
        targets = session.execute(
            select(Household.id, Member.account_id)
            .join(HouseholdPairing, HouseholdPairing.household_id == Household.id)
            .join(Member, Member.id == HouseholdPairing.member_id)
            .where(Household.community_id == community_id, HouseholdPairing.starts_on <= today,
                   HouseholdPairing.ends_on.is_(None),
                   Household.id.not_in(select(Visit.household_id).where(Visit.local_date == today)))
            .order_by(Household.id).limit(3 * (2 + reads) + warm + taps)).all()
        members = {a: token(Account.id == a) for a in sorted({a for _h, a in targets})}
    if len(targets) < 3 * (2 + reads) + warm + taps:
        raise RuntimeError(f"only {len(targets)} households left to visit today")
    with unit_of_work(sessions) as session:  # last month on the public board, as the secretary would
        runs.publish(session, settings, Actor.of(session, session.get(Account, secretary_id)), shift(period, -1),
                     ScopeKind.street, street_id, now=now)
    reading, targets = targets[:3 * (2 + reads)], targets[3 * (2 + reads):]

    runtime = Runtime(settings, worker=False, relay=False).start()
    try:
        with TestClient(create_app(settings, runtime)) as client:
            def tap(household_id: int, account_id: int):
                return client.post(f"/api/v1/households/{household_id}/visits",
                                   headers={"Authorization": f"Bearer {members[account_id]}"})

            routes = {"street": (f"/api/v1/coverage/{period}/street/{street_id}", street_token),
                      "community": (f"/api/v1/coverage/{period}/community/{community_id}", community_token),
                      "board": (f"/board/street/{street_code}", None)}

            def timed(kind: str):
                url, bearer = routes[kind]
                began = time.perf_counter()
                answer = client.get(url, headers={"Authorization": f"Bearer {bearer}"} if bearer else {})
                elapsed = time.perf_counter() - began
                if answer.status_code != 200:
                    raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:300]}")
                return elapsed, answer

            cold, _first = timed("street")
            read: dict[str, tuple[list[float], object]] = {kind: ([], None) for kind in routes}
            for i in range(2 + reads):
                for k, kind in enumerate(routes):
                    if tap(*reading[3 * i + k]).status_code != 201:
                        raise RuntimeError("a visit before a read was refused")
                    elapsed, answer = timed(kind)
                    if i >= 2:
                        read[kind][0].append(elapsed)
                    read[kind] = (read[kind][0], answer)
            body = {"channel": "report", "category": "disputes.noise", "description": NOISE,
                    "community_id": community_id}
            visit_s, submit_s = [], []
            for i, (household_id, account_id) in enumerate(targets):
                began = time.perf_counter()
                visit = tap(household_id, account_id)
                between = time.perf_counter()
                submitted = client.post("/api/v1/requests", json=body,
                                        headers={"Authorization": f"Bearer {resident_token}"})
                ended = time.perf_counter()
                if visit.status_code != 201 or not visit.json()["paired"]:
                    raise RuntimeError(f"the visit answered {visit.status_code}: {visit.text}")
                if submitted.status_code != 201:
                    raise RuntimeError(f"the submission answered {submitted.status_code}: {submitted.text}")
                if i >= warm:
                    visit_s.append(between - began)
                    submit_s.append(ended - between)
    finally:
        runtime.stop()

    street_households = read["street"][1].json()["totals"]["households"]
    data = {"households": report.rows.get("households", 0), "visits": report.rows.get("visits", 0),
            "requests": report.requests, "simulate_s": round(simulated, 1), "period": period}
    for kind, (times, answer) in read.items():
        ms = [t * 1000 for t in times]
        detail = {**data, "route": routes[kind][0], "reads": len(ms), "p50_ms": round(percentile(ms, 50), 1),
                  "max_ms": round(max(ms), 1), "community_households": community_households}
        if kind == "board":
            label = f"public board p95 ({street_households} households)"
            detail["bytes"] = len(answer.content)
        else:
            totals = answer.json()["totals"]
            label = f"coverage {kind} p95 ({totals['households']} households)"
            detail.update(coverage=totals["coverage"], visits_in_month=totals["visits"])
        ctx.add(Result("visits", label, backend, percentile(ms, 95), "ms", target=100.0, op="<=", detail=detail))
    ctx.add(Result("visits", f"coverage street, first read after start ({street_households} households)", backend,
                   cold * 1000, "ms", detail=data))
    visit_ms, submit_ms = [t * 1000 for t in visit_s], [t * 1000 for t in submit_s]
    detail = {**data, "taps": len(visit_ms), "visit_p50_ms": round(median(visit_ms), 2),
              "visit_p95_ms": round(percentile(visit_ms, 95), 2), "submit_p50_ms": round(median(submit_ms), 2),
              "submit_p95_ms": round(percentile(submit_ms, 95), 2),
              "p95_ratio": round(percentile(visit_ms, 95) / percentile(submit_ms, 95), 3)}
    ctx.add(Result("visits", "visit ÷ submission, median latency", backend, median(visit_ms) / median(submit_ms),
                   "ratio", target=1.0, op="<=", floor=median(submit_ms), detail=detail))
    ctx.add(Result("visits", "record a visit p50", backend, median(visit_ms), "ms", detail=detail))
    ctx.add(Result("visits", "submit a request p50", backend, median(submit_ms), "ms", detail=detail))
