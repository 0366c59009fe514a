"""The GeoReport v2 endpoints: discovery, the service list and each service's definition."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request

from workflow import open311, tracking
from workflow.i18n import _
from workflow.lifecycle import STATUS_LABELS
from workflow.models import Category, utcnow

from ..context import Ctx, get_ctx
from .formats import Plural, respond

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
Fmt = Path(pattern="^(json|xml)$", description="json or xml")
Jurisdiction = Query(None, max_length=32, description="A street office's code; may be left out when one is served.")
CHANGESET = "2026-11-22T00:00:00+08:00"  # when this interface last changed


@router.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str = Fmt):
    """Where the endpoint is and what it speaks."""
    base = str(request.base_url).rstrip("/") + "/open311/v2"
    body = {
        "changeset": CHANGESET,
        "contact": "Your street office (街道办事处)",
        "key_service": "Ask the administrator of this service for an api_key.",
        "endpoints": Plural("endpoint", [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": CHANGESET,
            "type": "production",
            "formats": Plural("format", ["text/xml", "application/json"]),
        }]),
    }
    return respond(fmt, "discovery", body)


@router.get("/services.{fmt}")
def services(fmt: str = Fmt, jurisdiction_id: str | None = Jurisdiction, ctx: Ctx = Depends(get_ctx)):
    """Every service (a leaf category of the taxonomy), with its group (the top category)."""
    with ctx.transaction(auth=False) as tx:
        open311.jurisdiction(tx.session, jurisdiction_id)
        rows = [vars(s) for s in open311.services(tx.session, ctx.locale)]
    return respond(fmt, "services", Plural("service", rows))


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str = Path(max_length=32), fmt: str = Fmt,
                       jurisdiction_id: str | None = Jurisdiction, ctx: Ctx = Depends(get_ctx)):
    """A service's extra attributes (none yet: every service has ``metadata`` false)."""
    with ctx.transaction(auth=False) as tx:
        open311.jurisdiction(tx.session, jurisdiction_id)
        definition = open311.service_definition(tx.session, service_code)
    return respond(fmt, "service_definition", {"service_code": definition.service_code,
                                               "attributes": Plural("attribute", definition.attributes)})


# --- service requests ----------------------------------------------------------------------------

def _record(session, request, locale: str) -> dict:
    """One service request in the standard's fields (ids as strings, datetimes with their offset)."""
    category = session.get(Category, request.category_id)
    return {
        "service_request_id": str(request.id),
        "status": open311.status_of(request),
        "status_notes": STATUS_LABELS[request.status].render(locale),
        "service_name": category.name_in(locale),
        "service_code": category.code,
        "description": request.description,
        "agency_responsible": open311.agency_of(session, request),
        "service_notice": "",
        "requested_datetime": request.submitted_at,
        "updated_datetime": request.updated_at,
        "expected_datetime": request.resolve_by,
        "address": request.address,
        "address_id": str(request.building_id) if request.building_id else "",
        "zipcode": "",
        "lat": request.latitude,
        "long": request.longitude,
        "media_url": "",
    }


@router.get("/requests.{fmt}")
def service_requests(fmt: str = Fmt, jurisdiction_id: str | None = Jurisdiction,
                     service_request_id: str | None = Query(None, max_length=12_000),
                     service_code: str | None = Query(None, max_length=2000),
                     start_date: str | None = Query(None, max_length=40),
                     end_date: str | None = Query(None, max_length=40),
                     status: str | None = Query(None, max_length=20), ctx: Ctx = Depends(get_ctx)):
    """Service requests of the jurisdiction, newest first, at most 1000: by ``service_request_id``
    (a comma list, which overrides every other filter), or by ``service_code``, ``status`` and
    ``start_date``/``end_date`` (at most 90 days apart; the last 90 days by default)."""
    with ctx.transaction(auth=False) as tx:
        street = open311.jurisdiction(tx.session, jurisdiction_id)
        query = open311.parse_query(service_request_id=service_request_id, service_code=service_code,
                                    start_date=start_date, end_date=end_date, status=status,
                                    zone=ctx.settings.timezone, now=utcnow())
        rows = [_record(tx.session, r, ctx.locale) for r in open311.find_requests(tx.session, street, query)]
    return respond(fmt, "service_requests", Plural("request", rows))


@router.get("/requests/{service_request_id}.{fmt}")
def service_request(service_request_id: int = Path(ge=1, le=2_147_483_647), fmt: str = Fmt,
                    jurisdiction_id: str | None = Jurisdiction, ctx: Ctx = Depends(get_ctx)):
    """One service request, as a list of one (the standard's shape)."""
    with ctx.transaction(auth=False) as tx:
        street = open311.jurisdiction(tx.session, jurisdiction_id)
        row = _record(tx.session, open311.request_of(tx.session, street, service_request_id), ctx.locale)
    return respond(fmt, "service_requests", Plural("request", [row]))


@router.get("/tokens/{token}.{fmt}")
def token(token: str = Path(max_length=64), fmt: str = Fmt, jurisdiction_id: str | None = Jurisdiction,
          ctx: Ctx = Depends(get_ctx)):
    """The request a token stands for. Our tokens are the requests' tracking codes (查询码)."""
    with ctx.transaction(auth=False) as tx:
        street = open311.jurisdiction(tx.session, jurisdiction_id)
        request_id = tracking.parse(ctx.settings, token)
        request = open311.request_of(tx.session, street, request_id) if request_id else None
        if request is None:
            raise open311.Open311Error(404, _("No service request has this token."), code="unknown_token")
    return respond(fmt, "service_requests", Plural("request", [{"service_request_id": str(request.id),
                                                                "token": token}]))
