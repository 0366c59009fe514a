"""The FastAPI application."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

import web
from handlers.broker import describe
from handlers.runtime import Runtime, freeze_startup_heap, limit_malloc_arenas
from web import errors as web_errors
from web.limits import BodyLimitMiddleware, TextGuardMiddleware
from web.session import SessionCookieMiddleware
from workflow.db import unit_of_work
from workflow.settings import Settings, get_settings

from . import errors
from .open311 import routes as open311_routes
from .routes import (
    admin,
    auth,
    board,
    deliberation,
    members,
    notifications,
    partylife,
    people,
    photos,
    places,
    requests,
    scores,
    street,
    visits,
    volunteers,
    webhooks,
)
from .schemas import ErrorOut

log = logging.getLogger(__name__)

DESCRIPTION = """
Shoubanping (收办评) runs the loop Chinese urban communities run on residents' requests:
**collect** (收) them by resident report, staff inspection or member visit; **handle** (办) them in the
community, on the members' task board or at the street office; **evaluate** (评) every result.

Authenticate with `POST /api/v1/auth/login` and send `Authorization: Bearer <token>`. Every error has
the shape `{"error": {"code", "message", "details"}}`; `code` is stable, `message` follows
`Accept-Language` (Simplified Chinese by default, `en` for English).
"""


# Any operation of the JSON API may answer these: a body or address that is not clean UTF-8 text, a
# JSON body nested too deeply (400), a body over its limit (413).
COMMON_ERRORS: dict = {400: {"model": ErrorOut, "description": "Unreadable input: invalid UTF-8, a NUL character, "
                                                              "JSON nested too deeply"},
                       413: {"model": ErrorOut, "description": "The body is over its limit"}}


def describe_open311_errors(app: FastAPI) -> None:
    """Open311 answers bad parameters with its own 400 list, never FastAPI's 422 (api/errors.py), so
    the generated description loses the 422 FastAPI adds to every operation with parameters."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            for path, operations in schema["paths"].items():
                if path.startswith("/open311/"):
                    for operation in operations.values():
                        operation["responses"].pop("422", None)
        return app.openapi_schema

    app.openapi = openapi


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. With ``runtime`` given the caller owns it (tests); otherwise the app starts its
    own runtime (database, broker, outbox relay, embedded worker) in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if runtime is not None:
            app.state.runtime = runtime
            yield
            return
        config = settings or get_settings()
        limit_malloc_arenas()  # before the runtime starts its threads
        # Embedded mode is one process: it sweeps deadlines itself. In production the
        # `shoubanping scheduler` process does.
        own = Runtime(config, scheduler=config.redis_url is None).start()
        app.state.runtime = own
        log.info("broker: %s", describe(own.settings))
        freeze_startup_heap()
        try:
            yield
        finally:
            own.stop()

    app = FastAPI(title="Shoubanping 收办评", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    if runtime is not None:
        app.state.runtime = runtime
    errors.install(app)
    for module in (auth, requests, members, places, photos, notifications, admin, street, webhooks, scores,
                   visits, board, people, volunteers, deliberation, partylife):
        app.include_router(module.router, prefix="/api/v1", responses=COMMON_ERRORS)
    app.include_router(open311_routes.router)
    web_errors.install(app)
    for router in web.routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(web.__file__).parent / "static"), name="static")
    # Innermost: the text guard reads JSON and plain form bodies only after the body limit let them in.
    app.add_middleware(TextGuardMiddleware)
    # The body limit answers inside the session cookie middleware, so its 413 page sets the cookie
    # its CSRF token belongs to.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SessionCookieMiddleware)

    describe_open311_errors(app)

    @app.get("/healthz", tags=["operations"])
    def healthz():
        """Liveness and readiness: the database answers, and how many outbox rows wait."""
        rt: Runtime = app.state.runtime
        with unit_of_work(rt.sessions) as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "broker": describe(rt.settings), "outbox_pending": rt.pending_outbox()}

    return app
