"""Outgoing webhooks: registration by admins, planning one delivery per webhook and event, the
signed request every attempt sends, and the record of each attempt.

The network call itself lives in ``handlers/`` (the ``deliver_webhook`` actor); this module only
decides what is sent and what an answer means. Planning runs inside the ``send_notification``
actor's unit of work: one ``WebhookDelivery`` per (webhook, event id), unique in the database, and
one outbox message ``deliver_webhook`` per delivery, written in the same transaction.

Wire contract of one attempt (documented for receivers in the API):

- body: ``{"event_id", "kind", "request_id", "data", "created_at"}`` as UTF-8 JSON, serialised
  once when the delivery is planned and stored, so every retry sends the same bytes;
- ``X-Shoubanping-Signature: sha256=<hex>``: HMAC-SHA256 with the webhook's secret over
  ``"<timestamp>.<body>"``, where the timestamp is ``X-Shoubanping-Timestamp`` (unix seconds of
  this attempt) — signing the timestamp lets a receiver refuse old replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from . import audit, outbox
from .access import Actor
from .errors import Forbidden, InvalidInput, NotFound
from .i18n import _
from .models import DeliveryStatus, Role, Webhook, WebhookDelivery, utcnow
from .repository import webhooks as repo
from .settings import Settings

MAX_URL = 500  # the column's length
SECRET_MIN, SECRET_MAX = 16, 200
MAX_KINDS = 50
KIND = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
MAX_ERROR = 1000
# What the audit log keeps of a webhook before and after a change (never its secret).
AUDITED = ("url", "kinds", "active")


# --- validation ----------------------------------------------------------------------------------

def require_admin(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(_("Only administrators manage webhooks."), code="role_not_allowed")


def check_url(url: str) -> str:
    url = url.strip()
    bad = InvalidInput(_("A webhook URL is an http or https address with a host, at most {n} characters.",
                         n=MAX_URL), code="invalid_url", details={"field": "url"})
    if not url or len(url) > MAX_URL or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        raise bad from None
    # Credentials in the URL would be shown in every listing; a receiver authenticates by the signature.
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise bad
    return url


def check_secret(secret: str) -> str:
    if not (SECRET_MIN <= len(secret) <= SECRET_MAX) or any(c.isspace() or not c.isprintable() for c in secret):
        raise InvalidInput(
            _("A webhook secret is {min} to {max} characters without spaces or control characters.",
              min=SECRET_MIN, max=SECRET_MAX),
            code="invalid_secret", details={"field": "secret"},
        )
    return secret


def check_kinds(kinds: Sequence[str]) -> list[str]:
    """Kinds are checked for form only: the set of notification kinds grows with the features that
    send them, and a webhook may be registered for a kind before its first event."""
    unique = list(dict.fromkeys(kinds))
    if len(unique) > MAX_KINDS or not all(KIND.match(k) for k in unique):
        raise InvalidInput(
            _("Notification kinds are lower-case names such as deadline_respond, at most {n} of them.", n=MAX_KINDS),
            code="invalid_kinds", details={"field": "kinds"},
        )
    return unique


def generate_secret() -> str:
    return secrets.token_urlsafe(32)


# --- commands ------------------------------------------------------------------------------------

def get(session: Session, actor: Actor, webhook_id: int, *, lock: bool = False) -> Webhook:
    require_admin(actor)
    webhook = repo.lock(session, webhook_id) if lock else repo.get(session, webhook_id)
    if webhook is None:
        raise NotFound(_("Webhook {id} does not exist.", id=webhook_id), code="webhook_not_found")
    return webhook


def list_webhooks(session: Session, actor: Actor) -> Sequence[Webhook]:
    require_admin(actor)
    return repo.all_webhooks(session)


def register(session: Session, actor: Actor, *, url: str, secret: str | None = None,
             kinds: Sequence[str] = (), active: bool = True) -> tuple[Webhook, str]:
    """Register a webhook. Returns it with its secret, which is shown to the admin this once."""
    require_admin(actor)
    webhook = Webhook(url=check_url(url), kinds=check_kinds(kinds), active=active,
                      secret=generate_secret() if secret is None else check_secret(secret))
    session.add(webhook)
    session.flush()
    audit.record(session, actor, "webhook.register", f"webhook:{webhook.id}", utcnow(),
                 {"after": audit.snapshot(webhook, AUDITED)})
    return webhook, webhook.secret


def update(session: Session, actor: Actor, webhook_id: int, *, url: str | None = None,
           kinds: Sequence[str] | None = None, active: bool | None = None, secret: str | None = None,
           rotate_secret: bool = False) -> tuple[Webhook, str | None]:
    """Change a webhook. Everything is checked before anything changes. A given ``secret`` replaces
    the old one; ``rotate_secret`` without one generates a new one. Returns the new secret, if any."""
    webhook = get(session, actor, webhook_id, lock=True)
    before = audit.snapshot(webhook, AUDITED)
    new_url = None if url is None else check_url(url)
    new_kinds = None if kinds is None else check_kinds(kinds)
    new_secret = check_secret(secret) if secret is not None else (generate_secret() if rotate_secret else None)
    if new_url is not None:
        webhook.url = new_url
    if new_kinds is not None:
        webhook.kinds = new_kinds
    if active is not None:
        webhook.active = active
    if new_secret is not None:
        webhook.secret = new_secret
    session.flush()
    details = audit.changes(before, audit.snapshot(webhook, AUDITED))
    if new_secret is not None:
        details["secret_replaced"] = True  # the secret itself never goes into the log
    audit.record(session, actor, "webhook.update", f"webhook:{webhook.id}", utcnow(), details)
    return webhook, new_secret


def deactivate(session: Session, actor: Actor, webhook_id: int) -> Webhook:
    """Deleting a webhook deactivates it: its delivery history stays readable."""
    webhook = get(session, actor, webhook_id, lock=True)
    before = audit.snapshot(webhook, AUDITED)
    webhook.active = False
    session.flush()
    audit.record(session, actor, "webhook.deactivate", f"webhook:{webhook.id}", utcnow(),
                 audit.changes(before, audit.snapshot(webhook, AUDITED)))
    return webhook


def deliveries(session: Session, actor: Actor, webhook_id: int, *, status: DeliveryStatus | None = None,
               limit: int = 50, offset: int = 0) -> Sequence[WebhookDelivery]:
    get(session, actor, webhook_id)
    return repo.deliveries_of(session, webhook_id, status=status, limit=limit, offset=offset)


# --- planning ------------------------------------------------------------------------------------

def event_body(event_id: str, kind: str, request_id: int | None, data: dict, created_at: datetime) -> str:
    return json.dumps({"event_id": event_id, "kind": kind, "request_id": request_id, "data": data,
                       "created_at": created_at.isoformat()}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def plan(session: Session, *, event_id: str, kind: str, request_id: int | None, data: dict,
         now: datetime) -> list[WebhookDelivery]:
    """Plan the deliveries of one notification event to every active webhook that wants its kind.
    A webhook that already has this event is skipped, so a redelivered notification plans nothing."""
    done = repo.planned_for_event(session, event_id)
    targets = [w for w in repo.active_for_kind(session, kind) if w.id not in done]
    if not targets:
        return []
    body = event_body(event_id, kind, request_id, data, now)
    planned = [WebhookDelivery(webhook_id=w.id, event_id=event_id, payload={"body": body}, next_attempt_at=now,
                               created_at=now) for w in targets]
    session.add_all(planned)
    session.flush()
    for delivery in planned:
        outbox.enqueue(session, "deliver_webhook", delivery_id=delivery.id)
    return planned


# --- attempts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """What one POST needs, read in a short unit of work and used after it has ended."""

    delivery_id: int
    event_id: str
    url: str
    secret: str
    body: str

    def headers(self, timestamp: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shoubanping-Event": self.event_id,
            "X-Shoubanping-Delivery": str(self.delivery_id),
            "X-Shoubanping-Timestamp": str(timestamp),
            "X-Shoubanping-Signature": sign(self.secret, timestamp, self.body),
        }


def sign(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def next_attempt(session: Session, delivery_id: int, now: datetime) -> Attempt | None:
    """The attempt to make for a delivery, or None when there is nothing to do: delivered, failed,
    gone, or its webhook was deactivated (then the delivery is marked failed: it never goes out)."""
    delivery = repo.get_delivery(session, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.pending:
        return None
    webhook = repo.get(session, delivery.webhook_id)
    if webhook is None or not webhook.active:
        delivery.status = DeliveryStatus.failed
        delivery.last_error = "webhook deactivated before delivery"
        session.flush()
        return None
    # URL and secret are read now, not at planning: a fixed URL or a rotated secret applies to retries.
    return Attempt(delivery_id=delivery.id, event_id=delivery.event_id, url=webhook.url, secret=webhook.secret,
                   body=delivery.payload["body"])


def record_attempt(session: Session, settings: Settings, delivery_id: int, *, status_code: int | None, error: str,
                   now: datetime, last: bool, retry_at: datetime) -> WebhookDelivery | None:
    """Record the answer to one POST: 2xx is delivered; anything else counts an attempt and either
    waits for the retry at ``retry_at`` or, on the last attempt, fails the delivery."""
    delivery = repo.lock_delivery(session, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.pending:
        return delivery  # a duplicate of this message finished it first
    delivery.attempts += 1
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
        delivery.last_error = ""
    else:
        delivery.last_error = error[:MAX_ERROR]
        if last or delivery.attempts >= settings.webhook_max_attempts:
            delivery.status = DeliveryStatus.failed
        else:
            delivery.next_attempt_at = retry_at
    session.flush()
    return delivery
