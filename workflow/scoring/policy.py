"""The scoring policy: every weight, limit and rule of DESIGN.md §5 in one versioned document.

A version applies to the periods named from the month of its ``effective_from`` date on, if that
date is the first of the month, else from the next month: a version effective 2026-10-01 (or
2026-09-15) governs period 2026-10 and later, until a newer version takes over. Versions are never
edited; each published run records the version that made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor, require_admin
from ..errors import InvalidInput, NotFound
from ..i18n import _
from ..models import HoursEntry, Outcome, PointEntry, ScoringPolicy, utcnow
from ..validation import clean_text
from ..visits.plan import EVERY_HOUSEHOLD, VisitPlan
from ..visits.repository import known_tags

Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=4)]
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=2)]

# Grade codes, best first. A policy uses some of them, in this order, with a quota for each.
GRADES = ("excellent", "good", "competent", "basic", "improve")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateWeights(_Strict):
    """The composite of the three rates (a district's published weights)."""

    response: Share = Decimal("0.10")
    resolution: Share = Decimal("0.50")
    satisfaction: Share = Decimal("0.40")

    @model_validator(mode="after")
    def _sum_to_one(self):
        if self.response + self.resolution + self.satisfaction != 1:
            raise ValueError("rate_weights must add up to 1")
        return self


class CollectionWeights(_Strict):
    """How much a community's (and a street's) planned collection weighs in its composite: the
    share of its households visited as the plan asks (覆盖率), and the share of its grids' round
    windows met (巡查). The rates' composite keeps the rest. 0 and 0 (the default, and so every
    version written before these existed) leaves the composite the three rates alone; the figures
    are stored and shown either way."""

    coverage: Share = Decimal("0")
    rounds: Share = Decimal("0")

    @model_validator(mode="after")
    def _below_one(self):
        if self.coverage + self.rounds >= 1:
            raise ValueError("collection weights must leave the three rates a share (add up to less than 1)")
        return self


class PointRules(_Strict):
    """Base, bonuses (positive) and deductions (negative) per ledger reason; floor 0, yearly reset."""

    base: StrictInt = Field(60, ge=0, le=1000)
    task_verified: StrictInt = Field(5, ge=0, le=100)
    visit_collected: StrictInt = Field(2, ge=0, le=100)
    # A member's visit of a household, with or without a finding: counted once per household and month.
    household_visit: StrictInt = Field(1, ge=0, le=100)
    resident_satisfied: StrictInt = Field(3, ge=0, le=100)
    released: StrictInt = Field(-2, ge=-100, le=0)
    sent_back: StrictInt = Field(-3, ge=-100, le=0)
    overdue: StrictInt = Field(-5, ge=-100, le=0)
    full_score: StrictInt = Field(100, ge=1, le=10000)  # the balance that earns a full points score


class QualityRules(_Strict):
    """A task's score: the resident's verdict and the staff appraisal (1-5 → 20-100), weighted; with
    no verdict on the task's round, the appraisal alone. A member's quality is the mean shrunk toward
    the community mean: (sum + strength·mean) / (tasks + strength)."""

    satisfied: Score = Decimal("100")
    basically_satisfied: Score = Decimal("80")
    unsatisfied: Score = Decimal("40")
    appraisal_weight: Share = Decimal("0.4")
    shrinkage_strength: Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=2)] = Decimal("3")
    prior_mean: Score = Decimal("80")  # the community mean where a community has no tasks yet


class AssessmentWeights(_Strict):
    """The member's composite out of 100. Quality must weigh at least as much as hours."""

    quality: Share = Decimal("0.5")
    hours: Share = Decimal("0.2")
    points: Share = Decimal("0.3")
    full_hours: Annotated[Decimal, Field(gt=0, le=1000, max_digits=6, decimal_places=1)] = Decimal("20")

    @model_validator(mode="after")
    def _check(self):
        if self.quality + self.hours + self.points != 1:
            raise ValueError("assessment weights must add up to 1")
        if self.quality < self.hours:
            raise ValueError("quality must weigh at least as much as hours")
        return self


class Gates(_Strict):
    min_verified_tasks: StrictInt = Field(3, ge=0, le=1000)
    no_red_supervision: StrictBool = True


class GradeQuota(_Strict):
    grade: Literal["excellent", "good", "competent", "basic", "improve"]
    share: Share


def _default_quotas() -> tuple[GradeQuota, ...]:
    shares = ("0.10", "0.30", "0.30", "0.20", "0.10")
    return tuple(GradeQuota(grade=g, share=Decimal(s)) for g, s in zip(GRADES, shares, strict=True))


class PeopleRules(_Strict):
    """The member register's rules: a member registered with a community who has claimed no task
    and recorded no visit for ``quiet_weeks`` weeks is listed for the secretary as gone quiet (隐身)."""

    quiet_weeks: StrictInt = Field(8, ge=1, le=104)


Count = Annotated[int, Field(ge=0, le=10000, strict=True)]
ActivityPoints = Annotated[int, Field(ge=0, le=100, strict=True)]


class PartyLifeRules(_Strict):
    """组织生活: the points one attendance earns, by the kind of activity, and the annual targets a
    member has unless a secretary set their own (hours of verified tasks, household visits,
    activities attended). The mid-year check compares the first half year with half of each target."""

    study_day: ActivityPoints = 2
    theme_day: ActivityPoints = 2
    volunteer_activity: ActivityPoints = 3
    care_visit: ActivityPoints = 3
    target_hours: Annotated[Decimal, Field(ge=0, le=10000, max_digits=6, decimal_places=1)] = Decimal("24")
    target_visits: Count = 12
    target_activities: Count = 12

    def points_for(self, kind: str) -> int:
        return getattr(self, kind)


class PolicyRules(_Strict):
    period_kind: Literal["month", "19th"] = "month"
    satisfaction_k: Share = Decimal("0.9")
    rate_weights: RateWeights = RateWeights()
    collection: CollectionWeights = CollectionWeights()
    points: PointRules = PointRules()
    quality: QualityRules = QualityRules()
    assessment: AssessmentWeights = AssessmentWeights()
    gates: Gates = Gates()
    grade_quotas: tuple[GradeQuota, ...] = Field(default_factory=_default_quotas, min_length=1, max_length=5)
    # The visit plan (workflow.visits.plan): how often each kind of household is due, and by whom.
    visits: VisitPlan = Field(default_factory=VisitPlan)
    people: PeopleRules = PeopleRules()
    party_life: PartyLifeRules = PartyLifeRules()

    @model_validator(mode="after")
    def _quotas(self):
        codes = [q.grade for q in self.grade_quotas]
        if codes != sorted(codes, key=GRADES.index) or len(set(codes)) != len(codes):
            raise ValueError("grade_quotas must name each grade once, best first")
        if sum(q.share for q in self.grade_quotas) != 1:
            raise ValueError("grade quota shares must add up to 1")
        return self

    def point_value(self, reason: str) -> int:
        return getattr(self.points, reason)


def parse_rules(raw: object) -> PolicyRules:
    """Validate a policy document; any problem is a 422 naming the fields at fault."""
    try:
        return PolicyRules.model_validate(raw)
    except ValidationError as exc:
        problems = [{"field": ".".join(str(p) for p in err["loc"]) or "rules", "problem": err["msg"]}
                    for err in exc.errors(include_url=False)]
        raise InvalidInput(_("The scoring policy is not valid: {problems}.",
                             problems="; ".join(f"{p['field']}: {p['problem']}" for p in problems)),
                           code="invalid_policy", details={"problems": problems}) from None


def applies_from(effective_from: date) -> str:
    """The first period label a version effective on ``effective_from`` governs."""
    year, month = effective_from.year, effective_from.month
    if effective_from.day != 1:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def in_force(session: Session, period: str) -> ScoringPolicy:
    """The version governing ``period`` (see :func:`governing`)."""
    return governing(versions(session), period)


def governing(policies: Sequence[ScoringPolicy], period: str) -> ScoringPolicy:
    """Of the versions whose first governed period is not after ``period``, the one that starts
    latest; of two starting in the same period, the newer version."""
    candidates = [(applies_from(p.effective_from), p.version, p) for p in policies]
    found = max((c for c in candidates if c[0] <= period), default=None, key=lambda c: c[:2])
    if found is None:
        raise NotFound(_("No scoring policy applies to period {period}.", period=period), code="no_policy")
    return found[2]


def by_version(session: Session, version: int) -> ScoringPolicy:
    row = session.scalar(select(ScoringPolicy).where(ScoringPolicy.version == version))
    if row is None:
        raise NotFound(_("Scoring policy version {version} does not exist.", version=version),
                       code="policy_not_found")
    return row


def rules_of(policy: ScoringPolicy) -> PolicyRules:
    return PolicyRules.model_validate(policy.rules)


DEFAULT_RULES = PolicyRules()


def _has_facts(session: Session) -> bool:
    return any(session.scalar(select(model.id).limit(1)) is not None for model in (Outcome, HoursEntry, PointEntry))


def versions(session: Session) -> list[ScoringPolicy]:
    """Every version, oldest first, in one query (there are few), without flushing the caller's
    pending rows."""
    with session.no_autoflush:
        return list(session.scalars(select(ScoringPolicy).order_by(ScoringPolicy.version)))


def create_version(session: Session, actor: Actor, effective_from: object, rules: object, note: object = "", *,
                   now: datetime | None = None) -> ScoringPolicy:
    """An admin adds a version. Versions are never edited; periods already published keep theirs."""
    now = now or utcnow()
    require_admin(actor)
    if isinstance(effective_from, str):
        try:
            effective_from = date.fromisoformat(effective_from)
        except ValueError:
            effective_from = None
    if not isinstance(effective_from, date):
        raise InvalidInput(_("effective_from must be a date, YYYY-MM-DD."), code="invalid_date",
                           details={"field": "effective_from"})
    parsed = parse_rules(rules)
    unknown = sorted({r.tag for r in parsed.visits.rules if r.tag != EVERY_HOUSEHOLD} - known_tags(session))
    if unknown:
        raise InvalidInput(_("The scoring policy is not valid: {problems}.",
                             problems=f"visits.rules: unknown household tag {', '.join(unknown)}"),
                           code="invalid_policy", details={"problems": [
                               {"field": "visits.rules", "problem": f"unknown household tag {t}"} for t in unknown]})
    first = applies_from(effective_from)
    # The kinds it would sit between: the version in force at its first period, and any version
    # governing from a later one.
    neighbours = {rules_of(v).period_kind for v in versions(session) if applies_from(v.effective_from) > first}
    if any(applies_from(v.effective_from) <= first for v in versions(session)):
        neighbours.add(rules_of(in_force(session, first)).period_kind)
    if neighbours - {parsed.period_kind} and _has_facts(session):
        # Month and 19th-to-18th periods overlap: switching would count some days twice and others never.
        raise InvalidInput(_("The period kind cannot change once requests have been scored: the periods would "
                             "overlap or leave days out."), code="period_kind_locked",
                           details={"field": "rules.period_kind"})
    text = clean_text(note, "note", code="", message=None, limit=500, required=False)
    # Lock the newest version so that two admins adding one at once number them one after the other.
    newest = session.scalar(select(ScoringPolicy).order_by(ScoringPolicy.version.desc()).limit(1).with_for_update())
    latest = newest.version if newest else 0
    policy = ScoringPolicy(version=latest + 1, effective_from=effective_from, rules=parsed.model_dump(mode="json"),
                           note=text, created_by=actor.account_id, created_at=now)
    session.add(policy)
    session.flush()
    audit.record(session, actor, "policy.create", f"scoring_policy:{policy.version}", now,
                 {"version": policy.version, "effective_from": effective_from.isoformat(),
                  "applies_from_period": applies_from(effective_from), "note": text})
    return policy
