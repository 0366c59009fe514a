"""Domain errors. Each carries the HTTP status it maps to and a machine-readable code; the API
renders them all with one handler, the CLI prints them."""

from __future__ import annotations

from typing import Any

from .i18n import Text


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: Text, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class TooManyRequests(DomainError):
    """Too many tries: ``retry_after`` seconds until the next is taken (also in the details)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: Text, *, retry_after: int, code: str | None = None, details: dict | None = None):
        super().__init__(message, code=code, details={**(details or {}), "retry_after": retry_after})
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """What an HTTP answer adds: when to come back."""
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
