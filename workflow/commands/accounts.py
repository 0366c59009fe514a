"""Accounts, passwords (argon2) and bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ..access import remember_member_id
from ..errors import Conflict, InvalidInput, Unauthorized
from ..i18n import _
from ..models import Account, AuthToken, Community, Member, Role, Street, Unit, utcnow
from ..settings import Settings

# OWASP's recommended argon2id setting (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's default
# of 64 MiB and 4 lanes: every hash and verification takes its memory cost. Hashes made with other
# settings still verify, and are rehashed at the next login.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Every argon2 computation runs on this one thread. The C allocator keeps the 19 MiB in the arena
# of the thread that hashed, so hashing on whichever request thread came along would leave a copy
# behind per thread, and a burst of logins would take one copy each at once. A burst waits its turn.
_ARGON2 = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD = 8


def _argon2(fn, *args):
    return _ARGON2.submit(fn, *args).result()


# Verifying against this keeps a failed login for an unknown user as slow as for a known one.
_DUMMY_HASH = _argon2(HASHER.hash, "not-a-real-password")


def hash_password(password: str) -> str:
    return _argon2(HASHER.hash, password)


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    display_name: str,
    role: Role | str,
    community_id: int | None = None,
    street_id: int | None = None,
    phone: str | None = None,
    unit_id: int | None = None,
    password_hash: str | None = None,
) -> Account:
    role = Role(role)
    if role == Role.client:
        raise InvalidInput(_("Open311 client accounts are made by issuing a client key, not by hand."),
                           code="role_not_allowed", details={"field": "role"})
    if not USERNAME.match(username or ""):
        raise InvalidInput(
            _("A username is 3 to 64 letters, digits, dots, dashes or underscores."), code="invalid_username",
            details={"field": "username"},
        )
    if password_hash is None and len(password or "") < MIN_PASSWORD:
        raise InvalidInput(_("A password needs at least {n} characters.", n=MIN_PASSWORD), code="weak_password",
                           details={"field": "password"})
    if not (display_name or "").strip():
        raise InvalidInput(_("Please give a display name."), code="display_name_required",
                           details={"field": "display_name"})
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise Conflict(_("The username {name} is taken.", name=username), code="username_taken")
    if community_id is not None and session.get(Community, community_id) is None:
        raise InvalidInput(_("Unknown community {id}.", id=community_id), code="unknown_community")
    # One scope per account: staff by community, street officers by street, secretaries by the
    # community when given, else the street.
    if role == Role.street_officer:
        community_id = None
    elif role in (Role.staff, Role.secretary) and community_id is not None:
        street_id = None
    if street_id is not None and session.get(Street, street_id) is None:
        raise InvalidInput(_("Unknown street {id}.", id=street_id), code="unknown_street")
    if role == Role.staff and community_id is None:
        raise InvalidInput(_("Staff belong to a community."), code="community_required")
    if role == Role.street_officer and street_id is None:
        raise InvalidInput(_("Street officers belong to a street."), code="street_required")
    if role == Role.secretary and street_id is None and community_id is None:
        raise InvalidInput(_("A secretary belongs to a community or a street."), code="scope_required")
    if role == Role.member and (unit_id is None or session.get(Unit, unit_id) is None):
        raise InvalidInput(_("A member needs a known home unit."), code="unit_required", details={"field": "unit_id"})
    account = Account(
        username=username,
        password_hash=password_hash or hash_password(password),
        display_name=display_name.strip(),
        phone=phone,
        role=role,
        community_id=community_id,
        street_id=street_id,
    )
    session.add(account)
    session.flush()
    if role == Role.member:
        session.add(Member(account_id=account.id, unit_id=unit_id))
        session.flush()
    return account


def _token_hash(settings: Settings, token: str) -> str:
    return hmac.new(settings.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def login(session: Session, settings: Settings, username: str, password: str,
          *, now: datetime | None = None) -> tuple[str, AuthToken, Account]:
    now = now or utcnow()
    account = session.scalar(select(Account).where(Account.username == username))
    try:
        _argon2(HASHER.verify, account.password_hash if account else _DUMMY_HASH, password)
        ok = account is not None and account.is_active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise Unauthorized(_("Wrong username or password."), code="invalid_credentials")
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    token, row = issue_token(session, settings, account, now=now)
    return token, row, account


def issue_token(session: Session, settings: Settings, account: Account,
                *, now: datetime | None = None) -> tuple[str, AuthToken]:
    """A new bearer token for an account whose credentials were checked."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = AuthToken(token_hash=_token_hash(settings, token), account_id=account.id, created_at=now,
                    expires_at=now + timedelta(hours=settings.token_ttl_hours))
    session.add(row)
    session.flush()
    return token, row


_AUTHENTICATE = (
    select(AuthToken.revoked_at, AuthToken.expires_at, Account, Member.id)
    .join(Account, Account.id == AuthToken.account_id)
    .outerjoin(Member, Member.account_id == Account.id)
    .where(AuthToken.token_hash == bindparam("token_hash"))
)


def authenticate(session: Session, settings: Settings, token: str, *, now: datetime | None = None) -> Account:
    now = now or utcnow()
    # The token, its account and the account's member id in one query: every authenticated
    # request asks it, and Actor.of finds the member id without asking again.
    found = session.execute(_AUTHENTICATE, {"token_hash": _token_hash(settings, token)}).first()
    if found is None:
        raise Unauthorized(_("Please log in again."), code="invalid_token")
    revoked_at, expires_at, account, member_id = found
    if revoked_at is not None or expires_at <= now or not account.is_active:
        raise Unauthorized(_("Please log in again."), code="invalid_token")
    remember_member_id(session, account.id, member_id)
    return account


def logout(session: Session, settings: Settings, token: str, *, now: datetime | None = None) -> None:
    row = session.scalar(select(AuthToken).where(AuthToken.token_hash == _token_hash(settings, token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
