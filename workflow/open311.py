"""Open311 GeoReport v2: what the standard's words mean in Shoubanping.

- A *jurisdiction* is a street office (街道), named by its code. Served alone it may be left out;
  with several streets a client must name one (400 otherwise, 404 for an unknown code).
- A *service* is a leaf category (``service_code`` = its code, ``group`` = its top category).
- Formats (JSON or XML) and HTTP are the adapter's business (``api/open311``); this module only
  answers in plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import DomainError, NotFound
from .i18n import _
from .models import Category, Request, Status, Street
from .repository import places


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
    attributes: list[dict] = field(default_factory=list)


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
                           group=group, keywords=", ".join(dict.fromkeys([category.name_zh, category.name_en]))))
    return out


def service_definition(session: Session, service_code: str) -> ServiceDefinition:
    """A service's extra attributes. No category defines any yet, so every definition is empty and
    every service says ``metadata: false``."""
    if not any(s.service_code == service_code for s in services(session, "en")):
        raise NotFound(_("No service has the code {code}.", code=service_code), code="unknown_service")
    return ServiceDefinition(service_code=service_code)


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


def agency_of(session: Session, request: Request) -> str:
    """Who handles the request now: the street office while it is escalated there, else the
    community."""
    if request.status == Status.street:
        street = session.get(Street, request.street_id)
        return street.name if street else ""
    community = places.community(session, request.community_id)
    return community.name if community else ""
