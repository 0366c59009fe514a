"""Accounts, passwords (argon2) and bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import audit, limits
from ..access import Actor, remember_member_id, require_admin
from ..errors import Conflict, DomainError, InvalidInput, TooManyRequests, Unauthorized
from ..i18n import _
from ..models import (
    Account,
    AuthToken,
    Community,
    LoginAttempt,
    LoginOutcome,
    Member,
    MemberKind,
    Role,
    Street,
    Unit,
    utcnow,
)
from ..settings import Settings

# argon2id with 7 MiB, 5 passes, 1 lane: of the settings OWASP's password storage cheat sheet gives
# as equally strong (19 MiB x 2 passes down to 7 MiB x 5 passes), the one that trades memory for
# CPU, since every hash and verification takes its memory cost in an API worker whose whole budget
# is 150 MB (bench/memory.py); argon2-cffi's default is 64 MiB and 4 lanes. Hashes made with other
# settings still verify, and are rehashed at the next login.
HASHER = PasswordHasher(time_cost=5, memory_cost=7 * 1024, parallelism=1)
# Every argon2 computation runs on this one thread. The C allocator keeps the 7 MiB in the arena
# of the thread that hashed, so hashing on whichever request thread came along would leave a copy
# behind per thread, and a burst of logins would take one copy each at once. A burst waits its turn.
_ARGON2 = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
MIN_PASSWORD = 8
SELF = "self"  # create_account(by=SELF): the account made itself (a resident's sign-up)


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
    by: Actor | str | None = None,
) -> Account:
    """A new account. ``by`` is who made it, for the audit log: an admin, the operator at the
    command line (``Actor(role="operator")``), or :data:`SELF` for a resident signing up. Seeding
    and tests leave it out and write no entry."""
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
    member = None
    if role == Role.member:
        member = Member(account_id=account.id, unit_id=unit_id)
    elif role == Role.volunteer:  # a volunteer has no home unit
        member = Member(account_id=account.id, kind=MemberKind.volunteer, unit_id=None)
    if member is not None:
        session.add(member)
        session.flush()
    if by is not None:
        if by == SELF:
            by = Actor(role=account.role.value, account_id=account.id)
        after = audit.snapshot(account, ("username", "display_name", "role", "community_id", "street_id", "is_active"))
        if member is not None and role == Role.member:
            after["unit_id"] = unit_id
        audit.record(session, by, "account.create", f"account:{account.id}", account.created_at or utcnow(),
                     {"after": after})
    return account


def _token_hash(settings: Settings, token: str) -> str:
    return hmac.new(settings.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass
class Login:
    """How a login ended: a token for the account, or ``refusal``. A refusal is returned, not
    raised: the attempt is a fact to keep (it counts toward the limits, and the log of logins shows
    it), so the caller commits its unit of work and raises ``refusal`` after (``raise_refusal``)."""

    token: str | None = None
    row: AuthToken | None = None
    account: Account | None = None
    refusal: DomainError | None = None

    def raise_refusal(self) -> None:
        if self.refusal is not None:
            raise self.refusal


def login(session: Session, settings: Settings, username: str, password: str, *, address: str = "",
          door: str = "api", now: datetime | None = None) -> Login:
    """Check a username and password and issue a token; every attempt is recorded. A name that
    failed ``login_failures_per_name`` times in a row within ``login_window_minutes``, or an address
    whose tries failed ``login_failures_per_address`` times within it (whatever the names), waits:
    its attempts are refused with 429 before any password is checked, until the oldest of those
    failures leaves the window."""
    now = now or utcnow()
    name = username[:100]
    wait = _wait(session, settings, name, address, now)
    if wait:
        _record(session, name, None, address, door, LoginOutcome.throttled, now)
        minutes = math.ceil(wait / 60)
        return Login(refusal=TooManyRequests(
            _("Too many login attempts. Please wait {minutes} minutes and try again.", minutes=minutes),
            code="too_many_attempts", retry_after=wait))
    account = session.scalar(select(Account).where(Account.username == username))
    try:
        _argon2(HASHER.verify, account.password_hash if account else _DUMMY_HASH, password)
        ok = account is not None and account.is_active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        _record(session, name, account.id if account else None, address, door, LoginOutcome.refused, now)
        return Login(refusal=Unauthorized(_("Wrong username or password."), code="invalid_credentials"))
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    token, row = issue_token(session, settings, account, now=now)
    _record(session, name, account.id, address, door, LoginOutcome.succeeded, now)
    return Login(token, row, account)


# Tries refused for waiting do not count: a wait ends one window after the try that started it.
_COUNTED = LoginAttempt.outcome != LoginOutcome.throttled
_RECENT_BY_NAME = (select(LoginAttempt.at, LoginAttempt.outcome)
                   .where(LoginAttempt.username == bindparam("name"), LoginAttempt.at > bindparam("since"), _COUNTED)
                   .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(bindparam("n")))
_FAILED_BY_ADDRESS = (select(LoginAttempt.at)
                      .where(LoginAttempt.address == bindparam("address"), LoginAttempt.at > bindparam("since"),
                             LoginAttempt.outcome == LoginOutcome.refused)
                      .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(bindparam("n")))


def _wait(session: Session, settings: Settings, name: str, address: str, now: datetime) -> int:
    """Seconds until ``name`` from ``address`` may try again; 0 for now. A name waits after a run of
    failures (a success ends the run), an address after that many failures of any names."""
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    limit = settings.login_failures_per_name
    run = session.execute(_RECENT_BY_NAME, {"name": name, "since": since, "n": limit}).all()
    wait = 0
    if all(outcome == LoginOutcome.refused for _at, outcome in run):
        wait = limits.wait_after([at for at, _outcome in run], limit, window, now)
    if address:
        limit = settings.login_failures_per_address
        tries = session.scalars(_FAILED_BY_ADDRESS, {"address": address, "since": since, "n": limit}).all()
        wait = max(wait, limits.wait_after(tries, limit, window, now))
    return wait


def _record(session: Session, name: str, account_id: int | None, address: str, door: str, outcome: LoginOutcome,
            now: datetime) -> None:
    session.add(LoginAttempt(at=now, username=name, account_id=account_id, address=address[:64], door=door,
                             outcome=outcome))
    session.flush()


def login_log(session: Session, actor: Actor, *, username: str | None = None, address: str | None = None,
              outcome: LoginOutcome | None = None, limit: int = 100, offset: int = 0) -> list[LoginAttempt]:
    """The log of logins, newest first. Admins only."""
    require_admin(actor)
    stmt = select(LoginAttempt).order_by(LoginAttempt.id.desc()).limit(limit).offset(offset)
    if username:
        stmt = stmt.where(LoginAttempt.username == username)
    if address:
        stmt = stmt.where(LoginAttempt.address == address)
    if outcome:
        stmt = stmt.where(LoginAttempt.outcome == outcome)
    return list(session.scalars(stmt))


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
    if revoked_at is not None or not account.is_active:
        raise Unauthorized(_("Please log in again."), code="invalid_token")
    if expires_at <= now:
        raise Unauthorized(_("Your session has expired. Please log in again."), code="token_expired",
                           details={"expired_at": expires_at.isoformat()})
    remember_member_id(session, account.id, member_id)
    return account


def logout(session: Session, settings: Settings, token: str, *, now: datetime | None = None) -> None:
    row = session.scalar(select(AuthToken).where(AuthToken.token_hash == _token_hash(settings, token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now or utcnow()
