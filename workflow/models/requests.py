"""The request (诉求) aggregate: the request, its append-only events, photos, claims, evaluations."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column, utcnow
from .taxonomy import Route


class Channel(enum.StrEnum):
    report = "report"  # 报: a resident reports
    inspection = "inspection"  # 查: staff find it on an inspection round
    visit = "visit"  # 访: a member finds it on a home visit
    hotline = "hotline"
    open311 = "open311"


class Status(enum.StrEnum):
    submitted = "submitted"
    community = "community"
    street = "street"
    open_task = "open_task"
    claimed = "claimed"
    verifying = "verifying"
    resolved = "resolved"
    closed = "closed"
    rejected = "rejected"
    merged = "merged"


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_community_status", "community_id", "status"),
        Index("ix_requests_street_status", "street_id", "status"),
        # The last minute's or hour's requests (the Open311 submission limits), Open311's newest-first lists.
        Index("ix_requests_submitted_at", "submitted_at"),
        CheckConstraint("reopen_count >= 0", name="reopen_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[Status] = mapped_column(enum_column(Status, "status"), default=Status.submitted)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    description: Mapped[str] = mapped_column(Text)
    # The resident who reported it and evaluates it; None for problems found by staff or members.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    # Who took it in: the resident themself, the staff member on inspection, the visiting member.
    collector_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # Answers to the category's extra questions, by attribute code (Open311 ``attribute[CODE]``).
    attributes: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # A photo the reporter's app keeps elsewhere (Open311 ``media_url``); shown as a link, never fetched.
    media_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    route: Mapped[Route | None] = mapped_column(enum_column(Route, "route"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # 督办: normal, yellow or red, set by street officers and secretaries.
    supervision: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    result: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]  # first put on the task board
    # While set and in the future, only members whose responsibility zone covers the request may claim it.
    zone_offer_until: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The deadlines first promised when the request came in: the rates measure against these.
    # respond_by / resolve_by below are the current round's, which the scheduler enforces.
    first_respond_by: Mapped[datetime | None]
    first_resolve_by: Mapped[datetime | None]
    respond_by: Mapped[datetime | None] = mapped_column(index=True)
    resolve_by: Mapped[datetime | None] = mapped_column(index=True)
    claim_by: Mapped[datetime | None] = mapped_column(index=True)
    evaluate_by: Mapped[datetime | None] = mapped_column(index=True)
    # When 80 % of each window has passed: the scheduler's reminder times, indexed like the deadlines.
    respond_remind_at: Mapped[datetime | None] = mapped_column(index=True)
    resolve_remind_at: Mapped[datetime | None] = mapped_column(index=True)
    claim_remind_at: Mapped[datetime | None] = mapped_column(index=True)
    evaluate_remind_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic lock on every backend, on top of row locks where the database has them.
    __mapper_args__ = {"version_id_col": version}

    @property
    def round(self) -> int:
        """The resolution round: 1 for the first handling, +1 for each reopen."""
        return self.reopen_count + 1


SUPERVISE_TRIGGER = "supervise"
SUPERVISE = f"trigger = '{SUPERVISE_TRIGGER}'"


class RequestEvent(Base):
    """One row per transition, written in the transaction of the change. Never updated."""

    __tablename__ = "request_events"
    # Supervision marks (督办) are few among millions of events; the red-mark gate of the member
    # rankings reads them through this small partial index instead of every event of every claim.
    __table_args__ = (Index("ix_request_events_supervise", "request_id", "created_at",
                            sqlite_where=text(SUPERVISE), postgresql_where=text(SUPERVISE)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhotoStage(enum.StrEnum):
    report = "report"
    result = "result"


class Photo(Base):
    """An uploaded image, stored on disk by content hash; attached once used, to one request or to
    one household visit (走访, ``visit_id``; no stage)."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    stage: Mapped[PhotoStage | None] = mapped_column(enum_column(PhotoStage, "photo_stage"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClaimStatus(enum.StrEnum):
    active = "active"  # the member is working on it
    reported = "reported"  # result reported, staff are checking
    verified = "verified"
    released = "released"  # given back by the member
    withdrawn = "withdrawn"  # taken back when the request left the task flow


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        # At most one live claim per request: the database's own guarantee behind the row locks.
        Index(
            "uq_claims_live",
            "request_id",
            unique=True,
            sqlite_where=text("status IN ('active', 'reported')"),
            postgresql_where=text("status IN ('active', 'reported')"),
        ),
        Index("ix_claims_member_status", "member_id", "status"),
        CheckConstraint("appraisal IS NULL OR (appraisal BETWEEN 1 AND 5)", name="appraisal_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[ClaimStatus] = mapped_column(
        enum_column(ClaimStatus, "claim_status"), default=ClaimStatus.active
    )
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    reported_at: Mapped[datetime | None]
    send_back_count: Mapped[int] = mapped_column(Integer, default=0)
    appraisal: Mapped[int | None] = mapped_column(Integer)
    ended_at: Mapped[datetime | None]

    @property
    def progress(self) -> str:
        """Where the member's work stands: the claim's status, or ``sent_back`` for an active claim
        whose result staff sent back for more work."""
        if self.status == ClaimStatus.active and self.send_back_count:
            return "sent_back"
        return self.status.value


class Satisfaction(enum.StrEnum):
    satisfied = "satisfied"  # 满意
    basically_satisfied = "basically_satisfied"  # 基本满意
    unsatisfied = "unsatisfied"  # 不满意


class Evaluation(Base):
    """评: one per resolution round, kept when the round's unsatisfied verdict reopens the request."""

    __tablename__ = "evaluations"
    # One evaluation per person per round: the reporter, or a reporter linked by a merge.
    __table_args__ = (Index("uq_evaluations_round", "request_id", "round", "evaluator_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    round: Mapped[int] = mapped_column(Integer)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    evaluator_role: Mapped[str] = mapped_column(String(24))
    satisfaction: Mapped[Satisfaction] = mapped_column(enum_column(Satisfaction, "satisfaction"))
    solved: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")
    # True for the verdict that closed or reopened the round (the reporter's, or the secretary's);
    # False for residents linked by a merge, whose verdicts are kept alongside and shown with the
    # request; the rates count one verdict per request, the decisive one, as the outcome row holds it.
    decisive: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
