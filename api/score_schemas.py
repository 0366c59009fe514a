"""Response shapes of the scoring API, for the OpenAPI description and for clients.

The views in workflow/scoring/views.py build plain dicts; these models describe (and check) them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RunMeta(BaseModel):
    period: str = Field(description="YYYY-MM, named by the month the period ends in.")
    period_kind: str = Field(description="`month` or `19th` (19th to 18th).")
    period_start: str
    period_end: str
    policy_version: int
    published: bool = Field(description="False while the figures are the period's draft.")
    status: str = Field(description="`draft`, `published` or `superseded`.")
    revision: int = Field(description="Publication revision; 0 for a draft.")
    computed_at: str
    published_at: str | None


class UnitRef(BaseModel):
    kind: str
    id: int
    name: str


class Collection(BaseModel):
    households: int = Field(description="Households on the visit plan as of the period's last counted day.")
    visited: int
    overdue: int
    never_visited: int
    visits: int = Field(description="Visits made in the month of that day.")
    rounds: int = Field(description="Inspection rounds ended in that month.")
    round_windows: int = Field(description="The grids' round windows begun in the month, added up.")
    round_windows_met: int
    coverage: float | None = Field(description="visited / households; null without households.")
    round_rate: float | None = Field(description="round_windows_met / round_windows; null without grids.")
    rates_composite: float | None = Field(description="The three rates' composite alone.")


class Rates(BaseModel):
    received: int
    responded_in_time: int
    evaluated: int
    solved: int
    satisfied: int
    basically_satisfied: int
    response_rate: float | None = Field(description="None when nothing was received.")
    resolution_rate: float | None = Field(description="None when nothing was evaluated.")
    satisfaction_rate: float | None
    composite: float | None = Field(description="The three rates' composite, with coverage and rounds folded in "
                                    "by the policy's collection weights (see `weights`).")
    collection: Collection | None = Field(
        description="A community's or street's planned collection (覆盖率, 巡查) as the run counted it; null for "
        "grids and members, and in runs made before it was counted.")


class CollectionWeights(BaseModel):
    """The weights as this unit's composite used them: the policy's, with a part the unit has no
    figure for (coverage without households, rounds without grids) left out and its weight shared
    by the others; all 0 when the unit has no composite of the three rates."""

    coverage: float
    rounds: float
    rates: float = Field(description="What the three rates' composite keeps: 1 − coverage − rounds.")


class UnitRatesOut(RunMeta, Rates):
    unit: UnitRef
    weights: CollectionWeights


class TrendPoint(Rates):
    period: str
    published: bool


class TrendOut(BaseModel):
    unit: UnitRef
    periods: list[TrendPoint]


class GateFailure(BaseModel):
    gate: str = Field(description="`min_verified_tasks` or `no_red_supervision`.")
    required: int | None = None
    actual: int | None = None
    message: str


class MemberLine(BaseModel):
    member_id: int
    name: str
    username: str
    unit: str = Field(description="The member's home unit (单位); empty for a volunteer.")
    kind: str = Field(description="party (a party member) or volunteer: the two are ranked apart.")
    community_id: int
    rank: int | None
    grade: str | None
    grade_label: str | None
    decided_by: str | None = Field(description="What set this member below the one ranked above: `composite`, "
                                               "`quality`, `tasks`, `hours`, `points` or `tie`.")
    decided_by_label: str | None
    tasks: int
    hours: float
    quality: float | None
    points: int
    composite: float
    eligible: bool
    gate_failures: list[GateFailure]


class Quota(BaseModel):
    grade: str
    label: str
    share: float
    last_position: int = Field(description="The last ranked position that gets this grade (cumulative).")


class RankingOut(RunMeta):
    scope: UnitRef
    member_kind: str = Field(description="Whose ranking this is: party or volunteer.")
    quotas: list[Quota]
    ranked: list[MemberLine]
    not_ranked: list[MemberLine]


class Part(BaseModel):
    part: str
    weight: float
    score: float | None
    contribution: float


class QualityPart(BaseModel):
    tasks: int
    mean: float | None
    community_mean: float
    shrinkage_strength: float
    value: float | None
    formula: str


class HoursPart(BaseModel):
    hours: float
    full_hours: float
    score: float


class LedgerEntry(BaseModel):
    id: int
    date: str
    reason: str
    reason_label: str
    points: int
    request_id: int | None = Field(description="None for entries earned outside the reader's community or street.")
    in_your_scope: bool
    policy_version: int


class PointsPart(BaseModel):
    base: int
    bonus: int
    deduction: int
    total: int
    floored: bool
    full_score: int
    score: float
    entries: list[LedgerEntry]


class Task(BaseModel):
    request_id: int
    round: int
    verified_on: str
    hours: float
    appraisal: int
    satisfaction: str | None
    solved: bool | None
    task_score: float


class Above(BaseModel):
    rank: int
    composite: float
    quality: float | None
    tasks: int
    hours: float
    points: int
    name: str | None = Field(None, description="Only for readers who may see that member.")


class Standing(BaseModel):
    rank: int | None
    of: int
    grade: str | None
    grade_label: str | None
    decided_by: str | None
    decided_by_label: str | None
    above: Above | None


class Record(RunMeta):
    community: dict[str, Any]
    composite: float
    parts: list[Part]
    quality: QualityPart
    hours: HoursPart
    points: PointsPart
    tasks: list[Task]
    eligible: bool
    gate_failures: list[GateFailure]
    community_ranking: Standing | None
    street_ranking: Standing | None = Field(description="None in a community's publication, which holds no "
                                                        "street ranking.")


class BreakdownOut(BaseModel):
    member: dict[str, Any]
    period: str
    records: list[Record] = Field(description="One per community the member served in the reader's scope.")


class PublicationOut(RunMeta):
    run_id: int
    scope_kind: str
    scope_id: int
    reason: str
    published_by: int | None


class RecomputeOut(RunMeta):
    unit_rows: int
    member_rows: int
    ranked: int


class ReportMember(BaseModel):
    name: str
    community: str
    street: str
    registered_on: str
    registration: str
    tasks: int
    hours: float
    quality: float | None
    points: int
    composite: float
    rank: int | None
    ranked_of: int
    grade: str | None
    notes: list[str]


class UnitReportOut(BaseModel):
    unit: str
    period: str
    period_start: str
    period_end: str
    policy_version: int
    published: bool = Field(description="False: provisional figures, not yet published.")
    generated_at: str
    members: list[ReportMember]


class PolicyOut(BaseModel):
    version: int
    effective_from: str
    applies_from_period: str = Field(description="The first period this version governs.")
    rules: dict[str, Any]
    note: str
    created_by: int | None
    created_at: str


class AuditOut(BaseModel):
    id: int
    at: str
    actor_id: int | None
    actor_role: str
    action: str
    target: str
    details: dict[str, Any]
