"""Body limits, enforced before anything reads a body.

A body must say how long it is (``Content-Length``); a chunked body without one is refused with 411,
so no parser spools an unbounded upload to disk or memory before the CSRF check or a login check
can refuse it. A declared length over the limit is refused with 413 at once. The limits:

- pages: multipart forms (photos) up to 10 × ``max_photo_bytes`` + 1 MiB, other forms 64 KiB;
- the JSON API and Open311: a photo upload up to ``max_photo_bytes`` + 64 KiB, other bodies 1 MiB.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from workflow.errors import DomainError
from workflow.i18n import _
from workflow.settings import Settings

KIB, MIB = 1024, 1024 * 1024


def limit_for(settings: Settings, path: str, content_type: str) -> int:
    multipart = content_type.startswith("multipart/")
    if path.startswith(("/api/", "/open311/")):
        return settings.max_photo_bytes + 64 * KIB if multipart else MIB
    return settings.max_photo_bytes * 10 + MIB if multipart else 64 * KIB


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        status = None
        if length is None and "transfer-encoding" in headers:
            status, code, message = 411, "length_required", _(
                "Send the body with its length (Content-Length); chunked bodies are not accepted.")
        elif length is not None:
            settings: Settings = scope["app"].state.runtime.settings
            limit = limit_for(settings, scope["path"], headers.get("content-type", ""))
            if not length.isdigit() or int(length) > limit:
                status, code = 413, "payload_too_large"
                message = _("The upload is too large: at most 9 photos of {mb} MB each.",
                            mb=settings.max_photo_bytes // MIB or 1) if limit > MIB else _(
                    "The request is too large.")
        if status is None:
            await self.app(scope, receive, send)
            return
        from api.errors import error_response  # JSON under /api/, the error page elsewhere

        response = error_response(Request(scope), status, code, message,
                                  headers={"Connection": "close"})
        await response(scope, receive, send)


# --- text that cannot be stored: invalid UTF-8 and NUL ---------------------------------------------

_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_READ = ("application/json", "application/x-www-form-urlencoded")


def _text_problem(raw: bytes, *, escaped: bool) -> str | None:
    """``invalid_encoding`` or ``nul_character`` for bytes that are not clean UTF-8 text (after
    percent-decoding when ``escaped``), else None."""
    if escaped:
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_encoding"
    return "nul_character" if b"\x00" in raw else None


def _json_problem(body: bytes) -> str | None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_encoding"
    if b"\x00" in body or (b"u0000" in body.lower() and _NUL_ESCAPE.search(body)):
        return "nul_character"
    return None


PROBLEMS = {
    "invalid_encoding": _("Text must be sent in UTF-8; this request is not valid UTF-8."),
    "nul_character": _("Text may not contain the NUL character (\\0)."),
}


def refuse_nul(fields) -> None:
    """A multipart form's text fields (``(name, value)`` pairs; files are skipped) may not hold NUL:
    the middleware below cannot look inside a multipart body, so its readers call this."""
    for name, value in fields:
        if isinstance(value, str) and ("\x00" in value or "\x00" in name):
            raise DomainError(PROBLEMS["nul_character"], code="nul_character", details={"field": name[:64]})


class TextGuardMiddleware:
    """Refuses, with 400 and a code, what no text column can hold and no parser should guess at:
    invalid UTF-8 or a NUL character in the path, the query string, a JSON body or a plain form
    body (PostgreSQL refuses NUL in text, SQLite would store it; Starlette would replace invalid
    UTF-8 silently). JSON and plain form bodies are read here (their size was checked by
    BodyLimitMiddleware, which runs first) and handed on unchanged; multipart bodies carry binary
    files, so their text fields are checked where they are read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        problem = _text_problem(raw_path, escaped=True) or _text_problem(scope.get("query_string", b""), escaped=True)
        if problem is None and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            content_type = ""
            for key, value in scope["headers"]:
                if key == b"content-type":
                    content_type = value.decode("latin-1").lower()
            if content_type.startswith(_READ) or "+json" in content_type.split(";")[0]:
                chunks = []
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client went away
                        return
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        break
                body = b"".join(chunks)
                problem = (_text_problem(body, escaped=True) if content_type.startswith(_READ[1])
                           else _json_problem(body))
                receive = _replay(body, receive)
        if problem is None:
            await self.app(scope, receive, send)
            return
        from api.errors import error_response

        response = error_response(Request(scope), 400, problem, PROBLEMS[problem])
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
