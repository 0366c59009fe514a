"""Error pages: every error on a page route is shown as a page in the user's language.

The JSON API keeps its ``{"error": ...}`` bodies; everything outside ``/api/`` gets these pages. A
page that needs a login sends the visitor to the login form and back; a stack trace never reaches
the browser (the 500 page only says it was logged).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from workflow.i18n import Text, _

from . import render
from . import session as web_session
from .context import LoginRequired

TITLES = {
    400: _("The request could not be understood"),
    401: _("Please log in"),
    403: _("Not allowed"),
    404: _("Page not found"),
    405: _("Not allowed"),
    409: _("That could not be done now"),
    413: _("Too large"),
    422: _("Please check what you entered"),
    500: _("Something went wrong"),
    503: _("Service unavailable"),
}


def is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api/", "/open311/", "/docs")) or path in ("/healthz", "/openapi.json"))


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = request.headers.get("referer") and render.safe_next(
            "/" + request.headers["referer"].split("/", 3)[-1]) or "/"
    from urllib.parse import quote

    return render.redirect(f"/login?next={quote(target, safe='/')}")


def error_page(request: Request, status: int, code: str, message: Text, headers: dict | None = None) -> Response:
    if status == 401:
        return login_redirect(request)
    if status == 422 and code == "validation_error":
        # A malformed address (``/requests/abc``) is a page that does not exist.
        status, code, message = 404, "not_found", _("Nothing here.")
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    response = render.page(request, "errors/error.html",
                           {"status": status, "code": code, "title": title, "message": message},
                           status=status, headers=headers)
    if status == 500:
        # Unhandled errors are answered outside the middleware stack, past the session cookie
        # middleware: the page's CSRF token must reach the browser all the same.
        cookie = web_session.cookie_header(request.scope)
        if cookie is not None:
            response.raw_headers.append((b"set-cookie", cookie))
    return response


def install(app) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        return login_redirect(request)
