"""Administration: the category taxonomy, routing rules and their dry run, the working-day calendar,
Open311 clients and their keys."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response

from workflow import privacy
from workflow.commands import accounts, calendar, clients, rules, taxonomy
from workflow.models import LoginOutcome
from workflow.repository import places

from .. import admin_schemas as a
from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["administration"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})
WRITE_ERRORS = {404: {"model": s.ErrorOut}, 409: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}}


# --- taxonomy ------------------------------------------------------------------------------------

@router.get("/admin/categories", response_model=list[a.CategoryAdminOut])
def list_categories(ctx: Ctx = Depends(get_auth_ctx)):
    """Every category, retired ones included, top levels first, each with its parent, classes,
    default route, whether it is active, and how many requests were filed under it. Admins only."""
    with ctx.transaction() as tx:
        return [a.category_admin_out(c, parent, n) for c, parent, n in taxonomy.catalogue(tx.session, tx.actor)]


@router.post("/admin/categories", status_code=201, response_model=a.CategoryAdminOut, responses=WRITE_ERRORS)
def create_category(body: a.CategoryIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Add a top-level category (no `parent`) or a subcategory under a top level. Requests are filed
    under subcategories. The deadline class defaults from the urgency. Admins only."""
    with ctx.transaction() as tx:
        category = taxonomy.create_category(tx.session, tx.actor, body.model_dump(exclude_unset=True))
        return a.category_admin_out(*taxonomy.describe(tx.session, category))


@router.patch("/admin/categories/{code}", response_model=a.CategoryAdminOut, responses=WRITE_ERRORS)
def update_category(code: a.CategoryCode, body: a.CategoryPatch, ctx: Ctx = Depends(get_auth_ctx)):
    """Change a category's names, urgency, deadline class, default route, order or attributes (the
    extra questions its reports answer; the list given replaces the old one, and answers already
    stored stay with their requests). `active: false`
    retires it (a top level with its subcategories): new requests can no longer use it, while old
    ones keep showing it. `active: true` reinstates it. Changes apply to requests from now on.
    Admins only."""
    with ctx.transaction() as tx:
        category = taxonomy.update_category(tx.session, tx.actor, code, body.model_dump(exclude_unset=True))
        return a.category_admin_out(*taxonomy.describe(tx.session, category))


@router.delete("/admin/categories/{code}", status_code=204, responses=WRITE_ERRORS)
def delete_category(code: a.CategoryCode, ctx: Ctx = Depends(get_auth_ctx)):
    """Delete a category that no request, subcategory or routing rule uses. One in use answers 409
    `category_in_use`: retire it instead. Admins only."""
    with ctx.transaction() as tx:
        taxonomy.delete_category(tx.session, tx.actor, code)
    return Response(status_code=204)


# --- routing rules -------------------------------------------------------------------------------

@router.get("/admin/rules", response_model=list[a.RuleOut])
def list_rules(ctx: Ctx = Depends(get_auth_ctx)):
    """The routing rules in the order they are tried. A new request goes to the target of the first
    enabled rule whose every condition holds (an empty condition holds for anything); with none, to
    its category's default route. A second reopen always goes to the street office. Admins only."""
    with ctx.transaction() as tx:
        taxonomy.require_admin(tx.actor)
        return [a.rule_out(r) for r in places.rules(tx.session)]


@router.post("/admin/rules", status_code=201, response_model=a.RuleOut, responses=WRITE_ERRORS)
def create_rule(body: a.RuleIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Add a routing rule. Each condition is a list of category codes, urgencies, channels, or street,
    community, grid or building ids; anything unknown is refused with its own code (`unknown_category`,
    `unknown_community`, `invalid_condition`, `duplicate_position`, ...). Admins only."""
    with ctx.transaction() as tx:
        return a.rule_out(rules.create_rule(tx.session, tx.actor, body.model_dump(exclude_unset=True)))


@router.patch("/admin/rules/{rule_id}", response_model=a.RuleOut, responses=WRITE_ERRORS)
def update_rule(rule_id: a.RuleId, body: a.RulePatch, ctx: Ctx = Depends(get_auth_ctx)):
    """Change any field of a routing rule, with the same checks as when adding one; `enabled: false`
    keeps the rule but passes over it. Admins only."""
    with ctx.transaction() as tx:
        return a.rule_out(rules.update_rule(tx.session, tx.actor, rule_id, body.model_dump(exclude_unset=True)))


@router.delete("/admin/rules/{rule_id}", status_code=204, responses=WRITE_ERRORS)
def delete_rule(rule_id: a.RuleId, ctx: Ctx = Depends(get_auth_ctx)):
    """Delete a routing rule. Requests it already routed keep its name and id in their events. Admins only."""
    with ctx.transaction() as tx:
        rules.delete_rule(tx.session, tx.actor, rule_id)
    return Response(status_code=204)


@router.post("/admin/rules/reorder", response_model=list[a.RuleOut], responses=WRITE_ERRORS)
def reorder_rules(body: a.ReorderIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Set the order the rules are tried in: `ids` lists every rule id exactly once (else 422
    `not_a_permutation`); they get positions 1, 2, 3, ... Admins only."""
    with ctx.transaction() as tx:
        return [a.rule_out(r) for r in rules.reorder_rules(tx.session, tx.actor, body.ids)]


@router.post("/admin/rules/dry-run", response_model=a.DryRunOut, responses={422: {"model": s.ErrorOut}})
def dry_run(body: a.DryRunIn, ctx: Ctx = Depends(get_auth_ctx)):
    """Where would a new request with this category, channel and place go, and which rule sends it
    there? Answers the target, the trigger the router would fire, and the deciding rule's name and id
    (`category_default:<code>` and null when no rule matches). Writes nothing. Admins, staff, street
    officers and secretaries."""
    with ctx.transaction() as tx:
        return a.dry_run_out(rules.dry_run(tx.session, tx.actor, **body.model_dump()))


# --- calendar ------------------------------------------------------------------------------------

@router.get("/admin/calendar", response_model=list[a.CalendarDayOut], responses={422: {"model": s.ErrorOut}})
def list_calendar(year: int = Query(description="e.g. 2026."), ctx: Ctx = Depends(get_auth_ctx)):
    """The exceptions listed for a year: weekdays off (`holiday`) and weekend days worked (`workday`).
    Every other day follows the rule that Monday to Friday are working days. Admins only."""
    with ctx.transaction() as tx:
        return [a.calendar_day_out(d) for d in calendar.listed(tx.session, tx.actor, year)]


@router.put("/admin/calendar/{day}", response_model=a.CalendarDayOut, responses={422: {"model": s.ErrorOut}})
def set_calendar_day(day: date, body: a.CalendarDayIn, ctx: Ctx = Depends(get_auth_ctx)):
    """List a day (YYYY-MM-DD) as a holiday, which must be a weekday (else 422 `not_a_weekday`), or as a
    make-up working day, which must fall on a weekend (else 422 `not_a_weekend`). Replaces what was
    listed for that day. Deadlines computed from now on follow it; those already set stay. Admins only."""
    with ctx.transaction() as tx:
        return a.calendar_day_out(calendar.set_day(tx.session, tx.actor, day, body.kind, body.name))


@router.delete("/admin/calendar/{day}", status_code=204, responses={404: {"model": s.ErrorOut}})
def delete_calendar_day(day: date, ctx: Ctx = Depends(get_auth_ctx)):
    """Take a day off the list, so that it follows the weekday rule again (404 if it is not listed).
    Admins only."""
    with ctx.transaction() as tx:
        calendar.remove_day(tx.session, tx.actor, day)
    return Response(status_code=204)


# --- Open311 clients -----------------------------------------------------------------------------

@router.get("/admin/logins", response_model=list[a.LoginAttemptOut])
def login_log(username: str | None = Query(None, max_length=100), address: str | None = Query(None, max_length=64),
              outcome: LoginOutcome | None = None, limit: int = Query(100, ge=1, le=500),
              offset: int = Query(0, ge=0, le=s.MAX_ID),
              ctx: Ctx = Depends(get_auth_ctx)):
    """The log of logins, newest first: every attempt through the API or the login form, with the
    name given, the client address, and whether it succeeded, was refused or was throttled (429).
    Admins only."""
    with ctx.transaction(read_only=True) as tx:
        return [a.login_attempt_out(row) for row in accounts.login_log(
            tx.session, tx.actor, username=username, address=address, outcome=outcome, limit=limit, offset=offset)]


@router.get("/admin/personal-data-reads", response_model=list[a.PersonalDataReadOut])
def personal_data_reads(request_id: int | None = Query(None, ge=1, le=s.MAX_ID),
                        account_id: int | None = Query(None, ge=1, le=s.MAX_ID),
                        limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=s.MAX_ID),
                        ctx: Ctx = Depends(get_auth_ctx)):
    """The log of every look at residents' unmasked personal data, newest first: who was shown a
    request's contact or exact address, when, which fields, through the API or the pages. Filter
    by request or by reader. Admins only."""
    with ctx.transaction(read_only=True) as tx:
        return [a.personal_data_read_out(row) for row in privacy.reads(
            tx.session, tx.actor, request_id=request_id, account_id=account_id, limit=limit, offset=offset)]


@router.get("/admin/open311-clients", response_model=list[a.Open311ClientOut])
def list_open311_clients(ctx: Ctx = Depends(get_auth_ctx)):
    """Every Open311 client, revoked ones too, oldest first, with its key's first characters (never
    the key), when the key was last used and how many requests the client has filed. Admins only."""
    with ctx.transaction() as tx:
        return [a.open311_client_out(c, n) for c, n in clients.catalogue(tx.session, tx.actor)]


@router.post("/admin/open311-clients", status_code=201, response_model=a.Open311ClientIssuedOut,
             responses=WRITE_ERRORS)
def issue_open311_client(body: a.Open311ClientIn, response: Response, ctx: Ctx = Depends(get_auth_ctx)):
    """Issue a key to a new Open311 client (a city app, a hotline). The answer carries `api_key`: it
    is shown only now, so hand it over at once; only its SHA-256 is stored. A name already taken
    answers 409 `client_exists`. Admins only."""
    with ctx.transaction() as tx:
        client, key = clients.issue(tx.session, tx.actor, body.name)
        out = a.open311_client_issued_out(client, key)
    response.headers["Cache-Control"] = "no-store"
    return out


@router.delete("/admin/open311-clients/{client_id}", response_model=a.Open311ClientOut, responses=WRITE_ERRORS)
def revoke_open311_client(client_id: a.ClientId, ctx: Ctx = Depends(get_auth_ctx)):
    """Revoke a client's key: from now on it gets 403 `api_key_revoked`, while the requests it filed
    stay. Answers the client's row with `revoked_at` set (404 `client_not_found`, 409 `client_revoked`
    when already revoked). Admins only."""
    with ctx.transaction() as tx:
        client = clients.revoke(tx.session, tx.actor, client_id)
        return a.open311_client_out(client, clients.requests_filed(tx.session, client))
