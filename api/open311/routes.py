"""The GeoReport v2 endpoints: discovery, services and their definitions, filing and reading service
requests, tokens, and the photos keyed clients are shown."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from web.limits import refuse_nul
from workflow import open311, tracking
from workflow.commands import clients as client_cmds
from workflow.commands import photos
from workflow.i18n import _
from workflow.models import utcnow

from ..context import Ctx, get_ctx
from .formats import Plural, respond

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
Fmt = Path(pattern="^(json|xml)$", description="json or xml")
Jurisdiction = Query(None, max_length=32, description="A street office's code; may be left out when one is served.")
CHANGESET = "2026-11-22T00:00:00+08:00"  # when this interface last changed

# What the answers look like, for the OpenAPI description: JSON or XML by the path's suffix, and
# errors as the standard's list of {code, description} (never FastAPI's 422: a bad parameter is
# 400, a path that names nothing 404; see api/errors.py).
ERROR_LIST = {"type": "array", "items": {"type": "object", "required": ["code", "description"],
                                         "properties": {"code": {"type": "integer"},
                                                        "description": {"type": "string"}}}}
ERRORS = {400: "A bad parameter", 403: "A missing, unknown or revoked api_key", 404: "Nothing has this id or format",
          413: "The body is too large", 429: "Too many service requests; see Retry-After"}


def documented(success: int, *errors: int) -> dict:
    def both(schema: dict) -> dict:
        return {"application/json": {"schema": schema}, "text/xml": {"schema": {"type": "string"}}}

    out: dict = {success: {"description": "In the format the path's suffix names", "content": both({})}}
    for status in (400, 404, *errors):
        out[status] = {"description": ERRORS[status], "content": both(ERROR_LIST)}
    return out


TEXT = {"type": "string"}
FORM = {"type": "object", "required": ["api_key", "service_code"], "additionalProperties": TEXT, "properties": {
    name: TEXT for name in ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string",
                            "address_id", "description", "media_url", "email", "phone", "device_id", "first_name",
                            "last_name")}}


@router.get("/discovery.{fmt}", responses=documented(200))
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


@router.get("/services.{fmt}", responses=documented(200))
def services(fmt: str = Fmt, jurisdiction_id: str | None = Jurisdiction, ctx: Ctx = Depends(get_ctx)):
    """Every service (a leaf category of the taxonomy), with its group (the top category)."""
    with ctx.transaction(auth=False) as tx:
        open311.jurisdiction(tx.session, jurisdiction_id)
        rows = [vars(s) for s in open311.services(tx.session, ctx.locale)]
    return respond(fmt, "services", Plural("service", rows))


@router.get("/services/{service_code}.{fmt}", responses=documented(200))
def service_definition(service_code: str = Path(max_length=32), fmt: str = Fmt,
                       jurisdiction_id: str | None = Jurisdiction, ctx: Ctx = Depends(get_ctx)):
    """A service's extra attributes: what ``attribute[CODE]`` a request of this service answers."""
    with ctx.transaction(auth=False) as tx:
        open311.jurisdiction(tx.session, jurisdiction_id)
        definition = open311.service_definition(tx.session, service_code, ctx.locale)
    rows = [{**row, "values": Plural("value", row["values"])} if "values" in row else row
            for row in definition.attributes]
    return respond(fmt, "service_definition", {"service_code": definition.service_code,
                                               "attributes": Plural("attribute", rows)})


# --- service requests ----------------------------------------------------------------------------

ApiKey = Query(None, max_length=100, description="A client's key: with it, requests show their description, "
               "address, position and photo as given.")
MAX_FIELDS = 200
PHOTO_FIELDS = ("media", "photo")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/requests.{fmt}", responses=documented(200, 403))
def service_requests(request: Request, fmt: str = Fmt, jurisdiction_id: str | None = Jurisdiction,
                     service_request_id: str | None = Query(None, max_length=12_000),
                     service_code: str | None = Query(None, max_length=2000),
                     start_date: str | None = Query(None, max_length=40),
                     end_date: str | None = Query(None, max_length=40),
                     status: str | None = Query(None, max_length=20), api_key: str | None = ApiKey,
                     ctx: Ctx = Depends(get_ctx)):
    """Service requests of the jurisdiction, newest first, at most 1000: by ``service_request_id``
    (a comma list, which overrides every other filter), or by ``service_code``, ``status`` and
    ``start_date``/``end_date`` (at most 90 days apart; the last 90 days by default)."""
    with ctx.transaction(auth=False) as tx:
        reader = open311.reader(tx.session, api_key)
        street = open311.jurisdiction(tx.session, jurisdiction_id)
        query = open311.parse_query(service_request_id=service_request_id, service_code=service_code,
                                    start_date=start_date, end_date=end_date, status=status,
                                    zone=ctx.settings.timezone, now=utcnow())
        rows = [open311.record(tx.session, ctx.settings, r, ctx.locale, client=reader, base_url=_base(request))
                for r in open311.find_requests(tx.session, street, query)]
    return respond(fmt, "service_requests", Plural("request", rows))


@router.get("/requests/{service_request_id}.{fmt}", responses=documented(200, 403))
def service_request(request: Request, service_request_id: int = Path(ge=1, le=2_147_483_647), fmt: str = Fmt,
                    jurisdiction_id: str | None = Jurisdiction, api_key: str | None = ApiKey,
                    ctx: Ctx = Depends(get_ctx)):
    """One service request, as a list of one (the standard's shape)."""
    with ctx.transaction(auth=False) as tx:
        reader = open311.reader(tx.session, api_key)
        street = open311.jurisdiction(tx.session, jurisdiction_id)
        row = open311.record(tx.session, ctx.settings, open311.request_of(tx.session, street, service_request_id),
                             ctx.locale, client=reader, base_url=_base(request))
    return respond(fmt, "service_requests", Plural("request", [row]))


@router.post("/requests.{fmt}", status_code=201, responses=documented(201, 403, 413, 429), openapi_extra={
    "requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": FORM},
        "multipart/form-data": {"schema": {**FORM, "properties": {**FORM["properties"],
                                                                  "media": {"type": "string", "format": "binary"}}}}}}})
async def file_request(request: Request, fmt: str = Fmt, ctx: Ctx = Depends(get_ctx)):
    """File a service request, as ``application/x-www-form-urlencoded`` or as
    ``multipart/form-data`` with a photo in the file field ``media``. Needs ``api_key``. Fields:
    ``service_code``; where: ``lat`` and ``long``, ``address_string`` or ``address_id``;
    ``description``, ``media_url``, ``attribute[CODE]`` (``attribute[CODE][]`` for a
    multivaluelist), and the reporter's ``email``, ``phone``, ``first_name``, ``last_name``. The answer
    is a list of one ``{service_request_id, service_notice, account_id}``; the notice carries the
    tracking code, which ``tokens/{token}`` also takes."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise open311.Open311Error(400, _("Send the service request as a form (application/x-www-form-urlencoded "
                                          "or multipart/form-data)."), code="form_required")
    try:
        form = await request.form(max_files=2, max_fields=MAX_FIELDS)
    except Exception:  # a malformed multipart body, or too many fields or files
        raise open311.Open311Error(400, _("The form could not be read. Send it whole, with at most {n} fields and "
                                          "one photo.", n=MAX_FIELDS), code="malformed_form") from None
    fields: dict[str, list[str]] = {}
    photo = None
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value)
        elif name in PHOTO_FIELDS and photo is None:
            photo = await value.read(ctx.settings.max_photo_bytes + 1)
        else:
            raise open311.Open311Error(400, _("Send one photo, in the file field media."), code="unexpected_file")
    await form.close()
    refuse_nul((name, value) for name, values in fields.items() for value in values)
    key = (fields.get("api_key") or [request.query_params.get("api_key", "")])[0]
    jurisdiction_id = (fields.get("jurisdiction_id") or [request.query_params.get("jurisdiction_id", "")])[0]
    base_url = _base(request)

    def store() -> dict[str, str]:
        with ctx.transaction(auth=False) as tx:
            client = client_cmds.authenticate(tx.session, key)
            street = open311.jurisdiction(tx.session, jurisdiction_id)
            filed = open311.file_request(tx.session, ctx.settings, client, street, fields, photo or None,
                                         base_url=base_url, locale=ctx.locale)
            return {"service_request_id": str(filed.request.id), "service_notice": filed.notice, "account_id": ""}

    # The form is read on the event loop; the database work, which may wait on a lock (the submission
    # limits serialise one client's requests), runs in the thread pool like every other route's.
    body = await run_in_threadpool(store)
    return respond(fmt, "service_requests", Plural("request", [body]), status=201)


@router.get("/media/{code}", response_class=FileResponse, include_in_schema=False)
def media(code: str = Path(max_length=64), ctx: Ctx = Depends(get_ctx)):
    """A request's photo, at the unguessable address a keyed client was given as ``media_url``."""
    with ctx.transaction(auth=False) as tx:
        photo = open311.media_photo(tx.session, ctx.settings, code)
        path = photos.photo_path(ctx.settings.media_dir, photo.sha256)
        if not path.exists():
            raise open311.Open311Error(404, _("No such photo."), code="unknown_media")
        return FileResponse(path, media_type=photo.content_type, headers={"Cache-Control": "private, max-age=86400"})


@router.get("/tokens/{token}.{fmt}", responses=documented(200))
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
