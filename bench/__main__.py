"""``python -m bench [--quick] [--only SUITES] [--json PATH]``: run the suites, print a table, write
JSON, and exit 1 when a target is missed.

SQLite and the embedded broker always run. PostgreSQL and Redis run where they are named, by
``--database-url``/``--redis-url`` or ``SHOUBANPING_BENCH_DATABASE_URL``/``SHOUBANPING_BENCH_REDIS_URL``.
The PostgreSQL database given is emptied: give the benchmarks a database of their own.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from .core import Context, table, write_json

SUITES = ["lifecycle", "http", "queue", "scores", "visits", "memory"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the short run (under 2 minutes), as CI runs it")
    mode.add_argument("--full", action="store_true", help="the full run (the default): larger data, the soak")
    parser.add_argument("--only", default="", help=f"comma list of suites ({', '.join(SUITES)})")
    parser.add_argument("--json", default="bench-results.json", help="where to write the results")
    parser.add_argument("--database-url", default=os.environ.get("SHOUBANPING_BENCH_DATABASE_URL"),
                        help="a PostgreSQL database the benchmarks may empty")
    parser.add_argument("--redis-url", default=os.environ.get("SHOUBANPING_BENCH_REDIS_URL"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    suites = [s.strip() for s in args.only.split(",") if s.strip()] or SUITES
    unknown = sorted(set(suites) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite {unknown[0]}; choose from {', '.join(SUITES)}")
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sbp-bench-") as workdir:
        ctx = Context(quick=args.quick, workdir=Path(workdir), pg_url=args.database_url, redis_url=args.redis_url,
                      seed=args.seed)
        print(f"{command}: backends {', '.join(ctx.backends())}, broker "
              f"{'redis' if ctx.redis_url else 'embedded'}", flush=True)
        for name in suites:
            importlib.import_module(f"bench.{name}").run(ctx)
    seconds = time.perf_counter() - started
    print()
    print(table(ctx.results))
    write_json(Path(args.json), ctx, command, seconds)
    missed = [r for r in ctx.results if r.passed is False]
    print(f"\n{len(ctx.results)} figures in {seconds:.0f} s; "
          + (f"{len(missed)} targets missed" if missed else "every target met") + f"; JSON in {args.json}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
