"""Open311 GeoReport v2: what the standard's words mean in Shoubanping.

- A *jurisdiction* is a street office (街道), named by its code. Served alone it may be left out;
  with several streets a client must name one (400 otherwise, 404 for an unknown code).
- A *service* is a leaf category (``service_code`` = its code, ``group`` = its top category).
- Formats (JSON or XML) and HTTP are the adapter's business (``api/open311``); this module only
  answers in plain values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import attributes as attribute_rules
from . import limits, locating, privacy, tracking
from .commands import clients as client_cmds
from .commands import intake
from .commands import photos as photo_cmds
from .errors import DomainError, InvalidInput, NotFound
from .i18n import _
from .lifecycle import STATUS_LABELS
from .models import (
    Building,
    Category,
    Channel,
    Open311Client,
    Photo,
    PhotoStage,
    Request,
    Status,
    Street,
    utcnow,
)
from .repository import places
from .settings import Settings


class Open311Error(DomainError):
    """An error in the shape the standard gives: an HTTP status and a numeric code."""

    def __init__(self, status: int, message, code: str):
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    description: str
    group: str
    keywords: str
    metadata: bool = False
    type: str = "realtime"


@dataclass(frozen=True)
class ServiceDefinition:
    service_code: str
    attributes: list[dict] = field(default_factory=list)  # in the standard's fields


def jurisdiction(session: Session, raw: str | None) -> Street:
    """The street office a call is about. An empty ``jurisdiction_id`` counts as absent."""
    code = (raw or "").strip()
    if code:
        street = session.scalar(select(Street).where(Street.code == code))
        if street is None:
            raise Open311Error(404, _("No jurisdiction has the id {id}.", id=code), code="unknown_jurisdiction")
        return street
    streets = session.scalars(select(Street).order_by(Street.id).limit(2)).all()
    if len(streets) == 1:
        return streets[0]
    if not streets:
        raise Open311Error(404, _("No jurisdiction is served yet."), code="unknown_jurisdiction")
    raise Open311Error(400, _("Several jurisdictions are served here: name one with jurisdiction_id."),
                       code="jurisdiction_required")


def services(session: Session, locale: str) -> list[Service]:
    """Every leaf category in use, grouped under its top category, in the taxonomy's order."""
    rows = places.categories(session)
    tops = {c.code: c for c, parent in rows if parent is None}
    out = []
    for category, parent in rows:
        if parent is None:
            continue
        group = tops[parent].name_in(locale) if parent in tops else ""
        out.append(Service(service_code=category.code, service_name=category.name_in(locale),
                           description=f"{group} · {category.name_in(locale)}" if group else category.name_in(locale),
                           group=group, keywords=", ".join(dict.fromkeys([category.name_zh, category.name_en])),
                           metadata=bool(category.attributes)))
    return out


def _service(session: Session, service_code: str | None) -> Category:
    """An active leaf category by its code."""
    category = places.category(session, service_code) if service_code else None
    if category is None or category.parent_id is None or not category.active:
        raise NotFound(_("No service has the code {code}.", code=service_code or ""), code="unknown_service")
    return category


def service_definition(session: Session, service_code: str, locale: str) -> ServiceDefinition:
    """A service's extra attributes in the standard's fields: ``order`` from 1, ``values`` as
    ``{key, name}`` for the list datatypes."""
    category = _service(session, service_code)
    rows = []
    for order, definition in enumerate(category.attributes or [], start=1):
        row = {"variable": definition["variable"], "code": definition["code"], "datatype": definition["datatype"],
               "required": definition["required"], "datatype_description": "", "order": order,
               "description": attribute_rules.described(definition, locale)}
        if definition["datatype"] in attribute_rules.LISTS:
            row["values"] = [{"key": v["key"], "name": attribute_rules.value_name(v, locale)}
                             for v in definition["values"]]
        rows.append(row)
    return ServiceDefinition(service_code=category.code, attributes=rows)


# --- service requests ----------------------------------------------------------------------------

OPEN_STATES = frozenset({Status.submitted, Status.community, Status.street, Status.open_task, Status.claimed,
                         Status.verifying})
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)


def status_of(request: Request) -> str:
    """``open`` while someone still has to act; ``closed`` once it is resolved (the result is out,
    waiting for the resident's verdict), closed, not accepted or merged. A reopened request is
    open again."""
    return "open" if request.status in OPEN_STATES else "closed"


@dataclass(frozen=True)
class Query:
    ids: list[int] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def _moment(raw: str, name: str, zone: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Open311Error(400, _("{name} must be an ISO 8601 date and time, like 2026-11-01T00:00:00+08:00.",
                                  name=name), code="invalid_date") from None
    return value.replace(tzinfo=ZoneInfo(zone)) if value.tzinfo is None else value


def parse_query(*, service_request_id: str | None, service_code: str | None, start_date: str | None,
                end_date: str | None, status: str | None, zone: str, now: datetime) -> Query:
    """The filters of ``GET requests``. Empty parameters count as absent; ``service_request_id``
    (a comma list) overrides all the rest; the dates span at most 90 days, the last 90 by default."""
    if service_request_id and service_request_id.strip():
        ids = []
        for part in service_request_id.split(","):
            part = part.strip()
            if not part.isascii() or not part.isdigit() or not 1 <= int(part) <= 2_147_483_647:
                raise Open311Error(400, _("service_request_id must be request numbers separated by commas."),
                                   code="invalid_id")
            ids.append(int(part))
        return Query(ids=ids[:MAX_RESULTS])
    start = _moment(start_date, "start_date", zone) if start_date and start_date.strip() else None
    end = _moment(end_date, "end_date", zone) if end_date and end_date.strip() else None
    if start is None and end is None:
        end = now
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, _("end_date is before start_date."), code="invalid_date_range")
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may be at most 90 days apart."), code="date_range_too_long")
    statuses = None
    if status and status.strip():
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        if any(s not in ("open", "closed") for s in statuses):
            raise Open311Error(400, _("status must be open, closed, or both separated by a comma."),
                               code="invalid_status")
    codes = [c.strip() for c in service_code.split(",") if c.strip()] if service_code and service_code.strip() \
        else None
    return Query(service_codes=codes, start=start, end=end, statuses=statuses)


def find_requests(session: Session, street: Street, query: Query) -> list[Request]:
    """The street's requests that match, newest first, at most 1000."""
    stmt = select(Request).where(Request.street_id == street.id)
    if query.ids is not None:
        stmt = stmt.where(Request.id.in_(query.ids))
    else:
        stmt = stmt.where(Request.submitted_at >= query.start, Request.submitted_at <= query.end)
        if query.service_codes:
            stmt = stmt.join(Category, Category.id == Request.category_id).where(
                Category.code.in_(query.service_codes))
        if query.statuses and set(query.statuses) != {"open", "closed"}:
            wanted = OPEN_STATES if set(query.statuses) == {"open"} else set(Status) - OPEN_STATES
            stmt = stmt.where(Request.status.in_(wanted))
    return list(session.scalars(stmt.order_by(Request.submitted_at.desc(), Request.id.desc()).limit(MAX_RESULTS)))


def request_of(session: Session, street: Street, request_id: int) -> Request:
    request = session.get(Request, request_id)
    if request is None or request.street_id != street.id:
        raise Open311Error(404, _("No service request has the id {id}.", id=request_id), code="unknown_request")
    return request


def _agency(session: Session, request: Request) -> str:
    """Who handles the request now: the street office while it is escalated there, else the
    community."""
    if request.status == Status.street:
        street = session.get(Street, request.street_id)
        return street.name if street else ""
    community = places.community(session, request.community_id)
    return community.name if community else ""


# --- what a service request shows ----------------------------------------------------------------

def media_code(settings: Settings, photo_id: int) -> str:
    """A photo's public name in ``media_url``: unguessable, so only those shown the URL fetch it."""
    return tracking.code_for(settings, photo_id, purpose="media")


def media_photo(session: Session, settings: Settings, code: str) -> Photo:
    photo_id = tracking.parse(settings, code, purpose="media")
    photo = session.get(Photo, photo_id) if photo_id is not None else None
    if photo is None or photo.request_id is None:
        raise Open311Error(404, _("No such photo."), code="unknown_media")
    return photo


def _public_place(session: Session, request: Request) -> tuple[str, float | None, float | None]:
    """Where a request is, as the public may see it: its building (or community), never the flat
    or the exact spot a resident gave."""
    address = privacy.building_level(session, request)
    building = session.get(Building, request.building_id) if request.building_id else None
    if building is not None and building.latitude is not None:
        return address, building.latitude, building.longitude
    if request.latitude is None or request.longitude is None:
        return address, None, None
    return address, round(request.latitude, 3), round(request.longitude, 3)  # about 100 m


def record(session: Session, settings: Settings, request: Request, locale: str, *, client: Open311Client | None,
           base_url: str) -> dict[str, Any]:
    """One service request in the standard's fields. The public (no ``client``) sees where it
    stands: status, service, agency, dates and the building. A client with a key also sees the
    description, the result and the photo; the address and position as given only of the requests
    it filed itself (the rest, like the public, at the building: see workflow.privacy)."""
    full = client is not None
    category = session.get(Category, request.category_id)
    zone = ZoneInfo(settings.timezone)
    notes = STATUS_LABELS[request.status].render(locale)
    address, latitude, longitude = _public_place(session, request)
    media = ""
    if full:
        if request.result and request.status in (Status.resolved, Status.closed):
            notes = f"{notes}: {request.result}"
        if request.collector_id == client.account_id:
            address = request.address or address
            if request.latitude is not None and request.longitude is not None:
                latitude, longitude = request.latitude, request.longitude
        photo_id = session.scalar(select(Photo.id).where(Photo.request_id == request.id,
                                                         Photo.stage == PhotoStage.report).order_by(Photo.id).limit(1))
        if photo_id is not None:
            media = f"{base_url}/open311/v2/media/{media_code(settings, photo_id)}"
        else:
            media = request.media_url
    return {
        "service_request_id": str(request.id),
        "status": status_of(request),
        "status_notes": notes,
        "service_name": category.name_in(locale),
        "service_code": category.code,
        "description": request.description if full else "",
        "agency_responsible": _agency(session, request),
        "service_notice": "",
        "requested_datetime": request.submitted_at.astimezone(zone),
        "updated_datetime": request.updated_at.astimezone(zone),
        "expected_datetime": request.resolve_by.astimezone(zone) if request.resolve_by else None,
        "address": address,
        "address_id": str(request.building_id) if request.building_id else "",
        "zipcode": "",
        "lat": latitude,
        "long": longitude,
        "media_url": media,
    }


def reader(session: Session, key: str | None) -> Open311Client | None:
    """Who reads requests: a client by its key (it sees them in full), or the public (None). A key
    that is given must be good: a client should learn its key stopped working."""
    return client_cmds.authenticate(session, key) if key and key.strip() else None


# --- filing a service request (POST requests) ----------------------------------------------------

NAME_LIMIT = 50
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{2,30}$")
URL = re.compile(r"^https?://[^\s]{1,490}$", re.IGNORECASE)
CJK = re.compile(r"[\u3400-\u9fff]")


def _one(fields: dict[str, list[str]], name: str) -> str:
    """A single-valued field; empty counts as absent."""
    values = [v.strip() for v in fields.get(name, []) if v and v.strip()]
    if len(values) > 1:
        raise InvalidInput(_("{field} was given more than once.", field=name), code="repeated_field",
                           details={"field": name})
    return values[0] if values else ""


def _coordinate(raw: str, name: str, low: float, high: float) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(_("{field} must be a number from {low} to {high}.", field=name, low=low, high=high),
                           code="invalid_location", details={"field": name})
    return value


def _limited(value: str, name: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidInput(_("{field} is longer than {limit} characters.", field=name, limit=limit),
                           code="text_too_long", details={"field": name, "limit": limit})
    return value


def contact_name(first: str, last: str) -> str:
    """``first_name``/``last_name`` as one name: family name first and no space when Chinese."""
    if first and last and (CJK.search(first) or CJK.search(last)):
        return last + first
    return " ".join(part for part in (first, last) if part)


ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


def attribute_answers(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """``attribute[CODE]`` and ``attribute[CODE][]`` (a multivaluelist) fields, by code."""
    out: dict[str, list[str]] = {}
    for name, values in fields.items():
        match = ATTRIBUTE.match(name)
        if match:
            out.setdefault(match.group(1), []).extend(values)
    return out


@dataclass(frozen=True)
class Filed:
    request: Request
    tracking_code: str
    notice: str


def file_request(session: Session, settings: Settings, client: Open311Client, street: Street,
                 fields: dict[str, list[str]], photo: bytes | None, *, base_url: str, locale: str,
                 now: datetime | None = None) -> Filed:
    """``POST requests``: a client files a service request, routed like any other (channel
    ``open311``; the client's account is the collector). ``fields`` are the form's fields (each a
    list, as forms may repeat one); ``photo`` the multipart ``media`` file, if any."""
    code = _one(fields, "service_code")
    if not code:
        raise InvalidInput(_("service_code is required: which service is this request for?"),
                           code="service_code_required", details={"field": "service_code"})
    category = places.category(session, code)
    if category is None or category.parent_id is None or not category.active:
        raise InvalidInput(_("No service has the code {code}.", code=code), code="unknown_service",
                           details={"field": "service_code"})
    latitude = _coordinate(_one(fields, "lat"), "lat", -90, 90)
    longitude = _coordinate(_one(fields, "long"), "long", -180, 180)
    if (latitude is None) != (longitude is None):
        raise InvalidInput(_("lat and long go together: give both or neither."), code="invalid_location",
                           details={"field": "lat" if latitude is None else "long"})
    address = _limited(_one(fields, "address_string"), "address_string", 200)
    raw_id = _one(fields, "address_id")
    if raw_id and (not raw_id.isascii() or not raw_id.isdigit() or not 1 <= int(raw_id) <= 2_147_483_647):
        raise InvalidInput(_("address_id must be a building number from this feed."), code="unknown_address_id",
                           details={"field": "address_id"})
    place = locating.locate(session, street, latitude=latitude, longitude=longitude, address=address,
                            building_id=int(raw_id) if raw_id else None)
    email = _limited(_one(fields, "email"), "email", 254)
    if email and not EMAIL.match(email):
        raise InvalidInput(_("email is not an e-mail address."), code="invalid_email", details={"field": "email"})
    phone = _limited(_one(fields, "phone"), "phone", 32)
    if phone and not PHONE.match(phone):
        raise InvalidInput(_("phone must be digits, with an optional leading + and spaces or dashes."),
                           code="invalid_phone", details={"field": "phone"})
    name = contact_name(_limited(_one(fields, "first_name"), "first_name", NAME_LIMIT),
                        _limited(_one(fields, "last_name"), "last_name", NAME_LIMIT))
    media_url = _limited(_one(fields, "media_url"), "media_url", 500)
    if media_url and not URL.match(media_url):
        raise InvalidInput(_("media_url must be an http or https address."), code="invalid_media_url",
                           details={"field": "media_url"})
    description = _one(fields, "description") or category.name_zh
    actor = client_cmds.actor_of(client)
    now = now or utcnow()
    limits.open311_submission(session, settings, actor, email=email, phone=phone, now=now)
    photo_ids = []
    if photo is not None:
        photo_ids = [photo_cmds.store(session, actor, photo, settings.media_dir, settings.max_photo_bytes).id]
    request = intake.submit(session, actor, intake.Submission(
        channel=Channel.open311.value, category=category.code, description=description,
        community_id=place.community.id, grid_id=place.grid_id, building_id=place.building_id, address=address,
        latitude=latitude, longitude=longitude, contact_name=name, contact_phone=phone, contact_email=email,
        photo_ids=photo_ids, attributes=attribute_answers(fields), media_url=media_url,
    ), now=now, timezone=settings.timezone)
    code = tracking.code_for(settings, request.id)
    notice = _("Received as request {id} for {community}. Follow it with the code {code} at {url}.",
               id=request.id, community=place.community.name, code=code, url=f"{base_url}/track/{code}")
    return Filed(request=request, tracking_code=code, notice=notice.render(locale))
