"""Outgoing webhooks: registration by admins; deliveries are signed and retried."""

from __future__ import annotations

from fastapi import APIRouter

from .. import schemas as s

router = APIRouter(tags=["webhooks"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})
