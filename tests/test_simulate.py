"""The city simulator at small scale, on the backend under test: the same seed gives the same rows;
every request's history replays through the lifecycle to the status stored with it, alongside the
rows the real commands write; every closed request has the outcome the outcome actor would record;
the scores engine runs over a simulated month; the households, pairings, visits and rounds keep the
commands' rules and give sane coverage; the API and the pages read what it wrote; and the command line
fills an empty database and refuses a second time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from api.app import create_app
from workflow import deadlines
from workflow.access import Actor
from workflow.db import unit_of_work
from workflow.lifecycle import MACHINE, TERMINAL
from workflow.models import (
    Account,
    Base,
    Building,
    Category,
    Claim,
    Community,
    Evaluation,
    Grid,
    HoursEntry,
    Member,
    Outcome,
    PointEntry,
    Registration,
    Request,
    RequestEvent,
    Status,
    Street,
    UnitScore,
    WhistleCall,
)
from workflow.outcomes import period_month, record_outcome
from workflow.scoring import runs
from workflow.simulate import PASSWORD, CityShape, simulate
from workflow.visits import coverage
from workflow.visits.models import GridWorker, Household, HouseholdPairing, InspectionRound, Visit
from workflow.visits.plan import BUILTIN_TAGS

from .web.conftest import Browser

NOW = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)
SHAPE = CityShape(streets=2, communities_per_street=2, grids_per_community=2, buildings_per_grid=3,
                  staff_per_community=2, officers_per_street=2, departments_per_street=3, members_per_community=20,
                  residents_per_community=40, months=2, requests=700)
OPEN_STATES = {"submitted", "community", "street", "open_task", "claimed", "verifying", "resolved"}
SAME_STATUS = {"whistle", "department_response", "supervise", "co_evaluate"}
CLI = Path(sys.executable).with_name("shoubanping")


def _simulate(runtime, seed: int = 7, **kw):
    with unit_of_work(runtime.sessions) as session:
        report = simulate(session, runtime.settings, seed=seed, shape=SHAPE, now=NOW, **kw)
    assert report is not None
    return report


def _fingerprint(session) -> dict[str, list[tuple]]:
    """Every simulated row, by table, in id order (the argon2 hash is salted anew each time)."""
    out = {}
    for table in Base.metadata.sorted_tables:
        if table.name in ("categories", "calendar_days", "scoring_policies", "alembic_version"):
            continue
        columns = [c for c in table.columns if not (table.name == "accounts" and c.name == "password_hash")]
        order = table.c.id if "id" in table.c else columns[0]
        out[table.name] = [tuple(row) for row in session.execute(select(*columns).order_by(order))]
    return out


class Row:
    """What the lifecycle machine moves: just a status."""

    def __init__(self):
        self.status = Status.submitted


def test_the_same_seed_gives_the_same_city_and_histories(runtime):
    def run(seed: int, workers: int) -> dict:
        session = runtime.sessions()
        try:
            report = simulate(session, runtime.settings, seed=seed, shape=SHAPE, now=NOW, workers=workers)
            assert report is not None and report.requests >= 700
            session.flush()
            return _fingerprint(session)
        finally:
            session.rollback()
            session.close()

    # On PostgreSQL the first run simulates on two processes and the second in this one.
    first, again, other = run(7, 2), run(7, 1), run(8, 2)
    assert first == again
    assert first["requests"] and first["request_events"] and first["outcomes"]
    assert first["households"] and first["household_pairings"] and first["visits"] and first["inspection_rounds"]
    assert first["request_events"] != other["request_events"]


def test_every_history_replays_through_the_lifecycle_with_the_rows_of_the_real_commands(runtime):
    report = _simulate(runtime)
    settings = runtime.settings
    with unit_of_work(runtime.sessions) as session:
        requests = {r.id: r for r in session.scalars(select(Request))}
        events = defaultdict(list)
        for event in session.scalars(select(RequestEvent).order_by(RequestEvent.id)):
            events[event.request_id].append(event)
        claims = defaultdict(list)
        for claim in session.scalars(select(Claim).order_by(Claim.id)):
            claims[claim.request_id].append(claim)
        evaluations = Counter(session.scalars(select(Evaluation.request_id)))
        hours = Counter(session.scalars(select(HoursEntry.request_id)))
        points = session.execute(select(PointEntry.source_key, PointEntry.reason, PointEntry.request_id)).all()
        calls = Counter(session.scalars(select(WhistleCall.request_id)))
        categories = {c.id: c for c in session.scalars(select(Category))}
        calendar = deadlines.load_calendar(session, settings.timezone)

        assert len(requests) == report.requests
        for request in requests.values():
            history = events[request.id]
            first = history[0]
            assert (first.trigger, first.from_status, first.to_status) == ("submit", None, "submitted")
            row = Row()
            for event in history[1:]:
                assert event.from_status == row.status.value, (request.id, event.trigger)
                if event.trigger in SAME_STATUS:
                    assert event.to_status == event.from_status
                    continue
                MACHINE.events[event.trigger].trigger(row)
                assert row.status.value == event.to_status, (request.id, event.trigger)
            assert row.status == request.status, request.id
            assert [e.created_at for e in history] == sorted(e.created_at for e in history)
            assert request.updated_at == history[-1].created_at

            triggers = Counter(e.trigger for e in history)
            assert len(claims[request.id]) == triggers["claim"]
            assert evaluations[request.id] == triggers["evaluate"] + triggers["reopen"]
            assert hours[request.id] == triggers["verify"]
            assert request.reopen_count == triggers["reopen"]
            assert calls[request.id] == sum(len(e.data["department_ids"]) for e in history if e.trigger == "whistle")
            assert (request.closed_at is not None) == (request.status in TERMINAL)
            assert (request.resolved_at is not None) == (request.status in (Status.resolved, Status.closed))
            assert (request.evaluate_by is not None) == (request.resolved_at is not None)
            assert (request.claim_by is not None) == (request.status == Status.open_task)
            live = [c for c in claims[request.id] if c.status.value in ("active", "reported")]
            assert len(live) == (1 if request.status in (Status.claimed, Status.verifying) else 0)
            # The promise made at intake, as the intake command computes it.
            category = categories[request.category_id]
            assert request.first_respond_by == request.submitted_at + deadlines.RESPOND[category.urgency]
            assert request.first_resolve_by == calendar.add(request.submitted_at,
                                                            deadlines.RESOLVE[category.deadline_class])
            if request.reopen_count == 0:
                assert (request.respond_by, request.resolve_by) == (request.first_respond_by, request.first_resolve_by)
            if request.status == Status.resolved:
                assert request.evaluate_by == calendar.add_working_days(request.resolved_at,
                                                                        settings.evaluation_window_days)
            if history[-1].trigger == "merge":
                assert requests[request.merged_into_id].community_id == request.community_id

        # Ledger entries carry the commands' source keys, each counted once.
        keys = Counter(key for key, _reason, _request in points)
        assert keys and max(keys.values()) == 1
        patterns = {"task_verified": r"verified:\d+", "released": r"released:\d+", "sent_back": r"sent_back:\d+:\d+",
                    "resident_satisfied": r"satisfied:\d+:\d+", "visit_collected": r"visit:\d+",
                    "overdue": r"overdue:\d+:\d+", "household_visit": r"visit-household:\d+:\d+:\d{4}-\d{2}"}
        for key, reason, _request in points:
            assert re.fullmatch(patterns[reason.value], key), (reason, key)
        assert {reason.value for _key, reason, _request in points} == set(patterns)

        statuses = {r.status.value for r in requests.values()}
        assert OPEN_STATES <= statuses and {"closed", "rejected", "merged"} <= statuses
        routes = {r.route.value for r in requests.values() if r.status == Status.closed}
        assert routes == {"community", "open_task", "street"}
        every = Counter(e.trigger for history in events.values() for e in history)
        for trigger in ("route_to_community", "publish_task", "escalate", "return_to_community", "claim", "release",
                        "withdraw", "report_result", "send_back", "verify", "resolve", "evaluate", "reopen", "expire",
                        "reject", "merge", "whistle", "department_response", "supervise"):
            assert every[trigger] > 0, trigger


def test_every_closed_request_has_the_outcome_the_outcome_actor_would_record(runtime):
    _simulate(runtime)
    settings = runtime.settings
    fields = [c.name for c in Outcome.__table__.columns if c.name not in ("id", "recorded_at")]
    with unit_of_work(runtime.sessions) as session:
        closed = set(session.scalars(select(Request.id).where(Request.status == Status.closed)))
        counted = Counter(session.scalars(select(Outcome.request_id)))
        assert set(counted) == closed and set(counted.values()) == {1}
        outcomes = session.scalars(select(Outcome).order_by(Outcome.id)).all()
        # A sample with every route, both ways of closing, reopened ones and member work.
        sample, seen = [], set()
        for outcome in outcomes:
            kind = (outcome.route, outcome.closed_by, min(outcome.reopen_count, 1), outcome.member_id is None)
            if kind not in seen or len(sample) < 25:
                seen.add(kind)
                sample.append(outcome)
        assert len(seen) >= 8
        stored = {o.request_id: {f: getattr(o, f) for f in fields} for o in sample}
    session = runtime.sessions()
    try:
        for request_id, expected in stored.items():
            session.execute(delete(Outcome).where(Outcome.request_id == request_id))
            fresh = record_outcome(session, settings, request_id)
            assert {f: getattr(fresh, f) for f in fields} == expected, request_id
    finally:
        session.rollback()
        session.close()


def test_the_scores_engine_runs_over_a_simulated_month(runtime):
    _simulate(runtime)
    with unit_of_work(runtime.sessions) as session:
        run = runs.recompute(session, runtime.settings, "2026-02", now=NOW)
        rates = session.scalars(select(UnitScore).where(UnitScore.run_id == run.id)).all()
        counts = runs.row_counts(session, run)
    assert {r.unit_kind.value for r in rates} == {"street", "community", "grid", "member"}
    assert sum(r.received for r in rates if r.unit_kind.value == "street") > 200
    for row in rates:
        for value in (row.response_rate, row.resolution_rate, row.satisfaction_rate, row.composite):
            assert value is None or Decimal(0) <= value <= Decimal(1)
    street = [r for r in rates if r.unit_kind.value == "street"]
    assert all(Decimal("0.5") < r.response_rate < 1 for r in street)
    # Unsatisfied verdicts reopen requests and count: no street solves everything.
    assert all(Decimal("0.5") < r.resolution_rate < 1 for r in street)
    assert sum(r.evaluated for r in street) > sum(r.solved for r in street)
    assert counts["member_rows"] >= 80 and counts["ranked"] > 0


def test_the_planned_collection_keeps_the_commands_rules_and_gives_sane_coverage(runtime):
    report = _simulate(runtime)
    zone = ZoneInfo(runtime.settings.timezone)
    start, today = report.start.astimezone(zone).date(), NOW.astimezone(zone).date()
    with unit_of_work(runtime.sessions) as session:
        buildings = session.execute(select(Building.id, Building.community_id)).all()
        households = {h.id: h for h in session.scalars(select(Household))}
        pairings = session.scalars(select(HouseholdPairing)).all()
        registered = set(session.execute(select(Registration.member_id, Registration.community_id)).all())
        member_account = dict(session.execute(select(Member.id, Member.account_id)).all())
        accounts = {a.id: a for a in session.scalars(select(Account))}
        grids = dict(session.execute(select(Grid.id, Grid.community_id)).all())
        workers = session.scalars(select(GridWorker)).all()
        visits = session.scalars(select(Visit).order_by(Visit.id)).all()
        rounds = session.scalars(select(InspectionRound)).all()
        visit_points = session.execute(select(PointEntry.source_key, PointEntry.member_id, PointEntry.local_date)
                                       .where(PointEntry.reason == "household_visit")).all()
        streets = dict(session.execute(select(Community.id, Community.street_id)).all())

        # Households on every building, a share of them tagged, each paired from before the months
        # (or from the day it joined) with a member registered with its community.
        per_building = Counter(h.building_id for h in households.values())
        assert {b for b, _c in buildings} == set(per_building) and min(per_building.values()) >= 18
        assert all(h.community_id == c for b, c in buildings for h in households.values() if h.building_id == b)
        tagged = [h for h in households.values() if h.tags]
        assert 0.1 < len(tagged) / len(households) < 0.4
        assert {t for h in tagged for t in h.tags} == set(BUILTIN_TAGS)
        assert len(pairings) == len(households) and {p.household_id for p in pairings} == set(households)
        paired_with = {p.household_id: p.member_id for p in pairings}
        for p in pairings:
            household = households[p.household_id]
            assert (p.member_id, household.community_id) in registered
            assert p.starts_on < start or p.starts_on == household.created_on >= start
        # A grid worker for every grid: a staff account of its community.
        assert sorted(w.grid_id for w in workers) == sorted(grids)
        for w in workers:
            account = accounts[w.account_id]
            assert account.role == "staff" and account.community_id == grids[w.grid_id] and w.starts_on < start

        # Visits as record_visit writes them.
        assert len({(v.household_id, v.visitor_id, v.local_date) for v in visits}) == len(visits)
        first_visit = {}
        for v in visits:
            household = households[v.household_id]
            visitor = accounts[v.visitor_id]
            assert v.visitor_role == visitor.role.value and v.visitor_role in ("member", "staff")
            assert v.community_id == household.community_id and v.street_id == streets[v.community_id]
            if v.visitor_role == "member":
                assert member_account[v.member_id] == v.visitor_id
                assert (v.member_id, household.community_id) in registered
            else:
                assert v.member_id is None and visitor.community_id == household.community_id
            assert v.paired == (v.member_id == paired_with[v.household_id])
            assert start <= v.local_date <= today and v.at <= NOW and v.at.astimezone(zone).date() == v.local_date
            assert v.request_id is None
            first_visit[v.household_id] = min(first_visit.get(v.household_id, v.local_date), v.local_date)
        assert all(households[h].created_on <= day for h, day in first_visit.items())
        outcomes = Counter(v.outcome.value for v in visits)
        assert outcomes["all_well"] > outcomes["need"] > outcomes["problem"] > 0
        assert Counter(v.visitor_role for v in visits)["staff"] > 0 and any(not v.paired for v in visits)
        assert 0.6 * len(households) < len(first_visit) < len(households)  # most visited (a quarter runs), some never
        # The visit bonus: once a member, household and month.
        expected = {(f"visit-household:{v.member_id}:{v.household_id}:{period_month(v.local_date)}", v.member_id)
                    for v in visits if v.member_id is not None}
        assert {(key, member) for key, member, _day in visit_points} == expected
        assert len(visit_points) == len(expected)
        # Weekly rounds of every grid by its worker.
        worker_of = {w.grid_id: w.account_id for w in workers}
        assert {r.grid_id for r in rounds} == set(grids)
        assert all(r.account_id == worker_of[r.grid_id] and start <= r.local_date <= today for r in rounds)
        assert all(r.ended_at is None or r.started_at < r.ended_at <= NOW for r in rounds)
        weeks = (today - start).days / 7
        assert all(0.6 * weeks <= n <= weeks + 1 for n in Counter(r.grid_id for r in rounds).values())

        # Coverage of a simulated community and its street, for the month that ends at NOW.
        admin = Actor.of(session, session.scalar(select(Account).where(Account.role == "admin")))
        community_id = session.scalar(select(Community.id).order_by(Community.id))
        period = period_month(today)
        found = coverage.report(session, admin, "community", community_id, period, today)
        totals = found["totals"]
        assert totals["households"] == sum(1 for h in households.values() if h.community_id == community_id)
        assert 0 < totals["coverage"] < 1 and totals["visits"] > 0
        assert totals["visited"] + totals["due"] + totals["overdue"] == totals["households"]
        assert totals["overdue"] > 0 and 0 < totals["never_visited"] < totals["households"]
        assert found["members"] and found["buildings"] and all(0 <= b["coverage"] <= 1 for b in found["buildings"])
        assert all(g["rounds"] > 0 and g["workers"] for g in found["grids"])
        # The report counts in groups what the household-by-household states say, to the household.
        one_by_one = coverage.states(session, [community_id], period, today)[0]
        for key, rows in (("buildings", lambda s: [s.building_id]), ("members", lambda s: [m for m, _n in s.members])):
            expected: dict[int, Counter] = {}
            for s in one_by_one:
                for k in rows(s):
                    expected.setdefault(k, Counter())[s.status] += 1
                    expected[k]["never_visited"] += s.never_visited
            ident = "id" if key == "buildings" else "member_id"
            assert {row[ident]: (row["visited"], row["due"], row["overdue"], row["never_visited"])
                    for row in found[key]} == {k: (c["visited"], c["due"], c["overdue"], c["never_visited"])
                                               for k, c in expected.items()}
        assert Counter(s.status for s in one_by_one) == Counter(
            {k: totals[k] for k in ("visited", "due", "overdue") if totals[k]})
        street = coverage.report(session, admin, "street", streets[community_id], period, today)
        assert street["totals"]["households"] == sum(c["households"] for c in street["communities"])
        assert 0 < street["totals"]["coverage"] <= 1
        missed = coverage.missed(session, admin, "community", community_id, period, today)
        assert missed["total"] == sum(1 for s in coverage.states(session, [community_id], period, today)[0]
                                      if s.status == "overdue" or (s.never_visited and s.status != "visited"))


def test_the_api_and_the_pages_read_a_simulated_city(runtime):
    _simulate(runtime)
    with unit_of_work(runtime.sessions) as session:
        verified = session.scalar(select(Request.id).join(RequestEvent, RequestEvent.request_id == Request.id)
                                  .where(RequestEvent.trigger == "verify", Request.status == Status.closed)
                                  .order_by(Request.id).limit(1))
        request = session.get(Request, verified)
        staff = session.scalar(select(Account.username).where(Account.community_id == request.community_id,
                                                               Account.role == "staff").order_by(Account.id))
        secretary = session.scalar(select(Account.username).where(Account.community_id == request.community_id,
                                                                   Account.role == "secretary"))
        officer = session.scalar(select(Account.username).where(Account.street_id == request.street_id,
                                                                 Account.role == "street_officer").order_by(Account.id))
        n_events = session.scalar(select(func.count()).select_from(RequestEvent)
                                  .where(RequestEvent.request_id == verified))
    with TestClient(create_app(runtime.settings, runtime), base_url="http://testserver") as client:
        login = client.post("/api/v1/auth/login", json={"username": staff, "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        body = client.get(f"/api/v1/requests/{verified}", headers=headers)
        assert body.status_code == 200, body.text
        detail = body.json()
        assert detail["status"] == "closed" and len(detail["events"]) == n_events
        assert any(c["status"] == "verified" for c in detail["claims"]) and detail["evaluations"]

        browser = Browser(client)
        browser.login(staff, PASSWORD)
        assert browser.get("/desk").status_code == 200
        page = browser.get(f"/requests/{verified}")
        assert page.status_code == 200 and request.description in page.text
    for username, path in ((secretary, "/dashboard?period=2026-02"), (officer, "/street")):
        with TestClient(create_app(runtime.settings, runtime), base_url="http://testserver") as client:
            browser = Browser(client)
            browser.login(username, PASSWORD)
            assert browser.get(path).status_code == 200, path


def test_the_command_line_fills_an_empty_database_once(db_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUBANPING_")}
    env.update(SHOUBANPING_DEV_MODE="1")
    args = [str(CLI), "simulate", "--seed", "3", "--streets", "1", "--months", "1", "--requests", "150",
            "--until", "2026-03-01T08:00:00", "--database-url", db_url]
    first = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "rows/s" in first.stdout and PASSWORD in first.stdout
    assert re.search(r"requests \d+", first.stdout)
    again = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and "already holds data" in again.stderr


def test_a_database_with_streets_is_refused(runtime):
    _simulate(runtime)
    with unit_of_work(runtime.sessions) as session:
        before = session.scalar(select(func.count()).select_from(Request))
        assert simulate(session, runtime.settings, seed=1, shape=SHAPE, now=NOW + timedelta(days=1)) is None
        assert session.scalar(select(func.count()).select_from(Request)) == before
        assert session.scalar(select(func.count()).select_from(Street)) == SHAPE.streets
