"""Routing a request that is waiting in ``submitted``.

The default rule: the second reopen goes straight to the street office; otherwise the category's
default route decides. The rule that sent a request is recorded in its event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .access import Actor
from .commands.handling import Fired, fire
from .models import Category, Request, Route, Status
from .repository import requests as repo
from .settings import Settings

ROUTE_TRIGGER = {Route.community: "route_to_community", Route.open_task: "publish_task", Route.street: "escalate"}


def decide(session: Session, request: Request) -> tuple[str, str]:
    """Return (trigger, rule name) for a submitted request."""
    if request.reopen_count >= 2:
        return ROUTE_TRIGGER[Route.street], "second_reopen"
    category = session.get(Category, request.category_id)
    return ROUTE_TRIGGER[category.default_route], f"category_default:{category.code}"


def route_request(
    session: Session, settings: Settings, request_id: int, *, now: datetime | None = None
) -> Fired | None:
    """Route the request if it still waits; None when someone (staff or an earlier run) already did."""
    request = repo.get_for_update(session, request_id)
    if request.status != Status.submitted:
        return None
    trigger, rule = decide(session, request)
    return fire(session, settings, Actor.system("router"), request_id, trigger, {"rule": rule}, now=now)
