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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from .deadlines import next_deadline
from .models import Request, Status
from .repository import requests as requests_repo
from .settings import Settings

CHECK_LENGTH = 10
_CODE = re.compile(rf"^([1-9][0-9]{{0,9}})-([A-Z2-7]{{{CHECK_LENGTH}}})$")
_MAX_ID = 2_147_483_647  # the id column is a 32-bit integer


def _check(settings: Settings, request_id: int, purpose: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"{purpose}:{request_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CHECK_LENGTH]


def code_for(settings: Settings, request_id: int, purpose: str = "track") -> str:
    """The tracking code of a request, to hand to the person who reported it. Another ``purpose``
    makes codes of the same shape for other things (``media``: a photo's public address), which a
    tracking code never opens."""
    return f"{request_id}-{_check(settings, request_id, purpose)}"


def parse(settings: Settings, code: object, purpose: str = "track") -> int | None:
    """The id a well-formed, genuine code names, else None."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    match = _CODE.match(code.strip().upper())
    if match is None:
        return None
    request_id = int(match.group(1))
    if request_id > _MAX_ID:
        return None
    if not hmac.compare_digest(_check(settings, request_id, purpose), match.group(2)):
        return None
    return request_id


def find(session: Session, settings: Settings, code: object) -> Request | None:
    """The request a tracking code opens, or None for a wrong, tampered or malformed code."""
    request_id = parse(settings, code)
    return session.get(Request, request_id) if request_id is not None else None


def code_shown_to(settings: Settings, actor, request: Request, *, just_collected: bool = False) -> str | None:
    """The tracking code, for whoever may hand it on: the reporting resident on the request's page;
    right after intake, also the staff or member who brought the request in (to pass it to the
    resident concerned). Nobody else sees it."""
    if actor.account_id is not None and (actor.account_id == request.reporter_id
                                         or (just_collected and actor.account_id == request.collector_id)):
        return code_for(settings, request.id)
    return None


@dataclass(frozen=True)
class PublicView:
    """What anyone holding a request's code may see: where it stands, never who is involved. No
    description, contact, notes, actors or photos; the result only once the request is resolved."""

    id: int
    status: Status
    category_id: int
    community_id: int
    submitted_at: datetime
    deadline: tuple[str, datetime] | None
    result: str
    steps: list[tuple[str, datetime]]  # (event trigger, when)


def public_view(session: Session, request: Request) -> PublicView:
    return PublicView(
        id=request.id, status=request.status, category_id=request.category_id, community_id=request.community_id,
        submitted_at=request.submitted_at, deadline=next_deadline(request),
        result=request.result if request.status in (Status.resolved, Status.closed) else "",
        steps=[(e.trigger, e.created_at) for e in requests_repo.events(session, request.id)],
    )
