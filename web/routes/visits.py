"""Pages of planned collection: a member's households with the one-tap visit (我的联系户), the grid
worker's rounds (巡查), the community's register of households (住户), and coverage (走访覆盖) for
secretaries, staff and street officers.

Every page calls the same commands and views as the JSON routes in api/routes/visits.py."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow.commands import intake
from workflow.errors import DomainError, InvalidInput, NotFound
from workflow.i18n import _
from workflow.models import Building, Grid
from workflow.repository import places
from workflow.scoring import periods
from workflow.visits import commands, coverage, views
from workflow.visits import repository as repo

from .. import charts, forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect
from ..views import desk_community
from .intake import _category_groups

router = APIRouter(include_in_schema=False)

MEMBER = ("member",)
STAFF = ("staff",)
KEEPERS = ("staff", "admin")
COVERAGE_READERS = ("staff", "secretary", "street_officer", "admin")
TREND_MONTHS = 6
STATUS_LABELS = {"overdue": _("Overdue"), "due": _("Due"), "visited": _("Visited"), "not_due": _("Not due")}
METHOD_LABELS = {"at_home": _("At home"), "phone": _("By phone"), "met_outside": _("Met outside")}
OUTCOME_LABELS = {"all_well": _("All well"), "need": _("A need noted"), "problem": _("Found a problem")}


def _today(ctx: WebCtx) -> date:
    return ctx.settings.today()


def _labels(ctx: WebCtx, labels: dict) -> list[tuple[str, str]]:
    return [(k, ctx.text(v)) for k, v in labels.items()]


def _tag_names(tx, ctx: WebCtx) -> dict[str, str]:
    return {t["code"]: t["name"] for t in views.tags(tx.session, ctx.locale)}


# --- 我的联系户: the member's households and the one-tap visit -------------------------------------

def _households_page(ctx: WebCtx, *, errors: dict | None = None, values: dict | None = None,
                     open_id: int | None = None, status: int = 200):
    with ctx.transaction(roles=MEMBER) as tx:
        rows = views.my_households(tx.session, tx.actor, _today(ctx))
        tags = _tag_names(tx, ctx)
        for r in rows:
            r["tag_names"] = [tags.get(t, t) for t in r["tags"]]
            r["status_label"] = ctx.text(STATUS_LABELS[r["status"]])
        context = {"households": rows, "categories": _category_groups(tx.session, ctx.locale),
                   "methods": _labels(ctx, METHOD_LABELS), "outcomes": _labels(ctx, OUTCOME_LABELS),
                   "errors": errors or {}, "values": values or {}, "open_id": open_id}
    return page(ctx.request, "member/households.html", context, status=status)


@router.get("/member/households")
def my_households(ctx: WebCtx = Depends(get_web_ctx)):
    return _households_page(ctx)


@router.post("/member/households/{household_id}/visit")
def record_visit(household_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    data = {name: forms.text(form, name) for name in ("method", "outcome", "note") if forms.text(form, name)}
    if data.get("outcome") == "problem":
        data["problem"] = {"category": forms.text(form, "category"), "description": forms.text(form, "description")}
    try:
        with ctx.transaction(roles=MEMBER) as tx:
            photo_ids = forms.store_photos(ctx, tx, form, "photos")
            (data["problem"] if "problem" in data else data)["photo_ids"] = photo_ids
            visit, new = commands.record_visit(tx.session, tx.actor, household_id, data,
                                               timezone=ctx.settings.timezone)
            request_id = visit.request_id
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _households_page(ctx, errors={"_form": forms.message_of(ctx, exc), **forms.errors_of(
            ctx, exc, ("category", "description", "note", "photos"))}, values=data, open_id=household_id,
            status=exc.status)
    if not new:
        ctx.flash(_("You had already recorded this visit today."))
    elif request_id:
        ctx.flash(_("Visit recorded; the problem was sent to the community as request {id}.", id=request_id))
    else:
        ctx.flash(_("Visit recorded."))
    return redirect("/member/households")


# --- 巡查: the grid worker's rounds ----------------------------------------------------------------

@router.get("/desk/rounds")
def rounds(ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(roles=STAFF) as tx:
        today = _today(ctx)
        grids = repo.grids_worked_by(tx.session, tx.actor.account_id, today)
        mine = [views.round_out(r) for r in commands.rounds_of(tx.session, tx.actor, limit=20)]
        names = {g.id: g.name for g in places.grids(tx.session, tx.actor.community_id)}
        for r in mine:
            r["grid_name"] = names.get(r["grid_id"], "")
        context = {"grids": grids,
                   "open_rounds": [r for r in mine if r["ended_at"] is None],
                   "ended_rounds": [r for r in mine if r["ended_at"] is not None]}
    return page(ctx.request, "desk/rounds.html", context)


@router.post("/desk/rounds")
def start_round(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    grid_id = forms.integer(form, "grid_id")
    with ctx.transaction(roles=STAFF) as tx:
        if not isinstance(grid_id, int):
            raise InvalidInput(_("Choose a grid."), code="grid_required", details={"field": "grid_id"})
        row, _new = commands.start_round(tx.session, tx.actor, grid_id, timezone=ctx.settings.timezone)
        round_id = row.id
    return redirect(f"/desk/rounds/{round_id}")


def _round_page(ctx: WebCtx, round_id: int, *, errors: dict | None = None, values: dict | None = None,
                status: int = 200):
    with ctx.transaction(roles=STAFF) as tx:
        row = repo.round_(tx.session, round_id)
        if row is None or row.account_id != tx.actor.account_id:
            raise NotFound(_("Round {id} does not exist.", id=round_id), code="round_not_found")
        buildings = [(b.id, b.name) for b in repo.buildings_of_grid(tx.session, row.grid_id)]
        context = {"round": views.round_out(row), "grid": tx.session.get(Grid, row.grid_id),
                   "buildings": buildings, "categories": _category_groups(tx.session, ctx.locale),
                   "errors": errors or {}, "values": values or {}}
    return page(ctx.request, "desk/round.html", context, status=status)


@router.get("/desk/rounds/{round_id}")
def round_page(round_id: DbId, ctx: WebCtx = Depends(get_web_ctx)):
    return _round_page(ctx, round_id)


def _round_act(ctx: WebCtx, round_id: int, act, done, values: dict | None = None):
    try:
        with ctx.transaction(roles=STAFF) as tx:
            act(tx)
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _round_page(ctx, round_id, errors={"_form": forms.message_of(ctx, exc), **forms.errors_of(
            ctx, exc, ("category", "description", "building_id", "areas"))}, values=values, status=exc.status)
    ctx.flash(done)
    return redirect(f"/desk/rounds/{round_id}")


@router.post("/desk/rounds/{round_id}/ticks")
def tick_round(round_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    building_ids = [n for n in (forms.number(v) for v in form.getlist("building_ids")) if n is not None]
    areas = [a.strip() for a in forms.text(form, "areas").replace("，", ",").split(",") if a.strip()]
    return _round_act(ctx, round_id, lambda tx: commands.tick_round(
        tx.session, tx.actor, round_id, building_ids=building_ids, areas=areas), _("Ticked."))


@router.post("/desk/rounds/{round_id}/findings")
def round_finding(round_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {name: forms.text(form, name) for name in ("category", "description", "building_id")}
    building = forms.number(values["building_id"]) if values["building_id"] else None
    return _round_act(ctx, round_id, lambda tx: commands.round_finding(
        tx.session, tx.actor, round_id, intake.Submission(
            channel="inspection", category=values["category"], description=values["description"],
            building_id=building), timezone=ctx.settings.timezone), _("The finding was recorded as a request."),
        values)


@router.post("/desk/rounds/{round_id}/end")
def end_round(round_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    note = forms.text(form, "note")
    return _round_act(ctx, round_id, lambda tx: commands.end_round(tx.session, tx.actor, round_id, note=note),
                      _("Round ended."))


# --- 住户: the community's register ---------------------------------------------------------------

def _register_page(ctx: WebCtx, community_id: int | None, *, errors: dict | None = None,
                   values: dict | None = None, center_errors: dict | None = None, center_values: dict | None = None,
                   status: int = 200):
    with ctx.transaction(roles=KEEPERS) as tx:
        community_id = desk_community(tx.session, tx.actor, community_id)
        rows = views.list_households(tx.session, tx.actor, community_id, limit=500)
        tags = _tag_names(tx, ctx)
        for r in rows:
            r["tag_names"] = [tags.get(t, t) for t in r["tags"]]
        found, _start, _as_of = coverage.states(tx.session, [community_id], periods.label_of(_today(ctx), "month"),
                                                _today(ctx), unplanned=True)
        carers = {s.household_id: [n for _m, n in s.members] for s in found}
        for r in rows:
            r["members"] = carers.get(r["id"], [])
        members = [(m.id, a.display_name) for m, a, _zones in _registered(tx, community_id)]
        buildings = [(b.id, b.name) for b in places.buildings(tx.session, community_id)]
        centers = views.centers_on(tx.session, [b for b, _n in buildings], _today(ctx))
        context = {"households": rows, "community_id": community_id, "tags": sorted(tags.items()),
                   "buildings": buildings, "members": members, "errors": errors or {}, "values": values or {},
                   "centers": [{"id": b, "name": n, "center": centers.get(b, "")} for b, n in buildings],
                   "center_errors": center_errors or {}, "center_values": center_values or {}}
    return page(ctx.request, "desk/households.html", context, status=status)


def _registered(tx, community_id: int):
    from workflow.commands import zones

    if tx.actor.role == "admin":
        return []
    return zones.community_members(tx.session, tx.actor) if tx.actor.community_id == community_id else []


@router.get("/desk/households")
def household_register(community_id: int | None = Query(None, ge=1, le=2**31 - 1), ctx: WebCtx = Depends(get_web_ctx)):
    return _register_page(ctx, community_id)


@router.post("/desk/households")
def add_household(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    values = {name: forms.text(form, name) for name in ("building_id", "code", "door", "contact_name",
                                                         "contact_phone", "member_id")}
    tags = [t for t in form.getlist("tags") if isinstance(t, str) and t]
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            household = commands.create_household(tx.session, tx.actor, {
                "building_id": forms.number(values["building_id"]), "code": values["code"], "door": values["door"],
                "tags": tags, "contact_name": values["contact_name"], "contact_phone": values["contact_phone"]},
                timezone=ctx.settings.timezone)
            if values["member_id"]:
                commands.pair_member(tx.session, tx.actor, household.id, forms.number(values["member_id"]),
                                     timezone=ctx.settings.timezone)
            community_id = household.community_id
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _register_page(ctx, None, errors={"_form": forms.message_of(ctx, exc), **forms.errors_of(
            ctx, exc, ("building_id", "code", "door", "tags", "contact_name", "contact_phone", "member_id"))},
            values={**values, "tags": tags}, status=exc.status)
    ctx.flash(_("Household added."))
    return redirect(f"/desk/households?community_id={community_id}")


@router.get("/desk/households/{household_id}")
def household_page(household_id: DbId, ctx: WebCtx = Depends(get_web_ctx)):
    """One household for its community's desk: the contact (the read is logged), who looks after it
    and its visits, with their notes, photos and the requests they opened."""
    with ctx.transaction(roles=("staff", "secretary", "admin")) as tx:
        household = views.read_household(tx.session, tx.actor, household_id, "page")
        tags = _tag_names(tx, ctx)
        household["tag_names"] = [tags.get(t, t) for t in household["tags"]]
        methods, outcomes = dict(_labels(ctx, METHOD_LABELS)), dict(_labels(ctx, OUTCOME_LABELS))
        for v in household["visits"]:
            v["method_label"], v["outcome_label"] = methods[v["method"]], outcomes[v["outcome"]]
    return page(ctx.request, "desk/household.html", {"h": household})


@router.post("/desk/center-households")
def appoint_center_household(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    """党员中心户: staff name a building's center household from today."""
    values = {name: forms.text(form, name) for name in ("building_id", "member_id")}
    try:
        with ctx.transaction(roles=KEEPERS) as tx:
            building_id = forms.number(values["building_id"])
            if building_id is None:
                raise InvalidInput(_("Choose a building."), code="building_required", details={"field": "building_id"})
            center = commands.appoint_center_household(tx.session, tx.actor, building_id,
                                                       forms.number(values["member_id"]),
                                                       timezone=ctx.settings.timezone)
            community_id = tx.session.get(Building, center.building_id).community_id
    except DomainError as exc:
        if exc.status == 401 or exc.code == "wrong_role":
            raise
        return _register_page(ctx, None, center_errors={"_form": forms.message_of(ctx, exc), **forms.errors_of(
            ctx, exc, ("building_id", "member_id"))}, center_values=values, status=exc.status)
    ctx.flash(_("Center household named."))
    return redirect(f"/desk/households?community_id={community_id}")


# --- 走访覆盖: coverage ----------------------------------------------------------------------------

def _coverage_scope(tx, scope: str | None, scope_id: int | None, unit: str | None) -> tuple[str, int, list[dict]]:
    """The community or street to show: the one asked for (``unit`` = ``community-5`` from the
    chooser, or ``scope`` and ``id``; its access is checked by the read), else the reader's own."""
    choices = coverage.scopes(tx.session, tx.actor)
    if unit and "-" in unit:
        kind, _sep, raw = unit.partition("-")
        scope, scope_id = kind, forms.number(raw)
    if scope in ("community", "street") and scope_id is not None:
        return scope, scope_id, choices
    if not choices:
        raise NotFound(_("There is no street or community to show yet."), code="unit_not_found")
    own = next((c for c in choices if c["kind"] == "community"), choices[0]) \
        if tx.actor.community_id is not None else choices[0]
    return own["kind"], own["id"], choices


def _coverage_page(ctx: WebCtx, period: str | None, scope: str | None, scope_id: int | None, unit: str | None):
    errors = {}
    with ctx.transaction(roles=COVERAGE_READERS) as tx:
        today = _today(ctx)
        current = periods.label_of(today, "month")
        if period:
            try:
                periods.parse(period)
                if period > current:
                    raise InvalidInput(_("Coverage is counted for months that have begun."), code="period_in_future")
            except InvalidInput as exc:
                errors["period"] = ctx.text(exc.message)
                period = None
        period = period or current
        kind, scope_id, choices = _coverage_scope(tx, scope, scope_id, unit)
        report = coverage.report(tx.session, tx.actor, kind, scope_id, period, today)
        missed = coverage.missed(tx.session, tx.actor, kind, scope_id, period, today, limit=100)
        tags = _tag_names(tx, ctx)
        for m in missed["households"]:
            m["tag_names"] = [tags.get(t, t) for t in m["tags"]]
            m["status_label"] = ctx.text(STATUS_LABELS[m["status"]])
        trend = []
        for back in range(TREND_MONTHS - 1, 0, -1):
            earlier = periods.shift(period, -back)
            trend.append((earlier, coverage.report(tx.session, tx.actor, kind, scope_id, earlier, today)["totals"]))
        trend.append((period, report["totals"]))
        context = {"report": report, "missed": missed, "period": period,
                   "period_label": charts.period_label(period, ctx.locale),
                   "previous": periods.shift(period, -1),
                   "next": periods.shift(period, 1) if period < current else None,
                   "chart": charts.coverage_chart(report["scope"]["name"], tuple(
                       (p, t["coverage"], t["visits"]) for p, t in trend), ctx.locale),
                   "trend": [{"period": p, "label": charts.period_label(p, ctx.locale), **t} for p, t in trend],
                   "choices": choices, "kind": kind, "scope_id": scope_id, "errors": errors,
                   "can_remind": tx.actor.role in ("staff", "secretary", "admin") and kind == "community",
                   "here": "/coverage?" + urlencode({"period": period, "scope": kind, "id": scope_id})}
    return page(ctx.request, "secretary/coverage.html", context, status=422 if errors else 200)


@router.get("/coverage")
def coverage_page(period: str | None = Query(None, max_length=20), scope: str | None = Query(None, max_length=16),
                  id: int | None = Query(None, ge=1, le=2**31 - 1), unit: str | None = Query(None, max_length=40),
                  ctx: WebCtx = Depends(get_web_ctx)):
    return _coverage_page(ctx, period, scope, id, unit)


@router.post("/coverage/reminders/{household_id}")
def remind(household_id: DbId, form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    back = forms.text(form, "back")
    back = back if back.startswith("/coverage") else "/coverage"
    try:
        with ctx.transaction(roles=("staff", "secretary", "admin")) as tx:
            sent = commands.remind(tx.session, tx.actor, household_id, timezone=ctx.settings.timezone)
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role" or exc.status == 403:
            raise
        ctx.flash(exc.message, "error")
        return redirect(back)
    ctx.flash(_("Reminder sent to {n} member(s).", n=len(sent)))
    return redirect(back)
