"""Queries on requests, their events, claims and evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, false, func, insert, inspect, null, or_, select
from sqlalchemy.orm import Session

from ..access import Actor
from ..db import is_postgresql
from ..errors import NotFound
from ..i18n import _
from ..models import (
    Claim,
    ClaimStatus,
    Evaluation,
    Member,
    Photo,
    Registration,
    RegistrationStatus,
    Request,
    RequestEvent,
    RequestLink,
    Role,
    Status,
)
from .zones import covers

LIVE_CLAIM = (ClaimStatus.active, ClaimStatus.reported)
# Queues show what is waiting for that desk, most urgent deadline first.
OPEN = (Status.submitted, Status.community, Status.street, Status.open_task, Status.claimed, Status.verifying)
COMMUNITY_QUEUE = (Status.submitted, Status.community, Status.open_task, Status.claimed, Status.verifying)


_LOCKED = "locked_requests"
_LIVE_CLAIMS = "live_claims"  # (transaction, {request id: its live claim}), see live_claim


_FOR_UPDATE = (select(Request).where(Request.id == bindparam("request_id")).with_for_update()
               .execution_options(populate_existing=True))
# On SQLite, the request and its live claim, if any, in one read (most moves on a claimed task read
# both): the transaction holds the write lock from its start, so the claim read is current. Not on
# PostgreSQL: a read that waited for the request's lock would join the claim as its snapshot saw it,
# before the move that held the lock changed it.
_FOR_UPDATE_WITH_CLAIM = (select(Request, Claim)
                          .outerjoin(Claim, and_(Claim.request_id == Request.id, Claim.status.in_(LIVE_CLAIM)))
                          .where(Request.id == bindparam("request_id"))
                          .execution_options(populate_existing=True))


def get_for_update(session: Session, request_id: int, *, missing_ok: bool = False) -> Request | None:
    """Load a request and lock its row (FOR UPDATE on PostgreSQL; SQLite holds the write lock).

    A row this transaction has locked already stays locked until it ends, and the session holds its
    current state: asking again (an actor, then the command it calls) reads no row twice."""
    transaction = session.get_transaction()
    locked = session.info.get(_LOCKED)
    if transaction is not None and locked is not None and locked[0] is transaction and request_id in locked[1]:
        row = session.get(Request, request_id)
        if row is not None:
            return row
    if is_postgresql(session):
        row, claim = session.scalar(_FOR_UPDATE, {"request_id": request_id}), None
    else:
        row, claim = session.execute(_FOR_UPDATE_WITH_CLAIM, {"request_id": request_id}).first() or (None, None)
    if row is None:
        if not missing_ok:
            raise not_found(request_id)
        return None
    transaction = session.get_transaction()
    if locked is None or locked[0] is not transaction:
        locked = session.info[_LOCKED] = (transaction, set())
    locked[1].add(request_id)
    if claim is not None:
        _know_live_claim(session, transaction, request_id, claim)
    return row


def not_found(request_id: int) -> NotFound:
    return NotFound(_("Request {id} does not exist.", id=request_id), code="request_not_found")


def get(session: Session, request_id: int) -> Request | None:
    return session.get(Request, request_id)


_LIVE_CLAIM = select(Claim).where(Claim.request_id == bindparam("request_id"), Claim.status.in_(LIVE_CLAIM))


def live_claim(session: Session, request_id: int) -> Claim | None:
    """The request's active or reported claim. Claims change only while their request is locked,
    so once this transaction has locked the request, a live claim it read stays the live one for as
    long as its own status says so: asking again (the relation check, then the move) reads no row."""
    transaction = session.get_transaction()
    locked = session.info.get(_LOCKED)
    held = transaction is not None and locked is not None and locked[0] is transaction and request_id in locked[1]
    known = session.info.get(_LIVE_CLAIMS)
    if held and known is not None and known[0] is transaction:
        claim = known[1].get(request_id)
        if claim is not None and inspect(claim).persistent and claim.status in LIVE_CLAIM:
            return claim
    claim = session.scalar(_LIVE_CLAIM, {"request_id": request_id})
    if held and claim is not None:
        _know_live_claim(session, transaction, request_id, claim)
    return claim


def _know_live_claim(session: Session, transaction, request_id: int, claim: Claim) -> None:
    known = session.info.get(_LIVE_CLAIMS)
    if known is None or known[0] is not transaction:
        known = session.info[_LIVE_CLAIMS] = (transaction, {})
    known[1][request_id] = claim


_VERIFIED_OF_ROUND = select(Claim).where(Claim.request_id == bindparam("request_id"), Claim.round == bindparam("round"),
                                         Claim.status == ClaimStatus.verified)


def verified_claim_of_round(session: Session, request_id: int, round_: int) -> Claim | None:
    return session.scalar(_VERIFIED_OF_ROUND, {"request_id": request_id, "round": round_})


_COUNT_LIVE = select(func.count()).select_from(Claim).where(Claim.member_id == bindparam("member_id"),
                                                            Claim.status.in_(LIVE_CLAIM))


def count_live_claims(session: Session, member_id: int) -> int:
    return session.scalar(_COUNT_LIVE, {"member_id": member_id}) or 0


_HOLDING = (select(Member.claim_limit, select(func.count()).where(Claim.member_id == Member.id,
                                                                 Claim.status.in_(LIVE_CLAIM)).scalar_subquery())
            .where(Member.id == bindparam("member_id")))
_MEMBER_LOCKED = select(Member.claim_limit).where(Member.id == bindparam("member_id")).with_for_update()


def holding(session: Session, member_id: int, *, lock: bool = False) -> tuple[int | None, int]:
    """(the member's own claim limit or None, the open claims they hold). ``lock`` locks the
    member's row first, so that one member's simultaneous claims cannot overrun the limit. On
    PostgreSQL the count is then a statement of its own: one that waited for the lock would count
    with the snapshot it began with, before the other claim committed. SQLite's write lock is held
    from the transaction's start, so there one query reads both."""
    if lock and is_postgresql(session):
        own_limit = session.scalar(_MEMBER_LOCKED, {"member_id": member_id})
        return own_limit, count_live_claims(session, member_id)
    row = session.execute(_HOLDING, {"member_id": member_id}).first()
    return (row[0], row[1] or 0) if row is not None else (None, count_live_claims(session, member_id))


_EVENTS = select(RequestEvent).where(RequestEvent.request_id == bindparam("request_id")).order_by(RequestEvent.id)
_ADD_EVENT = insert(RequestEvent.__table__)


def add_event(session: Session, request_id: int, trigger: str, from_status: str | None, to_status: str,
              actor: Actor, note: str, data: dict, now: datetime) -> None:
    """Write one event row in the session's transaction, at once and without an ORM object: events
    are never updated, and whoever reads a request's history queries it."""
    session.connection().execute(_ADD_EVENT, {
        "request_id": request_id, "trigger": trigger, "from_status": from_status, "to_status": to_status,
        "actor_id": actor.account_id, "actor_role": actor.role, "note": note, "data": data, "created_at": now})


def events(session: Session, request_id: int) -> Sequence[RequestEvent]:
    return session.scalars(_EVENTS, {"request_id": request_id}).all()


def recent_events(session: Session, request_ids: Sequence[int], per_request: int = 3) -> dict[int, list[RequestEvent]]:
    """The latest ``per_request`` events of each request, oldest of them first (one query)."""
    if not request_ids:
        return {}
    rank = func.row_number().over(partition_by=RequestEvent.request_id, order_by=RequestEvent.id.desc())
    inner = select(RequestEvent.id.label("id"), rank.label("rank")).where(
        RequestEvent.request_id.in_(list(request_ids))).subquery()
    rows = session.scalars(
        select(RequestEvent).join(inner, inner.c.id == RequestEvent.id).where(inner.c.rank <= per_request)
        .order_by(RequestEvent.request_id, RequestEvent.id)
    ).all()
    out: dict[int, list[RequestEvent]] = {i: [] for i in request_ids}
    for event in rows:
        out[event.request_id].append(event)
    return out


def awaiting_evaluation(session: Session, account_id: int, requests: Sequence[Request]) -> set[int]:
    """Which of ``requests`` wait for this resident's evaluation: resolved ones they reported, and
    resolved ones they follow (a merged duplicate) and have not evaluated in this round."""
    waiting = set()
    for request in requests:
        if request.status != Status.resolved:
            continue
        if request.reporter_id == account_id:
            waiting.add(request.id)
        elif evaluation_by(session, request.id, request.round, account_id) is None and session.scalar(
                select(func.count()).select_from(RequestLink).where(
                    RequestLink.request_id == request.id, RequestLink.account_id == account_id)):
            waiting.add(request.id)
    return waiting


_EVALUATIONS = select(Evaluation).where(Evaluation.request_id == bindparam("request_id")).order_by(Evaluation.round)


def evaluations(session: Session, request_id: int) -> Sequence[Evaluation]:
    return session.scalars(_EVALUATIONS, {"request_id": request_id}).all()


def evaluation_by(session: Session, request_id: int, round_: int, account_id: int | None) -> Evaluation | None:
    return session.scalar(select(Evaluation).where(
        Evaluation.request_id == request_id, Evaluation.round == round_, Evaluation.evaluator_id == account_id))


_CLAIMS = select(Claim).where(Claim.request_id == bindparam("request_id")).order_by(Claim.id)


def claims(session: Session, request_id: int) -> Sequence[Claim]:
    return session.scalars(_CLAIMS, {"request_id": request_id}).all()


def _page(stmt: Select, limit: int, offset: int) -> Select:
    return stmt.limit(limit).offset(offset)


def mine(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0,
         following: bool = False) -> Sequence[Request]:
    """What a person brought in: a resident's reports, staff's inspections, a member's visits.
    ``following``: a resident's list also holds the requests their merged duplicates joined."""
    if actor.role in (Role.resident, Role.volunteer):  # a volunteer's reports, as a resident's
        cond = Request.reporter_id == actor.account_id
        if following:
            linked = select(RequestLink.request_id).where(RequestLink.account_id == actor.account_id)
            cond = or_(cond, Request.id.in_(linked))
    else:
        cond = Request.collector_id == actor.account_id
    stmt = select(Request).where(cond).order_by(Request.id.desc())
    return session.scalars(_page(stmt, limit, offset)).all()


def running_deadline() -> ColumnElement:
    """The deadline a request is now running against, in SQL: the same answer as
    :func:`workflow.deadlines.next_deadline` (respond until someone responded, claim while a task
    waits on the board, resolve while it is handled, evaluate once resolved; none when it is over)."""
    return case(
        (Request.status.in_((Status.closed, Status.rejected, Status.merged)), null()),
        (Request.status == Status.resolved, Request.evaluate_by),
        (and_(Request.status == Status.open_task, Request.claim_by.is_not(None)), Request.claim_by),
        (and_(Request.responded_at.is_(None), Request.respond_by.is_not(None)), Request.respond_by),
        else_=Request.resolve_by,
    )


def desk_order() -> tuple:
    """Every desk's order: 督办 marks first (red, then yellow; `true` sorts after `false`), then the
    deadline each request is running against, nearest first."""
    return ((Request.supervision == "red").desc(), (Request.supervision == "yellow").desc(),
            running_deadline().asc().nulls_last(), Request.id)


def desk_scope(actor: Actor) -> tuple[ColumnElement[bool], tuple[Status, ...]]:
    """What a desk covers and the statuses its queue shows by default: community staff their
    community, street officers their street's escalated requests, secretaries their scope."""
    if actor.role == Role.street_officer:
        return Request.street_id == actor.street_id, (Status.street,)
    if actor.role in (Role.staff, Role.secretary):
        scope = (Request.community_id == actor.community_id) if actor.community_id is not None \
            else (Request.street_id == actor.street_id)
        default = COMMUNITY_QUEUE if actor.role == Role.staff else COMMUNITY_QUEUE + (Status.street, Status.resolved)
        return scope, default
    if actor.role == Role.admin:
        return Request.id.is_not(None), COMMUNITY_QUEUE + (Status.street,)
    return false(), ()


def queue(session: Session, actor: Actor, *, statuses: Sequence[Status] | None = None,
          limit: int = 50, offset: int = 0) -> Sequence[Request]:
    """A desk's queue (see :func:`desk_scope`), supervision marks first, then the nearest running
    deadline."""
    scope, default = desk_scope(actor)
    wanted = tuple(statuses) if statuses else default
    stmt = select(Request).where(scope, Request.status.in_(wanted)).order_by(*desk_order())
    return session.scalars(_page(stmt, limit, offset)).all()


def queue_counts(session: Session, actor: Actor) -> dict[Status, int]:
    """How many requests of each of the desk's default statuses wait in its queue (0 included)."""
    scope, default = desk_scope(actor)
    rows = session.execute(
        select(Request.status, func.count()).where(scope, Request.status.in_(default)).group_by(Request.status)
    ).all()
    found = {Status(s): n for s, n in rows}
    return {s: found.get(s, 0) for s in default}


def _open_tasks_statement(*, categories: bool = False) -> Select:
    member_id = bindparam("member_id")
    registered = select(Registration.community_id).where(
        Registration.member_id == member_id, Registration.status == RegistrationStatus.active
    )
    mine = covers(member_id)
    return (
        select(Request)
        .where(
            Request.status == Status.open_task,
            Request.community_id.in_(registered),
            or_(Request.zone_offer_until.is_(None), Request.zone_offer_until <= bindparam("now"), mine),
            *([Request.category_id.in_(bindparam("categories", expanding=True))] if categories else []),
        )
        .order_by(case((mine, 0), else_=1), Request.published_at, Request.id)
        .limit(bindparam("limit")).offset(bindparam("offset"))
    )


_OPEN_TASKS = _open_tasks_statement()  # built once: every member's board view runs it
_OPEN_TASKS_OF = _open_tasks_statement(categories=True)


def open_tasks(session: Session, member_id: int, now: datetime, *, limit: int = 50,
               offset: int = 0, categories: set[int] | None = None) -> Sequence[Request]:
    """The task board: open tasks in every community the member is registered with. Tasks in the
    member's responsibility zones come first, then the rest, each oldest first; a task still
    offered only to another zone's members is not shown yet. ``categories``: only tasks of these."""
    params = {"member_id": member_id, "now": now, "limit": limit, "offset": offset}
    if categories is None:
        return session.scalars(_OPEN_TASKS, params).all()
    if not categories:
        return []
    return session.scalars(_OPEN_TASKS_OF, {**params, "categories": sorted(categories)}).all()


def board_communities(tasks: Sequence[Request]) -> set[int]:
    """The communities of a page of :func:`open_tasks`: the member is registered with each, since
    the board's query reads only the tasks of those communities."""
    return {task.community_id for task in tasks}


def duplicate_candidates(session: Session, request: Request, *, limit: int = 200) -> Sequence[Request]:
    """Open requests that may repeat ``request``: same community and category, same grid or
    building (or no location at all on both), newest first. Text similarity is scored by the caller."""
    place = []
    if request.building_id is not None:
        place.append(Request.building_id == request.building_id)
    if request.grid_id is not None:
        place.append(Request.grid_id == request.grid_id)
    if not place:
        place.append(and_(Request.grid_id.is_(None), Request.building_id.is_(None)))
    stmt = (
        select(Request)
        .where(
            Request.id != request.id,
            Request.community_id == request.community_id,
            Request.category_id == request.category_id,
            Request.status.in_(OPEN),
            or_(*place),
        )
        .order_by(Request.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def member_claims(session: Session, member_id: int, *, live_only: bool = False, finished_only: bool = False,
                  limit: int = 50, offset: int = 0) -> Sequence[tuple[Claim, Request]]:
    """The member's claims, newest first; ``live_only``: still worked on or checked; ``finished_only``:
    the others (verified, released, withdrawn)."""
    stmt = select(Claim, Request).join(Request, Request.id == Claim.request_id).where(Claim.member_id == member_id)
    if live_only:
        stmt = stmt.where(Claim.status.in_(LIVE_CLAIM))
    if finished_only:
        stmt = stmt.where(Claim.status.not_in(LIVE_CLAIM))
    stmt = stmt.order_by(Claim.id.desc())
    return session.execute(_page(stmt, limit, offset)).all()


def last_notes(session: Session, request_ids: Sequence[int], trigger: str) -> dict[int, str]:
    """The note of each request's latest ``trigger`` event, e.g. why staff last sent a result back."""
    if not request_ids:
        return {}
    latest = (select(func.max(RequestEvent.id))
              .where(RequestEvent.request_id.in_(list(request_ids)), RequestEvent.trigger == trigger)
              .group_by(RequestEvent.request_id))
    rows = session.execute(select(RequestEvent.request_id, RequestEvent.note).where(RequestEvent.id.in_(latest)))
    return {request_id: note for request_id, note in rows}


_PHOTO_IDS = select(Photo.id).where(Photo.request_id == bindparam("request_id")).order_by(Photo.id)


def photo_ids(session: Session, request_id: int) -> list[int]:
    return list(session.scalars(_PHOTO_IDS, {"request_id": request_id}))


def collected_counts(session: Session, account_ids: Sequence[int]) -> dict[int, int]:
    """How many requests each of these accounts collected (brought in), by account id; none: absent."""
    if not account_ids:
        return {}
    rows = session.execute(select(Request.collector_id, func.count()).where(Request.collector_id.in_(account_ids))
                           .group_by(Request.collector_id))
    return {account_id: n for account_id, n in rows}


def open_in_building(session: Session, building_id: int, *, limit: int = 100) -> Sequence[Request]:
    """The building's requests not yet closed, rejected or merged (resolved ones wait for their
    evaluation), newest first."""
    return session.scalars(select(Request).where(Request.building_id == building_id,
                                                 Request.status.in_((*OPEN, Status.resolved)))
                           .order_by(Request.id.desc()).limit(limit)).all()
