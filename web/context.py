"""Per-request context of the pages: the session cookie, the language, and the one unit of work.

Pages do their work inside ``with ctx.transaction(...) as tx:`` exactly as the JSON routes do, on
the same workflow commands. ``tx.actor`` is the logged-in user; a page that needs a login and has
none raises :class:`LoginRequired`, which the error handler turns into a redirect to the login
form that comes back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from api.context import Tx
from handlers.runtime import Runtime
from workflow.access import Actor
from workflow.commands import accounts
from workflow.db import unit_of_work
from workflow.errors import DomainError, Forbidden, Unauthorized
from workflow.i18n import _
from workflow.models import Account
from workflow.settings import Settings

from . import render
from . import session as web_session
from .limits import refuse_nul
from .session import WebSession


class LoginRequired(Exception):
    """The page needs a logged-in user and there is none (or the login expired)."""


class CsrfFailed(Forbidden):
    def __init__(self) -> None:
        super().__init__(_("This form has expired or did not come from this site. Reload the page and try again."),
                         code="csrf_failed")


@dataclass
class WebUser:
    """What the page chrome needs to know about the logged-in account."""

    id: int
    username: str
    display_name: str
    role: str

    @classmethod
    def of(cls, account: Account) -> WebUser:
        return cls(id=account.id, username=account.username, display_name=account.display_name,
                   role=account.role.value)


@dataclass
class WebCtx:
    request: Request
    runtime: Runtime
    session: WebSession
    locale: str

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def text(self, message) -> str:
        """A workflow Text (or an error's message) in the user's language."""
        return message.render(self.locale) if hasattr(message, "render") else str(message)

    def flash(self, message, kind: str = "success") -> None:
        self.session.flash(kind, self.text(message))

    @contextmanager
    def transaction(self, *, auth: bool = True, roles: tuple[str, ...] | None = None) -> Iterator[Tx]:
        """One unit of work. ``auth``: a login is needed; ``roles``: only these roles may see the page
        (anyone else gets the 403 page)."""
        with unit_of_work(self.runtime.sessions) as session:
            account = actor = None
            token = self.session.token
            if token:
                try:
                    account = accounts.authenticate(session, self.settings, token)
                except Unauthorized as exc:
                    account = None
                    self.session.logout()
                    if exc.code == "token_expired":  # say why they must log in again
                        self.flash(exc.message, "error")
            if account is not None:
                actor = Actor.of(session, account)
                self.request.state.web_user = WebUser.of(account)
            elif auth:
                raise LoginRequired()
            if roles is not None and (actor is None or actor.role not in roles):
                raise Forbidden(_("This page is not for your role."), code="wrong_role")
            yield Tx(session, account, actor)


def get_web_ctx(request: Request) -> WebCtx:
    ws = web_session.load(request)
    return WebCtx(request=request, runtime=request.app.state.runtime, session=ws,
                  locale=render.activate(request))


async def form_data(request: Request, ctx: WebCtx = Depends(get_web_ctx)) -> FormData:
    """The posted form, after its CSRF token is checked (403 without it). Its size was checked
    before it was read (web/limits.py). Uploads stay spooled files."""
    try:
        form = await request.form(max_files=20, max_fields=200)
    except DomainError:
        raise
    except Exception:  # a malformed multipart body
        raise DomainError(_("The form could not be read. Reload the page and try again."),
                          code="bad_form") from None
    refuse_nul(form.multi_items())
    if not ctx.session.csrf_ok(form.get(web_session.CSRF_FIELD) if isinstance(
            form.get(web_session.CSRF_FIELD), str) else None):
        raise CsrfFailed()
    return form


def uploads(form: FormData, name: str = "photos") -> list[UploadFile]:
    """The files chosen in a file input; an input left empty sends one nameless, empty part."""
    return [f for f in form.getlist(name) if isinstance(f, UploadFile) and (f.filename or f.size)]


def current_user(request: Request) -> WebUser | None:
    """The logged-in user for the page chrome, when the page itself did not open a unit of work
    (the login form, an error page)."""
    user = getattr(request.state, "web_user", None)
    ws = web_session.load(request)
    if user is not None or not ws.token:
        return user
    runtime: Runtime = request.app.state.runtime
    try:
        with unit_of_work(runtime.sessions) as session:
            user = WebUser.of(accounts.authenticate(session, runtime.settings, ws.token))
    except Unauthorized:
        return None
    except Exception:  # noqa: BLE001 - an error page must render even when the database is down
        return None
    request.state.web_user = user
    return user
