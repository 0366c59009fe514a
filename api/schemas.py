"""Request and response bodies of the JSON API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import Path, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflow import attributes as attribute_rules
from workflow import lifecycle, privacy, rules
from workflow.access import Actor
from workflow.commands import handling, intake
from workflow.models import Account, Category, Claim, Evaluation, Request, RequestEvent, Role
from workflow.repository import requests as repo

Strict = ConfigDict(extra="forbid", strict=True)

# Ids are 32-bit integer keys: anything outside that range cannot name a row.
MAX_ID = 2_147_483_647
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="The request's id.")]
PhotoId = Annotated[int, Path(ge=1, le=MAX_ID)]
CommunityId = Annotated[int, Path(ge=1, le=MAX_ID)]
NotificationId = Annotated[int, Path(ge=1, le=MAX_ID)]
MemberId = Annotated[int, Path(ge=1, le=MAX_ID)]
ZoneId = Annotated[int, Path(ge=1, le=MAX_ID)]


# --- input ---------------------------------------------------------------------------------------

class LoginIn(BaseModel):
    model_config = Strict
    username: str = Field(max_length=64)
    password: str = Field(max_length=200)


class SignupIn(BaseModel):
    """A resident creates their own account."""

    model_config = Strict
    username: str = Field(max_length=64)
    password: str = Field(min_length=1, max_length=200)
    display_name: str = Field(max_length=100)
    phone: str | None = Field(None, max_length=32)
    community_id: DbId | None = Field(None, description="The community the resident lives in.")


class AccountIn(SignupIn):
    """An admin creates any kind of account."""

    role: Role = Field(strict=False, description="resident, staff, member, volunteer, street_officer, secretary or "
                                                 "admin.")
    street_id: DbId | None = None
    unit_id: DbId | None = Field(None, description="Home unit; required for members.")


class SubmitIn(BaseModel):
    model_config = Strict
    channel: Literal["report", "inspection", "visit"] = Field(
        description="report (a resident), inspection (community staff), visit (a registered member)."
    )
    category: str = Field(max_length=32, description="A leaf category code, see GET /api/v1/categories.")
    description: str = Field(description="What is wrong, at most 2000 characters.")
    community_id: DbId | None = Field(None, description="Defaults to the caller's own community.")
    grid_id: DbId | None = None
    building_id: DbId | None = None
    address: str = Field("", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str = Field("", max_length=100, description="For visits: the resident visited; for a building "
                                                          "leader's report on behalf: the resident reported for.")
    contact_phone: str = Field("", max_length=32)
    photo_ids: list[DbId] = Field(default_factory=list, max_length=9, description="Ids from POST /api/v1/photos.")
    attributes: dict[str, str | int | float | list[str]] | None = Field(
        None, max_length=50,
        description="Answers to the category's extra questions, by attribute code (see GET "
                    "/open311/v2/services/{code}.json): text, a number, or a list of keys for a multivaluelist. "
                    "When given, the required ones must be answered; left out, none is asked.")
    on_behalf: bool = Field(False, description="楼栋长: a report for a resident of the building the caller leads "
                                               "(building_id and contact_name required).")

    def submission(self) -> intake.Submission:
        fields = self.model_dump()
        answers = fields.pop("attributes")
        if answers is not None:
            answers = {code: [str(v) for v in value] if isinstance(value, list) else [str(value)]
                       for code, value in answers.items()}
        return intake.Submission(**fields, attributes=answers)


class NoteIn(BaseModel):
    model_config = Strict
    note: str = Field("", max_length=500)


class ReasonIn(BaseModel):
    model_config = Strict
    reason: str = Field(max_length=500, description="Required: why.")


class ResultIn(BaseModel):
    model_config = Strict
    result: str = Field(max_length=2000, description="What was done.")


class ReportResultIn(ResultIn):
    hours: Decimal = Field(description="Service hours spent, more than 0 and at most 24.", max_digits=4,
                           decimal_places=1)
    photo_ids: list[DbId] = Field(default_factory=list, max_length=9)
    # Not strict: hours arrive as JSON numbers and become Decimal.
    model_config = ConfigDict(extra="forbid", strict=False)


class VerifyIn(BaseModel):
    model_config = Strict
    appraisal: int = Field(description="Staff appraisal of the member's work, 1 (poor) to 5 (excellent).")
    note: str = Field("", max_length=500)


class EvaluationIn(BaseModel):
    model_config = Strict
    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    solved: bool
    comment: str = Field("", max_length=500)


class MergeIn(BaseModel):
    model_config = Strict
    duplicate_of: DbId = Field(description="The request this one duplicates.")
    note: str = Field("", max_length=500)


class RegistrationIn(BaseModel):
    model_config = Strict
    community_id: DbId


# --- output --------------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable, stable.")
    message: str = Field(description="For a person, in the language of Accept-Language (Chinese by default).")
    details: dict = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorBody


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    community_id: int | None
    street_id: int | None
    member_id: int | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    account: AccountOut


class CategoryOut(BaseModel):
    code: str
    name: str
    name_zh: str
    name_en: str
    parent: str | None
    urgency: str
    default_route: str
    volunteers: bool = Field(description="Volunteers may claim its tasks (its own setting or its parent's).")


class EventOut(BaseModel):
    id: int
    trigger: str
    label: str
    from_status: str | None
    to_status: str
    actor_id: int | None
    actor_role: str
    note: str
    data: dict
    created_at: datetime


class ClaimOut(BaseModel):
    id: int
    request_id: int
    member_id: int
    round: int
    status: str
    claimed_at: datetime
    result: str
    hours: Decimal | None
    reported_at: datetime | None
    send_back_count: int
    appraisal: int | None


class EvaluationOut(BaseModel):
    id: int
    round: int
    evaluator_role: str
    satisfaction: str
    solved: bool
    comment: str
    created_at: datetime


class RequestOut(BaseModel):
    id: int
    status: str
    status_label: str
    channel: str
    category: str
    community_id: int
    street_id: int
    grid_id: int | None
    building_id: int | None
    address: str = Field(description="As given to whoever brought it in and to desks (staff, secretaries, street "
                                     "officers, admins) on the request itself; in lists and to members, the "
                                     "building's address, never the flat.")
    description: str
    contact_name: str | None = Field(description="The reporter's or visited resident's name: whole to whoever "
                                                 "brought it in and to desks on the request itself (street officers "
                                                 "only while it is at the street office), masked (王**) in desks' "
                                                 "lists, null for members and linked residents.")
    contact_phone: str | None = Field(description="Like contact_name; masked as 138****1234.")
    contact_email: str | None = Field(description="Like contact_name; masked as w***@example.cn.")
    reporter_id: int | None
    collector_id: int
    route: str | None
    reopen_count: int
    supervision: str = Field(description="督办 mark: normal, yellow or red.")
    result: str
    submitted_at: datetime
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_respond_by: datetime | None = Field(description="The respond deadline promised when the request came in.")
    first_resolve_by: datetime | None = Field(description="The feedback deadline promised when it came in.")
    respond_by: datetime | None = Field(description="This round's respond deadline (a reopen starts a new round).")
    resolve_by: datetime | None = Field(description="This round's feedback deadline.")
    claim_by: datetime | None
    evaluate_by: datetime | None
    merged_into_id: int | None
    actions: list[str] = Field(description="Actions the caller may take now.")


class AttributeAnswerOut(BaseModel):
    code: str
    question: str = Field(description="In the caller's language; the code, for a question since removed.")
    answer: str = Field(description="As given; a list attribute's choices by their names.")


class RequestDetailOut(RequestOut):
    attributes: list[AttributeAnswerOut] = Field(description="Answers to the category's extra questions.")
    media_url: str = Field(description="A photo the reporter's app keeps elsewhere (Open311), or empty. "
                                       "Not fetched by us: open it with care.")
    events: list[EventOut]
    claims: list[ClaimOut]
    evaluations: list[EvaluationOut]
    photo_ids: list[int]


class ClaimWithRequestOut(BaseModel):
    claim: ClaimOut
    request: RequestOut


class RegistrationOut(BaseModel):
    id: int
    community_id: int
    status: str
    registered_at: datetime
    ended_at: datetime | None


# --- building outputs ---------------------------------------------------------------------------

@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def json_response(kind: Any, body: Any, *, status_code: int = 200) -> Response:
    """``body``, built of the models ``kind`` names (e.g. ``list[RequestOut]``), as the JSON bytes
    FastAPI would send for a route whose ``response_model`` is ``kind``. A route that returns this
    spares FastAPI validating the models it has just built once more (for a plain ``def`` route, in
    another thread-pool round trip); it keeps ``response_model`` for the OpenAPI schema."""
    return Response(_adapter(kind).dump_json(body), status_code=status_code, media_type="application/json")


def account_out(account: Account, actor: Actor | None = None) -> AccountOut:
    return AccountOut(id=account.id, username=account.username, display_name=account.display_name,
                      role=account.role.value, community_id=account.community_id, street_id=account.street_id,
                      member_id=actor.member_id if actor else None)


def category_out(category: Category, parent_code: str | None, locale: str, volunteers: bool) -> CategoryOut:
    return CategoryOut(code=category.code, name=category.name_in(locale),
                       name_zh=category.name_zh, name_en=category.name_en, parent=parent_code,
                       urgency=category.urgency.value, default_route=category.default_route.value,
                       volunteers=volunteers)


def actions_for(session: Session, actor: Actor, request: Request) -> list[str]:
    """What the caller may do now (the role, the state and their relation to the request)."""
    return handling.available(session, actor, request)


# Built once: every request shown asks one of them.
_CATEGORY = select(Category).where(Category.id == bindparam("category_id"))
_CATEGORY_CODES = select(Category.id, Category.code).where(Category.id.in_(bindparam("ids", expanding=True)))


def category_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The codes of categories ``ids``, from the process's copy of the taxonomy (a code never
    changes); one query for any the copy does not hold yet (a category just added elsewhere)."""
    known = rules.taxonomy(session).by_id
    codes, missing = {}, []
    for category_id in ids:
        if category_id in known:
            codes[category_id] = known[category_id].code
        else:
            missing.append(category_id)
    if missing:
        codes.update(session.execute(_CATEGORY_CODES, {"ids": missing}).all())
    return codes


def request_out(session: Session, actor: Actor, request: Request, locale: str, *,
                category_code: str | None = None, actions: list[str] | None = None,
                door: str | None = None) -> RequestOut:
    """A request as ``actor`` may see it. ``door`` (``api`` or ``page``): the request itself is shown,
    with the personal data the actor may see whole, and that look is logged; without it, a row of a
    list, with the place at its building and the contact masked (workflow.privacy)."""
    if category_code is None:
        category_code = category_codes(session, [request.category_id])[request.category_id]
    personal = privacy.shown(session, actor, request, whole=door is not None)
    if door is not None:
        privacy.log_read(session, actor, request.id, personal.unmasked, door)
    return RequestOut(
        id=request.id, status=request.status.value,
        status_label=lifecycle.STATUS_LABELS[request.status].render(locale),
        channel=request.channel.value, category=category_code, community_id=request.community_id,
        street_id=request.street_id, grid_id=request.grid_id, building_id=request.building_id,
        address=personal.address, description=request.description,
        contact_name=personal.contact_name, contact_phone=personal.contact_phone,
        contact_email=personal.contact_email,
        reporter_id=request.reporter_id, collector_id=request.collector_id,
        route=request.route.value if request.route else None, reopen_count=request.reopen_count,
        supervision=request.supervision,
        result=request.result, submitted_at=request.submitted_at, responded_at=request.responded_at,
        resolved_at=request.resolved_at, closed_at=request.closed_at, respond_by=request.respond_by,
        first_respond_by=request.first_respond_by, first_resolve_by=request.first_resolve_by,
        resolve_by=request.resolve_by, claim_by=request.claim_by, evaluate_by=request.evaluate_by,
        merged_into_id=request.merged_into_id,
        actions=actions if actions is not None else actions_for(session, actor, request),
    )


def requests_out(session: Session, actor: Actor, requests: Sequence[Request], locale: str, *,
                 registered: Iterable[int] = ()) -> list[RequestOut]:
    """:func:`request_out` for a page: its categories' codes from the taxonomy, its buildings in one
    query, and the facts behind every row's actions asked once for the page, not once per row.
    ``registered``: communities the caller is known to be registered with (the task board's)."""
    codes = category_codes(session, {r.category_id for r in requests})
    privacy.keep_places(session, requests)
    actions = handling.available_many(session, actor, requests, registered=registered)
    return [request_out(session, actor, r, locale, category_code=codes[r.category_id], actions=acts)
            for r, acts in zip(requests, actions, strict=True)]


def event_out(event: RequestEvent, locale: str) -> EventOut:
    return EventOut(id=event.id, trigger=event.trigger, label=lifecycle.EVENT_LABELS[event.trigger].render(locale),
                    from_status=event.from_status, to_status=event.to_status, actor_id=event.actor_id,
                    actor_role=event.actor_role, note=event.note, data=event.data or {},
                    created_at=event.created_at)


def claim_out(claim: Claim) -> ClaimOut:
    return ClaimOut(id=claim.id, request_id=claim.request_id, member_id=claim.member_id, round=claim.round,
                    status=claim.status.value, claimed_at=claim.claimed_at, result=claim.result, hours=claim.hours,
                    reported_at=claim.reported_at, send_back_count=claim.send_back_count,
                    appraisal=claim.appraisal)


def evaluation_out(evaluation: Evaluation) -> EvaluationOut:
    return EvaluationOut(id=evaluation.id, round=evaluation.round, evaluator_role=evaluation.evaluator_role,
                         satisfaction=evaluation.satisfaction.value, solved=evaluation.solved,
                         comment=evaluation.comment, created_at=evaluation.created_at)


def request_detail_out(session: Session, actor: Actor, request: Request, locale: str, *,
                       new: bool = False, door: str = "api") -> RequestDetailOut:
    """``new``: the request was made in this unit of work (a submission), so it has no claims and
    no evaluations yet, and its photos are those its submit event names; none of that is asked for.
    ``door``: where it is shown, for the log of reads of personal data."""
    category = rules.taxonomy(session).by_id.get(request.category_id)
    if category is None:  # added by another process since this one's copy of the taxonomy
        category = session.scalars(_CATEGORY, {"category_id": request.category_id}).one()
    base = request_out(session, actor, request, locale, category_code=category.code, door=door)
    events = repo.events(session, request.id)
    return RequestDetailOut(
        **base.model_dump(),
        attributes=attribute_rules.answered(list(category.attributes or ()), request.attributes or {}, locale),
        media_url=request.media_url,
        events=[event_out(e, locale) for e in events],
        claims=[] if new else [claim_out(c) for c in repo.claims(session, request.id)],
        evaluations=[] if new else [evaluation_out(e) for e in repo.evaluations(session, request.id)],
        photo_ids=intake.photos_at_submission(events) if new else repo.photo_ids(session, request.id),
    )
