"""Test fixtures on real parts.

By default the suite runs on SQLite and the embedded broker (StubBroker with a real dramatiq worker
thread). With SHOUBANPING_TEST_DATABASE_URL and SHOUBANPING_TEST_REDIS_URL set it runs the same
tests on PostgreSQL and Redis, with a dramatiq worker consuming from Redis. A service that is named
but does not answer fails the run loudly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date

import pytest
import redis
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text

from api.app import create_app
from handlers.broker import clear_namespace
from handlers.runtime import Runtime
from workflow import migrate
from workflow.access import Actor
from workflow.commands import accounts, members
from workflow.db import unit_of_work
from workflow.models import Base, Building, Community, Grid, Role, ScoringPolicy, Street, Unit
from workflow.scoring.policy import DEFAULT_RULES
from workflow.settings import Settings

TEST_DB = os.environ.get("SHOUBANPING_TEST_DATABASE_URL")
TEST_REDIS = os.environ.get("SHOUBANPING_TEST_REDIS_URL")
PASSWORD = "correct-horse-battery"
_HASH = accounts.hash_password(PASSWORD)

# Tables emptied between tests on PostgreSQL; the seeded taxonomy and calendar stay.
KEEP = {"categories", "calendar_days", "alembic_version"}


def pytest_report_header(config):
    return [f"shoubanping backends: database={'postgresql' if TEST_DB else 'sqlite'}, "
            f"broker={'redis' if TEST_REDIS else 'embedded StubBroker'}"]


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """A migrated database: a template SQLite file copied per test, or PostgreSQL reset once."""
    if TEST_DB:
        engine = create_engine(TEST_DB)
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        except Exception as exc:  # noqa: BLE001 - any failure to reach the named service is fatal
            pytest.exit(f"SHOUBANPING_TEST_DATABASE_URL={TEST_DB} is set but PostgreSQL failed: {exc}", returncode=3)
        finally:
            engine.dispose()
        migrate.upgrade(TEST_DB)
        return {"kind": "postgresql", "url": TEST_DB}
    template = tmp_path_factory.mktemp("db") / "template.db"
    migrate.upgrade(f"sqlite:///{template}")
    return {"kind": "sqlite", "template": template}


@pytest.fixture(scope="session")
def redis_url():
    if not TEST_REDIS:
        return None
    try:
        redis.Redis.from_url(TEST_REDIS, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.exit(f"SHOUBANPING_TEST_REDIS_URL={TEST_REDIS} is set but Redis failed: {exc}", returncode=3)
    return TEST_REDIS


@contextlib.contextmanager
def database_for(database, directory):
    """A database URL for one test (or one module's tests): a copy of the SQLite template in
    ``directory``, or the PostgreSQL database, emptied afterwards."""
    if database["kind"] == "sqlite":
        path = directory / "shoubanping.db"
        shutil.copyfile(database["template"], path)
        yield f"sqlite:///{path}"
        return
    yield database["url"]
    reset_postgres(database["url"])


def reset_postgres(url: str) -> None:
    """Empty the tables a test wrote (the seeded taxonomy and calendar stay)."""
    engine = create_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        # The seeded scoring policy went with the accounts it may reference; put version 1 back.
        conn.execute(insert(ScoringPolicy), [{"version": 1, "effective_from": date(2000, 1, 1),
                                              "rules": DEFAULT_RULES.model_dump(mode="json"),
                                              "note": "Defaults of DESIGN.md §5"}])
    engine.dispose()


@pytest.fixture
def db_url(database, tmp_path):
    with database_for(database, tmp_path) as url:
        yield url


def make_settings(db_url: str, redis_url: str | None, directory) -> Settings:
    return Settings(
        dev_mode=True,
        database_url=db_url,
        redis_url=redis_url,
        redis_namespace=f"sbp-test-{uuid.uuid4().hex[:8]}",
        media_dir=str(directory / "media"),
        relay_interval_seconds=0.2,
        worker_threads=4,
    )


@contextlib.contextmanager
def running(settings: Settings):
    """A started runtime with its worker; its Redis keys are cleared after."""
    rt = Runtime(settings, worker=True).start()
    try:
        yield rt
    finally:
        rt.stop()
        if settings.redis_url:
            clear_namespace(settings.redis_url, settings.redis_namespace)


@pytest.fixture
def settings(db_url, redis_url, tmp_path) -> Settings:
    return make_settings(db_url, redis_url, tmp_path)


@pytest.fixture
def runtime(settings):
    with running(settings) as rt:
        yield rt


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime.settings, runtime)) as c:
        yield c


@pytest.fixture
def receiver():
    """A webhook receiver on loopback (tests/test_webhooks.py's Receiver), for the webhook and fault tests."""
    from tests.test_webhooks import Receiver

    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def browser_factory(runtime, world):
    """Logged-out page browsers (tests/web/conftest.py's Browser) on one app, one per person acting
    at once; shared by the page tests and the Open311 admin tests."""
    from tests.web.conftest import Browser

    app = create_app(runtime.settings, runtime)
    clients = []

    def make() -> Browser:
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        return Browser(client)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@dataclass
class World:
    """A small city: street 1 with communities A and B, street 2 with community C."""

    runtime: Runtime
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)

    def token(self, username: str) -> str:
        return self.tokens[username]

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}", **extra}


PEOPLE = [
    # username, role, community, street, unit
    ("resident_a", Role.resident, "A", None, None),
    ("resident_b", Role.resident, "A", None, None),
    ("staff_a", Role.staff, "A", None, None),
    ("staff_b", Role.staff, "B", None, None),
    ("officer_1", Role.street_officer, None, "S1", None),
    ("officer_2", Role.street_officer, None, "S2", None),
    ("secretary_a", Role.secretary, "A", None, None),
    ("member_1", Role.member, None, None, "U1"),
    ("member_2", Role.member, None, None, "U2"),
    ("member_c", Role.member, None, None, "U1"),
    ("admin", Role.admin, None, None, None),
]
REGISTRATIONS = {"member_1": ["A"], "member_2": ["A"], "member_c": ["C"]}


def build_world(runtime: Runtime) -> World:
    world = World(runtime)
    with unit_of_work(runtime.sessions) as session:
        streets = {code: Street(code=code, name=f"街道{code}") for code in ("S1", "S2")}
        session.add_all(streets.values())
        session.flush()
        communities = {
            code: Community(street_id=streets[st].id, code=code, name=f"社区{code}")
            for code, st in (("A", "S1"), ("B", "S1"), ("C", "S2"))
        }
        session.add_all(communities.values())
        session.flush()
        for code, c in communities.items():
            grid = Grid(community_id=c.id, name="一网格")
            session.add(grid)
            session.flush()
            building = Building(community_id=c.id, grid_id=grid.id, name="1号楼", address=f"社区{code}1号楼")
            session.add(building)
            session.flush()
            world.ids.update({f"community_{code}": c.id, f"grid_{code}": grid.id, f"building_{code}": building.id})
        world.ids.update({f"street_{k}": v.id for k, v in streets.items()})
        units = {"U1": Unit(name="区税务局"), "U2": Unit(name="市第一医院")}
        session.add_all(units.values())
        session.flush()
        for username, role, community, street, unit in PEOPLE:
            account = accounts.create_account(
                session, username=username, password="", password_hash=_HASH, display_name=username, role=role,
                community_id=communities[community].id if community else None,
                street_id=streets[street].id if street else None,
                unit_id=units[unit].id if unit else None,
            )
            actor = Actor.of(session, account)
            for code in REGISTRATIONS.get(username, []):
                members.register(session, actor, communities[code].id)
            world.actors[username] = actor
            world.ids[username] = account.id
            world.tokens[username], _ = accounts.issue_token(session, runtime.settings, account)
    return world


@pytest.fixture
def world(runtime) -> World:
    return build_world(runtime)


def make_member(
    runtime: Runtime, username: str, communities: list[int], unit_name: str = "区税务局"
) -> tuple[Actor, str]:
    """A further member registered with ``communities``; returns the actor and a token."""
    from sqlalchemy import select

    with unit_of_work(runtime.sessions) as session:
        unit = session.scalar(select(Unit).where(Unit.name == unit_name))
        account = accounts.create_account(session, username=username, password="", password_hash=_HASH,
                                          display_name=username, role=Role.member, unit_id=unit.id)
        actor = Actor.of(session, account)
        for cid in communities:
            members.register(session, actor, cid)
        token, _ = accounts.issue_token(session, runtime.settings, account)
    return actor, token


# --- a real HTTP server, for tests that need many clients at once -----------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(runtime):
    port = _free_port()
    config = uvicorn.Config(create_app(runtime.settings, runtime), host="127.0.0.1", port=port,
                            log_level="warning", limit_concurrency=200)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
