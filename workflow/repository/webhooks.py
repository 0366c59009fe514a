"""Queries on outgoing webhooks and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import DeliveryStatus, Webhook, WebhookDelivery


def get(session: Session, webhook_id: int) -> Webhook | None:
    return session.get(Webhook, webhook_id)


def lock(session: Session, webhook_id: int) -> Webhook | None:
    """The webhook, locked for an update (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
    return session.scalar(select(Webhook).where(Webhook.id == webhook_id).with_for_update())


def all_webhooks(session: Session) -> Sequence[Webhook]:
    return session.scalars(select(Webhook).order_by(Webhook.id)).all()


def active_for_kind(session: Session, kind: str) -> list[Webhook]:
    """Active webhooks that want ``kind``. The kinds filter runs in Python: a city registers a handful
    of webhooks, and JSON containment is spelled differently on SQLite and PostgreSQL."""
    rows = session.scalars(select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id)).all()
    return [w for w in rows if not w.kinds or kind in w.kinds]


def planned_for_event(session: Session, event_id: str) -> set[int]:
    """Ids of the webhooks that already have a delivery of ``event_id``."""
    return set(session.scalars(select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event_id)))


def get_delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, delivery_id)


def lock_delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    return session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update())


def deliveries_of(session: Session, webhook_id: int, *, status: DeliveryStatus | None = None, limit: int = 50,
                  offset: int = 0) -> Sequence[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    return session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset)).all()
