"""Open311 clients: issuing, listing and revoking their ``api_key``.

Each client gets an account of role ``client`` that cannot log in (its password hash is not a
hash), so the requests it files name it as their collector. The key itself is shown once, when it
is issued; only its SHA-256 is stored, so a leaked database does not leak working keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor
from ..errors import Conflict, Forbidden, NotFound
from ..i18n import _
from ..models import Account, Open311Client, Role, utcnow
from ..repository import requests as request_repo
from .taxonomy import require_admin, text_field

KEY_PREFIX = "sbp_"
NO_LOGIN = "!open311-client"  # not an argon2 hash: no password can ever match it


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(session: Session, actor: Actor | None, name: str, *, key: str | None = None,
          now: datetime | None = None) -> tuple[Open311Client, str]:
    """A new client and its key (shown only now). ``actor`` None is the command line or the demo,
    which alone may choose the key (the demo's is well known, like its password)."""
    if actor is not None:
        require_admin(actor)
    now = now or utcnow()
    name = text_field({"name": name}, "name", 100)
    if session.scalar(select(Open311Client.id).where(Open311Client.name == name)) is not None:
        raise Conflict(_("A client named {name} already exists.", name=name), code="client_exists",
                       details={"field": "name"})
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    account = Account(username=f"open311-{secrets.token_hex(6)}", password_hash=NO_LOGIN, display_name=name,
                      role=Role.client, created_at=now)
    session.add(account)
    session.flush()
    client = Open311Client(account_id=account.id, name=name, key_hash=key_hash(key), key_prefix=key[:10],
                           created_by=actor.account_id if actor else None, created_at=now)
    session.add(client)
    session.flush()
    audit.record(session, actor or Actor(role="operator"), "open311_client.issue", f"open311_client:{client.id}",
                 now, {"name": name})
    return client, key


def clients(session: Session, actor: Actor | None) -> list[Open311Client]:
    """Every client, revoked ones too, oldest first. ``actor`` None is the command line."""
    if actor is not None:
        require_admin(actor)
    return list(session.scalars(select(Open311Client).order_by(Open311Client.id)))


def catalogue(session: Session, actor: Actor | None) -> list[tuple[Open311Client, int]]:
    """Every client with how many requests it has filed (its account collected)."""
    rows = clients(session, actor)
    counts = request_repo.collected_counts(session, [c.account_id for c in rows])
    return [(c, counts.get(c.account_id, 0)) for c in rows]


def requests_filed(session: Session, client: Open311Client) -> int:
    return request_repo.collected_counts(session, [client.account_id]).get(client.account_id, 0)


def revoke(session: Session, actor: Actor | None, client_id: int, *, now: datetime | None = None) -> Open311Client:
    """Stop a client's key. Its requests stay, collected by it. Revoking twice is a conflict.
    ``actor`` None is the command line."""
    if actor is not None:
        require_admin(actor)
    now = now or utcnow()
    client = session.scalar(select(Open311Client).where(Open311Client.id == client_id).with_for_update())
    if client is None:
        raise NotFound(_("No Open311 client has the id {id}.", id=client_id), code="client_not_found")
    if client.revoked_at is not None:
        raise Conflict(_("This client's key is already revoked."), code="client_revoked")
    client.revoked_at = now
    session.get(Account, client.account_id).is_active = False
    session.flush()
    audit.record(session, actor or Actor(role="operator"), "open311_client.revoke", f"open311_client:{client.id}",
                 now, {"name": client.name})
    return client


def authenticate(session: Session, key: str | None, *, now: datetime | None = None) -> Open311Client:
    """The client a key belongs to, or 403. A missing, unknown and revoked key are told apart in the
    message (the key holder needs to know which), never by timing on the stored hash."""
    key = (key or "").strip()
    if not key:
        raise Forbidden(_("An api_key is required to file a service request. Ask the administrator for one."),
                        code="api_key_required")
    digest = key_hash(key)
    client = session.scalar(select(Open311Client).where(Open311Client.key_hash == digest))
    if client is None or not hmac.compare_digest(client.key_hash, digest):
        raise Forbidden(_("This api_key is not valid."), code="api_key_invalid")
    if client.revoked_at is not None:
        raise Forbidden(_("This api_key has been revoked."), code="api_key_revoked")
    client.last_used_at = now or utcnow()
    return client


def actor_of(client: Open311Client) -> Actor:
    return Actor(role=Role.client.value, account_id=client.account_id)
