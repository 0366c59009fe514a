"""Outgoing webhooks: registration by admins; deliveries are signed and retried."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from workflow import webhooks
from workflow.models import DeliveryStatus, Webhook, WebhookDelivery

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["webhooks"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})

WebhookId = Annotated[int, Path(ge=1, le=s.MAX_ID, description="The webhook's id.")]

# --- bodies --------------------------------------------------------------------------------------

class WebhookIn(BaseModel):
    model_config = s.Strict
    url: str = Field(description="http or https address with a host, at most 500 characters.")
    secret: str | None = Field(None, description="16 to 200 characters; generated when left out.")
    kinds: list[str] = Field(default_factory=list,
                             description="Notification kinds to send, e.g. deadline_respond; empty: all kinds.")
    active: bool = True


class WebhookPatchIn(BaseModel):
    model_config = s.Strict
    url: str | None = None
    kinds: list[str] | None = Field(None, description="Replaces the list; empty: all kinds.")
    active: bool | None = None
    secret: str | None = Field(None, description="A new secret of your choosing (16 to 200 characters).")
    rotate_secret: bool = Field(False, description="Generate a new secret; the old one stops working at once.")


class WebhookOut(BaseModel):
    id: int
    url: str
    kinds: list[str]
    active: bool
    created_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str | None = Field(description="Shown only in the response that creates or rotates it.")


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    event_id: str
    status: str = Field(description="pending, delivered or failed (gave up after the last attempt).")
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime = Field(description="When a pending delivery is tried again.")
    delivered_at: datetime | None
    created_at: datetime
    body: str = Field(description="The exact JSON body every attempt sends.")


def _out(w: Webhook) -> WebhookOut:
    return WebhookOut(id=w.id, url=w.url, kinds=list(w.kinds or []), active=w.active, created_at=w.created_at)


def _with_secret(w: Webhook, secret: str | None) -> WebhookSecretOut:
    return WebhookSecretOut(**_out(w).model_dump(), secret=secret)


def _delivery_out(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(id=d.id, webhook_id=d.webhook_id, event_id=d.event_id, status=d.status.value,
                       attempts=d.attempts, last_status_code=d.last_status_code, last_error=d.last_error,
                       next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at, created_at=d.created_at,
                       body=d.payload["body"])


# --- routes --------------------------------------------------------------------------------------

@router.post("/webhooks", response_model=WebhookSecretOut, status_code=201, responses={422: {"model": s.ErrorOut}})
def register(body: WebhookIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Register an outgoing webhook (admins only). The response carries the secret: it is never
    shown again, except in the response that rotates it. Bad input is refused with 422 and a code
    (`invalid_url`, `invalid_secret`, `invalid_kinds`) and nothing is stored.

    **Receiving.** Each notification event is POSTed as UTF-8 JSON
    `{"event_id", "kind", "request_id", "data", "created_at"}` with the headers
    `Content-Type: application/json`, `X-Shoubanping-Event` (the event id), `X-Shoubanping-Delivery`
    (the delivery id), `X-Shoubanping-Timestamp` (unix seconds of this attempt) and
    `X-Shoubanping-Signature: sha256=<hex>`: the HMAC-SHA256 of `"<timestamp>.<body>"` (the raw body
    bytes) keyed with the webhook's secret. Verify it with a constant-time comparison and refuse old
    timestamps. Answer any 2xx to acknowledge. Any other status, a redirect, or no answer within the
    timeout is retried with exponential backoff until the attempts run out; every retry sends the
    same body bytes. The same event arrives twice only if a successful POST could not be recorded
    on our side: deduplicate on `event_id`.
    """
    with ctx.transaction() as tx:
        webhook, secret = webhooks.register(tx.session, tx.actor, url=body.url, secret=body.secret,
                                            kinds=body.kinds, active=body.active)
        return _with_secret(webhook, secret)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(ctx: Ctx = Depends(get_auth_ctx)):
    """Every webhook, active or not (admins only). Secrets are not shown."""
    with ctx.transaction() as tx:
        return [_out(w) for w in webhooks.list_webhooks(tx.session, tx.actor)]


@router.patch("/webhooks/{webhook_id}", response_model=WebhookSecretOut,
              responses={404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
def update(webhook_id: WebhookId, body: WebhookPatchIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Change a webhook's URL, kinds or active flag, or rotate its secret (admins only). Fields left
    out stay as they are. `secret` in the response is the new secret after a rotation, else null.
    Retries of pending deliveries use the current URL and secret."""
    with ctx.transaction() as tx:
        webhook, secret = webhooks.update(tx.session, tx.actor, webhook_id, url=body.url, kinds=body.kinds,
                                          active=body.active, secret=body.secret, rotate_secret=body.rotate_secret)
        return _with_secret(webhook, secret)


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut, responses={404: {"model": s.ErrorOut}})
def deactivate(webhook_id: WebhookId, ctx: Ctx = Depends(get_auth_ctx)):
    """Deactivate a webhook (admins only): it gets no new events and its pending deliveries are not
    sent (they end as failed). Its delivery history stays readable; PATCH `active` turns it back on."""
    with ctx.transaction() as tx:
        return _out(webhooks.deactivate(tx.session, tx.actor, webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut],
            responses={404: {"model": s.ErrorOut}})
def deliveries(webhook_id: WebhookId, status: DeliveryStatus | None = Query(None, description="Only this status."),
               limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
               ctx: Ctx = Depends(get_auth_ctx)):
    """A webhook's deliveries, newest first, with attempts and the last answer (admins only)."""
    with ctx.transaction() as tx:
        rows = webhooks.deliveries(tx.session, tx.actor, webhook_id, status=status, limit=limit, offset=offset)
        return [_delivery_out(d) for d in rows]
