"""The secretary's pages (评): the dashboard of rates with its charts, rankings with "why this rank",
the member assessment table, publishing a period, and the reports to home units.

Every figure comes from workflow/scoring/views.py, which applies the same scope rules as the JSON
API (a community secretary reads their community, a street secretary their street, admins all);
publishing and recomputing call the same commands as ``POST /api/v1/scores/{p}/publications`` and
``POST /api/v1/admin/scores/{p}/recompute``.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow.access import require_admin
from workflow.errors import DomainError, InvalidInput, NotFound
from workflow.exports import unit_report_file
from workflow.i18n import _
from workflow.models import ScopeKind, utcnow
from workflow.scoring import periods, runs, unit_report, views

from .. import charts, forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import PART_LABELS, SATISFACTION_LABELS

router = APIRouter(include_in_schema=False)

READERS = ("secretary", "admin")
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
# Sort keys of the assessment table: (row key, largest first by default).
SORTS = {"rank": ("rank", False), "name": ("name", False), "community": ("community", False),
         "unit": ("unit", False), "tasks": ("tasks", True), "hours": ("hours", True),
         "appraisal": ("appraisal_average", True), "quality": ("quality", True), "points": ("points", True),
         "composite": ("composite", True)}


# --- shared pieces ---------------------------------------------------------------------------------

def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _meta(data: dict) -> dict:
    """A run's description for the page: draft or published, revision, when computed/published."""
    return {"published": data["published"], "status": data["status"], "revision": data["revision"],
            "policy_version": data["policy_version"], "computed_at": _when(data["computed_at"]),
            "published_at": _when(data.get("published_at")),
            "period_start": datetime.fromisoformat(data["period_start"]).date(),
            "period_end": datetime.fromisoformat(data["period_end"]).date()}


def _period(ctx: WebCtx, tx, requested: str | None) -> tuple[str, dict]:
    """The period asked for, or the running one; a malformed or future one is refused beside the
    period picker and the running period is shown instead."""
    current = runs.current_period(tx.session, ctx.settings, utcnow())
    if not requested:
        return current, {}
    try:
        periods.parse(requested)
    except InvalidInput as exc:
        return current, {"period": ctx.text(exc.message)}
    if runs.not_started(tx.session, ctx.settings, requested):
        return current, {"period": ctx.text(_("Period {period} has not started yet.", period=requested))}
    return requested, {}


def _scope(tx, scope: str | None, scope_id: int | None, unit: str | None) -> tuple[str, int, list[dict]]:
    """The street or community to show: the one picked (its access is checked by the reads), else
    the reader's own (an admin's: the first street)."""
    choices = views.readable_scopes(tx.session, tx.actor)
    if unit and "-" in unit:
        kind, _sep, raw = unit.partition("-")
        scope, scope_id = kind, forms.number(raw)
    if scope in ("community", "street") and scope_id is not None:
        return scope, scope_id, choices
    if scope in ("community", "street"):
        mine = [c for c in choices if c["kind"] == scope]
        if mine:
            return scope, mine[0]["id"], choices
    if not choices:
        raise NotFound(_("There is no street or community to show yet."), code="unit_not_found")
    if tx.actor.role == "secretary" and tx.actor.community_id is not None:
        own = next(c for c in choices if c["kind"] == "community")
    else:
        own = choices[0]
    return own["kind"], own["id"], choices


def _nav(ctx: WebCtx, tx, period: str) -> dict:
    current = runs.current_period(tx.session, ctx.settings, utcnow())
    return {"period": period, "period_label": charts.period_label(period, ctx.locale),
            "previous": periods.shift(period, -1), "next": periods.shift(period, 1) if period < current else None,
            "current_period": current, "period_ended": period < current}


def _url(path: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None and v != ""})
    return f"{path}?{query}" if query else path


def _units(rows: list[dict]) -> list[dict]:
    """The home units of the members in a table, by name."""
    seen = {r["unit_id"]: r["unit"] for r in rows}
    return [{"id": i, "name": n} for i, n in sorted(seen.items(), key=lambda x: x[1])]


def _publish_state(tx, period: str, kind: str, scope_id: int) -> dict:
    """This scope's own current publication (a community can also be covered by its street's)."""
    own = runs.published_of(tx.session, period, ScopeKind(kind), scope_id)
    return {"revision": own.revision if own else None,
            "published_at": own.published_at if own else None,
            "can_publish": _allowed(runs.require_publisher, tx.actor, tx.session, ScopeKind(kind), scope_id)}


def _allowed(check, *args) -> bool:
    """Whether a command's own access check (a ``require_*``) lets the user through."""
    try:
        check(*args)
    except DomainError:
        return False
    return True


# --- the dashboard ----------------------------------------------------------------------------------

def dashboard_page(ctx: WebCtx, period: str | None, scope: str | None, scope_id: int | None, unit: str | None,
                   *, errors: dict | None = None, values: dict | None = None, status: int = 200):
    errors = dict(errors or {})
    with ctx.transaction(roles=READERS) as tx:
        period, period_errors = _period(ctx, tx, period)
        errors.update(period_errors)
        if not views.readable_scopes(tx.session, tx.actor):
            # A new installation: no street yet. The administrator's home says so, not a 404.
            return page(ctx.request, "secretary/empty.html", {**_nav(ctx, tx, period)})
        kind, scope_id, choices = _scope(tx, scope, scope_id, unit)
        rates = views.unit_rates(tx.session, ctx.settings, tx.actor, kind, scope_id, period)
        trend = views.trend(tx.session, ctx.settings, tx.actor, kind, scope_id, period)
        members = views.assessment(tx.session, ctx.settings, tx.actor, kind, scope_id, period, ctx.locale)
        context = {
            **_nav(ctx, tx, period), "scope": rates["unit"], "choices": choices, "rates": rates,
            "meta": _meta(rates), "trend": [{**p, "label": charts.period_label(p["period"], ctx.locale)}
                                            for p in trend["periods"]],
            "rates_svg": charts.rates_chart(trend, ctx.locale),
            "received_svg": charts.received_chart(trend, ctx.locale),
            "units": _units(members["members"]), "publication": _publish_state(tx, period, kind, scope_id),
            "can_recompute": _allowed(require_admin, tx.actor), "errors": errors, "values": values or {},
            "back": "dashboard",
        }
    if period_errors and status == 200:
        status = 422
    return page(ctx.request, "secretary/dashboard.html", context, status=status)


@router.get("/dashboard")
def dashboard(period: str | None = Query(None, max_length=20), scope: str | None = Query(None, max_length=16),
              id: int | None = Query(None, ge=1, le=2**31 - 1), unit: str | None = Query(None, max_length=40),
              ctx: WebCtx = Depends(get_web_ctx)):
    return dashboard_page(ctx, period, scope, id, unit)


# --- rankings and "why this rank" ------------------------------------------------------------------

def rankings_page(ctx: WebCtx, period: str | None, scope: str | None, scope_id: int | None, unit: str | None,
                  *, errors: dict | None = None, values: dict | None = None, status: int = 200,
                  members: str = "party"):
    errors = dict(errors or {})
    with ctx.transaction(roles=READERS) as tx:
        period, period_errors = _period(ctx, tx, period)
        errors.update(period_errors)
        kind, scope_id, choices = _scope(tx, scope, scope_id, unit)
        ranking = views.ranking(tx.session, ctx.settings, tx.actor, kind, scope_id, period, ctx.locale, members)
        context = {**_nav(ctx, tx, period), "scope": ranking["scope"], "choices": choices, "ranking": ranking,
                   "members": members,
                   "meta": _meta(ranking), "publication": _publish_state(tx, period, kind, scope_id),
                   "errors": errors, "values": values or {}, "back": "rankings"}
    if period_errors and status == 200:
        status = 422
    return page(ctx.request, "secretary/rankings.html", context, status=status)


@router.get("/rankings")
def rankings(period: str | None = Query(None, max_length=20), scope: str | None = Query(None, max_length=16),
             id: int | None = Query(None, ge=1, le=2**31 - 1), unit: str | None = Query(None, max_length=40),
             members: str = Query("party", max_length=16), ctx: WebCtx = Depends(get_web_ctx)):
    """评先推优; party members and volunteers are ranked apart (``members=volunteer``)."""
    return rankings_page(ctx, period, scope, id, unit, members=members if members in views.MEMBER_KINDS else "party")


@router.get("/rankings/members/{member_id}")
def why_this_rank(member_id: DbId, period: str | None = Query(None, max_length=20),
                  community_id: int | None = Query(None, ge=1, le=2**31 - 1), ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=READERS) as tx:
        period, errors = _period(ctx, tx, period)
        breakdown = views.member_breakdown(tx.session, ctx.settings, tx.actor, member_id, period, ctx.locale,
                                           community_id)
        records = [_dated(r) for r in breakdown["records"]]
        context = {**_nav(ctx, tx, period), "member": breakdown["member"], "records": records,
                   "community_id": community_id, "part_labels": PART_LABELS, "satisfaction": SATISFACTION_LABELS,
                   "errors": errors}
    return page(ctx.request, "secretary/breakdown.html", context, status=422 if errors else 200)


def _dated(record: dict) -> dict:
    """A breakdown record with real dates, for the locale's date format."""
    tasks = [{**t, "verified_on": date.fromisoformat(t["verified_on"])} for t in record["tasks"]]
    entries = [{**e, "date": date.fromisoformat(e["date"])} for e in record["points"]["entries"]]
    return {**record, "meta": _meta(record), "tasks": tasks, "points": {**record["points"], "entries": entries}}


# --- the member assessment table -------------------------------------------------------------------

@router.get("/assessment")
def assessment(period: str | None = Query(None, max_length=20), scope: str | None = Query(None, max_length=16),
               id: int | None = Query(None, ge=1, le=2**31 - 1), unit: str | None = Query(None, max_length=40),
               sort: str = Query("rank", max_length=16), order: str | None = Query(None, max_length=4),
               ctx: WebCtx = Depends(get_web_ctx)):
    if sort not in SORTS:
        sort = "rank"
    key, largest_first = SORTS[sort]
    descending = largest_first if order not in ("asc", "desc") else order == "desc"
    with ctx.transaction(roles=READERS) as tx:
        period, errors = _period(ctx, tx, period)
        kind, scope_id, choices = _scope(tx, scope, id, unit)
        table = views.assessment(tx.session, ctx.settings, tx.actor, kind, scope_id, period, ctx.locale)
        rows = table["members"]
        present = [r for r in rows if r[key] is not None]
        missing = [r for r in rows if r[key] is None]  # no rank / no tasks: always last
        present.sort(key=lambda r: r[key], reverse=descending)
        context = {**_nav(ctx, tx, period), "scope": table["scope"], "choices": choices, "meta": _meta(table),
                   "rows": present + missing, "sort": sort, "descending": descending, "sorts": SORTS,
                   "units": _units(rows), "errors": errors}
    return page(ctx.request, "secretary/assessment.html", context, status=422 if errors else 200)


# --- publishing and recomputing ---------------------------------------------------------------------

PUBLISH_FIELDS = ("reason", "republish")


@router.post("/scores/{period}/publish")
def publish(period: str = Path(pattern=PERIOD), form: FormData = Depends(form_data),
            ctx: WebCtx = Depends(get_web_ctx)):
    kind, scope_id = forms.text(form, "scope_kind"), forms.integer(form, "scope_id")
    back = "rankings" if forms.text(form, "back") == "rankings" else "dashboard"
    republish = form.get("republish") in ("1", "yes", "on", "true")
    try:
        if kind not in ("community", "street") or not isinstance(scope_id, int):
            raise InvalidInput(_("Scores are published for a community or a street."), code="invalid_scope")
        with ctx.transaction(roles=READERS) as tx:
            run = runs.publish(tx.session, ctx.settings, tx.actor, period, ScopeKind(kind), scope_id,
                               republish=republish, reason=forms.text(form, "reason"))
            revision = run.revision
    except DomainError as exc:
        if exc.status in (401, 403, 404):
            raise
        show = rankings_page if back == "rankings" else dashboard_page
        return show(ctx, period, kind, scope_id if isinstance(scope_id, int) else None, None,
                    errors={"publish": forms.errors_of(ctx, exc, PUBLISH_FIELDS)},
                    values={"publish": {"reason": forms.text(form, "reason"), "republish": republish}},
                    status=exc.status)
    ctx.flash(_("Scores of {period} published, revision {revision}.", period=period, revision=revision))
    return redirect(_url(f"/{back}", period=period, scope=kind, id=scope_id))


@router.post("/scores/{period}/recompute")
def recompute(period: str = Path(pattern=PERIOD), form: FormData = Depends(form_data),
              ctx: WebCtx = Depends(get_web_ctx)):
    """Admins only, as ``POST /api/v1/admin/scores/{p}/recompute``."""
    with ctx.transaction(roles=READERS) as tx:
        require_admin(tx.actor)
        runs.recompute(tx.session, ctx.settings, period)
    ctx.flash(_("The scores of {period} were recomputed.", period=period))
    kind = forms.text(form, "scope_kind")
    scope_id = forms.integer(form, "scope_id")
    return redirect(_url("/dashboard", period=period, scope=kind if kind in ("community", "street") else None,
                         id=scope_id if isinstance(scope_id, int) else None))


# --- 双报告: reports to home units -----------------------------------------------------------------

@router.get("/reports/{unit_id}/{period}.{kind}")
def report_file(unit_id: DbId, period: str = Path(pattern=PERIOD), kind: str = Path(pattern="^(xlsx|pdf)$"),
                ctx: WebCtx = Depends(get_web_ctx)):
    """双报告: the unit report as the JSON API serves it, with the login of the page."""
    with ctx.transaction() as tx:
        report = unit_report.build(tx.session, ctx.settings, tx.actor, unit_id, period)
    body, media_type, name = unit_report_file(report, kind, ctx.locale, ctx.settings.pdf_font)
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})
