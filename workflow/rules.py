"""The routing rule engine: which rule, if any, decides where a request goes.

Rules are ordered by position, and the first enabled rule whose every condition holds wins. Each
condition is a list and holds when the request's value is in it; an empty list holds for anything.
A top-level category code in ``categories`` holds for all of its leaves, so that "everything under
房屋安全" is one entry that keeps working when a leaf is added.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import reference
from .models import Category, DeadlineClass, Request, Route, RoutingRule, Urgency
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


@dataclass(frozen=True)
class CategoryFacts:
    """What intake and routing read of a category, from the process's copy of the taxonomy."""

    id: int
    code: str
    parent_id: int | None
    parent_code: str | None
    active: bool
    urgency: Urgency
    deadline_class: DeadlineClass
    default_route: Route
    attributes: tuple[dict, ...]


@dataclass(frozen=True)
class Taxonomy:
    by_id: dict[int, CategoryFacts]
    by_code: dict[str, CategoryFacts]


def taxonomy(session: Session) -> Taxonomy:
    """Every category, as kept per process (see :func:`workflow.db.reference`)."""
    def load() -> Taxonomy:
        with session.no_autoflush:
            rows = session.execute(select(Category.__table__)).all()
        codes = {row.id: row.code for row in rows}
        facts = [CategoryFacts(id=row.id, code=row.code, parent_id=row.parent_id, parent_code=codes.get(row.parent_id),
                               active=row.active, urgency=Urgency(row.urgency),
                               deadline_class=DeadlineClass(row.deadline_class),
                               default_route=Route(row.default_route), attributes=tuple(row.attributes or ()))
                 for row in rows]
        return Taxonomy(by_id={f.id: f for f in facts}, by_code={f.code: f for f in facts})

    return reference(session, "taxonomy", ("categories",), load)


def facts(session: Session, category: Category, *, channel: str, street_id: int, community_id: int,
          grid_id: int | None, building_id: int | None) -> Facts:
    parent = session.get(Category, category.parent_id) if category.parent_id is not None else None
    return Facts(
        category=category.code, parent=parent.code if parent else None, urgency=category.urgency.value,
        default_route=category.default_route, channel=str(channel), street_id=street_id,
        community_id=community_id, grid_id=grid_id, building_id=building_id,
    )


def facts_of(session: Session, request: Request) -> Facts:
    category = taxonomy(session).by_id[request.category_id]
    return Facts(
        category=category.code, parent=category.parent_code, urgency=category.urgency.value,
        default_route=category.default_route, channel=request.channel.value, street_id=request.street_id,
        community_id=request.community_id, grid_id=request.grid_id, building_id=request.building_id,
    )


@dataclass(frozen=True)
class Rule:
    """An enabled routing rule, as kept per process: what matching reads and a decision names."""

    id: int
    name: str
    target: Route
    categories: tuple
    urgencies: tuple
    channels: tuple
    street_ids: tuple
    community_ids: tuple
    grid_ids: tuple
    building_ids: tuple


def enabled_rules(session: Session) -> tuple[Rule, ...]:
    """The enabled rules in order (see :func:`workflow.db.reference`)."""
    def load() -> tuple[Rule, ...]:
        with session.no_autoflush:
            rows = places.rules(session, enabled_only=True)
        return tuple(Rule(id=r.id, name=r.name, target=Route(r.target),
                          **{c: tuple(getattr(r, c) or ()) for c in CONDITIONS}) for r in rows)

    return reference(session, "routing_rules", ("routing_rules",), load)


def matches(rule: Rule | RoutingRule, f: Facts) -> bool:
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


def first_match(session: Session, f: Facts) -> Rule | None:
    return next((rule for rule in enabled_rules(session) if matches(rule, f)), None)
