"""Per-request context: the caller's language, their bearer token, and the one unit of work.

Routes do their work inside ``with ctx.transaction() as tx:`` and build their response there; the
block commits when it ends and rolls back on any error, before the response is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from handlers.runtime import Runtime
from workflow.access import Actor
from workflow.commands import accounts
from workflow.db import unit_of_work
from workflow.errors import Unauthorized
from workflow.i18n import _, negotiate
from workflow.models import Account
from workflow.settings import Settings

bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/login.")


@dataclass
class Tx:
    session: Session
    account: Account | None
    actor: Actor | None


@dataclass
class Ctx:
    runtime: Runtime
    token: str | None
    locale: str

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @contextmanager
    def transaction(self, *, auth: bool = True, read_only: bool = False) -> Iterator[Tx]:
        """``read_only``: the route only reads (see :func:`workflow.db.unit_of_work`)."""
        with unit_of_work(self.runtime.sessions, read_only=read_only) as session:
            account = actor = None
            if auth:
                if not self.token:
                    raise Unauthorized(_("Please log in."), code="not_authenticated")
                account = accounts.authenticate(session, self.settings, self.token)
                actor = Actor.of(session, account)
            yield Tx(session, account, actor)


async def get_ctx(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Ctx:
    # Dependencies are ``async def`` because they do no I/O: FastAPI runs a plain ``def`` dependency
    # in its thread pool, a hop that costs more than the dependency itself.
    return Ctx(
        runtime=request.app.state.runtime,
        token=credentials.credentials if credentials else None,
        locale=negotiate(request.headers.get("accept-language")),
    )


async def get_auth_ctx(ctx: Ctx = Depends(get_ctx)) -> Ctx:
    """For routes that need a login. Runs before the body is validated, so a caller without a
    token hears 401 whatever they sent; the token itself is checked inside the unit of work."""
    if not ctx.token:
        raise Unauthorized(_("Please log in."), code="not_authenticated")
    return ctx
