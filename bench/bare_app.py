"""The http suite's floor: a bare FastAPI app doing, per call, what the product's endpoint must
store or read, the plainest way, over the same database with the same engine settings
(``workflow.db.make_engine``: WAL and ``BEGIN IMMEDIATE`` on SQLite, the same pool on PostgreSQL).

- ``POST /requests``: the same JSON body as ``POST /api/v1/requests`` validated by a pydantic model,
  then, in one transaction, the three rows a submission must commit together to keep its promises:
  the request (``INSERT ... RETURNING id``, the columns intake writes, deadlines as fixed offsets
  instead of the working-day calendar), its ``submit`` event (the history every transition leaves)
  and its outbox row (the routing message that must not be lost if the process dies after the
  commit). Answers 201 with the new id. This is the honest reading of the issue's "the same single
  insert": one INSERT into ``requests`` alone would be a submission that loses its history and is
  never routed, which the product is not allowed to be. The outbox row is written as already sent,
  so that the product's relay, which shares the database, leaves it alone: nothing publishes it and
  nothing routes the floor's requests. No login, no lookups (category and street ids are read once
  at start), no permissions, no response body beyond the id.
- ``GET /tasks``: one ``SELECT`` of the open tasks of a community, oldest published first, limit 50,
  every column, in a read-only transaction (on SQLite a plain deferred BEGIN, like the product's
  board), answered with the standard library's ``json.dumps`` (FastAPI's default encoder for a list
  of dicts, ``jsonable_encoder``, costs more than the product's whole page and would flatter the
  ratio). No login, no per-row permissions.

Run as ``uvicorn bench.bare_app:create --factory`` with ``BENCH_BARE_DATABASE_URL``,
``BENCH_BARE_ACCOUNT`` (the reporter's account id) and ``BENCH_BARE_COMMUNITY`` (the board's community).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta

from fastapi import FastAPI, Response
from pydantic import BaseModel
from sqlalchemy import select

from workflow.db import READ_ONLY, make_engine
from workflow.models import Category, Community, OutboxMessage, OutboxStatus, Request, RequestEvent, Status, utcnow


class SubmitIn(BaseModel):
    channel: str
    category: str
    description: str
    community_id: int | None = None


def create() -> FastAPI:
    engine = make_engine(os.environ["BENCH_BARE_DATABASE_URL"])
    account = int(os.environ["BENCH_BARE_ACCOUNT"])
    board_community = int(os.environ["BENCH_BARE_COMMUNITY"])
    with engine.connect() as conn:
        categories = dict(conn.execute(select(Category.code, Category.id)).all())
        streets = dict(conn.execute(select(Community.id, Community.street_id)).all())
    table = Request.__table__
    insert = table.insert().returning(table.c.id)
    insert_event = RequestEvent.__table__.insert()
    insert_outbox = OutboxMessage.__table__.insert()
    board = (select(table).where(table.c.community_id == board_community, table.c.status == Status.open_task.value)
             .order_by(table.c.published_at, table.c.id).limit(50))

    app = FastAPI()

    @app.post("/requests", status_code=201)
    def submit(body: SubmitIn):
        now = utcnow()
        with engine.begin() as conn:
            new_id = conn.execute(insert, {
                "status": Status.submitted.value, "channel": body.channel, "category_id": categories[body.category],
                "street_id": streets[body.community_id], "community_id": body.community_id, "grid_id": None,
                "building_id": None, "address": "", "latitude": None, "longitude": None,
                "description": body.description, "reporter_id": account, "collector_id": account,
                "contact_name": "", "contact_phone": "", "contact_email": "", "attributes": {}, "media_url": "",
                "submitted_at": now, "updated_at": now,
                "first_respond_by": now + timedelta(days=1), "first_resolve_by": now + timedelta(days=5),
                "respond_by": now + timedelta(days=1), "resolve_by": now + timedelta(days=5),
                "respond_remind_at": now + timedelta(hours=19), "resolve_remind_at": now + timedelta(days=4),
            }).scalar_one()
            conn.execute(insert_event, {
                "request_id": new_id, "trigger": "submit", "from_status": None, "to_status": Status.submitted.value,
                "actor_id": account, "actor_role": "resident", "note": "",
                "data": {"channel": body.channel, "category": body.category, "photo_ids": []}, "created_at": now,
            })
            conn.execute(insert_outbox, {
                "message_id": str(uuid.uuid4()), "actor_name": "route_request", "queue_name": "default",
                "payload": {"request_id": new_id, "round": 1}, "status": OutboxStatus.sent.value, "attempts": 0,
                "last_error": "", "created_at": now, "available_at": now, "sent_at": now,
            })
        return {"id": new_id}

    @app.get("/tasks")
    def tasks():
        with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            rows = [dict(row) for row in conn.execute(board).mappings()]
        return Response(json.dumps(rows, default=str, ensure_ascii=False), media_type="application/json")

    return app
