"""The in-app inbox."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from workflow import notifications
from workflow.errors import NotFound
from workflow.i18n import _
from workflow.models import utcnow

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["notifications"], responses={401: {"model": s.ErrorOut}})


class NotificationOut(BaseModel):
    id: int
    kind: str
    request_id: int | None
    data: dict
    created_at: datetime
    read_at: datetime | None


def _out(n) -> NotificationOut:
    return NotificationOut(id=n.id, kind=n.kind, request_id=n.request_id, data=n.data or {},
                           created_at=n.created_at, read_at=n.read_at)


@router.get("/notifications", response_model=list[NotificationOut])
def inbox(unread: bool = Query(False, description="Only notifications not yet read."),
          limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=s.MAX_ID),
          ctx: Ctx = Depends(get_auth_ctx)):
    """The caller's notifications, newest first: deadline reminders (`deadline_respond`,
    `deadline_resolve`, `deadline_claim`, `deadline_evaluate`), visit reminders (`visit_due`,
    `coverage_overdue`) and the like."""
    with ctx.transaction() as tx:
        rows = notifications.inbox(tx.session, tx.account.id, unread_only=unread, limit=limit, offset=offset)
        return [_out(n) for n in rows]


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut,
             responses={404: {"model": s.ErrorOut}})
def mark_read(notification_id: s.NotificationId, ctx: Ctx = Depends(get_auth_ctx)):
    """Mark one of the caller's notifications as read."""
    with ctx.transaction() as tx:
        row = notifications.mark_read(tx.session, tx.account.id, notification_id, utcnow())
        if row is None:
            raise NotFound(_("Notification {id} does not exist.", id=notification_id), code="notification_not_found")
        return _out(row)
