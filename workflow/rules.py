"""The routing rule engine: which rule, if any, decides where a request goes.

Rules are ordered by position, and the first enabled rule whose every condition holds wins. Each
condition is a list and holds when the request's value is in it; an empty list holds for anything.
A top-level category code in ``categories`` holds for all of its leaves, so that "everything under
房屋安全" is one entry that keeps working when a leaf is added.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .models import Category, Request, Route, RoutingRule
from .repository import places

CONDITIONS = ("categories", "urgencies", "channels", "street_ids", "community_ids", "grid_ids", "building_ids")


@dataclass(frozen=True)
class Facts:
    """What the rules look at, for a stored request or a dry run."""

    category: str
    parent: str | None
    urgency: str
    default_route: Route
    channel: str
    street_id: int
    community_id: int
    grid_id: int | None = None
    building_id: int | None = None


def facts(session: Session, category: Category, *, channel: str, street_id: int, community_id: int,
          grid_id: int | None, building_id: int | None) -> Facts:
    parent = session.get(Category, category.parent_id) if category.parent_id is not None else None
    return Facts(
        category=category.code, parent=parent.code if parent else None, urgency=category.urgency.value,
        default_route=category.default_route, channel=str(channel), street_id=street_id,
        community_id=community_id, grid_id=grid_id, building_id=building_id,
    )


def facts_of(session: Session, request: Request) -> Facts:
    return facts(
        session, session.get(Category, request.category_id), channel=request.channel.value,
        street_id=request.street_id, community_id=request.community_id, grid_id=request.grid_id,
        building_id=request.building_id,
    )


def matches(rule: RoutingRule, f: Facts) -> bool:
    checks = (
        (rule.categories, (f.category, f.parent)),
        (rule.urgencies, (f.urgency,)),
        (rule.channels, (f.channel,)),
        (rule.street_ids, (f.street_id,)),
        (rule.community_ids, (f.community_id,)),
        (rule.grid_ids, (f.grid_id,)),
        (rule.building_ids, (f.building_id,)),
    )
    return all(not wanted or any(v is not None and v in wanted for v in values) for wanted, values in checks)


def first_match(session: Session, f: Facts) -> RoutingRule | None:
    return next((rule for rule in places.rules(session, enabled_only=True) if matches(rule, f)), None)
