"""memory: peak RSS of the API and worker processes under load, and no growth over a soak.

Peak: the high-water mark of resident memory (``VmHWM`` in ``/proc/<pid>/status``) of each uvicorn
worker process of the API and, with Redis, of the ``shoubanping worker`` process (embedded, the
worker lives inside each API process), read at the end of the http suite's runs on each backend:
peak load and half-peak load on the task board and on submit. When the http suite did not run
(``--only memory``), a short load of its own on the same deployment: both endpoints at peak for a
few seconds. Either way a few logins at once come last, since verifying a password (argon2) takes
memory of its own. Target: under 150 MB each. There is no floor: these are absolute figures.

Soak (full run only): the product alone on a fresh database for 10 minutes at a constant 20
requests a second (one submit to four task-board reads, like a street at its busiest: Beijing's
peak is about 10 requests a second for the whole city), sampling each process's RSS (``VmRSS``)
every 10 seconds. The first third is warm-up. "No growth": the median of the last third is within
5 % of the median of the middle third, per process; the least-squares slope over the last two
thirds is given in MB per hour. It runs on each backend: SQLite embedded, and PostgreSQL (with
Redis when given, where the worker process is measured too).
"""

from __future__ import annotations

import time

from . import http, loadgen
from .core import Context, Result, median, percentile

TARGET_MB = 150
SOAK_SECONDS = 600
SOAK_RATE = 20.0
SAMPLE_EVERY = 10.0
GROWTH_TOLERANCE = 5.0  # percent


def run(ctx: Context) -> None:
    measured = ctx.shared.get("memory", {})
    for backend in ctx.backends():
        peaks = measured.get(backend)
        source = "the http suite's runs"
        if peaks is None:
            peaks = own_load(ctx, backend)
            source = "a short load of its own"
        add_peaks(ctx, backend, peaks, source)
    if ctx.quick:
        print("  memory     soak skipped in the quick run (the full run soaks 10 minutes on each backend)",
              flush=True)
        return
    for backend in ctx.backends():
        soak(ctx, backend)


def add_peaks(ctx: Context, backend: str, peaks: dict, source: str) -> None:
    detail = {"source": source, "broker": peaks["broker"], "api_workers_mb": [round(x, 1) for x in peaks["api"]],
              "bare_app_workers_mb": [round(x, 1) for x in peaks.get("bare", [])]}
    ctx.add(Result("memory", "API worker peak RSS", backend, max(peaks["api"], default=0.0), "MB",
                   target=TARGET_MB, op="<=", detail=detail))
    if peaks.get("worker") is not None:
        ctx.add(Result("memory", "worker process peak RSS", backend, peaks["worker"], "MB", target=TARGET_MB,
                       op="<=", detail=detail))


def _redis_for(ctx: Context, backend: str) -> str | None:
    return ctx.redis_url if backend == "postgresql" else None


def own_load(ctx: Context, backend: str) -> dict:
    """Both endpoints at peak for a few seconds, then the processes' high-water marks."""
    with ctx.database(backend, "memory") as url:
        world = http.seed(url, ctx.workdir)
        with http.Deployment(ctx, world, f"memory-{backend}", redis_url=_redis_for(ctx, backend), bare=False) as dep:
            for requests in http.product_requests(world).values():
                loadgen.closed_loop("127.0.0.1", dep.product.port, requests, concurrency=http.CONCURRENCY,
                                    seconds=2.0 if ctx.quick else 5.0)
            dep.wait_routed()
            http.login_burst(dep)
            return dep.memory()


def growth(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """(percent change of the last third's median over the middle third's, slope in MB/hour over
    the last two thirds) of ``(seconds, MB)`` samples."""
    third = len(samples) // 3
    middle, last = samples[third:2 * third], samples[2 * third:]
    change = (median([mb for _, mb in last]) / median([mb for _, mb in middle]) - 1) * 100
    points = samples[third:]
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / var if var else 0.0
    return change, slope * 3600


def soak(ctx: Context, backend: str) -> None:
    with ctx.database(backend, "soak") as url:
        world = http.seed(url, ctx.workdir)
        with http.Deployment(ctx, world, f"soak-{backend}", redis_url=_redis_for(ctx, backend), bare=False) as dep:
            requests = http.product_requests(world)
            mix = requests["submit"] + requests["board"] * 4
            series: dict[str, list[tuple[float, float]]] = {}
            started = time.monotonic()

            def sample() -> None:
                now = time.monotonic() - started
                rss = dep.rss()
                for i, mb in enumerate(rss["api"]):
                    series.setdefault(f"API worker {i + 1}", []).append((now, mb))
                if rss["worker"] is not None:
                    series.setdefault("worker process", []).append((now, rss["worker"]))

            print(f"  memory     soak: {SOAK_SECONDS // 60} minutes at {SOAK_RATE:g} requests/s on {backend} ...",
                  flush=True)
            sample()
            out = loadgen.open_loop("127.0.0.1", dep.product.port, mix, rate=SOAK_RATE, seconds=SOAK_SECONDS,
                                    connections=16, tick=(SAMPLE_EVERY, sample))
            sample()
            dep.wait_routed()
            peaks = dep.memory()
    ms = [x * 1000 for x in out.latencies]
    common = {"broker": peaks["broker"], "seconds": SOAK_SECONDS, "rate": SOAK_RATE, "answered": len(ms),
              "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
              "peak_mb": {"api": [round(x, 1) for x in peaks["api"]], "worker": peaks["worker"]}}
    for kind in ("API worker", "worker process"):
        names = [name for name in series if name.startswith(kind)]
        if not names:
            continue
        figures = {name: growth(series[name]) for name in names}
        worst = max(figures, key=lambda name: figures[name][0])
        change, slope = figures[worst]
        ctx.add(Result("memory", f"soak: {kind} RSS, last third vs middle", backend, change, "%",
                       target=GROWTH_TOLERANCE, op="<=",
                       detail={**common, "worst": worst, "slope_mb_per_hour": round(slope, 2),
                               "per_process": {n: {"change_percent": round(c, 2), "slope_mb_per_hour": round(s, 2),
                                                   "first_mb": round(series[n][0][1], 1),
                                                   "last_mb": round(series[n][-1][1], 1)}
                                               for n, (c, s) in figures.items()},
                               "samples": {n: [[round(t), round(mb, 1)] for t, mb in series[n]] for n in names}}))
        ctx.add(Result("memory", f"soak: {kind} RSS slope", backend, slope, "MB/h", detail={"worst": worst}))
    ctx.add(Result("memory", "soak: errors", backend, out.errors, "count", target=0, op="<=",
                   detail={**common, "statuses": dict(out.statuses), "samples": out.samples}))
