"""Engines, sessions and the unit of work: the one place where a transaction commits.

Commands flush and never commit. Each HTTP request, actor message and CLI command opens one
``unit_of_work`` and commits it (or rolls it back) at its end.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import JSON, Engine, Table, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

AfterCommitHook = Callable[[], None]


# Execution option of a connection whose transaction only reads (see ``unit_of_work(read_only=True)``).
READ_ONLY = "shoubanping_read_only"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Build an engine. SQLite gets WAL, foreign keys and writer serialisation."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


# Connections one Reads may hold at once (the engine's pool has 10, and 20 more on demand).
READ_CONNECTIONS = 6
# How long a writing transaction waits for this process's writer lock before it goes on to SQLite's
# own lock regardless (a lock never released, were that to happen, would only cost this wait).
WRITER_WAIT_SECONDS = 30.0
_WRITER = "sqlite_writer"  # connection.info: the writer lock this connection's transaction holds


def _configure_sqlite(engine: Engine) -> None:
    # Writing transactions of this process take this lock before SQLite's write lock and give it up
    # as they commit or roll back. A writer that finds SQLite's lock taken sleeps in SQLite's busy
    # handler, in steps of 1, 2, 5, 10 ms and longer, however soon the lock frees; threads of one
    # process (API threads, the embedded worker, the relay) instead queue here, and the next starts
    # as the last one ends. Other processes on the same file still meet SQLite's lock. Measured
    # with two API processes: 146 -> 206 submissions a second, each one routed (bench/http.py).
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no branch - runs once per connection
        # Take transaction control away from pysqlite so that BEGIN below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # 512 KiB of page cache per connection instead of 2 MiB: a process holds up to 15 of them
        # (the pool), and the pages stay in the operating system's file cache all the same.
        cursor.execute("PRAGMA cache_size=-512")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            # A transaction that only reads takes no lock: in WAL mode it reads a snapshot while
            # writers go on. query_only turns a write into an error instead of a lock upgrade that
            # could fail half-way; the next transaction on this connection turns it off again.
            connection.exec_driver_sql("PRAGMA query_only=ON")
            connection.info["query_only"] = True
            connection.exec_driver_sql("BEGIN")
            return
        if connection.info.pop("query_only", False):
            connection.exec_driver_sql("PRAGMA query_only=OFF")
        # IMMEDIATE takes the write lock up front: two transactions that read a row and then write
        # it are serialised instead of one failing half-way with SQLITE_BUSY. This is SQLite's
        # equivalent of the SELECT ... FOR UPDATE that commands issue on PostgreSQL.
        if writer.acquire(timeout=WRITER_WAIT_SECONDS):
            connection.info[_WRITER] = writer
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writer(connection)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):
        _release_writer(connection)


def _release_writer(connection) -> None:
    lock = connection.info.pop(_WRITER, None)
    if lock is not None:
        lock.release()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """Open a session, commit it when the block succeeds, roll back when it raises.

    Callbacks registered with :func:`after_commit` run once the commit has succeeded, and are
    dropped on rollback (so the outbox relay is woken only for work that is really stored).

    ``read_only``: the block only reads. On SQLite it then takes no write lock (reads of several
    threads and processes run side by side, and beside a writer); on both backends a write in it
    fails.
    """
    session = factory()
    try:
        if read_only:
            session.connection(execution_options={READ_ONLY: True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        session.info.pop("after_commit", None)
        raise
    else:
        for hook in session.info.pop("after_commit", []):
            hook()
    finally:
        session.close()


def after_commit(session: Session, hook: AfterCommitHook) -> None:
    """Run ``hook`` after the unit of work that owns ``session`` commits (once per hook)."""
    hooks: list[AfterCommitHook] = session.info.setdefault("after_commit", [])
    if hook not in hooks:
        hooks.append(hook)


# --- reference data kept per process ---------------------------------------------------------------

# How long a process uses its copy of reference data: a change made through another process shows
# within this time. A commit in this process that wrote the data drops the copy at once.
REFERENCE_TTL_SECONDS = 5.0
_WRITTEN_TABLES = "written_tables"  # session.info: tables this transaction wrote through the ORM
_reference_lock = threading.Lock()
# database URL -> table -> how many commits of this process wrote it (any engine on that database)
_generations: dict[str, dict[str, int]] = {}
# engine -> {key: (expires at, generations when read, value)}; a new engine starts empty
_references: weakref.WeakKeyDictionary[Engine, dict[Hashable, tuple]] = weakref.WeakKeyDictionary()

T = TypeVar("T")


def reference(session: Session, key: Hashable, tables: tuple[str, ...], load: Callable[[], T]) -> T:
    """``load()``'s result, kept per engine for :data:`REFERENCE_TTL_SECONDS`: for rarely changing
    rows that every request reads (the taxonomy, the calendar, the routing rules), read from
    ``tables``. The value must be immutable and hold no ORM objects. A transaction that has itself
    written one of ``tables`` always loads (it sees its own writes)."""
    written = session.info.get(_WRITTEN_TABLES)
    if written and not written.isdisjoint(tables):
        return load()
    engine = (session.bind or session.get_bind()).engine
    entries = _references.get(engine)
    if entries is None:
        with _reference_lock:
            entries = _references.setdefault(engine, {})
    generations = _generations.get(str(engine.url), {})
    current = tuple(generations.get(t, 0) for t in tables)
    entry = entries.get(key)
    now = time.monotonic()
    if entry is not None and entry[0] > now and entry[1] == current:
        return entry[2]
    # Read after taking the generations: a commit in between makes this copy stale at once.
    value = load()
    entries[key] = (now + REFERENCE_TTL_SECONDS, current, value)
    return value


@event.listens_for(Session, "after_flush")
def _note_written_tables(session: Session, flush_context) -> None:
    session.info.setdefault(_WRITTEN_TABLES, set()).update(
        table.name for mapper in flush_context.mappers for table in mapper.tables)


@event.listens_for(Session, "after_commit")
def _drop_written_references(session: Session) -> None:
    if session.get_nested_transaction() is not None:  # a savepoint: the transaction goes on
        return
    written = session.info.pop(_WRITTEN_TABLES, None)
    if not written:
        return
    database = str((session.bind or session.get_bind()).engine.url)
    with _reference_lock:
        generations = _generations.setdefault(database, {})
        for table in written:
            generations[table] = generations.get(table, 0) + 1


@event.listens_for(Session, "after_transaction_end")
def _forget_written_tables(session: Session, transaction) -> None:
    if transaction.parent is None:  # rolled back (a commit has taken them already)
        session.info.pop(_WRITTEN_TABLES, None)


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class Reads:
    """Read-only statements asked for at once and answered while the caller works.

    On PostgreSQL each statement runs in a read-only transaction on a connection of its own (from
    the engine's pool), started when asked for, so that the server counts while Python works on
    what has arrived; ``setup`` statements (``SET LOCAL ...``) run first on each. Such a statement
    sees what other transactions have committed, not what the caller's own transaction has written
    and not committed: ask only for rows a statement bounds itself (the score marks). Elsewhere
    (SQLite: one file on this machine, its reads cheap) each runs in the caller's session when its
    rows are first wanted. ``ask`` returns a function that gives the rows."""

    def __init__(self, session: Session, setup: Sequence[str] = ()) -> None:
        self.session = session
        self.setup = list(setup)
        self.pool = ThreadPoolExecutor(max_workers=READ_CONNECTIONS, thread_name_prefix="reads") \
            if is_postgresql(session) else None

    def ask(self, statement) -> Callable[[], list]:
        if self.pool is None:
            return lambda: self.session.execute(statement).all()
        return self.pool.submit(self._read, self.session.get_bind(), statement).result

    def _read(self, engine: Engine, statement) -> list:
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection, connection.begin():
            for sql in self.setup:
                connection.exec_driver_sql(sql)
            return connection.execute(statement).all()

    def __enter__(self) -> Reads:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


_INSERT_ONCE: dict[tuple[str, str, str], object] = {}


def insert_once(session: Session, table: Table, key: str, values: dict) -> bool:
    """Insert a row unless the table has one with the same unique ``key`` already, in one statement
    (``INSERT ... ON CONFLICT DO NOTHING``): True when the row was inserted. For facts that a retried
    command or a redelivered message must write once; a concurrent writer of the same key waits for
    the other transaction and then inserts nothing, instead of failing on the unique index."""
    dialect = session.get_bind().dialect.name
    statement = _INSERT_ONCE.get((table.name, key, dialect))
    if statement is None:
        from sqlalchemy.dialects import postgresql, sqlite

        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        # RETURNING says whether a row went in: on PostgreSQL the rowcount of an insert into a table
        # with a generated key is -1 (SQLAlchemy fetches the key with RETURNING of its own).
        statement = _INSERT_ONCE[(table.name, key, dialect)] = insert(table).on_conflict_do_nothing(
            index_elements=[table.c[key]]).returning(table.c[key])
    return session.execute(statement, values).first() is not None


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert many rows, each a tuple of ``columns``' values, in the session's transaction: COPY on
    PostgreSQL, one executemany elsewhere. JSON columns take Python values, like an ORM insert; rows
    that share one value object (a city's members share a handful of gate-failure lists) have it
    serialised once."""
    if not rows:
        return
    names = ", ".join(columns)
    postgresql = is_postgresql(session)
    dialect = session.get_bind().dialect
    # Each value through its column type's bind processor (on SQLite: what ``session.execute(
    # table.insert(), rows)`` sends, without building every row's parameters through the compiler);
    # on PostgreSQL COPY adapts the plain values itself, and JSON goes as its text.
    processors = []
    for i, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            processors.append((i, _once_per_value(json.dumps if postgresql else
                                                  column_type.dialect_impl(dialect).bind_processor(dialect))))
        elif not postgresql and (process := column_type.dialect_impl(dialect).bind_processor(dialect)):
            processors.append((i, process))
    if processors:
        processed = []
        for row in rows:
            row = list(row)
            for i, process in processors:
                row[i] = process(row[i])
            processed.append(tuple(row))
        rows = processed
    if not postgresql:
        marks = ", ".join("?" * len(columns))
        session.connection().exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
        return
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _once_per_value(process: Callable[[object], object]) -> Callable[[object], object]:
    """``process``, remembered per value object for the length of one bulk insert (the rows hold
    every object, so no id is reused meanwhile)."""
    done: dict[int, object] = {}

    def once(value: object) -> object:
        key = id(value)
        if key not in done:
            done[key] = process(value)
        return done[key]

    return once
