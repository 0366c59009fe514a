"""Small helpers shared by the tests: calling the API as a user, waiting, counting rows."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, select

from handlers.runtime import Runtime
from workflow.db import unit_of_work


def submit(client, world, user: str, *, channel: str = "report", category: str = "sanitation.corridor_clutter",
           community: str = "A", expect: int = 201, **fields):
    body = {"channel": channel, "category": category, "description": "楼道里堆满了纸箱，影响通行。",
            "community_id": world.ids[f"community_{community}"], **fields}
    response = client.post("/api/v1/requests", json=body, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def act(client, world, user: str, request_id: int, trigger: str, expect: int = 200, **body):
    path = "evaluation" if trigger == "evaluation" else trigger.replace("_", "-")
    response = client.post(f"/api/v1/requests/{request_id}/{path}", json=body, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def get(client, world, user: str, path: str, expect: int = 200, **params):
    response = client.get(f"/api/v1{path}", params=params, headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def in_community(client, world, runtime, user: str = "resident_a") -> int:
    """A noise complaint in community A, routed by the worker to community staff."""
    rid = submit(client, world, user, category="disputes.noise")["id"]
    runtime.drain()
    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "community"
    return rid


def wait_for(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def count(runtime: Runtime, model, *where) -> int:
    with unit_of_work(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def all_rows(runtime: Runtime, model, *where, order=None) -> list:
    with unit_of_work(runtime.sessions) as session:
        stmt = select(model).where(*where)
        if order is not None:
            stmt = stmt.order_by(order)
        rows = session.scalars(stmt).all()
        session.expunge_all()
        return list(rows)


def table_counts(runtime: Runtime) -> dict[str, int]:
    """Rows in every table: proof that a refused call wrote nothing."""
    from workflow.models import Base

    with unit_of_work(runtime.sessions) as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
