"""Firing lifecycle triggers: the checks, the move through the machine, the event row, and the
side effects of each trigger, all in the caller's transaction.

Checks run in a fixed order so that every refusal is predictable:

1. the actor's role may never fire this trigger          403 ``role_not_allowed``
2. the actor may not see this request                     404 ``request_not_found``
3. the trigger does not apply to the current state        409 ``invalid_transition``
4. the actor is not the right person for it               403 (``not_registered``, ``not_your_claim``, ...)
5. the input is incomplete or out of range                422 (``reason_required``, ...)
6. a business guard refuses (claim limit, time window)    409
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import deadlines, lifecycle, notifications, outbox, rules
from ..access import CLAIMERS, RESIDENTS, Actor, can_view, is_registered, leads
from ..errors import Conflict, Forbidden, InvalidInput
from ..i18n import _
from ..lifecycle import STATUS_LABELS, TRIGGER_LABELS
from ..models import (
    Channel,
    Claim,
    ClaimStatus,
    Evaluation,
    Member,
    PointReason,
    Request,
    Role,
    Route,
    Satisfaction,
    Status,
    utcnow,
)
from ..repository import links
from ..repository import requests as repo
from ..repository import street as street_repo
from ..repository import zones as zone_repo
from ..scoring import ledger
from ..settings import Settings
from ..validation import clean_text
from ..volunteers import repository as volunteers_repo
from . import photos as photo_cmds
from .members import claim_allowance

# Which kinds of actor (lifecycle.KINDS) each account role can ever be.
ROLE_KINDS: dict[str, frozenset[str]] = {
    "router": frozenset({"router"}),
    "sweeper": frozenset({"sweeper"}),
    Role.staff: frozenset({"staff"}),
    Role.street_officer: frozenset({"street_officer"}),
    Role.member: frozenset({"member", "claimer"}),
    Role.volunteer: frozenset({"member", "claimer", "evaluator"}),
    Role.resident: frozenset({"evaluator"}),
    Role.secretary: frozenset({"evaluator"}),
    Role.admin: frozenset(),
}
HUMAN_HANDLERS = {Role.staff, Role.street_officer, Role.member, Role.volunteer, Role.secretary}
MAX_REASON = 500
MAX_TEXT = 2000


@dataclass
class Fired:
    request: Request
    trigger: str  # the trigger whose event row was written ("co_evaluate" for a linked resident's verdict)


def fire(
    session: Session,
    settings: Settings,
    actor: Actor,
    request_id: int,
    trigger: str,
    params: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> Fired:
    params = dict(params or {})
    now = now or utcnow()
    if trigger not in lifecycle.TRIGGERS:
        raise InvalidInput(_("Unknown action {trigger}.", trigger=trigger), code="unknown_trigger")
    if not (ROLE_KINDS.get(actor.role, frozenset()) & lifecycle.who_may(trigger)):
        raise Forbidden(
            _("Your role cannot use “{action}”.", action=TRIGGER_LABELS[trigger]), code="role_not_allowed"
        )
    request = repo.get_for_update(session, request_id)
    # A member who finds an open task of a community they are not registered with is told so
    # (not_registered below) without being allowed to read it.
    claiming_open_task = trigger == "claim" and actor.role in CLAIMERS and request.status == Status.open_task
    # The member holding the live claim sees the request: for the claimer's moves, the claim that
    # the relation check and the move read answers that too.
    holds_claim = actor.role in CLAIMERS and "claimer" in lifecycle.who_may(trigger) \
        and (claim := repo.live_claim(session, request.id)) is not None and claim.member_id == actor.member_id
    if not (claiming_open_task or holds_claim or can_view(session, actor, request)):
        raise repo.not_found(request_id)
    transition = lifecycle.transition_for(trigger, request.status)
    if transition is None:
        raise Conflict(
            _(
                "This request is {status}: “{action}” is not possible now.",
                status=STATUS_LABELS[request.status],
                action=TRIGGER_LABELS[trigger],
            ),
            code="invalid_transition",
            details={"status": request.status.value, "trigger": trigger},
        )
    _check_relation(session, actor, request, trigger, transition.who)
    note, data = HANDLERS[trigger](session, settings, actor, request, params, now)
    from_status = request.status
    lifecycle.move(request, trigger)
    # The row's changes come before the reads below, so that their autoflush writes the row once.
    if request.status != Status.open_task:
        deadlines.clear_claim_deadline(request)  # the claim window exists only while the task waits
    if request.responded_at is None and actor.role in HUMAN_HANDLERS:
        request.responded_at = now
    request.updated_at = now
    repo.add_event(session, request.id, trigger, from_status.value, request.status.value, actor, note, data, now)
    if trigger == "publish_task":
        _offer_to_zone(session, settings, request, now)
    if from_status == Status.street and request.status != Status.street:
        street_repo.close_open_calls(session, request.id, now)  # calls of this escalation end with it
    session.flush()
    return Fired(request, trigger)


def evaluate(session: Session, settings: Settings, actor: Actor, request_id: int, params: dict[str, Any],
             *, now: datetime | None = None) -> Fired:
    """评: a content verdict (satisfied or basically satisfied, and solved) closes the request;
    anything else reopens it. Either way the evaluation is kept."""
    now = now or utcnow()
    request = repo.get_for_update(session, request_id)
    if actor.role in RESIDENTS and request.reporter_id != actor.account_id \
            and links.is_linked(session, request.id, actor.account_id):
        return _co_evaluate(session, actor, request, params, now)
    content = params.get("satisfaction") in (Satisfaction.satisfied, Satisfaction.basically_satisfied) \
        and params.get("solved") is True
    return fire(session, settings, actor, request_id, "evaluate" if content else "reopen", params, now=now)


def _co_evaluate(session: Session, actor: Actor, request: Request, params: dict[str, Any], now: datetime) -> Fired:
    """A resident whose duplicate was merged into this request gives their verdict on the round.
    It is kept and counts, but the reporter's verdict (or the secretary's) decides the request."""
    if request.status != Status.resolved:
        raise Conflict(
            _("This request is {status}: “{action}” is not possible now.",
              status=STATUS_LABELS[request.status], action=TRIGGER_LABELS["evaluate"]),
            code="invalid_transition", details={"status": request.status.value, "trigger": "evaluate"},
        )
    if repo.evaluation_by(session, request.id, request.round, actor.account_id) is not None:
        raise Conflict(_("You have already evaluated this round."), code="already_evaluated")
    note, evaluation = _evaluation(session, actor, request, params, now, closes=None)
    data = _verdict_data(session, evaluation)
    repo.add_event(session, request.id, "co_evaluate", request.status.value, request.status.value, actor, note,
                   data, now)
    session.flush()
    return Fired(request, "co_evaluate")


def _check_relation(session: Session, actor: Actor, request: Request, trigger: str, who: frozenset[str],
                    memo: dict | None = None) -> None:
    """Raise Forbidden unless ``actor`` stands in the relation to ``request`` that ``trigger`` needs.
    ``memo`` keeps facts that are the same for every request of one read-only page (whether the
    member is registered with a community), so a page asks each once."""
    kinds = ROLE_KINDS.get(actor.role, frozenset()) & who
    if not kinds:
        raise Forbidden(
            _("In this state, your role cannot use “{action}”.", action=TRIGGER_LABELS[trigger]),
            code="role_not_allowed",
        )
    (kind,) = kinds  # the table never offers one role two kinds for the same move
    if kind in ("router", "sweeper"):
        return
    if kind in ("staff", "street_officer"):
        if not actor.covers(request):  # pragma: no cover - can_view already refused them
            raise Forbidden(_("This request is outside your area."), code="out_of_scope")
        return
    if kind == "member":
        key = ("registered", request.community_id)
        registered = memo.get(key) if memo is not None else None
        if registered is None:
            registered = is_registered(session, actor.member_id, request.community_id)
            if memo is not None:
                memo[key] = registered
        if not registered:
            raise Forbidden(
                _("You are not registered with this community, so you cannot claim its tasks."),
                code="not_registered",
            )
        if actor.role == Role.volunteer and not volunteers_repo.allows_volunteers(session, request.category_id):
            raise Forbidden(_("Tasks of this kind are for party members; volunteers cannot claim them."),
                            code="members_only")
        return
    if kind == "claimer":
        claim = repo.live_claim(session, request.id)
        if claim is None or claim.member_id != actor.member_id:
            raise Forbidden(_("This task is claimed by someone else."), code="not_your_claim")
        return
    if kind == "evaluator":
        if request.reporter_id is not None:
            ok = actor.role in RESIDENTS and request.reporter_id == actor.account_id
        elif actor.role in RESIDENTS:  # 楼栋长: confirms on the spot what no resident reported
            ok = leads(session, actor.account_id, request.building_id)
        else:
            ok = actor.role == Role.secretary and actor.covers(request)
        if not ok:
            raise Forbidden(
                _("Only the resident who reported this request may evaluate it."), code="not_evaluator"
            )
        return
    raise AssertionError(kind)  # pragma: no cover


def available(session: Session, actor: Actor, request: Request, *, memo: dict | None = None) -> list[str]:
    """The triggers ``actor`` may fire on ``request`` now: allowed from its state, open to their role,
    and passing the same relation checks as :func:`fire` (their claim, their registration, their
    report). A resident following a merged duplicate may ``evaluate`` a resolved request until they
    have given their verdict on this round. Pages and API offer exactly these acts. Pass one
    ``memo`` dict for every request of a page (see :func:`available_many`)."""
    out = []
    kinds = ROLE_KINDS.get(actor.role, frozenset())
    for trigger in lifecycle.available_triggers(request.status):
        who = lifecycle.who_may(trigger)
        if not kinds & who:
            continue  # not a move of their role (what _check_relation refuses first, without building the refusal)
        try:
            _check_relation(session, actor, request, trigger, who, memo)
        except Forbidden:
            continue
        out.append(trigger)
    if not out and actor.role in RESIDENTS and request.status == Status.resolved \
            and request.reporter_id != actor.account_id and links.is_linked(session, request.id, actor.account_id) \
            and repo.evaluation_by(session, request.id, request.round, actor.account_id) is None:
        out.append("evaluate")
    return out


def available_many(session: Session, actor: Actor, requests: Sequence[Request], *,
                   registered: Iterable[int] = ()) -> list[list[str]]:
    """:func:`available` for each of a page of requests, asking the facts shared by the page (the
    member's registration with a community) once instead of once per request. Where the answer
    depends only on a request's status and place (no relation of the caller's to the request
    itself is involved, see :func:`_personal`), requests alike in those share one answer.
    ``registered``: communities the caller's transaction has already found them registered with
    (the task board lists only those communities' tasks), not asked again."""
    memo: dict = {("registered", community_id): True for community_id in registered}
    personal: dict[Status, bool] = {}
    shared: dict[tuple, list[str]] = {}
    out = []
    for request in requests:
        status = request.status
        if status not in personal:
            personal[status] = _personal(actor, status)
        if personal[status]:
            out.append(available(session, actor, request, memo=memo))
            continue
        key = (status, request.community_id, request.street_id)
        if key not in shared:
            shared[key] = available(session, actor, request, memo=memo)
        out.append(list(shared[key]))
    return out


def _personal(actor: Actor, status: Status) -> bool:
    """Whether :func:`available` reads more of a request in ``status`` than its status and place
    (community, street) for ``actor``: a move open to them as the claimer or the evaluator, or a
    resident's evaluation of a resolved request they follow."""
    if actor.role in RESIDENTS and status == Status.resolved:
        return True
    kinds = ROLE_KINDS.get(actor.role, frozenset()) & {"claimer", "evaluator"}
    return any(kinds & lifecycle.who_may(trigger) for trigger in lifecycle.available_triggers(status))


# --- input helpers -----------------------------------------------------------------------------

def _text(params: dict, key: str, *, code: str, message, limit: int = MAX_TEXT, required: bool = True) -> str:
    return clean_text(params.get(key), key, code=code, message=message, limit=limit, required=required)


def _reason(params: dict) -> str:
    return _text(params, "reason", code="reason_required", message=_("Please give a reason."), limit=MAX_REASON)


def _note(params: dict) -> str:
    return _text(params, "note", code="", message=None, limit=MAX_REASON, required=False)


# --- per-trigger effects: each returns (note, data) for the event row --------------------------

def _route(route: Route):
    def handler(session, settings, actor, request, params, now):
        request.route = route
        if route == Route.open_task:
            deadlines.set_claim_deadline(request, now, timedelta(hours=settings.claim_window_hours))
            if request.published_at is None:
                request.published_at = now
        data = {"route": route.value}
        if actor.role == "router":
            data["rule"] = params.get("rule", "default")
            data["rule_id"] = params.get("rule_id")
        return _note(params), data

    return handler


def _offer_to_zone(session: Session, settings: Settings, request: Request, now: datetime) -> None:
    """A new task goes first to the members whose responsibility zone covers it: only they may
    claim it for a while, and they are told. With nobody responsible, every member may claim."""
    accounts = zone_repo.covering_member_accounts(session, request)
    if not accounts or settings.zone_offer_minutes == 0:
        if request.zone_offer_until is not None:
            request.zone_offer_until = None
        return
    request.zone_offer_until = now + timedelta(minutes=settings.zone_offer_minutes)
    notifications.notify(session, "task_offered", request.id, accounts,
                         offered_until=request.zone_offer_until.isoformat())


def _return_to_community(session, settings, actor, request, params, now):
    request.route = Route.community
    return _reason(params), {"route": Route.community.value}


def _withdraw(session, settings, actor, request, params, now):
    request.route = Route.community
    return _note(params), {"route": Route.community.value}


def _claim(session, settings, actor, request, params, now):
    # Lock the member too, so that one member's simultaneous claims cannot overrun the limit.
    if request.zone_offer_until is not None and now < request.zone_offer_until \
            and not zone_repo.is_covered_by(session, actor.member_id, request) \
            and zone_repo.covering_member_accounts(session, request):
        raise Conflict(
            _("This task is offered first to the members responsible for its area, until {time}.",
              time=request.zone_offer_until.isoformat(timespec="minutes")),
            code="offered_to_zone", details={"until": request.zone_offer_until.isoformat()},
        )
    held, limit = claim_allowance(session, settings, actor.member_id, lock=True)
    if held >= limit:
        raise Conflict(
            _("You already hold {held} open tasks; the limit is {limit}.", held=held, limit=limit),
            code="claim_limit_reached",
            details={"held": held, "limit": limit},
        )
    claim = Claim(request_id=request.id, member_id=actor.member_id, round=request.round, claimed_at=now)
    session.add(claim)
    session.flush()
    return _note(params), {"claim_id": claim.id, "member_id": actor.member_id}


def _release(session, settings, actor, request, params, now):
    claim = repo.live_claim(session, request.id)
    claim.status = ClaimStatus.released
    claim.ended_at = now
    ledger.add_points(session, settings.timezone, claim.member_id, PointReason.released, request,
                      f"released:{claim.id}", now)
    deadlines.set_claim_deadline(request, now, timedelta(hours=settings.claim_window_hours))
    return _note(params), {"claim_id": claim.id, "member_id": claim.member_id}


def _report_result(session, settings, actor, request, params, now):
    result = _text(params, "result", code="result_required", message=_("Please describe what was done."))
    hours = _hours(params.get("hours"))
    claim = repo.live_claim(session, request.id)
    photo_ids = photo_cmds.attach(session, actor, params.get("photo_ids") or [], request.id, "result")
    claim.status = ClaimStatus.reported
    claim.result = result
    claim.hours = hours
    claim.reported_at = now
    return "", {"claim_id": claim.id, "hours": str(hours), "photo_ids": photo_ids}


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1")) if value is not None else None
    except (InvalidOperation, ValueError):
        hours = None
    if hours is None or isinstance(value, bool) or not (Decimal("0") < hours <= Decimal("24")):
        raise InvalidInput(
            _("Service hours must be a number greater than 0 and at most 24."),
            code="invalid_hours",
            details={"field": "hours"},
        )
    return hours


def _send_back(session, settings, actor, request, params, now):
    reason = _reason(params)
    claim = repo.live_claim(session, request.id)
    claim.status = ClaimStatus.active
    claim.send_back_count += 1
    ledger.add_points(session, settings.timezone, claim.member_id, PointReason.sent_back, request,
                      f"sent_back:{claim.id}:{claim.send_back_count}", now)
    return reason, {"claim_id": claim.id, "member_id": claim.member_id}


def _verify(session, settings, actor, request, params, now):
    appraisal = params.get("appraisal")
    if isinstance(appraisal, bool) or not isinstance(appraisal, int) or not 1 <= appraisal <= 5:
        raise InvalidInput(
            _("The appraisal must be a whole number from 1 to 5."), code="invalid_appraisal",
            details={"field": "appraisal"},
        )
    note = _note(params)
    claim = repo.live_claim(session, request.id)
    claim.status = ClaimStatus.verified
    claim.appraisal = appraisal
    claim.ended_at = now
    # The ledger's reads look at other rows than these: the claim and the entries are written by
    # its one flush instead of one flush each.
    with session.no_autoflush:
        ledger.credit_task(session, settings.timezone, claim, request, now)
    _mark_resolved(session, settings, request, claim.result, now)
    return note, {"claim_id": claim.id, "member_id": claim.member_id, "appraisal": appraisal}


def _resolve(session, settings, actor, request, params, now):
    result = _text(params, "result", code="result_required", message=_("Please describe what was done."))
    _mark_resolved(session, settings, request, result, now)
    return "", {}


def _mark_resolved(session: Session, settings: Settings, request: Request, result: str, now: datetime) -> None:
    request.result = result
    request.resolved_at = now
    calendar = deadlines.load_calendar(session, settings.timezone)
    deadlines.set_evaluation_deadline(request, calendar, now, settings.evaluation_window_days)


def _evaluation(session, actor, request, params, now, *, closes: bool | None) -> tuple[str, Evaluation]:
    """Check a verdict and add its row (flushed later: see :func:`_verdict_data`). ``closes``
    True/False: it must close/reopen the request; None: it is a linked resident's verdict, which
    moves nothing."""
    raw = params.get("satisfaction")
    try:
        satisfaction = Satisfaction(raw)
    except ValueError:
        raise InvalidInput(
            _("Satisfaction must be satisfied, basically_satisfied or unsatisfied."),
            code="invalid_satisfaction", details={"field": "satisfaction"},
        ) from None
    solved = params.get("solved")
    if not isinstance(solved, bool):
        raise InvalidInput(_("Say whether the problem was solved."), code="solved_required",
                           details={"field": "solved"})
    comment = _text(params, "comment", code="", message=None, limit=MAX_REASON, required=False)
    content = satisfaction != Satisfaction.unsatisfied and solved
    if closes is True and not content:
        raise InvalidInput(
            _("An unsatisfied or unsolved evaluation reopens the request; it cannot close it."),
            code="evaluation_reopens",
        )
    if closes is False and content:
        raise InvalidInput(
            _("A satisfied and solved evaluation closes the request; it cannot reopen it."),
            code="evaluation_closes",
        )
    evaluation = Evaluation(
        request_id=request.id, round=request.round, evaluator_id=actor.account_id,
        evaluator_role=actor.role, satisfaction=satisfaction, solved=solved, comment=comment, created_at=now,
        decisive=closes is not None,
    )
    session.add(evaluation)
    return comment, evaluation


def _verdict_data(session: Session, evaluation: Evaluation) -> dict:
    """The event data of a verdict; its row is written first if no flush has written it yet."""
    if evaluation.id is None:
        session.flush()
    return {"evaluation_id": evaluation.id, "satisfaction": evaluation.satisfaction.value,
            "solved": evaluation.solved, "round": evaluation.round}


def _evaluate(session, settings, actor, request, params, now):
    note, evaluation = _evaluation(session, actor, request, params, now, closes=True)
    if evaluation.satisfaction == Satisfaction.satisfied:
        # The member whose task this round verified earns the satisfied-resident bonus. These reads
        # do not look at the verdict: its row is written with the bonus, in one flush.
        with session.no_autoflush:
            claim = repo.verified_claim_of_round(session, request.id, request.round)
            if claim is not None:
                ledger.add_points(session, settings.timezone, claim.member_id, PointReason.resident_satisfied,
                                  request, f"satisfied:{request.id}:{request.round}", now)
    # The verdict's row first (the event names its id); the request's closing then goes in the
    # same UPDATE as its move.
    data = _verdict_data(session, evaluation)
    _close(session, settings, request, now)
    return note, data


def _reopen(session, settings, actor, request, params, now):
    note, evaluation = _evaluation(session, actor, request, params, now, closes=False)
    data = _verdict_data(session, evaluation)
    request.reopen_count += 1
    request.resolved_at = None
    deadlines.clear_evaluation_deadline(request)
    request.route = None
    # The new round gets its own deadlines, which the scheduler enforces; the rates keep measuring
    # against first_respond_by / first_resolve_by, the promise made when the request came in.
    category = rules.taxonomy(session).by_id[request.category_id]
    deadlines.set_intake_deadlines(request, deadlines.load_calendar(session, settings.timezone), category.urgency,
                                   category.deadline_class, now)
    outbox.enqueue(session, "route_request", request_id=request.id, round=request.round)
    return note, data


def _expire(session, settings, actor, request, params, now):
    if request.evaluate_by is not None and now < request.evaluate_by:
        raise Conflict(
            _("The evaluation window is still open."), code="evaluation_window_open",
        )
    _close(session, settings, request, now)
    return "", {}


def _close(session: Session, settings: Settings, request: Request, now: datetime) -> None:
    request.closed_at = now
    if request.channel == Channel.visit:
        # 访: the visit bonus is earned when the problem the member found is closed, not when it is
        # logged, so that rejected or merged reports earn nothing.
        member_id = session.scalar(select(Member.id).where(Member.account_id == request.collector_id))
        if member_id is not None:
            ledger.add_points(session, settings.timezone, member_id, PointReason.visit_collected, request,
                              f"visit:{request.id}", now)
    outbox.enqueue(session, "record_outcome", request_id=request.id)


def _reject(session, settings, actor, request, params, now):
    reason = _reason(params)
    request.closed_at = now
    return reason, {}


def _merge(session, settings, actor, request, params, now):
    target_id = params.get("duplicate_of")
    if isinstance(target_id, bool) or not isinstance(target_id, int) or target_id == request.id:
        raise InvalidInput(_("Name the request this one duplicates."), code="merge_target_required",
                           details={"field": "duplicate_of"})
    # Lock the target too: two staff merging A into B and B into A at once must not both succeed.
    target = repo.get_for_update(session, target_id, missing_ok=True)
    if target is None or target.community_id != request.community_id or target.status in lifecycle.TERMINAL:
        raise InvalidInput(
            _("A request can only be merged into an open request of the same community."),
            code="invalid_merge_target", details={"field": "duplicate_of"},
        )
    request.merged_into_id = target.id
    request.closed_at = now
    # The duplicate's reporter now follows the primary request and may evaluate it.
    # Residents already linked to the duplicate come along, so a chain of merges loses nobody.
    followers = [request.reporter_id, *links.linked_accounts(session, request.id)]
    linked = [links.link(session, target.id, account, request.id, now) for account in dict.fromkeys(followers)
              if account is not None and account != target.reporter_id]
    return _note(params), {"duplicate_of": target.id, "linked_residents": linked}


HANDLERS = {
    "route_to_community": _route(Route.community),
    "publish_task": _route(Route.open_task),
    "escalate": _route(Route.street),
    "return_to_community": _return_to_community,
    "claim": _claim,
    "release": _release,
    "withdraw": _withdraw,
    "report_result": _report_result,
    "send_back": _send_back,
    "verify": _verify,
    "resolve": _resolve,
    "evaluate": _evaluate,
    "reopen": _reopen,
    "expire": _expire,
    "reject": _reject,
    "merge": _merge,
}
assert set(HANDLERS) == set(lifecycle.TRIGGERS)
