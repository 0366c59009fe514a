"""收: taking a request in, by a resident's report, a staff inspection or a member's visit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from .. import attributes as attribute_rules
from .. import deadlines, outbox, rules
from ..access import Actor, is_registered, leads
from ..errors import Forbidden, InvalidInput
from ..i18n import _
from ..models import (
    Building,
    Channel,
    Community,
    Grid,
    Request,
    RequestEvent,
    Role,
    Status,
    utcnow,
)
from ..repository import requests as requests_repo
from ..scoring.periods import local_date
from . import photos as photo_cmds

MAX_DESCRIPTION = 2000

# Which role collects through which channel.
CHANNEL_ROLE = {Channel.report: Role.resident, Channel.inspection: Role.staff, Channel.visit: Role.member,
                Channel.open311: Role.client}
# Volunteers are residents too: they report like one.
ALSO_REPORTS = {Channel.report: Role.volunteer}


@dataclass
class Submission:
    channel: str
    category: str
    description: str
    community_id: int | None = None
    grid_id: int | None = None
    building_id: int | None = None
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    photo_ids: list[int] = field(default_factory=list)
    # Answers to the category's extra questions, by code (a list per code: forms may repeat a
    # field). None when the channel's form does not ask them: then none is required.
    attributes: dict[str, list[str]] | None = None
    media_url: str = ""
    # 楼栋长: the building's leader reports for one of its residents (named in the contact).
    on_behalf: bool = False


_BUILDING_AND_COMMUNITY = (select(Building, Community).join(Community, Community.id == Building.community_id)
                           .where(Building.id == bindparam("building_id")))


def submit(session: Session, actor: Actor, sub: Submission, *, now: datetime | None = None,
           timezone: str = "Asia/Shanghai") -> Request:
    now = now or utcnow()
    try:
        channel = Channel(sub.channel)
    except ValueError:
        raise InvalidInput(_("Unknown channel {channel}.", channel=sub.channel), code="unknown_channel") from None
    expected = CHANNEL_ROLE.get(channel)
    if expected is None:
        raise InvalidInput(_("Requests from channel {channel} are not taken here.", channel=channel.value),
                           code="channel_not_accepted")
    if actor.role != expected and actor.role != ALSO_REPORTS.get(channel):
        raise Forbidden(_("Your role cannot submit through this channel."), code="role_not_allowed")

    description = (sub.description or "").strip()
    if not description:
        raise InvalidInput(_("Please describe the problem."), code="description_required",
                           details={"field": "description"})
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            _("The description is longer than {limit} characters.", limit=MAX_DESCRIPTION),
            code="description_too_long", details={"field": "description", "limit": MAX_DESCRIPTION},
        )
    category = rules.taxonomy(session).by_code.get(sub.category) if isinstance(sub.category, str) else None
    if category is None or category.parent_id is None or not category.active:
        raise InvalidInput(_("Unknown category {code}.", code=sub.category), code="unknown_category",
                           details={"field": "category"})

    answers = attribute_rules.answers(category.attributes or [], sub.attributes or {}, timezone,
                                      required=sub.attributes is not None)
    # A building and its community in one query: the lookups below find them in the session.
    held = session.execute(_BUILDING_AND_COMMUNITY, {"building_id": sub.building_id}).first() \
        if isinstance(sub.building_id, int) else None
    community = _community_for(session, actor, channel, sub.community_id)
    grid_id, building_id = _location(session, community.id, sub.grid_id, sub.building_id)
    del held
    if sub.on_behalf:
        if channel != Channel.report or not leads(session, actor.account_id, building_id, local_date(now, timezone)):
            raise Forbidden(_("Only the building's leader reports for its residents."), code="not_building_leader",
                            details={"field": "building_id"})
        if not (sub.contact_name or "").strip():
            raise InvalidInput(_("Please name the resident you report for."), code="contact_required",
                               details={"field": "contact_name"})
    for key, value, lo, hi in (("latitude", sub.latitude, -90, 90), ("longitude", sub.longitude, -180, 180)):
        if value is not None and not lo <= value <= hi:
            raise InvalidInput(_("{field} is out of range.", field=key), code="invalid_location",
                               details={"field": key})

    request = Request(
        status=Status.submitted,
        channel=channel,
        category_id=category.id,
        street_id=community.street_id,
        community_id=community.id,
        grid_id=grid_id,
        building_id=building_id,
        address=sub.address.strip()[:200],
        latitude=sub.latitude,
        longitude=sub.longitude,
        description=description,
        reporter_id=actor.account_id if channel == Channel.report else None,
        collector_id=actor.account_id,
        contact_name=sub.contact_name.strip()[:100],
        contact_phone=sub.contact_phone.strip()[:32],
        contact_email=sub.contact_email.strip()[:254],
        attributes=answers,
        media_url=sub.media_url.strip()[:500],
        submitted_at=now,
        updated_at=now,
    )
    deadlines.set_intake_deadlines(request, deadlines.load_calendar(session, timezone), category.urgency,
                                   category.deadline_class, now)
    session.add(request)
    session.flush()
    photo_ids = photo_cmds.attach(session, actor, sub.photo_ids, request.id, "report")
    requests_repo.add_event(session, request.id, "submit", None, Status.submitted.value, actor, "",
                            {"channel": channel.value, "category": category.code, "community_id": community.id,
                             "photo_ids": photo_ids, **({"on_behalf": True} if sub.on_behalf else {})}, now)
    outbox.enqueue(session, "route_request", request_id=request.id, round=request.round)
    session.flush()
    return request


def photos_at_submission(events: Sequence[RequestEvent]) -> list[int]:
    """The photos a request was submitted with, in id order, from its ``submit`` event (attaching
    is all or nothing: those given, or the submission was refused)."""
    for event in events:
        if event.trigger == "submit":
            return sorted((event.data or {}).get("photo_ids", []))
    return []


def _community_for(session: Session, actor: Actor, channel: Channel, community_id: int | None) -> Community:
    if channel == Channel.inspection:
        if community_id is not None and community_id != actor.community_id:
            raise Forbidden(_("Staff record inspections only in their own community."), code="out_of_scope")
        community_id = actor.community_id
    elif community_id is None and channel == Channel.report:
        community_id = actor.community_id
    if community_id is None:
        raise InvalidInput(_("Choose the community where the problem is."), code="community_required",
                           details={"field": "community_id"})
    community = session.get(Community, community_id)
    if community is None:
        raise InvalidInput(_("Unknown community {id}.", id=community_id), code="unknown_community",
                           details={"field": "community_id"})
    if channel == Channel.visit and not is_registered(session, actor.member_id, community.id):
        raise Forbidden(_("You can record visits only in a community you are registered with."),
                        code="not_registered")
    return community


def _location(session: Session, community_id: int, grid_id: int | None, building_id: int | None):
    if grid_id is not None:
        grid = session.get(Grid, grid_id)
        if grid is None or grid.community_id != community_id:
            raise InvalidInput(_("That grid is not in this community."), code="invalid_location",
                               details={"field": "grid_id"})
    if building_id is not None:
        building = session.get(Building, building_id)
        if building is None or building.community_id != community_id:
            raise InvalidInput(_("That building is not in this community."), code="invalid_location",
                               details={"field": "building_id"})
        if grid_id is None:
            grid_id = building.grid_id
    return grid_id, building_id
