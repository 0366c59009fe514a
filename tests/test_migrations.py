"""Schema: Alembic migrations build exactly the models' schema, both ways, and events are append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from workflow import migrate
from workflow.models import Base

from .helpers import submit


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_match_the_models(db_url):
    assert _diff(db_url) == []
    assert migrate.current_revision(create_engine(db_url)) == migrate.head_revision()


def test_downgrade_to_nothing_and_back(db_url):
    migrate.downgrade(db_url, "base")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            if engine.dialect.name == "sqlite" else
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )).scalars().all()
    engine.dispose()
    assert set(tables) <= {"alembic_version"}
    migrate.upgrade(db_url)
    assert _diff(db_url) == []


def test_request_events_cannot_be_changed_or_deleted(client, world, runtime):
    submit(client, world, "resident_a")
    for statement in ("UPDATE request_events SET note = 'rewritten'", "DELETE FROM request_events"):
        with runtime.engine.connect() as conn:
            with pytest.raises(DatabaseError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()
