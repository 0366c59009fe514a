"""Lifecycle: full loops per second through the workflow commands, divided by a floor.

One loop takes a request from the resident's report to its outcome row, every step in its own
``workflow.db.unit_of_work`` transaction, as the API route or the queue actor does it:

 1. submit          the resident's token is checked, the actor loaded, ``intake.submit``
 2. relay           the outbox relay as it runs in ``serve``: registered with ``workflow.outbox``, it
                    publishes the ``route_request`` row from the committing thread right after the
                    commit (``Relay.committed``), then its pass (``Relay.publish_pending``, its own
                    transaction) marks the row sent
 3. route           the ``route_request`` actor's own function, with the message as current message
                    (its processed-message guard included); the category routes to the community
 4. publish_task    staff: token, actor, ``handling.fire``
 5. claim           the registered member: token, actor, ``handling.fire``
 6. report_result   the member: token, actor, ``handling.fire`` (result and hours)
 7. verify          staff: token, actor, ``handling.fire`` (appraisal; hours and points ledgers)
 8. evaluate        the resident: token, actor, ``handling.evaluate`` (satisfied, solved: closed)
 9. relay           the same for the ``record_outcome`` row
10. outcome         the ``record_outcome`` actor's own function writes the outcome row

The broker is dramatiq's in-process ``StubBroker``: no network, so the figure is the workflow's own
cost. The route handlers' response building (``request_detail_out``) is not part of it: the http
suite measures the routes whole.

The floor: exactly the rows that one real loop inserts and updates, transaction by transaction
(same tables, same columns, one statement per row, with the final values), written with
SQLAlchemy Core on the same engine, in the same ten transactions, with no reads at all (ids are
taken from ``RETURNING``/``lastrowid``). Before timing, one loop of each is recorded statement by
statement and the write shapes (table, insert or update, columns, per transaction) are compared:
the run stops if the floor does not write what the workflow writes.

Subject and floor alternate loop by loop on the same database, so that each pair of loops meets the
same load from the machine's other work; the ratio is the median over the pairs of floor time /
subject time, and each side's loops/s is one over its median loop time. Target: subject / floor
>= 0.5, on SQLite and, when given, PostgreSQL.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from dramatiq import Message
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage
from sqlalchemy import Engine, event, insert, update
from sqlalchemy.orm import Session, sessionmaker

from handlers.actors import declare
from handlers.broker import QUEUE
from handlers.relay import Relay
from workflow import outbox
from workflow.access import Actor
from workflow.commands import accounts, handling, intake, members
from workflow.db import make_engine, make_session_factory, unit_of_work
from workflow.models import Base, Building, Category, Community, Grid, Role, Street, Unit, utcnow
from workflow.outcomes import period_19, period_month
from workflow.scoring.periods import local_date
from workflow.settings import Settings

from .core import Context, Result, median, percentile

SUITE = "lifecycle"
TARGET = 0.5
CATEGORY = "housing.stairwell"  # default route: community, so staff publish the task themselves
STEPS = ("submit", "relay", "route", "publish_task", "claim", "report_result", "verify", "evaluate", "relay",
         "outcome")


@dataclass
class World:
    """Street S, community A with one grid and building, a resident and staff of A, a member of
    unit U registered with A; one bearer token each."""

    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def build_world(sessions: sessionmaker[Session], settings: Settings) -> World:
    world = World()
    with unit_of_work(sessions) as session:
        street = Street(code="S", name="示范街道")
        session.add(street)
        session.flush()
        community = Community(street_id=street.id, code="A", name="和平社区")
        session.add(community)
        session.flush()
        grid = Grid(community_id=community.id, name="一网格")
        session.add(grid)
        session.flush()
        building = Building(community_id=community.id, grid_id=grid.id, name="1号楼", address="和平社区1号楼")
        unit = Unit(name="区税务局机关党委")
        session.add_all([building, unit])
        session.flush()
        password_hash = accounts.hash_password("bench-password")
        for username, role, scope in (("resident", Role.resident, {"community_id": community.id}),
                                      ("staff", Role.staff, {"community_id": community.id}),
                                      ("member", Role.member, {"unit_id": unit.id})):
            account = accounts.create_account(session, username=username, password="", password_hash=password_hash,
                                              display_name=username, role=role, **scope)
            actor = Actor.of(session, account)
            if role == Role.member:
                members.register(session, actor, community.id)
                world.ids["member_id"] = actor.member_id
            world.ids[username] = account.id
            world.tokens[username], _ = accounts.issue_token(session, settings, account)
        category = session.query(Category).filter_by(code=CATEGORY).one()
        world.ids.update(street=street.id, community=community.id, grid=grid.id, building=building.id,
                         unit=unit.id, category=category.id)
    return world


# --- the subject: the workflow commands -----------------------------------------------------------

class Subject:
    def __init__(self, engine: Engine, settings: Settings, world: World):
        self.settings = settings
        self.world = world
        self.sessions = make_session_factory(engine)
        self.broker = StubBroker()
        self.broker.add_middleware(CurrentMessage())
        self.current = CurrentMessage()
        self.actors = declare(self.broker, self.sessions, settings)
        self.relay = Relay(self.sessions, self.broker)

    def _as(self, who: str, command):
        """One API step: the unit of work, the caller's token checked and actor loaded, the command."""
        with unit_of_work(self.sessions) as session:
            account = accounts.authenticate(session, self.settings, self.world.tokens[who])
            return command(session, Actor.of(session, account))

    def _relay(self, expected: str) -> Message:
        """The relay's pass (its own transaction), then the one message the broker holds: published
        at commit by the relay's hook, or by this pass."""
        self.relay.publish_pending()
        queue = self.broker.queues[QUEUE]
        messages = []
        while not queue.empty():
            messages.append(Message.decode(queue.get_nowait()))
            queue.task_done()
        if [m.actor_name for m in messages] != [expected]:
            raise RuntimeError(f"lifecycle: the broker holds {[m.actor_name for m in messages]}, expected {expected}")
        return messages[0]

    def _act(self, message: Message) -> None:
        """The actor's function as a worker thread runs it: with the message as the current one."""
        self.current.before_process_message(self.broker, message)
        try:
            self.actors[message.actor_name].fn(*message.args, **message.kwargs)
        finally:
            self.current.after_process_message(self.broker, message)

    def loop(self) -> None:
        outbox.on_commit_wake(self.relay.committed)
        try:
            self._loop()
        finally:
            outbox.remove_wake(self.relay.committed)

    def _loop(self) -> None:
        settings, ids = self.settings, self.world.ids
        submission = intake.Submission(channel="report", category=CATEGORY, description="楼道灯不亮了，晚上看不见台阶",
                                       building_id=ids["building"], contact_phone="13800000000")
        request_id = self._as("resident", lambda s, a: intake.submit(s, a, submission, timezone=settings.timezone).id)
        self._act(self._relay("route_request"))

        def fire(trigger, params):
            return lambda s, a: handling.fire(s, settings, a, request_id, trigger, params)

        self._as("staff", fire("publish_task", {}))
        self._as("member", fire("claim", {}))
        self._as("member", fire("report_result", {"result": "更换了楼道灯泡", "hours": 1.5}))
        self._as("staff", fire("verify", {"appraisal": 5}))
        self._as("resident", lambda s, a: handling.evaluate(s, settings, a, request_id,
                                                              {"satisfaction": "satisfied", "solved": True}))
        self._act(self._relay("record_outcome"))


# --- the floor: the same rows with SQLAlchemy Core -------------------------------------------------

class Floor:
    """The rows of one loop, transaction by transaction, with Core and no reads."""

    def __init__(self, engine: Engine, settings: Settings, world: World):
        self.engine = engine
        self.zone = settings.timezone
        self.ids = world.ids
        t = Base.metadata.tables
        self.requests, self.events, self.outbox = t["requests"], t["request_events"], t["outbox"]
        self.processed, self.claims, self.hours = t["processed_messages"], t["claims"], t["hours_entries"]
        self.points, self.evaluations, self.outcomes = t["point_entries"], t["evaluations"], t["outcomes"]

    def _event(self, conn, request_id, trigger, before, after, actor, role, data, now) -> None:
        conn.execute(insert(self.events).values(
            request_id=request_id, trigger=trigger, from_status=before, to_status=after, actor_id=actor,
            actor_role=role, note="", data=data, created_at=now))

    def _outbox(self, conn, actor_name, payload, now) -> tuple[int, str]:
        message_id = str(uuid.uuid4())
        row_id = conn.execute(insert(self.outbox).values(
            message_id=message_id, actor_name=actor_name, queue_name=QUEUE, payload=payload, status="pending",
            attempts=0, last_error="", created_at=now, available_at=now, sent_at=None)).inserted_primary_key[0]
        return row_id, message_id

    def _sent(self, conn, outbox_id, now) -> None:
        conn.execute(update(self.outbox).where(self.outbox.c.id == outbox_id).values(status="sent", sent_at=now))

    def _processed(self, conn, message_id, actor_name, now) -> None:
        conn.execute(insert(self.processed).values(message_id=message_id, actor_name=actor_name, processed_at=now))

    def _request(self, conn, request_id, **values) -> None:
        r = self.requests.c
        conn.execute(update(self.requests).where(r.id == request_id).values(version=r.version + 1, **values))

    def _dated(self, now) -> dict:
        day = local_date(now, self.zone)
        return {"local_date": day, "period_month": period_month(day), "period_19": period_19(day)}

    def loop(self) -> None:
        ids, begin = self.ids, self.engine.begin
        resident, staff, member, member_id = ids["resident"], ids["staff"], ids["member"], ids["member_id"]
        place = {"street_id": ids["street"], "community_id": ids["community"]}
        now = utcnow()
        with begin() as conn:  # 1 submit
            request_id = conn.execute(insert(self.requests).values(
                status="submitted", channel="report", category_id=ids["category"], grid_id=ids["grid"],
                building_id=ids["building"], address="", latitude=None, longitude=None,
                description="楼道灯不亮了，晚上看不见台阶", reporter_id=resident, collector_id=resident,
                contact_name="", contact_phone="13800000000", contact_email="", attributes={}, media_url="",
                route=None, merged_into_id=None, reopen_count=0, supervision="normal", result="", submitted_at=now,
                responded_at=None, published_at=None, zone_offer_until=None, resolved_at=None, closed_at=None,
                first_respond_by=now + timedelta(hours=24), first_resolve_by=now + timedelta(days=7),
                respond_by=now + timedelta(hours=24), resolve_by=now + timedelta(days=7), claim_by=None,
                evaluate_by=None, respond_remind_at=now + timedelta(hours=19),
                resolve_remind_at=now + timedelta(days=5), claim_remind_at=None, evaluate_remind_at=None,
                updated_at=now, version=1, **place)).inserted_primary_key[0]
            outbox_id, route_message = self._outbox(conn, "route_request", {"request_id": request_id, "round": 1},
                                                    now)
            self._event(conn, request_id, "submit", None, "submitted", resident, "resident",
                        {"channel": "report", "category": CATEGORY, "photo_ids": []}, now)
        with begin() as conn:  # 2 relay
            self._sent(conn, outbox_id, utcnow())
        now = utcnow()
        with begin() as conn:  # 3 route
            self._processed(conn, route_message, "route_request", now)
            self._request(conn, request_id, status="community", route="community", updated_at=now)
            self._event(conn, request_id, "route_to_community", "submitted", "community", None, "router",
                        {"route": "community", "rule": f"category_default:{CATEGORY}", "rule_id": None}, now)
        now = utcnow()
        with begin() as conn:  # 4 publish_task
            self._request(conn, request_id, status="open_task", route="open_task", published_at=now,
                          claim_by=now + timedelta(hours=12), claim_remind_at=now + timedelta(hours=9, minutes=36),
                          responded_at=now, updated_at=now)
            self._event(conn, request_id, "publish_task", "community", "open_task", staff, "staff",
                        {"route": "open_task"}, now)
        now = utcnow()
        with begin() as conn:  # 5 claim
            claim_id = conn.execute(insert(self.claims).values(
                request_id=request_id, member_id=member_id, round=1, status="active", claimed_at=now, result="",
                hours=None, reported_at=None, send_back_count=0, appraisal=None,
                ended_at=None)).inserted_primary_key[0]
            self._request(conn, request_id, status="claimed", claim_by=None, claim_remind_at=None, updated_at=now)
            self._event(conn, request_id, "claim", "open_task", "claimed", member, "member",
                        {"claim_id": claim_id, "member_id": member_id}, now)
        now = utcnow()
        with begin() as conn:  # 6 report_result
            conn.execute(update(self.claims).where(self.claims.c.id == claim_id).values(
                status="reported", result="更换了楼道灯泡", hours=Decimal("1.5"), reported_at=now))
            self._request(conn, request_id, status="verifying", updated_at=now)
            self._event(conn, request_id, "report_result", "claimed", "verifying", member, "member",
                        {"claim_id": claim_id, "hours": "1.5", "photo_ids": []}, now)
        now = utcnow()
        with begin() as conn:  # 7 verify
            conn.execute(update(self.claims).where(self.claims.c.id == claim_id).values(
                status="verified", appraisal=5, ended_at=now))
            conn.execute(insert(self.hours).values(
                member_id=member_id, request_id=request_id, claim_id=claim_id, round=1, hours=Decimal("1.5"),
                appraisal=5, created_at=now, **place, **self._dated(now)))
            conn.execute(insert(self.points).values(
                member_id=member_id, request_id=request_id, reason="task_verified", points=5, policy_version=1,
                source_key=f"verified:{claim_id}", created_at=now, **place, **self._dated(now)))
            self._request(conn, request_id, status="resolved", result="更换了楼道灯泡", resolved_at=now,
                          evaluate_by=now + timedelta(days=9), evaluate_remind_at=now + timedelta(days=7),
                          updated_at=now)
            self._event(conn, request_id, "verify", "verifying", "resolved", staff, "staff",
                        {"claim_id": claim_id, "member_id": member_id, "appraisal": 5}, now)
        now = utcnow()
        with begin() as conn:  # 8 evaluate
            evaluation_id = conn.execute(insert(self.evaluations).values(
                request_id=request_id, round=1, evaluator_id=resident, evaluator_role="resident",
                satisfaction="satisfied", solved=True, comment="", decisive=True,
                created_at=now)).inserted_primary_key[0]
            conn.execute(insert(self.points).values(
                member_id=member_id, request_id=request_id, reason="resident_satisfied", points=3, policy_version=1,
                source_key=f"satisfied:{request_id}:1", created_at=now, **place, **self._dated(now)))
            outbox_id, outcome_message = self._outbox(conn, "record_outcome", {"request_id": request_id}, now)
            self._request(conn, request_id, status="closed", closed_at=now, updated_at=now)
            self._event(conn, request_id, "evaluate", "resolved", "closed", resident, "resident",
                        {"evaluation_id": evaluation_id, "satisfaction": "satisfied", "solved": True, "round": 1},
                        now)
        closed = now
        with begin() as conn:  # 9 relay
            self._sent(conn, outbox_id, utcnow())
        now = utcnow()
        with begin() as conn:  # 10 outcome
            self._processed(conn, outcome_message, "record_outcome", now)
            day = local_date(closed, self.zone)
            conn.execute(insert(self.outcomes).values(
                request_id=request_id, period_month=period_month(day), period_19=period_19(day), grid_id=ids["grid"],
                building_id=ids["building"], category_id=ids["category"], channel="report", route="open_task",
                handler_id=staff, member_id=member_id, responded_in_time=True, resolved_in_time=True,
                evaluated=True, solved=True, satisfaction="satisfied", verdicts=1, verdicts_solved=1,
                verdicts_satisfied=1, verdicts_basically=0, appraisal=5, hours=Decimal("1.5"),
                reopen_count=0, closed_by="evaluate", closed_at=closed, recorded_at=now, **place))


# --- checking that the floor writes what the workflow writes --------------------------------------

_INSERT = re.compile(r'^\s*INSERT INTO "?(\w+)"?\s*\(([^)]*)\)', re.I)
_UPDATE = re.compile(r"^\s*UPDATE \"?(\w+)\"? SET (.*?) WHERE ", re.I | re.S)


class Recorder:
    """The write shape of each committed transaction on ``engine``: a set of (table, op, columns),
    with the UPDATEs of one table in one transaction merged (the ORM may flush a row twice)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.transactions: list[set] = []
        self._current: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._inserts: list[tuple[str, frozenset]] = []

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if match := _INSERT.match(statement):
            columns = frozenset(c.strip().strip('"') for c in match.group(2).split(","))
            self._inserts.append((match.group(1), columns))
        elif match := _UPDATE.match(statement):
            self._current[(match.group(1), "update")] |= set(re.findall(r"(\w+)\s*=", match.group(2)))

    def _commit(self, conn):
        shape = {(table, "insert", columns) for table, columns in self._inserts}
        shape |= {(table, op, frozenset(columns)) for (table, op), columns in self._current.items()}
        # A pass that wrote nothing (a read-only unit of work) is not a transaction of the loop.
        if shape:
            self.transactions.append(shape)
        self._current.clear()
        self._inserts.clear()

    def __enter__(self) -> Recorder:
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)


def write_shape(engine: Engine, loop) -> list[set]:
    with Recorder(engine) as recorder:
        loop()
    return recorder.transactions


def describe(shape: list[set]) -> list[list[str]]:
    return [sorted(f"{op} {table} ({', '.join(sorted(columns))})" for table, op, columns in tx) for tx in shape]


def check_floor(engine: Engine, subject: Subject, floor: Floor) -> list[list[str]]:
    """Record one loop of each and stop the run if the floor's writes differ from the subject's."""
    mine, theirs = write_shape(engine, subject.loop), write_shape(engine, floor.loop)
    if mine != theirs:
        lines = []
        for i, (a, b) in enumerate(zip(mine, theirs, strict=False)):
            for extra in describe([a - b])[0]:
                lines.append(f"  tx {i + 1}: workflow only: {extra}")
            for extra in describe([b - a])[0]:
                lines.append(f"  tx {i + 1}: floor only:    {extra}")
        if len(mine) != len(theirs):
            lines.append(f"  workflow {len(mine)} transactions, floor {len(theirs)}")
        raise RuntimeError("lifecycle: the floor does not write what the workflow writes:\n" + "\n".join(lines))
    if len(mine) != len(STEPS):
        raise RuntimeError(f"lifecycle: a loop took {len(mine)} writing transactions, expected {len(STEPS)}")
    return describe(mine)


# --- the suite ------------------------------------------------------------------------------------

def measure(url: str, *, pairs: int, warmup: int) -> dict:
    settings = Settings(dev_mode=True, database_url=url)
    engine = make_engine(url)
    try:
        world = build_world(make_session_factory(engine), settings)
        subject, floor = Subject(engine, settings, world), Floor(engine, settings, world)
        shape = check_floor(engine, subject, floor)
        for _ in range(warmup):
            subject.loop()
            floor.loop()
        subject_times, floor_times = [], []
        for i in range(pairs):
            # Which side goes first alternates too: neither always follows the other's writes.
            for fn, times in ((subject.loop, subject_times), (floor.loop, floor_times))[::1 if i % 2 else -1]:
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
        ratios = [f / s for s, f in zip(subject_times, floor_times, strict=True)]
        return {"ratio": median(ratios), "subject": 1 / median(subject_times), "floor": 1 / median(floor_times),
                "ratio_p25": percentile(ratios, 25), "ratio_p75": percentile(ratios, 75),
                "subject_best": 1 / min(subject_times), "floor_best": 1 / min(floor_times), "pairs": pairs,
                "transactions_per_loop": len(shape), "shape": shape, "load_avg": os.getloadavg()}
    finally:
        engine.dispose()


def run(ctx: Context) -> None:
    pairs, warmup = (80, 5) if ctx.quick else (500, 30)
    for backend in ctx.backends():
        with ctx.database(backend, "lifecycle") as url:
            m = measure(url, pairs=pairs, warmup=warmup)
        detail = {k: v for k, v in m.items() if k not in ("subject", "floor", "ratio")}
        ctx.add(Result(SUITE, "loops/s, workflow / Core floor", backend, m["ratio"], "ratio",
                       target=TARGET, floor=m["floor"], detail=detail))
        ctx.add(Result(SUITE, "loops/s through the workflow", backend, m["subject"], "loops/s"))
        ctx.add(Result(SUITE, "loops/s of the Core floor", backend, m["floor"], "loops/s"))

