"""Running the partitions' lives: in this process, or on worker processes (PostgreSQL).

Worker processes simulate whole partitions and turn each batch into PostgreSQL's binary COPY
format themselves (psycopg's ``Copy`` with a ``FileWriter``: a connection of their own lends its
type adapters, nothing is sent on it). This process only streams those bytes into its own
transaction, so making rows uses every core while one transaction stores them all.
"""

from __future__ import annotations

import io
import multiprocessing
import queue
import traceback
from collections import Counter
from collections.abc import Callable

from .bulk import BulkWriter, Pipeline, json_dumps
from .lives import TABLES, Lives, Rules
from .plan import Partition

Progress = Callable[[int], None]


def in_process(rules: Rules, parts: list[Partition], out: BulkWriter, batch: int, progress: Progress) -> Counter:
    statuses: Counter = Counter()
    pipeline = Pipeline(out) if out.postgresql else None
    try:
        for part in parts:
            lives = Lives(rules, part)
            for rows in lives.run(batch):
                done = len(rows[0][2])  # the first table is requests
                if pipeline is not None:
                    pipeline.put(rows)
                else:
                    for table, columns, table_rows in rows:
                        out.write(table, columns, table_rows)
                progress(done)
            statuses.update(lives.statuses)
    finally:
        if pipeline is not None:
            pipeline.close()
    return statuses


def on_workers(rules: Rules, parts: list[Partition], out: BulkWriter, batch: int, progress: Progress,
               workers: int, conninfo: str) -> Counter:
    oids = {table: out.column_types(table) for table, _columns in TABLES}
    context = multiprocessing.get_context("spawn")  # no fork of a process that holds connections and threads
    tasks = context.Queue()
    results = context.Queue(maxsize=2 * workers)
    for part in sorted(parts, key=len, reverse=True):  # the largest first, so the last to finish is small
        tasks.put(part)
    for _ in range(workers):
        tasks.put(None)
    processes = [context.Process(target=work, args=(rules, conninfo, oids, batch, tasks, results),
                                 name=f"simulate-{i}", daemon=True) for i in range(workers)]
    for process in processes:
        process.start()
    statuses: Counter = Counter()
    running = workers
    try:
        while running:
            try:
                kind, payload = results.get(timeout=5)
            except queue.Empty:
                if not any(p.is_alive() for p in processes):
                    raise RuntimeError("simulation workers stopped without finishing") from None
                continue
            if kind == "rows":
                done, data = payload
                for table, columns, count, chunk in data:
                    out.write_copy(table, columns, count, chunk)
                progress(done)
            elif kind == "statuses":
                statuses.update(payload)
            elif kind == "exit":
                running -= 1
            else:
                raise RuntimeError(f"a simulation worker failed:\n{payload}")
    finally:
        for process in processes:
            if process.is_alive() and running:
                process.terminate()
            process.join(10)
    return statuses


def work(rules: Rules, conninfo: str, oids: dict[str, dict[str, int]], batch: int, tasks, results) -> None:
    """A worker process: simulate partitions until told to stop, sending each batch as COPY data."""
    import psycopg
    from psycopg.copy import Copy, FileWriter
    from psycopg.types.json import set_json_dumps

    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            cursor = connection.cursor()
            set_json_dumps(json_dumps, cursor)

            def encode(table: str, columns: tuple[str, ...], rows: list[tuple]) -> bytes:
                buffer = io.BytesIO()
                with Copy(cursor, binary=True, writer=FileWriter(buffer)) as copy:
                    copy.set_types([oids[table][name] for name in columns])
                    for row in rows:
                        copy.write_row(row)
                return buffer.getvalue()

            while (part := tasks.get()) is not None:
                lives = Lives(rules, part)
                for rows in lives.run(batch):
                    data = [(table, columns, len(table_rows), encode(table, columns, table_rows))
                            for table, columns, table_rows in rows if table_rows]
                    results.put(("rows", (len(rows[0][2]), data)))
                results.put(("statuses", dict(lives.statuses)))
        results.put(("exit", None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which stops the others
        results.put(("error", traceback.format_exc()))
