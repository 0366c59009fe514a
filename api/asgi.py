"""An app factory for running the API under uvicorn's own process manager, with several worker
processes on one port::

    uvicorn api.asgi:create --factory --workers 4 --host 0.0.0.0 --port 8000

Settings come from the ``SHOUBANPING_*`` environment, as for ``shoubanping serve``; run
``shoubanping db upgrade`` first (this entry point does not migrate). Each worker process builds
its own runtime: with ``SHOUBANPING_REDIS_URL`` set it publishes to Redis for ``shoubanping
worker``; without it each process runs its own embedded worker on the shared SQLite file.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import ValidationError

from workflow.settings import get_settings, problem

from .app import create_app


def create() -> FastAPI:
    """The app, or an exit with one line on standard error that says which setting to fix (a
    built-in or too short secret key outside dev mode, for instance), not a traceback."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise SystemExit(f"shoubanping: {problem(exc)}") from None
    return create_app(settings)
