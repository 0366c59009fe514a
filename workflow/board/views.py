"""The public board's figures (see the package's docstring)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import privacy
from ..deliberation import views as deliberation
from ..errors import NotFound
from ..i18n import _
from ..identity import views as identity
from ..models import (
    Category,
    Community,
    MemberScore,
    Request,
    RunStatus,
    ScopeKind,
    ScoreRun,
    Status,
    Street,
    UnitKind,
    UnitScore,
)
from ..scoring import periods
from ..scoring.views import GRADE_LABELS
from ..visits import coverage

EXAMPLES = 5
RANKED = 10


def _scope(session: Session, scope_kind: str, code: str) -> tuple[str, int, str, list[int], int]:
    """(kind, id, name, community ids, street id) of the community or street with that code."""
    if scope_kind == "community":
        community = session.scalar(select(Community).where(Community.code == code))
        if community is not None:
            return "community", community.id, community.name, [community.id], community.street_id
    elif scope_kind == "street":
        street = session.scalar(select(Street).where(Street.code == code))
        if street is not None:
            ids = list(session.scalars(select(Community.id).where(Community.street_id == street.id)
                                       .order_by(Community.id)))
            return "street", street.id, street.name, ids, street.id
    raise NotFound(_("There is no community or street with the code {code}.", code=code), code="board_not_found")


def _publication(session: Session, kind: str, scope_id: int, street_id: int, period: str | None) -> ScoreRun | None:
    """The latest publication covering the scope (or the one of ``period``): its own, else its street's."""
    scopes = [(ScopeKind(kind), scope_id)] + ([(ScopeKind.street, street_id)] if kind == "community" else [])
    found = None
    for scope_kind, sid in scopes:
        stmt = select(ScoreRun).where(ScoreRun.status == RunStatus.published, ScoreRun.scope_kind == scope_kind,
                                      ScoreRun.scope_id == sid)
        if period is not None:
            stmt = stmt.where(ScoreRun.period == period)
        run = session.scalar(stmt.order_by(ScoreRun.period.desc()).limit(1))
        if run is not None and (found is None or run.period > found.period):
            found = run
    return found


def _num(value) -> float | None:
    return float(value) if value is not None else None


def board(session: Session, scope_kind: str, code: str, today: date, locale: str, *, period: str | None = None,
          timezone: str = "Asia/Shanghai") -> dict[str, Any]:
    kind, scope_id, name, community_ids, street_id = _scope(session, scope_kind, code)
    if period is not None:
        periods.parse(period)
    run = _publication(session, kind, scope_id, street_id, period)
    if period is not None and run is None:
        raise NotFound(_("The figures of {period} have not been published.", period=period), code="not_published")
    out: dict[str, Any] = {"scope": {"kind": kind, "id": scope_id, "code": code, "name": name},
                           "period": run.period if run else None,
                           "published_at": run.published_at if run else None,
                           "rates": None, "ranking": [], "categories": [], "examples": []}
    if run is not None:
        unit = session.scalar(select(UnitScore).where(
            UnitScore.run_id == run.id, UnitScore.unit_kind == (UnitKind.community if kind == "community"
                                                                else UnitKind.street),
            UnitScore.unit_id == scope_id))
        if unit is not None:
            out["rates"] = {"received": unit.received, "response_rate": _num(unit.response_rate),
                            "resolution_rate": _num(unit.resolution_rate),
                            "satisfaction_rate": _num(unit.satisfaction_rate), "composite": _num(unit.composite)}
        out["ranking"] = _ranking(session, run, kind, scope_id, locale)
        start, end = run.period_start, run.period_end
        out["categories"] = _categories(session, community_ids, start, end, timezone, locale)
        out["examples"] = _examples(session, community_ids, start, end, timezone, locale)
    out["decisions"] = deliberation.public_decisions(session, community_ids)  # 议事: what residents decided
    month = periods.label_of(today, "month")
    figures, as_of = coverage.totals(session, community_ids, month, today)
    out["coverage"] = {"period": month, "as_of": as_of, **figures.as_dict()}
    return out


def _ranking(session: Session, run: ScoreRun, kind: str, scope_id: int, locale: str) -> list[dict[str, Any]]:
    if kind == "community":
        rank, grade = MemberScore.community_rank, MemberScore.community_grade
        where = [MemberScore.community_id == scope_id]
    else:
        rank, grade = MemberScore.street_rank, MemberScore.street_grade
        where = [MemberScore.street_id == scope_id]
    # The party members' ranking: volunteers are ranked apart, and shown as such on no board yet.
    rows = session.execute(select(MemberScore.member_id, rank, grade).where(
        MemberScore.run_id == run.id, MemberScore.kind == "party", rank.is_not(None), *where)
        .order_by(rank, MemberScore.member_id).limit(RANKED)).all()
    shown = identity.shown_members(session, [r[0] for r in rows], locale)
    seen: set[int] = set()
    out = []
    for member_id, position, grade_code in rows:
        if member_id in seen:  # a member of two communities of a street stands once
            continue
        seen.add(member_id)
        out.append({"rank": position, "grade": grade_code,
                    "grade_label": GRADE_LABELS[grade_code].render(locale) if grade_code in GRADE_LABELS else "",
                    **shown[member_id]})
    return out


def _window(start: date, end: date, timezone: str):
    return periods.utc_range(start, end, timezone)


def _categories(session: Session, community_ids: list[int], start: date, end: date, timezone: str,
                locale: str) -> list[dict[str, Any]]:
    if not community_ids:
        return []
    since, until = _window(start, end, timezone)
    parent = select(Category.id, Category.parent_id).subquery()
    rows = session.execute(
        select(parent.c.parent_id, func.count()).select_from(Request)
        .join(parent, parent.c.id == Request.category_id)
        .where(Request.community_id.in_(community_ids), Request.submitted_at >= since, Request.submitted_at < until)
        .group_by(parent.c.parent_id)).all()
    names = {c.id: c.name_in(locale) for c in session.scalars(select(Category).where(
        Category.id.in_([r[0] for r in rows if r[0] is not None])))} if rows else {}
    return sorted(({"category": names.get(pid, ""), "requests": n} for pid, n in rows if pid is not None),
                  key=lambda r: (-r["requests"], r["category"]))


def _examples(session: Session, community_ids: list[int], start: date, end: date, timezone: str,
              locale: str) -> list[dict[str, Any]]:
    if not community_ids:
        return []
    since, until = _window(start, end, timezone)
    rows = session.scalars(
        select(Request).where(Request.community_id.in_(community_ids), Request.status == Status.closed,
                              Request.closed_at >= since, Request.closed_at < until, Request.result != "")
        .order_by(Request.closed_at.desc(), Request.id.desc()).limit(EXAMPLES)).all()
    privacy.keep_places(session, rows)
    out = []
    for r in rows:
        category = session.get(Category, r.category_id)
        out.append({"category": category.name_in(locale) if category else "",
                    "place": privacy.building_level(session, r),
                    "description": privacy.scrub(r.description), "result": privacy.scrub(r.result),
                    "closed_on": periods.local_date(r.closed_at, timezone)})
    return out
