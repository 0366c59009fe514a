"""The command line as a newcomer and an operator use it: real processes, real ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from handlers.runtime import Runtime
from workflow.demo import OPEN311_KEY, PASSWORD

from .conftest import _free_port, build_world
from .helpers import get, submit, wait_for

CLI = Path(sys.executable).with_name("shoubanping")
ALL_STATES = {"submitted", "community", "street", "open_task", "claimed", "verifying", "resolved", "closed",
              "rejected", "merged"}


def _env(**settings: str) -> dict[str, str]:
    """The caller's environment without any SHOUBANPING_* setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUBANPING_")}
    env.update({f"SHOUBANPING_{k.upper()}": v for k, v in settings.items()})
    return env


def _run(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    assert CLI.exists(), f"the console script is not installed at {CLI}"
    return subprocess.run([str(CLI), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["db"], ["db", "upgrade"], ["demo"],
                                     ["create-account"], ["scheduler"]])
def test_help_on_every_command(command, tmp_path):
    result = _run(*command, "--help", env=_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage: shoubanping" in result.stdout


def test_serve_refuses_the_built_in_secret_outside_dev_mode(tmp_path):
    result = _run("serve", env=_env(), cwd=tmp_path)
    assert result.returncode != 0
    assert "SHOUBANPING_SECRET_KEY" in result.stderr


def test_demo_seeds_every_state_once(db_url, tmp_path):
    env = _env(database_url=db_url, dev_mode="1")
    assert _run("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    first = _run("demo", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert PASSWORD in first.stdout and "member01" in first.stdout
    engine = create_engine(db_url)
    demo = "JOIN communities c ON c.id = r.community_id JOIN streets s ON s.id = c.street_id WHERE s.code = 'DEMO'"
    with engine.connect() as conn:
        states = set(conn.execute(text(f"SELECT DISTINCT r.status FROM requests r {demo}")).scalars())
        members = dict(conn.execute(text(
            "SELECT m.kind, count(DISTINCT r.member_id) FROM registrations r JOIN members m ON m.id = r.member_id "
            + demo + " GROUP BY m.kind")).all())
        # The demo's volunteer whose verified task is in their time bank, less the service it paid for.
        bank = conn.execute(text(
            "SELECT (SELECT sum(hours) FROM hours_entries h WHERE h.member_id = m.id), "
            "(SELECT sum(hours) FROM time_bank_entries t WHERE t.member_id = m.id) FROM members m "
            "JOIN accounts a ON a.id = m.account_id WHERE a.username = 'volunteer1'")).one()
        communities = conn.execute(text("SELECT count(*) FROM communities c JOIN streets s ON s.id = c.street_id "
                                        "WHERE s.code = 'DEMO'")).scalar()
        # The simulated streets beside it: six months of closed requests, each month's outcomes.
        history = dict(conn.execute(text("SELECT s.code, count(DISTINCT o.period_month) FROM outcomes o "
                                         "JOIN streets s ON s.id = o.street_id GROUP BY s.code")).all())
        # The demo street's planned collection: households paired on every building, six months of visits.
        collection = conn.execute(text(
            "SELECT count(DISTINCT h.building_id), count(DISTINCT p.household_id), count(DISTINCT v.id) "
            "FROM households h JOIN communities c ON c.id = h.community_id JOIN streets s ON s.id = c.street_id "
            "LEFT JOIN household_pairings p ON p.household_id = h.id LEFT JOIN visits v ON v.household_id = h.id "
            "WHERE s.code = 'DEMO'")).one()
        visit_months = {str(d)[:7] for d in conn.execute(text("SELECT local_date FROM visits")).scalars()}
        centers = conn.execute(text("SELECT count(*) FROM center_households WHERE ends_on IS NULL")).scalar()
        # Last month published for the demo street (the public board's figures), counted from its requests.
        published = conn.execute(text(
            "SELECT u.received FROM score_runs r JOIN unit_scores u ON u.run_id = r.id JOIN streets s "
            "ON s.id = r.scope_id WHERE r.status = 'published' AND r.scope_kind = 'street' AND s.code = 'DEMO' "
            "AND u.unit_kind = 'street' AND u.unit_id = s.id")).scalars().all()
    engine.dispose()
    assert states == ALL_STATES  # the demo street alone shows every state
    assert (members, communities) == ({"party": 20, "volunteer": 2}, 2)
    assert [float(h) for h in bank] == [3.0, -1.0]
    assert "volunteer1" in first.stdout
    assert history["S001"] >= 6 and history["S002"] >= 6 and history["DEMO"] >= 6  # a point in every month
    buildings, paired, visits = collection
    assert buildings == 10 and paired == 80 and visits > 500
    assert len(visit_months) >= 6
    assert centers == 10  # a 党员中心户 on every building of the demo street
    assert len(published) == 1 and published[0] >= 20  # about four requests a week in each community
    again = _run("demo", env=env, cwd=tmp_path)
    assert again.returncode != 0 and "already holds data" in again.stderr


def test_serve_demo_is_ready_for_a_newcomer(tmp_path):
    """`shoubanping serve --demo` on a fresh machine: embedded defaults, nothing configured."""
    port = _free_port()
    process = subprocess.Popen([str(CLI), "serve", "--demo", "--port", str(port)], env=_env(), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read()
                return False

        wait_for(up, timeout=90, interval=0.3, what="serve --demo to answer")
        with httpx.Client(base_url=base, timeout=10) as client:
            token = client.post("/api/v1/auth/login",
                                json={"username": "resident4", "password": PASSWORD}).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            mine = client.get("/api/v1/requests/mine", headers=auth).json()
            assert {"resolved", "submitted", "community"} & {r["status"] for r in mine}
            # The embedded worker routes the request the demo left waiting.
            wait_for(lambda: all(r["status"] != "submitted"
                                 for r in client.get("/api/v1/requests/mine", headers=auth).json()),
                     timeout=30, what="the embedded worker to route the demo's new request")
            # The printed Open311 key files a street light at a demo building's coordinates.
            filed = client.post("/open311/v2/requests.json", data={
                "api_key": OPEN311_KEY, "jurisdiction_id": "DEMO", "service_code": "facilities.streetlight",
                "lat": "39.912", "long": "116.36", "attribute[lamps_out]": "1", "attribute[hazard]": "none"})
            assert filed.status_code == 201, filed.text
            [receipt] = filed.json()
            assert "和平社区" in receipt["service_notice"]
            # A simulated street's secretary, same password, finds last month ranked.
            token = client.post("/api/v1/auth/login",
                                json={"username": "s001.secretary", "password": PASSWORD}).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            street = client.get("/api/v1/me", headers=auth).json()["street_id"]
            last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
            ranking = client.get(f"/api/v1/scores/{last_month}/rankings/street/{street}", headers=auth)
            assert ranking.status_code == 200 and len(ranking.json()["ranked"]) >= 10, ranking.text
            health = client.get("/healthz").json()
            assert health["broker"].startswith("embedded")
            wait_for(lambda: client.get("/healthz").json()["outbox_pending"] == 0, timeout=30,
                     what="the outbox to drain")
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "resident1" in output and PASSWORD in output  # the demo accounts were printed
    assert f"api_key) of the demo client 示范客户端: {OPEN311_KEY}" in output
    assert (tmp_path / "shoubanping-demo.db").exists()


def test_worker_process(settings, tmp_path):
    """On Redis, `shoubanping worker` is a separate process that consumes what `serve` publishes.
    Without a Redis URL it refuses, since `serve` runs the worker itself."""
    if not settings.redis_url:
        result = _run("worker", env=_env(database_url=settings.database_url, dev_mode="1"), cwd=tmp_path)
        assert result.returncode != 0 and "SHOUBANPING_REDIS_URL is not set" in result.stderr
        return
    env = _env(database_url=settings.database_url, redis_url=settings.redis_url,
               redis_namespace=settings.redis_namespace, dev_mode="1")
    worker = subprocess.Popen([str(CLI), "worker", "--threads", "2"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    runtime = Runtime(settings, worker=False).start()  # serve's side: relay only, no worker
    try:
        world = build_world(runtime)
        with TestClient(create_app(settings, runtime)) as client:
            rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
            wait_for(lambda: get(client, world, "resident_a", f"/requests/{rid}")["status"] == "community",
                     timeout=30, what="the worker process to route the request")
    finally:
        runtime.stop()
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "worker running" in output and "worker stopped" in output


def test_an_operator_keeps_the_register_of_households(db_url, world, tmp_path):
    env = _env(database_url=db_url, dev_mode="1")
    added = _run("household", "add", "--community", "A", "--building", "1号楼", "--code", "A-1-101", "--door",
                 "1单元101", "--tag", "needy", "--contact-name", "王阿姨", "--contact-phone", "13800001234",
                 env=env, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "added household" in added.stdout
    paired = _run("household", "pair", "--community", "A", "--code", "A-1-101", "--member", "member_1", env=env,
                  cwd=tmp_path)
    assert paired.returncode == 0, paired.stderr
    listed = _run("household", "list", "--community", "A", env=env, cwd=tmp_path)
    assert listed.returncode == 0 and "A-1-101\t1号楼\t1单元101\tneedy\t王** 138****1234" in listed.stdout
    again = _run("household", "add", "--community", "A", "--building", "1号楼", "--code", "A-1-101", "--door",
                 "1单元102", env=env, cwd=tmp_path)
    assert again.returncode != 0 and "household_code_taken" in again.stderr
    unknown = _run("household", "pair", "--community", "A", "--code", "A-1-101", "--member", "member_c", env=env,
                   cwd=tmp_path)
    assert unknown.returncode != 0 and "not_registered" in unknown.stderr
    center = _run("household", "center", "--community", "A", "--building", "1号楼", "--member", "member_1",
                  env=env, cwd=tmp_path)
    assert center.returncode == 0 and "center household of A 1号楼" in center.stdout, center.stderr
    twice = _run("household", "center", "--community", "A", "--building", "1号楼", "--member", "member_1",
                 env=env, cwd=tmp_path)
    assert twice.returncode != 0 and "already_center_household" in twice.stderr
