"""Rate limits counted from rows that already exist: how long a caller waits (429) after using up a
limit within a sliding window, and the lock that keeps two callers at the limit from both passing.

The login limits (``workflow.commands.accounts``) count login attempts; the Open311 submission
limits below count the requests a client filed and the requests filed with one contact. Both answer
``TooManyRequests`` with the seconds until the oldest counted row leaves its window.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, text
from sqlalchemy.orm import Session

from .access import Actor
from .db import is_postgresql
from .errors import TooManyRequests
from .i18n import _
from .models import Channel, Request
from .settings import Settings


def wait_after(times: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds to wait when ``times`` (the newest first, at most ``limit`` of them, all within the
    window) has used the limit up: until the oldest leaves the window. 0 when there is room."""
    if len(times) < limit:
        return 0
    return max(1, math.ceil((min(times) + window - now).total_seconds()))


def serialise(session: Session, *names: str) -> None:
    """Hold the caller's transaction on each of ``names`` until it ends, so that two transactions
    counting against one limit count one after the other (the second sees the first's row). On
    PostgreSQL a transaction-scoped advisory lock per name, taken in one order so that two callers
    never wait for each other; SQLite's writing transactions are serial already (BEGIN IMMEDIATE)."""
    if not is_postgresql(session):
        return
    keys = sorted({int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True) for name in names})
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


WINDOW_MINUTE = timedelta(minutes=1)
WINDOW_HOUR = timedelta(hours=1)
_BY_COLLECTOR = (select(Request.submitted_at)
                 .where(Request.collector_id == bindparam("collector"), Request.submitted_at > bindparam("since"))
                 .order_by(Request.submitted_at.desc()).limit(bindparam("n")))


def _by_contact(email: str, phone: str):
    contact = []
    if email:
        contact.append(func.lower(Request.contact_email) == email)
    if phone:
        contact.append(Request.contact_phone == phone)
    return (select(Request.submitted_at)
            .where(Request.channel == Channel.open311, Request.submitted_at > bindparam("since"), or_(*contact))
            .order_by(Request.submitted_at.desc()).limit(bindparam("n")))


def open311_submission(session: Session, settings: Settings, client: Actor, *, email: str, phone: str,
                       now: datetime) -> None:
    """Refuse (429) a client's next service request when the client filed
    ``open311_submissions_per_minute`` in the last minute, or when requests with the same e-mail
    address or phone number (through any client) reached ``open311_submissions_per_contact_per_hour``
    in the last hour. Call before anything is written; the requests already filed are what counts."""
    email, phone = email.strip().lower(), phone.strip()
    serialise(session, f"open311-client:{client.account_id}",
              *([f"open311-email:{email}"] if email else []), *([f"open311-phone:{phone}"] if phone else []))
    limit = settings.open311_submissions_per_minute
    times = session.scalars(_BY_COLLECTOR, {"collector": client.account_id, "since": now - WINDOW_MINUTE,
                                            "n": limit}).all()
    wait = wait_after(times, limit, WINDOW_MINUTE, now)
    if wait:
        raise TooManyRequests(_("This client filed {n} service requests in the last minute. Please wait {seconds} "
                                "seconds and try again.", n=limit, seconds=wait),
                              code="too_many_submissions", retry_after=wait, details={"limit": "client"})
    if not (email or phone):
        return
    limit = settings.open311_submissions_per_contact_per_hour
    times = session.scalars(_by_contact(email, phone), {"since": now - WINDOW_HOUR, "n": limit}).all()
    wait = wait_after(times, limit, WINDOW_HOUR, now)
    if wait:
        raise TooManyRequests(_("{n} service requests were filed with this e-mail address or phone number in the "
                                "last hour. Please wait {minutes} minutes and try again.",
                                n=limit, minutes=math.ceil(wait / 60)),
                              code="too_many_submissions", retry_after=wait, details={"limit": "contact"})
