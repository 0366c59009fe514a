"""Handling data beyond the request itself: routing rules, responsibility zones, departments and
their whistle calls (吹哨报到), reporters linked by a merge, and outgoing webhooks."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum_column, utcnow
from .taxonomy import Route


class RoutingRule(Base):
    """Ordered routing rules: the first enabled rule whose conditions all hold decides the route.
    Each condition is a list; an empty list matches anything."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    categories: Mapped[list] = mapped_column(JSON, default=list)  # category codes, leaf or top level
    urgencies: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    street_ids: Mapped[list] = mapped_column(JSON, default=list)
    community_ids: Mapped[list] = mapped_column(JSON, default=list)
    grid_ids: Mapped[list] = mapped_column(JSON, default=list)
    building_ids: Mapped[list] = mapped_column(JSON, default=list)
    target: Mapped[Route] = mapped_column(enum_column(Route, "route"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResponsibilityZone(Base):
    """责任区: a grid or a building a member looks after in a community they are registered with."""

    __tablename__ = "responsibility_zones"
    # Partial indexes: a plain unique constraint never fires when one of its columns is NULL.
    __table_args__ = (
        Index("uq_zones_member_grid", "member_id", "grid_id", unique=True,
              sqlite_where=text("grid_id IS NOT NULL"), postgresql_where=text("grid_id IS NOT NULL")),
        Index("uq_zones_member_building", "member_id", "building_id", unique=True,
              sqlite_where=text("building_id IS NOT NULL"), postgresql_where=text("building_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Department(Base):
    """A functional department a street office can whistle in (城管, 房管, 派出所, ...)."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WhistleCall(Base):
    """吹哨: one department called in on one request, with the deadline to report in and its answer."""

    __tablename__ = "whistle_calls"
    __table_args__ = (
        Index("uq_whistle_calls_open", "request_id", "department_id", unique=True,
              sqlite_where=text("responded_at IS NULL AND closed_at IS NULL"),
              postgresql_where=text("responded_at IS NULL AND closed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    called_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    called_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_by: Mapped[datetime] = mapped_column(index=True)
    responded_at: Mapped[datetime | None]
    response: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # Set when the request left the street office while this call was still waiting.
    closed_at: Mapped[datetime | None]


class Supervision(enum.StrEnum):
    """督办 marks."""

    normal = "normal"
    yellow = "yellow"
    red = "red"


class RequestLink(Base):
    """A reporter whose duplicate was merged into this request: they follow and may evaluate it."""

    __tablename__ = "request_links"
    __table_args__ = (UniqueConstraint("request_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    from_request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    """An outgoing webhook: notification events are POSTed to ``url``, signed with ``secret``."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[list] = mapped_column(JSON, default=list)  # notification kinds; empty = all
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the last attempt


class WebhookDelivery(Base):
    """One event for one webhook: delivered once, retried with backoff until it is."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
