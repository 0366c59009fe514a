"""Tracking codes: a resident follows a request without logging in.

A code is ``"<request id>-<check>"``, where the check is the first 10 characters of the base32
HMAC-SHA256 of ``"track:<request id>"`` under ``settings.secret_key``. Nothing is stored: the code
is derived again when it is checked, so there is no schema for it and no way to revoke one code.
Rotating the secret key changes every code at once (the old ones stop working).

Checking is case-insensitive, compares the check in constant time and treats any malformed code
like a wrong one, so a code tells nothing about which request numbers exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from sqlalchemy.orm import Session

from .models import Request
from .settings import Settings

CHECK_LENGTH = 10
_CODE = re.compile(rf"^([1-9][0-9]{{0,9}})-([A-Z2-7]{{{CHECK_LENGTH}}})$")
_MAX_ID = 2_147_483_647  # the id column is a 32-bit integer


def _check(settings: Settings, request_id: int) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"track:{request_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CHECK_LENGTH]


def code_for(settings: Settings, request_id: int) -> str:
    """The tracking code of a request, to hand to the person who reported it."""
    return f"{request_id}-{_check(settings, request_id)}"


def parse(settings: Settings, code: object) -> int | None:
    """The request id a well-formed, genuine code names, else None."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    match = _CODE.match(code.strip().upper())
    if match is None:
        return None
    request_id = int(match.group(1))
    if request_id > _MAX_ID:
        return None
    if not hmac.compare_digest(_check(settings, request_id), match.group(2)):
        return None
    return request_id


def find(session: Session, settings: Settings, code: object) -> Request | None:
    """The request a tracking code opens, or None for a wrong, tampered or malformed code."""
    request_id = parse(settings, code)
    return session.get(Request, request_id) if request_id is not None else None
