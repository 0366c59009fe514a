"""One shape for every error: ``{"error": {"code", "message", "details"}}``, message in the
caller's language."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from web import errors as web_errors
from workflow.errors import DomainError, TooManyRequests
from workflow.i18n import Text, _, negotiate

from .open311 import formats as open311_formats

log = logging.getLogger(__name__)
OPEN311 = "/open311/"

HTTP_CODES = {
    400: ("bad_request", _("The request could not be understood.")),
    401: ("not_authenticated", _("Please log in.")),
    403: ("forbidden", _("You may not do that.")),
    404: ("not_found", _("Nothing here.")),
    405: ("method_not_allowed", _("That method is not allowed here.")),
    413: ("payload_too_large", _("The request is too large.")),
}


def error_response(request: Request, status: int, code: str, message: Text, details: dict | None = None,
                   headers: dict | None = None):
    """The JSON error body under /api/, the Open311 error list under /open311/, and for the web pages
    the error page in the user's language."""
    if web_errors.is_page(request):
        return web_errors.error_page(request, status, code, message, headers)
    locale = negotiate(request.headers.get("accept-language"))
    if request.url.path.startswith(OPEN311):
        if status == 422:  # the standard knows 400 (a bad parameter) and 404 (no such thing, or format)
            fields = (details or {}).get("fields", [])
            if any(f.get("loc", [""])[0] == "path" for f in fields):
                status, message = 404, HTTP_CODES[404][1]
            else:
                status = 400
        return open311_formats.error(open311_formats.format_of(request.url.path), status, message.render(locale),
                                     headers)
    body = {"error": {"code": code, "message": message.render(locale), "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def _rolled_back(error: BaseException | None) -> bool:
    """PostgreSQL rolled the transaction back: SQLSTATE class 40, a serialisation failure (40001) or
    a deadlock (40P01). Read from the error's code, so psycopg (9 MB a process) is not imported by a
    deployment on SQLite; psycopg's own class for the family, TransactionRollback, is not a base of
    those two."""
    return (getattr(error, "sqlstate", None) or "").startswith("40")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = exc.headers
        return error_response(request, exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        fields = [
            {"loc": [str(p) for p in err.get("loc", ())], "type": err.get("type"), "msg": err.get("msg")}
            for err in exc.errors()
        ]
        return error_response(request, 422, "validation_error",
                              _("Some fields are missing or have the wrong type."), {"fields": fields})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        code, message = HTTP_CODES.get(exc.status_code, ("http_error", _("The request failed.")))
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            # FastAPI's answer to a body its JSON parser could not read: here, nesting past
            # Python's recursion limit (``[[[[...``), refused before any model saw it.
            code, message = "too_deeply_nested", _("The JSON body is nested too deeply.")
        elif exc.status_code == 400 and exc.__cause__ is not None:
            code, message = "unreadable_body", _(
                "The body could not be read. Send it whole, as JSON in UTF-8 or as the form the operation takes.")
        return error_response(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(StaleDataError)
    @app.exception_handler(IntegrityError)
    async def concurrent_update(request: Request, exc: Exception):
        log.info("concurrent update refused: %s", exc)
        return error_response(request, 409, "concurrent_update",
                              _("Someone changed this at the same moment. Reload and try again."))

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError):
        if _rolled_back(exc.orig):  # deadlock or serialisation failure
            log.info("transaction rolled back by the database: %s", exc.orig)
            return error_response(request, 409, "concurrent_update",
                                  _("Someone changed this at the same moment. Reload and try again."))
        log.warning("database operational error: %s", exc)
        return error_response(request, 503, "database_unavailable",
                              _("The database is busy or unavailable. Try again shortly."),
                              headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal_error",
                              _("Something went wrong on our side. It has been logged; please try again."))

