"""Routing a request that is waiting in ``submitted``.

In order: the second reopen goes straight to the street office; then the first matching routing
rule (see :mod:`workflow.rules`); otherwise the category's default route. The rule that sent a
request is recorded in its event, by name and id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from . import rules
from .access import Actor
from .commands.handling import Fired, fire
from .models import Request, Route, Status
from .repository import requests as repo
from .settings import Settings

ROUTE_TRIGGER = {Route.community: "route_to_community", Route.open_task: "publish_task", Route.street: "escalate"}
SECOND_REOPEN = "second_reopen"


@dataclass(frozen=True)
class Decision:
    target: Route
    rule: str  # a rule's name, "second_reopen" or "category_default:<code>"
    rule_id: int | None = None  # set when a routing rule decided

    @property
    def trigger(self) -> str:
        return ROUTE_TRIGGER[self.target]


def decide_for(session: Session, facts: rules.Facts, *, reopen_count: int = 0) -> Decision:
    """Where a request with these facts goes, and why. Reads only: a dry run uses it too."""
    if reopen_count >= 2:
        return Decision(Route.street, SECOND_REOPEN)
    rule = rules.first_match(session, facts)
    if rule is not None:
        return Decision(Route(rule.target), rule.name, rule.id)
    return Decision(facts.default_route, f"category_default:{facts.category}")


def decide(session: Session, request: Request) -> Decision:
    """Where a submitted request goes, and which rule sends it there."""
    return decide_for(session, rules.facts_of(session, request), reopen_count=request.reopen_count)


def route_request(
    session: Session, settings: Settings, request_id: int, *, now: datetime | None = None
) -> Fired | None:
    """Route the request if it still waits; None when someone (staff or an earlier run) already did."""
    request = repo.get_for_update(session, request_id)
    if request.status != Status.submitted:
        return None
    decision = decide(session, request)
    params = {"rule": decision.rule, "rule_id": decision.rule_id}
    return fire(session, settings, Actor.system("router"), request_id, decision.trigger, params, now=now)
