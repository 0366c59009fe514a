"""The browser session: one signed, HttpOnly, SameSite=Lax cookie.

It holds the login token (the same bearer token the JSON API issues, so logging out revokes it on
the server), the CSRF token every form must send back, the chosen language and the one-shot
messages ("flashes") shown on the next page. The cookie is signed with the secret key; a cookie
that fails the signature or is older than the login lifetime is treated as absent.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow.settings import Settings

COOKIE = "sbp_session"
CSRF_FIELD = "csrf_token"
_STATE_KEY = "web_session"
MAX_FLASHES = 3


@dataclass
class WebSession:
    token: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    locale: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    dirty: bool = False

    def login(self, token: str) -> None:
        # A new CSRF token at each login: a token planted before login is worth nothing after it.
        self.token, self.csrf, self.dirty = token, secrets.token_urlsafe(32), True

    def logout(self) -> None:
        self.token, self.csrf, self.dirty = None, secrets.token_urlsafe(32), True

    def set_locale(self, locale: str) -> None:
        self.locale, self.dirty = locale, True

    def flash(self, kind: str, message: str) -> None:
        """Show ``message`` (already in the user's language) on the next page rendered."""
        self.flashes = [*self.flashes, (kind, message)][-MAX_FLASHES:]  # the cookie stays small
        self.dirty = True

    def pop_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        if out:
            self.dirty = True
        return out

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(sent.encode(), self.csrf.encode())

    def dump(self) -> dict:
        return {"t": self.token, "c": self.csrf, "l": self.locale, "f": self.flashes}


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="shoubanping.web.session")


def load(request: Request) -> WebSession:
    """The session of this request, read from its cookie once and kept on the request."""
    state = request.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]
    settings: Settings = request.app.state.runtime.settings
    session = None
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer(settings).loads(raw, max_age=settings.token_ttl_hours * 3600)
            session = WebSession(token=data.get("t"), csrf=data.get("c") or secrets.token_urlsafe(32),
                                 locale=data.get("l"), flashes=[tuple(f) for f in data.get("f") or []])
        except (BadSignature, AttributeError, TypeError, ValueError):
            session = None
    if session is None:
        session = WebSession(dirty=True)  # a first visit: it gets a cookie so forms have a CSRF token
    state[_STATE_KEY] = session
    state["web_session_settings"] = settings
    return session


def cookie_header(scope: Scope) -> bytes | None:
    """The Set-Cookie value for this request's session, when the request changed it."""
    state = scope.get("state") or {}
    session: WebSession | None = state.get(_STATE_KEY)
    if session is None or not session.dirty:
        return None
    settings: Settings = state["web_session_settings"]
    value = _serializer(settings).dumps(session.dump())
    secure = "; Secure" if settings.secure_cookies or scope.get("scheme") == "https" else ""
    return (f"{COOKIE}={value}; Path=/; Max-Age={settings.token_ttl_hours * 3600}; "
            f"HttpOnly; SameSite=Lax{secure}").encode("latin-1")


class SessionCookieMiddleware:
    """Writes the session cookie on the way out when a page changed the session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = cookie_header(scope)
                if cookie is not None:
                    message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
