"""Writing many rows fast: COPY on PostgreSQL, executemany on SQLite; ids chosen by the caller.

Rows are tuples in the order of the columns the caller names, and every column of the table must
be named: COPY would otherwise leave out the defaults that SQLAlchemy applies on the Python side.
No ORM object is made per row.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from psycopg.types.json import set_json_dumps
from sqlalchemy import JSON, func, select, text
from sqlalchemy.orm import Session

from ..models import Base


class RawJson(str):
    """JSON text already serialised: a JSON column's value written as it is."""

    __slots__ = ()


def json_dumps(value) -> str:
    return value if type(value) is RawJson else json.dumps(value)


class BulkWriter:
    """Ids, then rows, for the tables of :data:`Base.metadata`, in the caller's transaction."""

    def __init__(self, session: Session):
        self.session = session
        self.postgresql = session.get_bind().dialect.name == "postgresql"
        self.tables = Base.metadata.tables
        self.counts: Counter[str] = Counter()
        self._next: dict[str, int] = {}
        self._checked: set[tuple[str, tuple[str, ...]]] = set()
        self._oids: dict[str, dict[str, int]] = {}

    def next_id(self, table: str) -> int:
        """The first id not yet used in ``table`` (its largest id + 1), read once per table."""
        if table not in self._next:
            column = self.tables[table].c.id
            self._next[table] = (self.session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1
        return self._next[table]

    def _check(self, table: str, columns: tuple[str, ...]) -> None:
        if (table, columns) not in self._checked:
            names = {c.name for c in self.tables[table].columns}
            missing, unknown = names - set(columns), set(columns) - names
            if missing or unknown:
                raise ValueError(f"{table}: columns missing {sorted(missing)}, unknown {sorted(unknown)}")
            self._checked.add((table, columns))

    def write(self, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        self._check(table, columns)
        if self.postgresql:
            self._copy(table, columns, rows)
        else:
            raw = [i for i, name in enumerate(columns) if isinstance(self.tables[table].c[name].type, JSON)]
            self.session.execute(self.tables[table].insert(), [
                {name: json.loads(value) if i in raw and type(value) is RawJson else value
                 for i, (name, value) in enumerate(zip(columns, row, strict=True))} for row in rows])
        self.counts[table] += len(rows)

    def _copy(self, table: str, columns: tuple[str, ...], rows: Sequence[tuple]) -> None:
        """Binary COPY: PostgreSQL's text input of timestamps costs the client several times more."""
        cursor = self.session.connection().connection.driver_connection.cursor()
        set_json_dumps(json_dumps, cursor)  # RawJson goes as it is, on this cursor only
        types = self.column_types(table)
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[name] for name in columns])
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def column_types(self, table: str) -> dict[str, int]:
        """PostgreSQL: each column's type oid (binary COPY applies no casts)."""
        if table not in self._oids:
            self._oids[table] = dict(self.session.execute(text(
                "SELECT attname, atttypid::int FROM pg_attribute "
                "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"), {"t": table}).all())
        return self._oids[table]

    def write_copy(self, table: str, columns: tuple[str, ...], count: int, data: bytes) -> None:
        """PostgreSQL: store ``count`` rows already in binary COPY format (made by a worker process)."""
        self._check(table, columns)
        cursor = self.session.connection().connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(data)
        self.counts[table] += count

    @contextmanager
    def checks_deferred(self, tables: Sequence[str]) -> Iterator[None]:
        """PostgreSQL: load ``tables`` without their foreign keys and secondary indexes, then put
        them back, each checked or built in one pass (PostgreSQL's advice for populating a database:
        row-by-row foreign key triggers and index updates cost the server more than the rows).

        Primary keys and unique constraints stay. The definitions are read from the catalog and
        re-created as they were, in this transaction: if the load fails, the rollback restores them;
        if a row breaks a constraint, re-creating it fails and nothing is committed."""
        if not self.postgresql:
            yield
            return
        names = list(tables)
        foreign = self.session.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(CAST(:t AS regclass[])) "
            "ORDER BY conrelid::regclass::text, conname"),
            {"t": names}).all()
        indexes = self.session.execute(text(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "WHERE indrelid = ANY(CAST(:t AS regclass[])) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) "
            "ORDER BY 1"), {"t": names}).all()
        for table, name, _definition in foreign:
            self.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            self.session.execute(text(f"DROP INDEX {name}"))
        yield
        self.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in indexes:
            self.session.execute(text(definition))
        for table, name, definition in foreign:
            self.session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))

    def finish(self) -> None:
        """Move each written table's id sequence past the ids the caller used (PostgreSQL)."""
        if not self.postgresql:
            return
        for table in self.counts:
            self.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


Batch = list[tuple[str, tuple[str, ...], list[tuple]]]


class Pipeline:
    """Writes batches on a second thread while the caller makes the next one.

    The writing thread spends its time waiting on the database, which runs on another core, so
    making rows and storing them overlap. At most ``depth`` batches wait; an error on the writing
    side is raised in the caller at its next ``put`` or at ``close``."""

    def __init__(self, writer: BulkWriter, depth: int = 2):
        self.writer = writer
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="simulate-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._error is not None:
                continue  # drain: the caller stops at its next put
            try:
                for table, columns, rows in batch:
                    self.writer.write(table, columns, rows)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self._error = exc

    def put(self, batch: Batch) -> None:
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
