"""Scoring (DESIGN.md §5): the versioned policy, the members' hours and points ledgers, the stored
score runs (a period's drafts and published snapshots) and the audit log.

The ledgers are append-only facts written in the transaction of the command that earns them. Score
runs are derived: a draft can be thrown away and recomputed at any time; a published run is frozen.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column, utcnow


class ScoringPolicy(Base):
    """One version of every weight, limit and rule. Versions are never edited: a change is a new
    version with the date it applies from."""

    __tablename__ = "scoring_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    rules: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HoursEntry(Base):
    """服务时长: one row per verified member task, with the staff appraisal of it."""

    __tablename__ = "hours_entries"
    __table_args__ = (
        Index("ix_hours_entries_community_month", "community_id", "period_month"),
        Index("ix_hours_entries_community_19", "community_id", "period_19"),
        Index("ix_hours_entries_member_day", "member_id", "local_date"),
        Index("ix_hours_entries_request_round", "request_id", "round"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    round: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    appraisal: Mapped[int] = mapped_column(Integer)
    local_date: Mapped[date] = mapped_column(Date)
    period_month: Mapped[str] = mapped_column(String(7))
    period_19: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointReason(enum.StrEnum):
    task_verified = "task_verified"  # bonus: a task of theirs was verified
    visit_collected = "visit_collected"  # bonus: they collected a problem on a home visit (访)
    household_visit = "household_visit"  # bonus: they visited a household they look after (走访), once a month
    activity_attended = "activity_attended"  # bonus: they attended a party-life activity (组织生活), by its kind
    resident_satisfied = "resident_satisfied"  # bonus: the resident was satisfied (满意) with their task
    released = "released"  # deduction: they gave a claimed task back
    sent_back = "sent_back"  # deduction: staff sent their result back
    overdue = "overdue"  # deduction: the resolve deadline passed while they held the task


class PointEntry(Base):
    """积分: one bonus or deduction with its reason and source. ``source_key`` makes each fact
    count once however often the command that earns it is retried."""

    __tablename__ = "point_entries"
    __table_args__ = (
        Index("ix_point_entries_member_day", "member_id", "local_date"),
        Index("ix_point_entries_day", "local_date"),  # the year-to-date sums of every member
        Index("ix_point_entries_community_month", "community_id", "period_month"),
        Index("ix_point_entries_community_19", "community_id", "period_19"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    reason: Mapped[PointReason] = mapped_column(enum_column(PointReason, "point_reason"))
    points: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[int] = mapped_column(Integer)
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    local_date: Mapped[date] = mapped_column(Date)
    period_month: Mapped[str] = mapped_column(String(7))
    period_19: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunStatus(enum.StrEnum):
    draft = "draft"  # the period's current figures, recomputed as facts arrive
    published = "published"  # frozen for one community or street
    superseded = "superseded"  # a publication replaced by an explicit republish
    retired = "retired"  # a draft replaced by a newer one, kept a while for reads already under way


class ScopeKind(enum.StrEnum):
    city = "city"  # drafts cover every street
    street = "street"
    community = "community"


class ScoreRun(Base):
    """One computation of a period: the policy version that made it and the high-water marks of
    the facts it read, so that it can be recomputed to the same result."""

    __tablename__ = "score_runs"
    __table_args__ = (
        Index("uq_score_runs_draft", "period", unique=True,
              sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")),
        Index("uq_score_runs_published", "period", "scope_kind", "scope_id", unique=True,
              sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    period_kind: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus, "run_status"))
    scope_kind: Mapped[ScopeKind] = mapped_column(enum_column(ScopeKind, "scope_kind"))
    scope_id: Mapped[int] = mapped_column(Integer, default=0)  # 0 for the city
    revision: Mapped[int] = mapped_column(Integer, default=0)  # 1, 2, ... for publications
    policy_version: Mapped[int] = mapped_column(Integer)
    marks: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    retired_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")


class UnitKind(enum.StrEnum):
    street = "street"
    community = "community"
    grid = "grid"
    member = "member"


class UnitScore(Base):
    """The three rates and their composite for one unit in one run."""

    __tablename__ = "unit_scores"
    __table_args__ = (Index("ix_unit_scores_run_unit", "run_id", "unit_kind", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("score_runs.id", ondelete="CASCADE"))
    unit_kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind"))
    unit_id: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer)
    responded_in_time: Mapped[int] = mapped_column(Integer)
    evaluated: Mapped[int] = mapped_column(Integer)
    solved: Mapped[int] = mapped_column(Integer)
    satisfied: Mapped[int] = mapped_column(Integer)
    basically_satisfied: Mapped[int] = mapped_column(Integer)
    response_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    resolution_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    satisfaction_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    composite: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    # Planned collection (communities and streets; empty for grids, members and runs made before
    # it was counted): households on the plan as of the period's last counted day, visited,
    # overdue and never visited; visits made in that month; rounds ended, and the grids' round
    # windows begun and met. ``rates_composite`` is the three rates' alone, ``composite`` folds in
    # coverage and rounds by the policy's collection weights.
    households: Mapped[int | None] = mapped_column(Integer)
    visited: Mapped[int | None] = mapped_column(Integer)
    overdue: Mapped[int | None] = mapped_column(Integer)
    never_visited: Mapped[int | None] = mapped_column(Integer)
    visits: Mapped[int | None] = mapped_column(Integer)
    rounds: Mapped[int | None] = mapped_column(Integer)
    round_windows: Mapped[int | None] = mapped_column(Integer)
    round_windows_met: Mapped[int | None] = mapped_column(Integer)
    coverage: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    round_rate: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    rates_composite: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))


class MemberScore(Base):
    """One member's assessment in one community for one run, with both rankings."""

    __tablename__ = "member_scores"
    __table_args__ = (
        Index("ix_member_scores_run_community", "run_id", "community_id"),
        Index("ix_member_scores_run_street", "run_id", "street_id"),
        Index("ix_member_scores_run_member", "run_id", "member_id"),
        Index("ix_member_scores_run_unit", "run_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("score_runs.id", ondelete="CASCADE"))
    # Ids of the member, community, street and home unit without foreign keys: the rows are computed
    # from facts whose keys are checked already, and checking four keys for each of a city's 120 k
    # rows doubled the time a recompute spends storing them.
    member_id: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int | None] = mapped_column(Integer)  # None for a volunteer
    # "party" or "volunteer" (MemberKind): the two are ranked apart.
    kind: Mapped[str] = mapped_column(String(16), default="party", server_default="party")
    tasks: Mapped[int] = mapped_column(Integer)
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    quality_sum: Mapped[Decimal] = mapped_column(Numeric(12, 4))  # sum of task scores
    quality_mean: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))  # before shrinkage
    community_mean: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    quality: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))  # after shrinkage
    hours_score: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    points_bonus: Mapped[int] = mapped_column(Integer)
    points_deduction: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)  # base + bonus - deduction, floored at 0
    points_score: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    composite: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    eligible: Mapped[bool] = mapped_column(Boolean)
    gate_failures: Mapped[list] = mapped_column(JSON, default=list)
    community_rank: Mapped[int | None] = mapped_column(Integer)
    community_grade: Mapped[str | None] = mapped_column(String(16))
    community_decided_by: Mapped[str | None] = mapped_column(String(16))
    street_rank: Mapped[int | None] = mapped_column(Integer)
    street_grade: Mapped[str | None] = mapped_column(String(16))
    street_decided_by: Mapped[str | None] = mapped_column(String(16))


class AuditEntry(Base):
    """Who changed what, when, with the values before and after (workflow.audit). Never updated."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(48), index=True)
    target: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
