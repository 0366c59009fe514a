"""Body limits, enforced before anything reads a body.

A body must say how long it is (``Content-Length``); a chunked body without one is refused with 411,
so no parser spools an unbounded upload to disk or memory before the CSRF check or a login check
can refuse it. A declared length over the limit is refused with 413 at once. The limits:

- pages: multipart forms (photos) up to 10 × ``max_photo_bytes`` + 1 MiB, other forms 64 KiB;
- the JSON API and Open311: a photo upload up to ``max_photo_bytes`` + 64 KiB, other bodies 1 MiB.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

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
