"""Administering the routing rules, and the dry run that answers "where would this request go,
and which rule sends it".

Every field is checked before anything is written, each problem with its own code: a rule that
names a category, place, channel or urgency that does not exist would silently never match, so
it is refused rather than stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import audit, routing
from .. import rules as engine
from ..access import Actor
from ..errors import Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Building, Channel, Community, Grid, Role, Route, RoutingRule, Urgency, utcnow
from ..repository import places
from .taxonomy import bool_field, enum_field, known_fields, require_admin, text_field

MAX_NAME = 100
MAX_ID = 2_147_483_647
MAX_ITEMS = 500
RULE_FIELDS = {"name", "enabled", "position", "target", *engine.CONDITIONS}
# Condition → (what its items are, the code for an item that does not exist).
ID_CONDITIONS = {"street_ids": "street", "community_ids": "community", "grid_ids": "grid", "building_ids": "building"}
DRY_RUN_ROLES = {Role.admin, Role.staff, Role.street_officer, Role.secretary}
# What the audit log keeps of a rule before and after a change.
AUDITED = ("name", "enabled", "position", "target", *engine.CONDITIONS)


def create_rule(session: Session, actor: Actor, fields: dict[str, Any]) -> RoutingRule:
    """A new rule; without a position it goes last."""
    require_admin(actor)
    known_fields(fields, RULE_FIELDS)
    if "target" not in fields:
        raise InvalidInput(_("Choose where the rule sends requests: community, open_task or street."),
                           code="target_required", details={"field": "target"})
    values = _validate(session, {"name": None, **fields}, rule_id=None)
    rule = RoutingRule(
        position=values.get("position") or places.next_rule_position(session),
        enabled=values.get("enabled", True),
        **{key: values.get(key, []) for key in engine.CONDITIONS},
        name=values["name"], target=values["target"],
    )
    session.add(rule)
    session.flush()
    audit.record(session, actor, "rule.create", f"routing_rule:{rule.id}", rule.created_at or utcnow(),
                 {"after": audit.snapshot(rule, AUDITED)})
    return rule


def update_rule(session: Session, actor: Actor, rule_id: int, fields: dict[str, Any]) -> RoutingRule:
    """Change any field of a rule; fields left out keep their value."""
    require_admin(actor)
    known_fields(fields, RULE_FIELDS)
    rule = _get(session, rule_id)
    before = audit.snapshot(rule, AUDITED)
    for key, value in _validate(session, fields, rule_id=rule.id).items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "rule.update", f"routing_rule:{rule.id}", rule.updated_at,
                 audit.changes(before, audit.snapshot(rule, AUDITED)))
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    require_admin(actor)
    rule = _get(session, rule_id)
    before = audit.snapshot(rule, AUDITED)
    session.delete(rule)
    session.flush()
    audit.record(session, actor, "rule.delete", f"routing_rule:{rule_id}", utcnow(), {"before": before})


def reorder_rules(session: Session, actor: Actor, ids: Any) -> list[RoutingRule]:
    """Put the rules in the order of ``ids``, which must name every rule exactly once."""
    require_admin(actor)
    existing = {r.id: r for r in places.rules(session, for_update=True)}
    valid = isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    if not valid or len(ids) != len(existing) or set(ids) != set(existing):
        raise InvalidInput(
            _("The new order must list every rule id exactly once: {ids}.", ids=", ".join(map(str, sorted(existing)))),
            code="not_a_permutation", details={"field": "ids", "expected": sorted(existing)},
        )
    before = [r.id for r in sorted(existing.values(), key=lambda r: r.position)]
    # Positions are unique, so move every rule out of the way before giving the final ones.
    for index, rule_id in enumerate(ids, start=1):
        existing[rule_id].position = -index
    session.flush()
    for index, rule_id in enumerate(ids, start=1):
        existing[rule_id].position = index
        existing[rule_id].updated_at = utcnow()
    session.flush()
    audit.record(session, actor, "rule.reorder", "routing_rules", utcnow(),
                 {"before": {"order": before}, "after": {"order": list(ids)}})
    return [existing[i] for i in ids]


def dry_run(session: Session, actor: Actor, *, category: Any, channel: Any, community_id: Any,
            grid_id: Any = None, building_id: Any = None) -> routing.Decision:
    """Where a new request with these details would go, and which rule would send it. Writes nothing."""
    if actor.role not in DRY_RUN_ROLES:
        raise Forbidden(_("Only administrators, staff, street officers and secretaries may try the routing rules."),
                        code="role_not_allowed")
    leaf = places.category(session, category) if isinstance(category, str) else None
    if leaf is None or leaf.parent_id is None or not leaf.active:
        raise InvalidInput(_("Unknown category {code}.", code=category), code="unknown_category",
                           details={"field": "category"})
    channel = enum_field(Channel, channel, "channel", "unknown_channel")
    community = session.get(Community, community_id) if _is_id(community_id) else None
    if community is None:
        raise InvalidInput(_("Unknown community {id}.", id=community_id), code="unknown_community",
                           details={"field": "community_id"})
    if actor.role != Role.admin and not _covers_community(actor, community):
        raise Forbidden(_("You can try the rules only for communities in your own area."), code="out_of_scope")
    if grid_id is not None:
        grid = session.get(Grid, grid_id) if _is_id(grid_id) else None
        if grid is None or grid.community_id != community.id:
            raise InvalidInput(_("That grid is not in this community."), code="invalid_location",
                               details={"field": "grid_id"})
    if building_id is not None:
        building = session.get(Building, building_id) if _is_id(building_id) else None
        if building is None or building.community_id != community.id:
            raise InvalidInput(_("That building is not in this community."), code="invalid_location",
                               details={"field": "building_id"})
        grid_id = grid_id if grid_id is not None else building.grid_id  # as intake places it
    facts = engine.facts(session, leaf, channel=channel.value, street_id=community.street_id,
                         community_id=community.id, grid_id=grid_id, building_id=building_id)
    return routing.decide_for(session, facts)


def _get(session: Session, rule_id: int) -> RoutingRule:
    rule = places.rule(session, rule_id, for_update=True)
    if rule is None:
        raise NotFound(_("Routing rule {id} does not exist.", id=rule_id), code="rule_not_found")
    return rule


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _validate(session: Session, fields: dict[str, Any], *, rule_id: int | None) -> dict[str, Any]:
    """Checked values of the given fields, in a fixed order so that the first problem reported is predictable."""
    values: dict[str, Any] = {}
    if "name" in fields:
        values["name"] = text_field(fields, "name", MAX_NAME)
    if "enabled" in fields:
        values["enabled"] = bool_field(fields["enabled"], "enabled")
    if "target" in fields:
        values["target"] = enum_field(Route, fields["target"], "target", "unknown_target")
    if fields.get("position") is not None:
        values["position"] = _position(session, fields["position"], rule_id)
    for key in engine.CONDITIONS:
        if key in fields:
            values[key] = _condition(session, key, fields[key])
    return values


def _position(session: Session, position: Any, rule_id: int | None) -> int:
    if not _is_id(position):
        raise InvalidInput(_("position must be a whole number of at least 1."), code="invalid_position",
                           details={"field": "position"})
    holder = places.rule_at(session, position)
    if holder is not None and holder.id != rule_id:
        raise InvalidInput(
            _("Position {position} is taken by rule “{name}”. Choose a free position, or reorder the rules.",
              position=position, name=holder.name),
            code="duplicate_position", details={"field": "position", "rule_id": holder.id},
        )
    return position


def _condition(session: Session, key: str, value: Any) -> list:
    as_ids = key in ID_CONDITIONS
    well_formed = isinstance(value, list) and len(value) <= MAX_ITEMS and all(
        _is_id(v) if as_ids else isinstance(v, str) for v in value
    )
    if not well_formed:
        kind = _("a list of ids") if as_ids else _("a list of codes")
        raise InvalidInput(
            _("{field} must be {kind} (at most {limit}); an empty list matches anything.",
              field=key, kind=kind, limit=MAX_ITEMS),
            code="invalid_condition", details={"field": key},
        )
    items = list(dict.fromkeys(value))  # keep the order given, drop repeats
    if key == "categories":
        known = places.categories_by_code(session, items)
        _refuse_unknown(key, [c for c in items if c not in known], "unknown_category")
    elif key == "urgencies":
        _refuse_unknown(key, [u for u in items if u not in {m.value for m in Urgency}], "unknown_urgency")
    elif key == "channels":
        _refuse_unknown(key, [c for c in items if c not in {m.value for m in Channel}], "unknown_channel")
    else:
        place = ID_CONDITIONS[key]
        known = places.existing_place_ids(session, place, items)
        _refuse_unknown(key, [i for i in items if i not in known], f"unknown_{place}")
    return items


def _refuse_unknown(key: str, unknown: list, code: str) -> None:
    if unknown:
        raise InvalidInput(
            _("These {field} do not exist: {values}.", field=key, values=", ".join(map(str, unknown))),
            code=code, details={"field": key, "unknown": unknown},
        )


def _covers_community(actor: Actor, community: Community) -> bool:
    if actor.community_id is not None:
        return actor.community_id == community.id
    return actor.street_id is not None and actor.street_id == community.street_id
