"""双报告: the report back to a member's home unit (单位) for one period.

For each of the unit's members and each community they were registered with in the period: the
registration, verified tasks, hours, quality, points, composite, community rank and grade. Figures
come from each community's publication where there is one, else from the period's draft, in which
case the report says it is provisional. Secretaries see the rows of their own community or street.
"""

from __future__ import annotations

from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access import Actor
from ..errors import Forbidden, NotFound
from ..exports import UnitReport, UnitReportRow
from ..i18n import _
from ..models import Account, Community, Member, MemberScore, ScopeKind, Street, Unit, utcnow
from ..settings import Settings
from . import engine, periods, runs
from .views import GRADE_LABELS, gate_message, registration_facts, run_for, scope_of

ACTIVE, ENDED = _("Active"), _("Ended")


def build(session: Session, settings: Settings, actor: Actor, unit_id: int, period: str) -> UnitReport:
    periods.parse(period)
    scope = scope_of(actor)
    if scope.kind == "member":
        raise Forbidden(_("Reports to home units are for secretaries and administrators."),
                             code="role_not_allowed")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(_("Home unit {id} does not exist.", id=unit_id), code="unit_not_found")
    draft = runs.effective(session, settings, period, ScopeKind.city, 0)
    where = [MemberScore.unit_id == unit_id]
    if scope.kind == "community":
        where.append(MemberScore.community_id == scope.id)
    elif scope.kind == "street":
        where.append(MemberScore.street_id == scope.id)
    communities = set(session.scalars(select(MemberScore.community_id).where(MemberScore.run_id == draft.id, *where)))
    # Each community's figures come from its publication, else its street's, else the draft.
    run_of = {c: run_for(session, settings, period, session.get(Community, c).street_id, c) for c in communities}
    rows: list[UnitReportRow] = []
    ranked_counts: dict[int, int] = defaultdict(int)
    for community_id, run in run_of.items():
        ranked_counts[community_id] = session.scalar(
            select(func.count()).select_from(MemberScore).where(
                MemberScore.run_id == run.id, MemberScore.community_id == community_id,
                MemberScore.kind == "party", MemberScore.community_rank.is_not(None))) or 0  # "of N members"
    for community_id, run in sorted(run_of.items()):
        stmt = (select(MemberScore, Account.display_name, Community.name, Street.name)
                .join(Member, Member.id == MemberScore.member_id).join(Account, Account.id == Member.account_id)
                .join(Community, Community.id == MemberScore.community_id)
                .join(Street, Street.id == Community.street_id)
                .where(MemberScore.run_id == run.id, MemberScore.community_id == community_id,
                       MemberScore.unit_id == unit_id))
        for score, name, community_name, street_name in session.execute(stmt):
            registered_at, active = registration_facts(session, score.member_id, community_id,
                                                       engine.Marks.load(run.marks).instant)
            rows.append(UnitReportRow(
                member_name=name, community=community_name, street=street_name,
                registered_on=periods.local_date(registered_at, settings.timezone),
                registration_status=ACTIVE if active else ENDED, tasks=score.tasks, hours=score.hours,
                quality=score.quality, points=score.points, composite=score.composite,
                rank=score.community_rank, ranked_of=ranked_counts[community_id],
                grade=GRADE_LABELS[score.community_grade] if score.community_grade else None,
                notes=tuple(gate_message(g) for g in score.gate_failures)))
    rows.sort(key=lambda r: (r.community, r.rank is None, r.rank or 0, r.member_name))
    chosen = list(run_of.values()) or [draft]
    return UnitReport(
        unit_name=unit.name, period=period, period_start=chosen[0].period_start, period_end=chosen[0].period_end,
        policy_version=max(r.policy_version for r in chosen),
        published=bool(run_of) and all(r.status.value == "published" for r in run_of.values()),
        generated_at=utcnow().astimezone(ZoneInfo(settings.timezone)), rows=tuple(rows))


def as_json(report: UnitReport, locale: str) -> dict:
    return {
        "unit": report.unit_name, "period": report.period, "period_start": report.period_start.isoformat(),
        "period_end": report.period_end.isoformat(), "policy_version": report.policy_version,
        "published": report.published, "generated_at": report.generated_at.isoformat(),
        "members": [{
            "name": r.member_name, "community": r.community, "street": r.street,
            "registered_on": r.registered_on.isoformat(), "registration": r.registration_status.render(locale),
            "tasks": r.tasks, "hours": float(r.hours), "quality": None if r.quality is None else float(r.quality),
            "points": r.points, "composite": float(r.composite), "rank": r.rank, "ranked_of": r.ranked_of,
            "grade": r.grade.render(locale) if r.grade else None, "notes": [n.render(locale) for n in r.notes],
        } for r in report.rows],
    }
