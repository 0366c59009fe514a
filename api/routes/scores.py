"""评: the three rates, member assessments, rankings, publishing, the reports to home units, and the
versioned scoring policy. Every read is scoped in workflow/scoring/views.py."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from workflow import audit
from workflow.access import require_admin, require_claimer
from workflow.exports import PDF, XLSX, unit_report_file
from workflow.models import ScopeKind
from workflow.scoring import policy as policies
from workflow.scoring import runs, unit_report, views

from .. import schemas as s
from .. import score_schemas as o
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["scores"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut},
                                               404: {"model": s.ErrorOut}, 422: {"model": s.ErrorOut}})
Period = Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The period, YYYY-MM (named by the month it ends in).",
              examples=["2026-10"])
UnitKindPath = Literal["street", "community", "grid", "member"]


@router.get("/scores/{period}/units/{unit_kind}/{unit_id}")
def unit_rates(unit_kind: UnitKindPath, unit_id: s.DbId, period: str = Period,
               ctx: Ctx = Depends(get_auth_ctx)) -> o.UnitRatesOut:
    """Response, resolution and satisfaction rates and their composite for one street, community,
    grid or member in a period, from the unit's publication if there is one, else the draft."""
    with ctx.transaction() as tx:
        return views.unit_rates(tx.session, ctx.settings, tx.actor, unit_kind, unit_id, period)


@router.get("/scores/trend/{unit_kind}/{unit_id}")
def trend(unit_kind: UnitKindPath, unit_id: s.DbId,
          end: str = Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The last period, YYYY-MM."),
          periods: int = Query(runs.TREND, ge=1, le=24, description="How many periods, the last one included."),
          ctx: Ctx = Depends(get_auth_ctx)) -> o.TrendOut:
    """The rates of the last ``periods`` periods up to ``end``, oldest first, for a chart."""
    with ctx.transaction() as tx:
        return views.trend(tx.session, ctx.settings, tx.actor, unit_kind, unit_id, end, periods)


@router.get("/scores/{period}/rankings/{scope_kind}/{scope_id}")
def ranking(scope_kind: Literal["community", "street"], scope_id: s.DbId, period: str = Period,
            members: Literal["party", "volunteer"] = Query("party", description="Party members or volunteers: "
                                                                                "they are ranked apart."),
            ctx: Ctx = Depends(get_auth_ctx)) -> o.RankingOut:
    """评先推优: the ranked members with grades and the quotas, and the members not ranked with the
    gate that kept each out. Volunteers have a ranking of their own (``members=volunteer``)."""
    with ctx.transaction() as tx:
        return views.ranking(tx.session, ctx.settings, tx.actor, scope_kind, scope_id, period, ctx.locale,
                             members)


@router.get("/scores/{period}/members/{member_id}")
def member_breakdown(member_id: s.DbId, period: str = Period,
                     community_id: s.DbId | None = Query(None, description="Only this community's record."),
                     ctx: Ctx = Depends(get_auth_ctx)) -> o.BreakdownOut:
    """Why this rank: a member's composite opened into its parts, the tasks with their verdicts and
    appraisals, the points ledger, the gates, and what separated them from the member ranked above."""
    with ctx.transaction() as tx:
        return views.member_breakdown(tx.session, ctx.settings, tx.actor, member_id, period, ctx.locale,
                                      community_id)


@router.get("/members/me/scores/{period}")
def my_breakdown(period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> o.BreakdownOut:
    """The calling member's (or volunteer's) own breakdown ("my record")."""
    with ctx.transaction() as tx:
        member_id = require_claimer(tx.actor)
        return views.member_breakdown(tx.session, ctx.settings, tx.actor, member_id, period, ctx.locale)


# --- publishing ----------------------------------------------------------------------------------

class PublicationIn(BaseModel):
    scope_kind: Literal["community", "street"]
    scope_id: int = Field(ge=1, le=2**31 - 1)
    republish: bool = Field(False, description="Replace an existing publication (needs a reason).")
    reason: str = Field("", max_length=2000, description="Why; required when republishing.")


def _publication_out(run) -> dict[str, Any]:
    return {"run_id": run.id, "scope_kind": run.scope_kind.value, "scope_id": run.scope_id,
            "reason": run.reason, "published_by": run.published_by, **views.run_meta(run)}


@router.post("/scores/{period}/publications", status_code=201, responses={409: {"model": s.ErrorOut}})
def publish(body: PublicationIn, period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> o.PublicationOut:
    """Freeze a community's or street's scores for an ended period, with the policy version in force.
    Publishing again is refused (409 ``already_published``) unless ``republish`` is true and a reason
    is given; the earlier revision is kept as superseded and the change is written to the audit log."""
    with ctx.transaction() as tx:
        run = runs.publish(tx.session, ctx.settings, tx.actor, period, ScopeKind(body.scope_kind), body.scope_id,
                           republish=body.republish, reason=body.reason)
        return _publication_out(run)


@router.get("/scores/{period}/publications/{scope_kind}/{scope_id}")
def publications(scope_kind: Literal["community", "street"], scope_id: s.DbId, period: str = Period,
                 ctx: Ctx = Depends(get_auth_ctx)) -> list[o.PublicationOut]:
    """Every revision published for a scope and period, the superseded ones included."""
    with ctx.transaction() as tx:
        views.ranking_access(tx.session, tx.actor, scope_kind, scope_id)
        return [_publication_out(r) for r in runs.publications(tx.session, period, ScopeKind(scope_kind), scope_id)]


@router.post("/admin/scores/{period}/recompute")
def recompute(period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> o.RecomputeOut:
    """Recompute the period's draft for every unit now (the scheduler does it periodically). Written
    to the audit log (`scores.recompute`)."""
    with ctx.transaction() as tx:
        require_admin(tx.actor)
        run = runs.recompute(tx.session, ctx.settings, period, actor=tx.actor)
        return {**views.run_meta(run), **runs.row_counts(tx.session, run)}


# --- 双报告 ------------------------------------------------------------------------------------------

@router.get("/reports/units/{unit_id}/{period}")
def unit_report_json(unit_id: s.DbId, period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> o.UnitReportOut:
    """The report back to a home unit: each member's registration, tasks, hours, quality, points,
    composite, rank and grade. Secretaries get the rows of their own community or street."""
    with ctx.transaction() as tx:
        return unit_report.as_json(unit_report.build(tx.session, ctx.settings, tx.actor, unit_id, period),
                                   ctx.locale)


def _download(ctx: Ctx, unit_id: int, period: str, kind: str) -> Response:
    with ctx.transaction() as tx:
        report = unit_report.build(tx.session, ctx.settings, tx.actor, unit_id, period)
    body, media_type, name = unit_report_file(report, kind, ctx.locale, ctx.settings.pdf_font)
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/units/{unit_id}/{period}/xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}})
def unit_report_excel(unit_id: s.DbId, period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> Response:
    """The same report as an Excel workbook."""
    return _download(ctx, unit_id, period, "xlsx")


@router.get("/reports/units/{unit_id}/{period}/pdf", response_class=Response,
            responses={200: {"content": {PDF: {}}}, 503: {"model": s.ErrorOut}})
def unit_report_document(unit_id: s.DbId, period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> Response:
    """The same report as a PDF, in a font that renders Chinese (SHOUBANPING_PDF_FONT)."""
    return _download(ctx, unit_id, period, "pdf")


# --- the scoring policy ----------------------------------------------------------------------------

class PolicyIn(BaseModel):
    effective_from: date = Field(description="Governs the periods from this date's month on (the next month "
                                             "when it is not the 1st).")
    rules: dict[str, Any] = Field(description="The policy document; omitted fields take the defaults.")
    note: str = Field("", max_length=2000)


def _policy_out(policy) -> dict[str, Any]:
    return {"version": policy.version, "effective_from": policy.effective_from.isoformat(),
            "applies_from_period": policies.applies_from(policy.effective_from), "rules": policy.rules,
            "note": policy.note, "created_by": policy.created_by, "created_at": policy.created_at.isoformat()}


@router.get("/admin/scoring-policies")
def list_policies(ctx: Ctx = Depends(get_auth_ctx)) -> list[o.PolicyOut]:
    """Every version of the scoring policy, oldest first."""
    with ctx.transaction() as tx:
        require_admin(tx.actor)
        return [_policy_out(p) for p in policies.versions(tx.session)]


@router.post("/admin/scoring-policies", status_code=201)
def create_policy(body: PolicyIn, ctx: Ctx = Depends(get_auth_ctx)) -> o.PolicyOut:
    """Add a version: weights, k, period kind, points rules, shrinkage strength, gates and grade
    quotas. Quality must weigh at least as much as hours; weights and quotas must add up to 1."""
    with ctx.transaction() as tx:
        return _policy_out(policies.create_version(tx.session, tx.actor, body.effective_from, body.rules, body.note))


@router.get("/admin/scoring-policies/{version}")
def get_policy(version: s.DbId, ctx: Ctx = Depends(get_auth_ctx)) -> o.PolicyOut:
    with ctx.transaction() as tx:
        require_admin(tx.actor)
        return _policy_out(policies.by_version(tx.session, version))


@router.get("/scoring-policy/{period}")
def policy_in_force(period: str = Period, ctx: Ctx = Depends(get_auth_ctx)) -> o.PolicyOut:
    """The version that governs a period, for anyone who reads scores."""
    with ctx.transaction() as tx:
        views.scope_of(tx.actor)
        return _policy_out(policies.in_force(tx.session, period))


@router.get("/admin/audit")
def audit_log(action: str | None = Query(None, max_length=48, description="Only actions starting with this."),
              limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=s.MAX_ID),
              ctx: Ctx = Depends(get_auth_ctx)) -> list[o.AuditOut]:
    """Every change of policy-like configuration, newest first: scoring policies (`policy.`), score
    recomputes, publications and republications (`scores.`), categories and their deadline classes
    (`category.`), routing rules and their order (`rule.`), the working-day calendar (`calendar.`),
    departments (`department.`), webhooks (`webhook.`), accounts (`account.`), members'
    registrations (`registration.`), claim limits (`member.`), responsibility zones (`zone.`) and
    Open311 client keys (`open311_client.`). Each entry names who (`actor_id`, `actor_role`), when
    (`at`), what (`action`, `target`) and, in `details`, the values `before` and `after` that changed
    (never a secret or key). Entries are never edited or deleted."""
    with ctx.transaction() as tx:
        require_admin(tx.actor)
        return [{"id": e.id, "at": e.at.isoformat(), "actor_id": e.actor_id, "actor_role": e.actor_role,
                 "action": e.action, "target": e.target, "details": e.details}
                for e in audit.entries(tx.session, action_prefix=action, limit=limit, offset=offset)]
