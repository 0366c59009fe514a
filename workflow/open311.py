"""Open311 GeoReport v2: what the standard's words mean in Shoubanping.

- A *jurisdiction* is a street office (街道), named by its code. Served alone it may be left out;
  with several streets a client must name one (400 otherwise, 404 for an unknown code).
- A *service* is a leaf category (``service_code`` = its code, ``group`` = its top category).
- Formats (JSON or XML) and HTTP are the adapter's business (``api/open311``); this module only
  answers in plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import DomainError, NotFound
from .i18n import _
from .models import Category, Street
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


def _name(category: Category, locale: str) -> str:
    return category.name_en if locale == "en" else category.name_zh


def services(session: Session, locale: str) -> list[Service]:
    """Every leaf category in use, grouped under its top category, in the taxonomy's order."""
    rows = places.categories(session)
    tops = {c.code: c for c, parent in rows if parent is None}
    out = []
    for category, parent in rows:
        if parent is None:
            continue
        group = _name(tops[parent], locale) if parent in tops else ""
        out.append(Service(service_code=category.code, service_name=_name(category, locale),
                           description=f"{group} · {_name(category, locale)}" if group else _name(category, locale),
                           group=group, keywords=", ".join(dict.fromkeys([category.name_zh, category.name_en]))))
    return out


def service_definition(session: Session, service_code: str) -> ServiceDefinition:
    """A service's extra attributes. No category defines any yet, so every definition is empty and
    every service says ``metadata: false``."""
    if not any(s.service_code == service_code for s in services(session, "en")):
        raise NotFound(_("No service has the code {code}.", code=service_code), code="unknown_service")
    return ServiceDefinition(service_code=service_code)
