"""What every suite shares: the run's context, results and their targets, fresh databases, timing."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from workflow import migrate


@dataclass
class Result:
    """One measured figure. ``target`` is met when ``value op target`` holds; a figure with no
    target is shown for reading only."""

    suite: str
    name: str
    backend: str
    value: float
    unit: str
    target: float | None = None
    op: str = ">="  # ">=" (more is better: ratios, throughput) or "<=" (latency, memory)
    floor: float | None = None  # the floor's own figure, when the value is a ratio to it
    detail: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return self.value >= self.target if self.op == ">=" else self.value <= self.target


@dataclass
class Context:
    quick: bool
    workdir: Path
    pg_url: str | None = None  # PostgreSQL (sqlalchemy URL), when given
    redis_url: str | None = None
    seed: int = 1
    results: list[Result] = field(default_factory=list)
    # What one suite measured for another to read, e.g. the http suite's peak RSS for the memory suite.
    shared: dict = field(default_factory=dict)

    def backends(self) -> list[str]:
        return ["sqlite"] + (["postgresql"] if self.pg_url else [])

    def add(self, result: Result) -> Result:
        self.results.append(result)
        passed = {None: "", True: "ok", False: "MISSED"}[result.passed]
        print(f"  {result.suite:<10} {result.name:<44} {result.backend:<11} {_fmt(result.value)} {result.unit:<8} "
              f"{passed}", flush=True)
        return result

    @contextmanager
    def database(self, backend: str, name: str) -> Iterator[str]:
        """A freshly migrated, empty database of ``backend``: a new SQLite file, or the PostgreSQL
        database reset (every table dropped) and migrated."""
        if backend == "sqlite":
            path = self.workdir / f"{name}.db"
            path.unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        else:
            url = self.pg_url
            reset_postgresql(url)
        migrate.upgrade(url)
        yield url


def reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _fmt(value: float) -> str:
    return f"{value:>12.3f}" if abs(value) < 1000 else f"{value:>12.0f}"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(n: int, fn: Callable[[], object]) -> float:
    """The fastest of ``n`` runs: the least disturbed by the machine's other work."""
    return min(timed(fn) for _ in range(n))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict:
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}


def table(results: list[Result]) -> str:
    lines = ["| suite | figure | backend | value | unit | target | |", "|---|---|---|---:|---|---|---|"]
    for r in results:
        target = "" if r.target is None else f"{r.op} {r.target:g}"
        mark = {None: "", True: "ok", False: "**missed**"}[r.passed]
        lines.append(f"| {r.suite} | {r.name} | {r.backend} | {_fmt(r.value).strip()} | {r.unit} | {target} | {mark} |")
    return "\n".join(lines)


def write_json(path: Path, ctx: Context, command: str, seconds: float) -> None:
    path.write_text(json.dumps({
        "command": command, "mode": "quick" if ctx.quick else "full", "seconds": round(seconds, 1),
        "machine": machine(), "results": [{**asdict(r), "passed": r.passed} for r in ctx.results],
    }, indent=2, ensure_ascii=False))
