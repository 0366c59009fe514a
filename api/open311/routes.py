"""The GeoReport v2 endpoints: discovery, the service list and each service's definition."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request

from workflow import open311

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
