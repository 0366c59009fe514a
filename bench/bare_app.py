"""The http suite's floor: a bare FastAPI app doing, per call, what the product's endpoint must
store or read, the plainest way, over the same database with the same engine settings
(``workflow.db.make_engine``: WAL and ``BEGIN IMMEDIATE`` on SQLite, the same pool on PostgreSQL).

- ``POST /requests``: the same JSON body as ``POST /api/v1/requests`` validated by a pydantic model,
  then the rows a submission writes, transaction by transaction, as the product writes them:
  first the three a submission must commit together to keep its promises, the request (``INSERT
  ... RETURNING id``, the columns intake writes, deadlines as fixed offsets instead of the
  working-day calendar), its ``submit`` event (the history every transition leaves) and its outbox
  row (the routing message that must not be lost if the process dies after the commit); answers 201
  with the new id; then, after the answer (``BackgroundTasks``, this process's plainest worker), the
  relay's transaction marking the message sent and the routing transaction (the message recorded
  as processed, the request moved to the community its category routes to, the ``route_to_community``
  event). That is the rule of the lifecycle floor, the same rows in the same transactions, applied
  to a submission: one INSERT into ``requests`` alone would be a submission that loses its history
  and is never routed, which the product is not allowed to be, and a floor that skipped the routing
  the product does for every submission would charge the product for work the floor never does.
  The outbox row is written as already sent, so that the product's relay, which shares the
  database, leaves it alone: nothing but the floor itself routes the floor's requests. No login, no
  lookups (category and street ids are read once at start), no permissions, no queue, no response
  body beyond the id.
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

from fastapi import BackgroundTasks, FastAPI, Response
from pydantic import BaseModel
from sqlalchemy import bindparam, select, update

from workflow.db import READ_ONLY, make_engine
from workflow.models import (
    Category,
    Community,
    OutboxMessage,
    OutboxStatus,
    ProcessedMessage,
    Request,
    RequestEvent,
    Status,
    utcnow,
)


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
    outbox = OutboxMessage.__table__
    insert_outbox = outbox.insert().returning(outbox.c.id)
    mark_sent = update(outbox).where(outbox.c.id == bindparam("outbox_id")).values(
        status=OutboxStatus.sent.value, sent_at=bindparam("sent_at"))
    insert_processed = ProcessedMessage.__table__.insert()
    route = update(table).where(table.c.id == bindparam("request_id")).values(
        status=Status.community.value, route="community", updated_at=bindparam("now"), version=table.c.version + 1)
    board = (select(table).where(table.c.community_id == board_community, table.c.status == Status.open_task.value)
             .order_by(table.c.published_at, table.c.id).limit(50))

    app = FastAPI()

    def route_in_background(request_id: int, outbox_id: int, message_id: str, category: str) -> None:
        """What follows the product's commit: the relay marks the message sent (its own
        transaction), then the routing transaction records the message as processed, moves the
        request to the community (the category's default route) and writes the event."""
        with engine.begin() as conn:
            conn.execute(mark_sent, {"outbox_id": outbox_id, "sent_at": utcnow()})
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(insert_processed, {"message_id": message_id, "actor_name": "route_request",
                                            "processed_at": now})
            conn.execute(route, {"request_id": request_id, "now": now})
            conn.execute(insert_event, {
                "request_id": request_id, "trigger": "route_to_community", "from_status": Status.submitted.value,
                "to_status": Status.community.value, "actor_id": None, "actor_role": "router", "note": "",
                "data": {"route": "community", "rule": f"category_default:{category}", "rule_id": None},
                "created_at": now,
            })

    @app.post("/requests", status_code=201)
    def submit(body: SubmitIn, background: BackgroundTasks):
        now = utcnow()
        message_id = str(uuid.uuid4())
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
            outbox_id = conn.execute(insert_outbox, {
                "message_id": message_id, "actor_name": "route_request", "queue_name": "default",
                "payload": {"request_id": new_id, "round": 1}, "status": OutboxStatus.sent.value, "attempts": 0,
                "last_error": "", "created_at": now, "available_at": now, "sent_at": now,
            }).scalar_one()
        background.add_task(route_in_background, new_id, outbox_id, message_id, body.category)
        return {"id": new_id}

    @app.get("/tasks")
    def tasks():
        with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            rows = [dict(row) for row in conn.execute(board).mappings()]
        return Response(json.dumps(rows, default=str, ensure_ascii=False), media_type="application/json")

    return app
