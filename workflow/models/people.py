"""Accounts and roles, home units, seconded members and their registrations (双报到)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column, utcnow


class Role(enum.StrEnum):
    resident = "resident"
    staff = "staff"
    member = "member"
    street_officer = "street_officer"
    secretary = "secretary"
    admin = "admin"
    # An outside system that files requests through Open311 (a city app, a hotline). It never logs
    # in: its account only names who collected the requests it sends.
    client = "client"
    # 志愿者: a resident who is not a party member and serves beside the members. They report and
    # evaluate like any resident, register with communities and claim the tasks whose category
    # allows volunteers (workflow.volunteers).
    volunteer = "volunteer"


class Account(Base):
    """A person who logs in. Staff and community secretaries belong to a community; street
    officers and street secretaries to a street; residents may name the community they live in."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "(role NOT IN ('staff') OR community_id IS NOT NULL)"
            " AND (role NOT IN ('street_officer') OR street_id IS NOT NULL)"
            " AND (role NOT IN ('secretary') OR street_id IS NOT NULL OR community_id IS NOT NULL)",
            name="scope_matches_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthToken(Base):
    """A bearer token. Only a keyed hash of the token is stored; logout revokes it."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginOutcome(enum.StrEnum):
    succeeded = "succeeded"
    refused = "refused"  # wrong username or password, or an account switched off
    throttled = "throttled"  # too many recent failures for the name or tries from the address: not checked


class LoginAttempt(Base):
    """One try at logging in, kept as the log of logins: the name given, where from, which door
    (the API or the pages) and how it ended. Recent rows decide whether a name or an address must
    wait (workflow.commands.accounts)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    address: Mapped[str] = mapped_column(String(64), default="")
    door: Mapped[str] = mapped_column(String(8))  # "api" or "page"
    outcome: Mapped[LoginOutcome] = mapped_column(enum_column(LoginOutcome, "login_outcome"))


class Unit(Base):
    """单位: a member's home unit (employer party organisation), which receives the 双报告."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact: Mapped[str] = mapped_column(String(200), default="")


class MemberKind(enum.StrEnum):
    party = "party"  # 下沉党员, with a home unit
    volunteer = "volunteer"  # 志愿者, with none


class Member(Base):
    """Someone who registers with communities and claims their tasks: a party member seconded to
    serve where they live (下沉党员, with their home unit), or a volunteer (志愿者). The two are scored
    and ranked apart; only members have a home unit to report to."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("(kind = 'party' AND unit_id IS NOT NULL) OR (kind = 'volunteer' AND unit_id IS NULL)",
                        name="unit_matches_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    kind: Mapped[MemberKind] = mapped_column(enum_column(MemberKind, "member_kind"), default=MemberKind.party,
                                             server_default="party")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    claim_limit: Mapped[int | None] = mapped_column(Integer)  # None: the configured default


class RegistrationStatus(enum.StrEnum):
    active = "active"
    ended = "ended"


class Registration(Base):
    """报到: a member's registration with a community. One active registration per pair."""

    __tablename__ = "registrations"
    __table_args__ = (
        Index(
            "uq_registrations_active",
            "member_id",
            "community_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_column(RegistrationStatus, "registration_status"), default=RegistrationStatus.active
    )
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class Open311Client(Base):
    """An Open311 client (a city app, a hotline) with its ``api_key``. Only the key's SHA-256 is
    stored; revoking it stops the key at once and keeps the requests it filed."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class PersonalDataRead(Base):
    """One look at a request's unmasked personal data (the reporter's name, phone and e-mail, the
    exact address), or at a household's contact, by someone other than the resident it belongs
    to: who, when, which request or household, which fields and through which door. Written in
    the transaction that read the data, so a read that was answered is a read that was logged
    (workflow.privacy)."""

    __tablename__ = "personal_data_reads"
    __table_args__ = (Index("ix_personal_data_reads_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(String(24))
    # What was read: a request's data, or a household's contact (workflow.visits).
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    fields: Mapped[str] = mapped_column(String(64))  # comma-separated: contact_name,contact_phone,...
    door: Mapped[str] = mapped_column(String(8))  # "api", "page" or "open311"
