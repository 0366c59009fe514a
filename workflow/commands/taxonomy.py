"""Administering the category taxonomy: two levels, each category with its urgency class, deadline
class and default route.

A category that requests, subcategories or routing rules use is retired (``active`` false), never
deleted: new requests cannot use it, old requests keep showing it. Retiring a top level retires its
leaves with it, so one call takes a whole branch out of use.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from sqlalchemy.orm import Session

from .. import attributes as attribute_rules
from .. import audit
from ..access import Actor
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Category, DeadlineClass, Role, Route, Urgency, utcnow
from ..people.commands import clean_skills
from ..repository import places

TOP_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
LEAF_CODE = re.compile(r"^([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*$")
MAX_CODE = 32
NAME_LIMITS = {"name_zh": 64, "name_en": 100}
MAX_SORT_ORDER = 100_000
# The feedback window that usually goes with an urgency class, as in the seeded taxonomy.
DEFAULT_DEADLINE = {
    Urgency.emergency: DeadlineClass.h2,
    Urgency.urgent: DeadlineClass.h24,
    Urgency.normal: DeadlineClass.d7,
    Urgency.complex: DeadlineClass.d15,
}
CREATE_FIELDS = {"code", "parent", "name_zh", "name_en", "urgency", "deadline_class", "default_route", "sort_order",
                 "attributes", "skills", "volunteers"}
UPDATE_FIELDS = {"name_zh", "name_en", "urgency", "deadline_class", "default_route", "sort_order", "active",
                 "attributes", "skills", "volunteers"}
# What the audit log keeps of a category before and after a change.
AUDITED = ("code", "name_zh", "name_en", "urgency", "deadline_class", "default_route", "active", "sort_order",
           "attributes", "skills", "volunteers")


# --- shared by the administration commands --------------------------------------------------------

def require_admin(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(_("Only administrators may do this."), code="role_not_allowed")


def known_fields(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(_("Unknown field {field}.", field=unknown[0]), code="unknown_field",
                           details={"field": unknown[0]})


def text_field(fields: dict[str, Any], key: str, limit: int) -> str:
    """A required one-line text: a string, not blank once trimmed, at most ``limit`` characters."""
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(_("{field} must be text.", field=key), code="invalid_type", details={"field": key})
    value = (value or "").strip()
    if not value:
        raise InvalidInput(_("Please fill in {field}.", field=key), code="name_required", details={"field": key})
    if len(value) > limit:
        raise InvalidInput(_("{field} is longer than {limit} characters.", field=key, limit=limit),
                           code="text_too_long", details={"field": key, "limit": limit})
    return value


def enum_field(kind: type[enum.StrEnum], value: Any, key: str, code: str) -> enum.StrEnum:
    if isinstance(value, str) and value in {m.value for m in kind}:
        return kind(value)
    allowed = ", ".join(m.value for m in kind)
    raise InvalidInput(_("{field} must be one of: {allowed}.", field=key, allowed=allowed), code=code,
                       details={"field": key, "value": value if isinstance(value, str | int) else None})


def bool_field(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("{field} must be true or false.", field=key), code="invalid_type",
                           details={"field": key})
    return value


# --- categories ----------------------------------------------------------------------------------

def catalogue(session: Session, actor: Actor) -> list[tuple[Category, str | None, int]]:
    """Every category, retired ones too, with its parent's code and the requests filed under it
    (for a top level: under its leaves)."""
    require_admin(actor)
    rows = places.categories(session, include_retired=True)
    counts = places.request_counts_by_category(session)
    totals = dict(counts)
    for category, _parent in rows:
        if category.parent_id is not None:
            totals[category.parent_id] = totals.get(category.parent_id, 0) + counts.get(category.id, 0)
    return [(c, parent, totals.get(c.id, 0)) for c, parent in rows]


def describe(session: Session, category: Category) -> tuple[Category, str | None, int]:
    """One row of :func:`catalogue`, for a category just changed."""
    parent = session.get(Category, category.parent_id) if category.parent_id is not None else None
    if parent is None:
        used = sum(places.requests_in_category(session, c.id) for c in places.children(session, category.id))
    else:
        used = places.requests_in_category(session, category.id)
    return category, parent.code if parent else None, used


def create_category(session: Session, actor: Actor, fields: dict[str, Any]) -> Category:
    require_admin(actor)
    known_fields(fields, CREATE_FIELDS)
    parent = _parent(session, fields.get("parent"))
    parent_id = parent.id if parent else None
    code = _code(fields.get("code"), parent)
    if places.category(session, code) is not None:
        raise Conflict(_("A category with the code {code} already exists.", code=code), code="category_exists",
                       details={"field": "code"})
    urgency = enum_field(Urgency, _given(fields, "urgency", Urgency.normal.value), "urgency", "unknown_urgency")
    deadline_class = _given(fields, "deadline_class", DEFAULT_DEADLINE[urgency].value)
    category = Category(
        code=code,
        parent_id=parent_id,
        name_zh=text_field(fields, "name_zh", NAME_LIMITS["name_zh"]),
        name_en=text_field(fields, "name_en", NAME_LIMITS["name_en"]),
        urgency=urgency,
        deadline_class=enum_field(DeadlineClass, deadline_class, "deadline_class", "unknown_deadline_class"),
        default_route=enum_field(Route, _given(fields, "default_route", Route.community.value), "default_route",
                                 "unknown_route"),
        sort_order=_sort_order(_given(fields, "sort_order", places.next_sort_order(session, parent_id))),
        active=True,
        attributes=_attributes(fields.get("attributes", []), parent_id is None),
        skills=clean_skills(fields.get("skills", [])),
        volunteers=bool_field(fields.get("volunteers", False), "volunteers"),
    )
    session.add(category)
    session.flush()
    audit.record(session, actor, "category.create", f"category:{category.code}", utcnow(),
                 {"after": audit.snapshot(category, AUDITED)})
    return category


def update_category(session: Session, actor: Actor, code: str, fields: dict[str, Any]) -> Category:
    """Change names, classes, route, order; ``active`` false retires it, true reinstates it."""
    require_admin(actor)
    known_fields(fields, UPDATE_FIELDS)
    category = _get(session, code)
    before = audit.snapshot(category, AUDITED)
    for key, limit in NAME_LIMITS.items():
        if key in fields:
            setattr(category, key, text_field(fields, key, limit))
    if "urgency" in fields:
        category.urgency = enum_field(Urgency, fields["urgency"], "urgency", "unknown_urgency")
    if "deadline_class" in fields:
        category.deadline_class = enum_field(DeadlineClass, fields["deadline_class"], "deadline_class",
                                             "unknown_deadline_class")
    if "default_route" in fields:
        category.default_route = enum_field(Route, fields["default_route"], "default_route", "unknown_route")
    if "sort_order" in fields:
        category.sort_order = _sort_order(fields["sort_order"])
    if "active" in fields:
        _set_active(session, category, bool_field(fields["active"], "active"))
    if "attributes" in fields:
        # Answers already given stay with their requests; questions since removed show under their code.
        category.attributes = _attributes(fields["attributes"], category.parent_id is None)
    if "skills" in fields:
        category.skills = clean_skills(fields["skills"])
    if "volunteers" in fields:
        category.volunteers = bool_field(fields["volunteers"], "volunteers")
    session.flush()
    audit.record(session, actor, "category.update", f"category:{category.code}", utcnow(),
                 audit.changes(before, audit.snapshot(category, AUDITED)))
    return category


def delete_category(session: Session, actor: Actor, code: str) -> None:
    """Only a category nothing refers to can go; anything else is retired instead."""
    require_admin(actor)
    category = _get(session, code)
    used_by = places.requests_in_category(session, category.id)
    subcategories = len(places.children(session, category.id))
    rules = [r.id for r in places.rules_naming_category(session, category.code)]
    if used_by or subcategories or rules:
        raise Conflict(
            _("Category {code} is still in use ({requests} requests, {children} subcategories, {rules} routing "
              "rules), so it cannot be deleted. Retire it instead by setting active to false.",
              code=code, requests=used_by, children=subcategories, rules=len(rules)),
            code="category_in_use",
            details={"requests": used_by, "children": subcategories, "rule_ids": rules},
        )
    before = audit.snapshot(category, AUDITED)
    session.delete(category)
    session.flush()
    audit.record(session, actor, "category.delete", f"category:{code}", utcnow(), {"before": before})


def _given(fields: dict[str, Any], key: str, default: Any) -> Any:
    value = fields.get(key)
    return default if value is None else value


def _get(session: Session, code: str) -> Category:
    category = places.category(session, code, for_update=True)
    if category is None:
        raise NotFound(_("Category {code} does not exist.", code=code), code="category_not_found")
    return category


def _parent(session: Session, code: Any) -> Category | None:
    if code is None:
        return None
    parent = places.category(session, code) if isinstance(code, str) else None
    if parent is None:
        raise InvalidInput(_("Unknown category {code}.", code=code), code="unknown_parent",
                           details={"field": "parent"})
    if parent.parent_id is not None:
        raise InvalidInput(_("Categories have two levels: a subcategory's parent must be a top-level category."),
                           code="parent_not_top_level", details={"field": "parent"})
    if not parent.active:
        raise Conflict(_("Category {code} is retired; reinstate it first.", code=parent.code), code="parent_retired",
                       details={"field": "parent"})
    return parent


def _code(code: Any, parent: Category | None) -> str:
    leaf = LEAF_CODE.match(code) if isinstance(code, str) else None
    ok = isinstance(code, str) and len(code) <= MAX_CODE and (
        TOP_CODE.match(code) if parent is None else leaf is not None and leaf.group(1) == parent.code
    )
    if not ok:
        raise InvalidInput(
            _("A category code is a lowercase slug of at most {limit} characters: “abc” for a top level, "
              "“abc.def_ghi” for a subcategory of “abc”.", limit=MAX_CODE),
            code="invalid_category_code", details={"field": "code"},
        )
    return code


def _attributes(raw: Any, top_level: bool) -> list[dict]:
    """Extra questions (Open311 service attributes), checked by :mod:`workflow.attributes`. Only a
    subcategory asks them: requests are filed under subcategories, never under a top level."""
    definitions = attribute_rules.definitions(raw)
    if definitions and top_level:
        raise InvalidInput(_("Only subcategories ask attributes: requests are filed under subcategories."),
                           code="invalid_attribute_definition", details={"field": "attributes"})
    return definitions


def _sort_order(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SORT_ORDER:
        raise InvalidInput(_("sort_order must be a whole number from 0 to {limit}.", limit=MAX_SORT_ORDER),
                           code="invalid_sort_order", details={"field": "sort_order"})
    return value


def _set_active(session: Session, category: Category, active: bool) -> None:
    if active and category.parent_id is not None:
        parent = session.get(Category, category.parent_id)
        if not parent.active:
            raise Conflict(_("Category {code} is retired; reinstate it first.", code=parent.code),
                           code="parent_retired", details={"field": "active"})
    category.active = active
    if not active and category.parent_id is None:
        for child in places.children(session, category.id):
            child.active = False
