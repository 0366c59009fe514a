"""http: the JSON API under load, through uvicorn with 2 worker processes, against a bare FastAPI app.

Subject: the real app (``uvicorn api.asgi:create --factory --workers 2``) on a freshly migrated
database seeded with a street, four communities, staff, a resident and a member with login tokens,
and 80 open tasks (60 on the member's community's board), all made through the workflow commands.
On SQLite it runs embedded (each worker process has its own in-process dramatiq worker and relay);
on PostgreSQL, when a Redis URL is given, it publishes to Redis and a ``shoubanping worker``
process consumes, as in production. Endpoints:

- submit: ``POST /api/v1/requests`` as the resident (a noise complaint, JSON); the request is then
  routed in the background, which is part of the product's work and so of its figures: the
  product's CPU per request counts the API workers and (with Redis) the worker process until every
  submission of the round is routed, and on SQLite the routing transactions take the same write
  lock the submissions wait for.
- task board: ``GET /api/v1/tasks`` as the member (the first page of 50 open tasks).

Floor: ``bench/bare_app.py`` under the same uvicorn settings (2 workers, same engine settings) over
the same database. Submit: what a submission writes, in the same transactions as the product, the
plainest way, after a pydantic check of the same body: the request row (the columns intake writes),
its ``submit`` event row and its outbox row (the routing message) in one transaction; then, after
answering, in a FastAPI background task, the relay's update of the outbox row and the routing
transaction (processed message, the request moved to its community, the routing event). The rule is
the lifecycle suite's, the same rows in the same transactions: the product may not store a request
without its history or without the message that routes it, and it routes every submission, so a
floor of one INSERT into ``requests`` would compare the product with an endpoint that breaks its
promises and does half the work. The floor's outbox row is stored as sent, so the product's relay
does not publish it: only the floor routes the floor's requests. Board: one SELECT of the
community's open tasks (limit 50). No login, no permissions, no queue, no response beyond the new id
or the rows.

Load: ``bench/loadgen.py`` in this process on loopback. Peak: closed loop, ``CONCURRENCY``
keep-alive connections, floor and product in interleaved rounds (quick: 6 rounds of 0.8 s; full: 3
of 5 s), the best round of each; on PostgreSQL the seeded tables are analysed first, as autovacuum
would. Figures per endpoint and backend: product requests/s; its ratio to
the floor (target >= 0.5); the server processes' CPU time per answered request, product (background
routing included) and floor, which says where the time goes with less noise than throughput on a
shared machine; p50 and p99 latency in an open loop at half the product's peak (half its median
round; constant arrival rate, quick 3 s, full 10 s; p99 target 100 ms); errors (non-2xx answers
and failures over every run of both apps; target 0).

After the runs a few logins at once (argon2 takes memory for every password it checks), then the
peak RSS of every process (API workers, the Redis worker) is left in ``ctx.shared["memory"]`` for
the memory suite.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from . import loadgen
from .core import Context, Result, median, percentile

REPO = Path(__file__).resolve().parent.parent
SECRET = "shoubanping-bench-secret-key"
CONCURRENCY = 16
WORKERS = 2
BOARD_COMMUNITY_TASKS = 60
OTHER_TASKS = 20
PASSWORD = "bench-password-0"
NOISE = "楼上装修晚上十点以后还在施工，影响休息。"


# --- the world --------------------------------------------------------------------------------

@dataclass
class World:
    url: str
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def settings_for(url: str, workdir: Path, redis_url: str | None = None, namespace: str = "shoubanping"):
    from workflow.settings import Settings

    return Settings(database_url=url, redis_url=redis_url, redis_namespace=namespace, secret_key=SECRET,
                    media_dir=str(workdir / "media"), relay_interval_seconds=0.2)


def seed(url: str, workdir: Path) -> World:
    """A street with four communities; resident_a and staff in community A, a member registered
    with A; 60 open tasks in A and 20 in B, each submitted, routed by the worker and published by
    staff through the workflow commands."""
    from handlers.runtime import Runtime
    from workflow.access import Actor
    from workflow.commands import accounts, handling, intake, members
    from workflow.db import unit_of_work
    from workflow.models import Building, Community, Grid, Role, Street, Unit

    world = World(url)
    runtime = Runtime(settings_for(url, workdir), worker=True).start()
    settings = runtime.settings
    try:
        password_hash = accounts.hash_password(PASSWORD)
        actors: dict[str, Actor] = {}
        with unit_of_work(runtime.sessions) as session:
            street = Street(code="B1", name="基准街道")
            session.add(street)
            session.flush()
            world.ids["street"] = street.id
            for code in "ABCD":
                community = Community(street_id=street.id, code=f"B1{code}", name=f"基准社区{code}")
                session.add(community)
                session.flush()
                grid = Grid(community_id=community.id, name="一网格")
                session.add(grid)
                session.flush()
                session.add(Building(community_id=community.id, grid_id=grid.id, name="1号楼", address="1号楼"))
                world.ids[f"community_{code}"] = community.id
            unit = Unit(name="基准单位")
            session.add(unit)
            session.flush()
            people = [("resident_a", Role.resident, "A"), ("resident_b", Role.resident, "A"),
                      ("staff_a", Role.staff, "A"), ("staff_b", Role.staff, "B"), ("member_1", Role.member, None)]
            for username, role, community in people:
                account = accounts.create_account(
                    session, username=username, password="", password_hash=password_hash, display_name=username,
                    role=role, community_id=world.ids[f"community_{community}"] if community else None,
                    unit_id=unit.id if role == Role.member else None)
                actors[username] = Actor.of(session, account)
                world.ids[username] = account.id
                world.tokens[username], _ = accounts.issue_token(session, settings, account)
            members.register(session, actors["member_1"], world.ids["community_A"])
            submitted: list[tuple[int, str]] = []
            for i in range(BOARD_COMMUNITY_TASKS + OTHER_TASKS):
                code = "A" if i < BOARD_COMMUNITY_TASKS else "B"
                request = intake.submit(session, actors["resident_a"], intake.Submission(
                    channel="report", category="disputes.noise", description=f"{NOISE}（{i}）",
                    community_id=world.ids[f"community_{code}"]), timezone=settings.timezone)
                submitted.append((request.id, code))
        runtime.drain()
        with unit_of_work(runtime.sessions) as session:
            for request_id, code in submitted:
                handling.fire(session, settings, actors[f"staff_{code.lower()}"], request_id, "publish_task", {})
        runtime.drain()
        if url.startswith("postgresql"):
            with unit_of_work(runtime.sessions) as session:
                # The planner's statistics of the fresh tables, as autovacuum would gather them; without
                # them the first rounds may run on default estimates and autovacuum may analyse mid-run.
                session.execute(text("ANALYZE"))
    finally:
        runtime.stop()
    return world


def waiting_submissions(url: str, account_id: int) -> int:
    """The product's submissions not routed yet (the floor's rows are by another account)."""
    from workflow.db import make_engine
    from workflow.models import Request, Status

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Request).where(
                Request.status == Status.submitted, Request.collector_id == account_id)) or 0
    finally:
        engine.dispose()


# --- processes --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of a process, in kB (empty when it is gone)."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


class Process:
    """A child process of this run, its output in a log file; stopped with SIGTERM (then SIGKILL
    of its own process group)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self.handle = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.handle.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def check(self) -> None:
        if self.handle.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.handle.returncode}:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        if self.handle.poll() is None:
            self.handle.send_signal(signal.SIGTERM)
            try:
                self.handle.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.handle.pid, signal.SIGKILL)
                self.handle.wait(5)


class Uvicorn(Process):
    """``uvicorn FACTORY --factory --workers N`` on a free loopback port."""

    def __init__(self, name: str, factory: str, env: dict[str, str], log: Path, workers: int = WORKERS) -> None:
        self.port = free_port()
        self.workers = workers
        super().__init__(name, [sys.executable, "-m", "uvicorn", factory, "--factory", "--workers", str(workers),
                                "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "info",
                                "--no-access-log"], env, log)

    def wait_ready(self, timeout: float = 90) -> None:
        ready = loadgen.wait_until(
            lambda: self.handle.poll() is not None
            or self.output().count("Application startup complete") >= self.workers, timeout, 0.1)
        self.check()
        if not ready:
            raise RuntimeError(f"{self.name} did not start in {timeout:.0f} s:\n{self.output()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The worker processes (uvicorn's spawn children, not multiprocessing's resource tracker)."""
        pids = []
        for pid in _children(self.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in cmdline:
                pids.append(pid)
        return pids


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOUBANPING_", "BENCH_BARE_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(extra)
    return env


class Deployment:
    """The product (uvicorn, 2 workers; plus ``shoubanping worker`` with Redis) and, unless
    ``bare=False``, the floor app, on one database."""

    def __init__(self, ctx: Context, world: World, label: str, *, redis_url: str | None, bare: bool = True):
        self.ctx, self.world, self.redis_url = ctx, world, redis_url
        self.namespace = f"sbp-bench-{uuid.uuid4().hex[:8]}"
        logs = ctx.workdir / "logs"
        logs.mkdir(exist_ok=True)
        env = base_env(SHOUBANPING_DATABASE_URL=world.url, SHOUBANPING_SECRET_KEY=SECRET,
                       SHOUBANPING_MEDIA_DIR=str(ctx.workdir / "media"), SHOUBANPING_REDIS_NAMESPACE=self.namespace)
        if redis_url:
            env["SHOUBANPING_REDIS_URL"] = redis_url
        self.processes: list[Process] = []
        try:
            self.product = self._add(Uvicorn(f"product ({label})", "api.asgi:create", env,
                                             logs / f"{label}-product.log"))
            self.worker = None
            if redis_url:
                self.worker = self._add(Process(f"worker ({label})", [sys.executable, "-m", "api.cli", "worker",
                                                                     "--log-level", "warning"],
                                                env, logs / f"{label}-worker.log"))
            self.bare = None
            if bare:
                self.bare = self._add(Uvicorn(f"bare app ({label})", "bench.bare_app:create", base_env(
                    BENCH_BARE_DATABASE_URL=world.url, BENCH_BARE_ACCOUNT=str(world.ids["resident_b"]),
                    BENCH_BARE_COMMUNITY=str(world.ids["community_A"])), logs / f"{label}-bare.log"))
            self.product.wait_ready()
            if self.bare is not None:
                self.bare.wait_ready()
            if self.worker is not None:
                time.sleep(0.5)
                self.worker.check()
        except BaseException:
            self.stop()
            raise

    def _add(self, process):
        self.processes.append(process)
        return process

    def product_pids(self) -> list[int]:
        return self.product.worker_pids() + ([self.worker.pid] if self.worker else [])

    def memory(self) -> dict:
        """Peak RSS (VmHWM) in MB of the API worker processes and of the worker process."""
        def mb(pid: int) -> float:
            return proc_status(pid).get("VmHWM", 0) / 1024

        return {"api": [mb(p) for p in self.product.worker_pids()],
                "worker": mb(self.worker.pid) if self.worker else None,
                "bare": [mb(p) for p in self.bare.worker_pids()] if self.bare else [],
                "broker": "redis" if self.redis_url else "embedded"}

    def rss(self) -> dict:
        """Current RSS in MB, for the soak's samples."""
        def mb(pid: int) -> float:
            return proc_status(pid).get("VmRSS", 0) / 1024

        return {"api": [mb(p) for p in self.product.worker_pids()],
                "worker": mb(self.worker.pid) if self.worker else None}

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout``) until the product's processes have finished what they do at
        start, so that it does not count against the first measurement."""
        pids = self.product_pids() + (self.bare.worker_pids() if self.bare else [])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = cpu_seconds(pids)
            time.sleep(0.5)
            if cpu_seconds(pids) - before < 0.05:  # under a tenth of a core
                return

    def wait_routed(self, timeout: float = 120) -> float:
        """Wait until the worker has routed every product submission; returns the seconds it took."""
        started = time.perf_counter()
        if not loadgen.wait_until(lambda: waiting_submissions(self.world.url, self.world.ids["resident_a"]) == 0,
                                  timeout, 0.2):
            raise RuntimeError(f"the product's submissions were not all routed within {timeout:.0f} s")
        return time.perf_counter() - started

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self.redis_url:
            from handlers.broker import clear_namespace

            clear_namespace(self.redis_url, self.namespace)

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- the requests -----------------------------------------------------------------------------

def submit_body(world: World) -> bytes:
    return json.dumps({"channel": "report", "category": "disputes.noise", "description": NOISE,
                       "community_id": world.ids["community_A"]}, ensure_ascii=False).encode()


def product_requests(world: World) -> dict[str, list[bytes]]:
    return {
        "submit": [loadgen.request_bytes("POST", "/api/v1/requests", token=world.tokens["resident_a"],
                                         json_body=submit_body(world))],
        "board": [loadgen.request_bytes("GET", "/api/v1/tasks", token=world.tokens["member_1"])],
    }


def bare_requests(world: World) -> dict[str, list[bytes]]:
    return {"submit": [loadgen.request_bytes("POST", "/requests", json_body=submit_body(world))],
            "board": [loadgen.request_bytes("GET", "/tasks")]}


def login_burst(dep: Deployment) -> None:
    """A few logins at once, so that the processes' peak memory includes verifying passwords
    (argon2 takes its memory cost for every verification) as it does in real traffic."""
    body = json.dumps({"username": "member_1", "password": PASSWORD}).encode()
    out = loadgen.closed_loop("127.0.0.1", dep.product.port, [loadgen.request_bytes(
        "POST", "/api/v1/auth/login", json_body=body)], concurrency=4, seconds=0.5)
    if out.errors or not out.ok:
        raise RuntimeError(f"logins failed: {out.samples}")


def check_answers(world: World, dep: Deployment) -> None:
    """Before measuring: each app answers each call with 2xx and the board holds its 50 tasks."""
    for app, requests in ((dep.product, product_requests(world)), (dep.bare, bare_requests(world))):
        out = loadgen.closed_loop("127.0.0.1", app.port, requests["board"], concurrency=1, seconds=0.05)
        if out.errors or not out.ok:
            raise RuntimeError(f"{app.name}: the task board answered {out.samples}")
    page = product_board_page(dep.product.port, world)
    if len(page) != 50 or any(task["status"] != "open_task" for task in page):
        raise RuntimeError(f"the member's board shows {len(page)} tasks, expected 50 open tasks")


def product_board_page(port: int, world: World) -> list[dict]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/v1/tasks", headers={"Authorization": f"Bearer {world.tokens['member_1']}"})
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


# --- the suite --------------------------------------------------------------------------------

ENDPOINTS = {
    "board": ("task board", "GET /api/v1/tasks", "bare select"),
    "submit": ("submit", "POST /api/v1/requests", "bare submission and routing"),
}


def run(ctx: Context) -> None:
    for backend in ctx.backends():
        redis_url = ctx.redis_url if backend == "postgresql" else None
        with ctx.database(backend, "http") as url:
            started = time.perf_counter()
            world = seed(url, ctx.workdir)
            seeded = time.perf_counter() - started
            with Deployment(ctx, world, f"http-{backend}", redis_url=redis_url) as dep:
                check_answers(world, dep)
                dep.wait_idle()
                for key in ENDPOINTS:
                    measure(ctx, backend, dep, key, seeded=seeded)
                login_burst(dep)
                ctx.shared.setdefault("memory", {})[backend] = dep.memory()


def measure(ctx: Context, backend: str, dep: Deployment, key: str, *, seeded: float) -> None:
    label, route, floor_name = ENDPOINTS[key]
    world = dep.world
    rounds, seconds, warm, open_seconds = (6, 0.8, 0.5, 3.0) if ctx.quick else (3, 5.0, 1.0, 10.0)
    subject_req, floor_req = product_requests(world)[key], bare_requests(world)[key]
    port_p, port_b = dep.product.port, dep.bare.port
    errors = 0
    routed_after: list[float] = []

    def closed(port: int, requests: list[bytes], duration: float) -> loadgen.Outcome:
        """A closed-loop run; ``out.cpu_ms`` is the server's CPU per answered request (for the
        product including the background routing it caused, measured once it is done)."""
        nonlocal errors
        pids = dep.product_pids() if port == port_p else dep.bare.worker_pids()
        cpu = cpu_seconds(pids)
        out = loadgen.closed_loop("127.0.0.1", port, requests, concurrency=CONCURRENCY, seconds=duration)
        if port == port_p:
            settle()
        out.cpu_ms = (cpu_seconds(pids) - cpu) * 1000 / max(1, out.ok)
        errors += out.errors
        if out.errors:
            print(f"    errors on port {port}: {out.samples}", flush=True)
        return out

    def settle() -> None:
        if key == "submit":
            routed_after.append(dep.wait_routed())

    closed(port_b, floor_req, warm)
    closed(port_p, subject_req, warm)
    floors, subjects = [], []
    for _ in range(rounds):
        floors.append(closed(port_b, floor_req, seconds))
        subjects.append(closed(port_p, subject_req, seconds))
    floor = max(o.rps for o in floors)
    peak = max(o.rps for o in subjects)
    cpu_floor, cpu_product = min(o.cpu_ms for o in floors), min(o.cpu_ms for o in subjects)
    # Half of the median round, not of the best: a best round on a shared machine can be a lucky
    # moment, and half of it more than the server sustains a few seconds later.
    rate = max(1.0, median([o.rps for o in subjects]) / 2)
    held = loadgen.open_loop("127.0.0.1", port_p, subject_req, rate=rate, seconds=open_seconds, connections=32)
    errors += held.errors
    if held.errors:
        print(f"    errors at half peak: {held.samples}", flush=True)
    settle()
    ms = [x * 1000 for x in held.latencies]
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    common = {"route": route, "concurrency": CONCURRENCY, "workers": WORKERS, "seconds": seconds, "rounds": rounds,
              "broker": "redis" if dep.redis_url else "embedded"}
    ctx.add(Result("http", f"{label}: requests/s", backend, peak, "req/s",
                   detail={**common, "rounds_rps": [round(o.rps, 1) for o in subjects],
                           "p50_ms_at_peak": round(median([x * 1000 for x in subjects[-1].latencies]), 2),
                           "seed_seconds": round(seeded, 1)}))
    ctx.add(Result("http", f"{label}: req/s ÷ {floor_name}", backend, peak / floor if floor else 0.0, "ratio",
                   target=0.5, floor=floor,
                   detail={**common, "product_rps": round(peak, 1), "bare_rps": round(floor, 1),
                           "product_cpu_ms_per_request": round(cpu_product, 2),
                           "bare_cpu_ms_per_request": round(cpu_floor, 2),
                           "bare_rounds_rps": [round(o.rps, 1) for o in floors]}))
    detail = {**common, "rate": round(rate, 1), "open_seconds": open_seconds, "answered": len(ms),
              "p50_ms": round(p50, 2), "p90_ms": round(percentile(ms, 90), 2), "max_ms": round(max(ms, default=0), 1),
              "routing_drained_seconds": [round(x, 2) for x in routed_after]}
    ctx.add(Result("http", f"{label}: server CPU per request", backend, cpu_product, "ms", floor=cpu_floor,
                   detail={**common, "what": "user+system CPU of the API worker processes (and the worker process) "
                           "per answered request, background routing included; the best round",
                           "bare_cpu_ms": round(cpu_floor, 2)}))
    ctx.add(Result("http", f"{label}: server CPU per request, bare", backend, cpu_floor, "ms", detail=common))
    ctx.add(Result("http", f"{label}: p50 at half peak", backend, p50, "ms", detail=detail))
    ctx.add(Result("http", f"{label}: p99 at half peak", backend, p99, "ms", target=100, op="<=", detail=detail))
    ctx.add(Result("http", f"{label}: errors", backend, errors, "count", target=0, op="<=",
                   detail={"statuses_at_half_peak": dict(held.statuses)}))
