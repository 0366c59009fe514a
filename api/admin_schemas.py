"""Request and response bodies of the administration API: taxonomy, routing rules, calendar, Open311
clients.

Values with a fixed set of choices (urgency, target, channel, ...) and the rule conditions are
typed loosely here and checked by the commands, so that each mistake gets its own error code
(``unknown_target``, ``invalid_condition``, ...) whoever calls the command; the schema still
documents the choices.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from workflow.models import (
    CalendarDay,
    Category,
    Channel,
    DayKind,
    DeadlineClass,
    Open311Client,
    Route,
    RoutingRule,
    Urgency,
)
from workflow.routing import Decision

from .schemas import MAX_ID, DbId

Strict = ConfigDict(extra="forbid", strict=True)
RuleId = Annotated[int, Path(ge=1, le=MAX_ID, description="The routing rule's id.")]
CategoryCode = Annotated[str, Path(max_length=32, description="The category's code, e.g. sanitation.pests.")]
ClientId = Annotated[int, Path(ge=1, le=MAX_ID, description="The Open311 client's id.")]


def _choice(kind: type, description: str, default: Any = ...) -> Any:
    return Field(default, description=description, json_schema_extra={"enum": [m.value for m in kind]})


def _condition(description: str, items: dict, default: Any) -> Any:
    return Field(default, description=f"{description} An empty list matches anything.",
                 json_schema_extra={"type": "array", "items": items})


URGENCY = "emergency (respond in 1 h), urgent (2 h), normal or complex (24 h)."
DEADLINE = "Feedback window: h2, h24 (by the clock), d7 or d15 (working days). Defaults from the urgency."
ROUTE = "community (staff), open_task (the members' task board) or street (the street office)."
ATTRIBUTES = (
    "Extra questions a report of this subcategory answers (Open311 service attributes), at most 20: each "
    "`{code, datatype, required, variable, description_zh, description_en, values}`; `datatype` is string, "
    "number, datetime, text, singlevaluelist or multivaluelist, and the two lists take `values`, each "
    "`{key, name_zh, name_en}`. `variable: false` makes a notice that takes no answer. Replaces the whole "
    "list; a mistake answers 422 `invalid_attribute_definition` with the `field` at fault."
)


def _attributes(default: Any) -> Any:
    return Field(default, description=ATTRIBUTES, json_schema_extra={"type": "array", "items": {"type": "object"}})


# --- taxonomy ------------------------------------------------------------------------------------

class CategoryIn(BaseModel):
    model_config = Strict
    code: str = Field(max_length=64, description="Lowercase slug: `abc` for a top level, `abc.def_ghi` for a "
                                                 "subcategory of `abc`. Unique, and it cannot change later.")
    parent: str | None = Field(None, max_length=64, description="The top-level code, for a subcategory.")
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    urgency: str = _choice(Urgency, URGENCY, "normal")
    deadline_class: str | None = _choice(DeadlineClass, DEADLINE, None)
    default_route: str = _choice(Route, ROUTE, "community")
    sort_order: int | None = Field(None, description="Place among its siblings; defaults to last.")
    attributes: Any = _attributes([])
    skills: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list, max_length=10, description="Skills (特长) its tasks call for, as members enter them "
        "in the register; a subcategory also calls for its parent's.")
    volunteers: bool = Field(False, description="Volunteers (志愿者) may claim its tasks beside the party members; "
                                                "a subcategory also when its parent allows them.")


class CategoryPatch(BaseModel):
    model_config = Strict
    name_zh: str = Field(None, max_length=200)
    name_en: str = Field(None, max_length=200)
    urgency: str = _choice(Urgency, URGENCY, None)
    deadline_class: str = _choice(DeadlineClass, DEADLINE, None)
    default_route: str = _choice(Route, ROUTE, None)
    sort_order: int = None
    active: bool = Field(None, description="false retires the category (with its subcategories, for a top "
                                           "level); true reinstates it.")
    attributes: Any = _attributes(None)
    skills: list[Annotated[str, Field(max_length=20)]] = Field(None, max_length=10)
    volunteers: bool = None


class CategoryAdminOut(BaseModel):
    code: str
    parent: str | None
    name_zh: str
    name_en: str
    urgency: str
    deadline_class: str
    default_route: str
    sort_order: int
    active: bool
    requests: int = Field(description="Requests filed under it (for a top level: under its subcategories).")
    attributes: list[dict[str, Any]] = Field(description="Its extra questions, as stored (see the input).")
    skills: list[str] = Field(description="Skills its tasks call for (see the input).")
    volunteers: bool = Field(description="Volunteers may claim its tasks (its own setting; see the input).")


def category_admin_out(category: Category, parent: str | None, requests: int) -> CategoryAdminOut:
    return CategoryAdminOut(
        code=category.code, parent=parent, name_zh=category.name_zh, name_en=category.name_en,
        urgency=category.urgency.value, deadline_class=category.deadline_class.value,
        default_route=category.default_route.value, sort_order=category.sort_order, active=category.active,
        requests=requests, attributes=category.attributes or [], skills=list(category.skills or []),
        volunteers=category.volunteers,
    )


# --- routing rules -------------------------------------------------------------------------------

_CODES = {"type": "string"}
_IDS = {"type": "integer"}


class RuleIn(BaseModel):
    model_config = Strict
    name: str = Field(max_length=200, description="Recorded in the routing event of every request it sends.")
    target: str = _choice(Route, ROUTE)
    enabled: bool = True
    position: int | None = Field(None, description="Rules are tried by ascending position; defaults to last.")
    categories: Any = _condition("Category codes; a top-level code matches all its subcategories.", _CODES, [])
    urgencies: Any = _condition("Urgency classes: " + URGENCY, _CODES, [])
    channels: Any = _condition("Channels: " + ", ".join(c.value for c in Channel) + ".", _CODES, [])
    street_ids: Any = _condition("Street office ids.", _IDS, [])
    community_ids: Any = _condition("Community ids.", _IDS, [])
    grid_ids: Any = _condition("Grid ids.", _IDS, [])
    building_ids: Any = _condition("Building ids.", _IDS, [])


class RulePatch(BaseModel):
    model_config = Strict
    name: str = Field(None, max_length=200)
    target: str = _choice(Route, ROUTE, None)
    enabled: bool = None
    position: int = None
    categories: Any = _condition("Category codes.", _CODES, None)
    urgencies: Any = _condition("Urgency classes.", _CODES, None)
    channels: Any = _condition("Channels.", _CODES, None)
    street_ids: Any = _condition("Street office ids.", _IDS, None)
    community_ids: Any = _condition("Community ids.", _IDS, None)
    grid_ids: Any = _condition("Grid ids.", _IDS, None)
    building_ids: Any = _condition("Building ids.", _IDS, None)


class ReorderIn(BaseModel):
    model_config = Strict
    ids: list[int] = Field(description="Every rule id exactly once, in the new order.")


class RuleOut(BaseModel):
    id: int
    position: int
    name: str
    enabled: bool
    target: str
    categories: list[str]
    urgencies: list[str]
    channels: list[str]
    street_ids: list[int]
    community_ids: list[int]
    grid_ids: list[int]
    building_ids: list[int]
    created_at: datetime
    updated_at: datetime


def rule_out(rule: RoutingRule) -> RuleOut:
    return RuleOut(
        id=rule.id, position=rule.position, name=rule.name, enabled=rule.enabled, target=rule.target.value,
        categories=rule.categories, urgencies=rule.urgencies, channels=rule.channels, street_ids=rule.street_ids,
        community_ids=rule.community_ids, grid_ids=rule.grid_ids, building_ids=rule.building_ids,
        created_at=rule.created_at, updated_at=rule.updated_at,
    )


class DryRunIn(BaseModel):
    model_config = Strict
    category: str = Field(max_length=64, description="A subcategory code, as a request would carry.")
    channel: str = _choice(Channel, "How the request would come in.")
    community_id: DbId
    grid_id: DbId | None = None
    building_id: DbId | None = None


class DryRunOut(BaseModel):
    target: str = Field(description="community, open_task or street.")
    trigger: str = Field(description="The lifecycle trigger the router would fire.")
    rule: str = Field(description="The deciding rule's name, or category_default:<code>.")
    rule_id: int | None = Field(description="The deciding routing rule, or null for the category's default.")


def dry_run_out(decision: Decision) -> DryRunOut:
    return DryRunOut(target=decision.target.value, trigger=decision.trigger, rule=decision.rule,
                     rule_id=decision.rule_id)


# --- calendar ------------------------------------------------------------------------------------

class CalendarDayIn(BaseModel):
    model_config = Strict
    kind: str = _choice(DayKind, "holiday: a weekday off (放假); workday: a weekend day worked (调休上班).")
    name: str = Field("", max_length=200, description="e.g. 国庆节.")


class CalendarDayOut(BaseModel):
    day: date
    kind: str
    name: str


def calendar_day_out(row: CalendarDay) -> CalendarDayOut:
    return CalendarDayOut(day=row.day, kind=row.kind.value, name=row.name)


# --- Open311 clients -----------------------------------------------------------------------------

class Open311ClientIn(BaseModel):
    model_config = Strict
    name: str = Field(max_length=200, description="Who the client is, e.g. 城市服务App; unique, at most 100 "
                                                  "characters. It is shown as the collector of its requests.")


class Open311ClientOut(BaseModel):
    id: int
    name: str
    key_prefix: str = Field(description="The key's first characters, to tell keys apart; never the key.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="When the key last filed or read a request.")
    revoked_at: datetime | None = Field(description="Set once the key is revoked; it then gets 403.")
    requests: int = Field(description="Requests the client has filed.")


class Open311ClientIssuedOut(BaseModel):
    id: int
    name: str
    key_prefix: str
    created_at: datetime
    api_key: str = Field(description="The key, shown only in this answer: only its SHA-256 is stored.")


class LoginAttemptOut(BaseModel):
    id: int
    at: datetime
    username: str = Field(description="The name given, whether or not an account has it.")
    account_id: int | None = Field(description="The account of that name, when there is one.")
    address: str = Field(description="The client address the attempt came from, as the server saw it.")
    door: str = Field(description="`api` (POST /api/v1/auth/login) or `page` (the login form).")
    outcome: str = Field(description="`succeeded`; `refused` (wrong name or password, or a switched-off "
                                     "account); `throttled` (too many recent attempts: not checked, 429).")


class PersonalDataReadOut(BaseModel):
    id: int
    at: datetime
    account_id: int | None = Field(description="Who was shown the data.")
    role: str = Field(description="Their role at the time.")
    request_id: int | None = Field(description="The request whose data was shown; null for a household's.")
    household_id: int | None = Field(description="The household whose contact was shown; null for a request's.")
    fields: list[str] = Field(description="What was shown whole: contact_name, contact_phone, contact_email, address.")
    door: str = Field(description="`api` (the JSON API) or `page` (the web pages).")


def personal_data_read_out(row) -> PersonalDataReadOut:
    return PersonalDataReadOut(id=row.id, at=row.at, account_id=row.account_id, role=row.role,
                               request_id=row.request_id, household_id=row.household_id,
                               fields=row.fields.split(","), door=row.door)


def login_attempt_out(row) -> LoginAttemptOut:
    return LoginAttemptOut(id=row.id, at=row.at, username=row.username, account_id=row.account_id,
                           address=row.address, door=row.door, outcome=row.outcome.value)


def open311_client_out(client: Open311Client, requests: int) -> Open311ClientOut:
    return Open311ClientOut(id=client.id, name=client.name, key_prefix=client.key_prefix, created_at=client.created_at,
                            last_used_at=client.last_used_at, revoked_at=client.revoked_at, requests=requests)


def open311_client_issued_out(client: Open311Client, key: str) -> Open311ClientIssuedOut:
    return Open311ClientIssuedOut(id=client.id, name=client.name, key_prefix=client.key_prefix,
                                  created_at=client.created_at, api_key=key)
