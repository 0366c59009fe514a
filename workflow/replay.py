"""Replaying a request's history: its events, folded from nothing, give the state its row stores.

Every change of a request's state is written with an event row in the same transaction
(:mod:`workflow.commands.handling`, :mod:`workflow.commands.street`, intake). :func:`fold` reads a
request's events in order and derives what they say its state is: status, the community and street
it sits in, its channel, category, collector and reporter, its route, the duplicate it was merged
into, its reopen count (and so its round), its supervision mark, the times it was submitted, first
responded to, first published, resolved and closed, and its claims (who holds it, each claim's
status and send-backs). It also checks the history itself: each move is one the lifecycle table
allows from the status before it, and the events come in time order.

:func:`verify` folds every request (or some) and compares the result with the stored request row and
its claims. A difference means a row was changed without its event (by hand, or by a bug): the
``shoubanping audit verify`` command reports them after an incident.

Not compared, because no event carries them: the description and contact details, the result text,
the deadline columns (derived from the category and the calendar of their day), ``zone_offer_until``
and ``updated_at`` (which reminders also touch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import lifecycle
from .models import Category, Claim, Community, Request, RequestEvent, Status

HUMAN_HANDLERS = frozenset({"staff", "street_officer", "member", "secretary"})
# Acts on a request that leave its status as it is (from_status == to_status).
SAME_STATUS = frozenset({"whistle", "department_response", "supervise", "co_evaluate"})
ROUTED = frozenset({"route_to_community", "publish_task", "escalate", "return_to_community", "withdraw"})
CLOSING = frozenset({"evaluate", "expire", "reject", "merge"})
# What a claim's status becomes on each claim trigger.
CLAIM_STATUS = {"claim": "active", "report_result": "reported", "send_back": "active", "verify": "verified",
                "release": "released"}
# The request columns compared, in the order differences are reported.
FIELDS = ("status", "community_id", "street_id", "channel", "category", "collector_id", "reporter_id", "route",
          "merged_into_id", "reopen_count", "supervision", "submitted_at", "responded_at", "published_at",
          "resolved_at", "closed_at", "claims")


@dataclass
class ClaimState:
    member_id: int | None
    round: int
    status: str = "active"
    send_back_count: int = 0

    def as_tuple(self) -> tuple:
        return (self.member_id, self.status, self.send_back_count, self.round)


@dataclass
class Replayed:
    """A request's state as its history tells it. ``community_id`` is None for a history written
    before submissions recorded their community (then it is not compared)."""

    request_id: int
    events: int = 0
    status: str | None = None
    community_id: int | None = None
    channel: str | None = None
    category: str | None = None
    collector_id: int | None = None
    reporter_id: int | None = None
    route: str | None = None
    merged_into_id: int | None = None
    reopen_count: int = 0
    supervision: str = "normal"
    submitted_at: datetime | None = None
    responded_at: datetime | None = None
    published_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    claims: dict[int, ClaimState] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what is wrong with the history itself

    @property
    def round(self) -> int:
        return self.reopen_count + 1


@dataclass(frozen=True)
class Difference:
    request_id: int
    field: str
    stored: Any
    replayed: Any

    def text(self) -> str:
        if self.field == "history":
            return f"request {self.request_id}: history: {self.replayed}"
        return (f"request {self.request_id}: {self.field} stored {_show(self.stored)}, "
                f"history says {_show(self.replayed)}")


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def _value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def fold(request_id: int, events: Iterable) -> Replayed:
    """The state a request's events (rows or objects with RequestEvent's columns, in id order) give."""
    state = Replayed(request_id)
    last_at: datetime | None = None
    for event in events:
        state.events += 1
        trigger, at, data = event.trigger, event.created_at, event.data or {}
        where = f"event {event.id} ({trigger})"
        if last_at is not None and at < last_at:
            state.problems.append(f"{where} is dated {at.isoformat()}, before the event it follows")
        last_at = at
        if state.status is None:
            if trigger != "submit" or event.from_status is not None or event.to_status != Status.submitted.value:
                state.problems.append(f"{where}: the history does not start with the submission")
                return state
            state.status = Status.submitted.value
            state.submitted_at = at
            state.channel = data.get("channel")
            state.category = data.get("category")
            state.community_id = data.get("community_id")
            state.collector_id = event.actor_id
            state.reporter_id = event.actor_id if state.channel == "report" else None
            continue
        if event.from_status != state.status:
            state.problems.append(f"{where} starts from {event.from_status}, but the request was {state.status}")
        if trigger in SAME_STATUS:
            if event.to_status != event.from_status:
                state.problems.append(f"{where} moves the status to {event.to_status}")
            if trigger == "whistle" and state.responded_at is None:
                state.responded_at = at
            elif trigger == "supervise":
                state.supervision = data.get("level", state.supervision)
            continue
        transition = None
        if trigger in lifecycle.TRIGGERS and state.status in Status.__members__:
            transition = lifecycle.transition_for(trigger, Status(state.status))
        if transition is None:
            state.problems.append(f"{where}: the lifecycle has no such move from {state.status}")
        elif transition.dest.value != event.to_status:
            state.problems.append(f"{where} ends in {event.to_status}, the lifecycle says {transition.dest.value}")
        _apply(state, event, trigger, at, data)
        state.status = event.to_status
    return state


def _apply(state: Replayed, event, trigger: str, at: datetime, data: dict) -> None:
    """What ``handling.fire`` and the trigger's handler change on the request and its claims."""
    if state.responded_at is None and event.actor_role in HUMAN_HANDLERS:
        state.responded_at = at
    if trigger in ROUTED:
        state.route = data.get("route")
        if trigger == "publish_task" and state.published_at is None:
            state.published_at = at
    if trigger in CLAIM_STATUS:
        claim_id = data.get("claim_id")
        claim = state.claims.get(claim_id)
        if trigger == "claim":
            state.claims[claim_id] = ClaimState(data.get("member_id"), state.round)
        elif claim is None:
            state.problems.append(f"event {event.id} ({trigger}) names claim {claim_id}, which was never claimed")
        else:
            claim.status = CLAIM_STATUS[trigger]
            if trigger == "send_back":
                claim.send_back_count += 1
    if trigger in ("verify", "resolve"):
        state.resolved_at = at
    elif trigger == "reopen":
        state.reopen_count += 1
        state.resolved_at = None
        state.route = None
    if trigger in CLOSING:
        state.closed_at = at
    if trigger == "merge":
        state.merged_into_id = data.get("duplicate_of")


@dataclass
class Reference:
    """What the comparison needs besides the rows: category codes and each community's street."""

    category_codes: dict[int, str]
    community_street: dict[int, int]

    @classmethod
    def load(cls, session: Session) -> Reference:
        return cls(dict(session.execute(select(Category.id, Category.code)).all()),
                   dict(session.execute(select(Community.id, Community.street_id)).all()))


def compare(state: Replayed, request, claims: Sequence, ref: Reference) -> list[Difference]:
    """Where the stored ``request`` row (and its ``claims`` rows) differs from the replayed state."""
    rid = state.request_id
    out = [Difference(rid, "history", None, problem) for problem in state.problems]
    if state.status is None:
        if not state.problems:
            out.append(Difference(rid, "history", None, "the request has no events"))
        return out
    stored: dict[str, Any] = {name: _value(getattr(request, name)) for name in FIELDS
                              if name not in ("category", "claims")}
    stored["category"] = ref.category_codes.get(request.category_id)
    stored["claims"] = {c.id: (c.member_id, _value(c.status), c.send_back_count, c.round) for c in claims}
    replayed: dict[str, Any] = {name: getattr(state, name) for name in FIELDS if name not in ("claims", "street_id")}
    replayed["claims"] = {cid: c.as_tuple() for cid, c in state.claims.items()}
    if state.community_id is None:  # an old history: the submission did not record the community
        replayed["community_id"] = stored["community_id"]
    replayed["street_id"] = ref.community_street.get(replayed["community_id"])
    for name in FIELDS:
        if stored[name] != replayed[name]:
            out.append(Difference(rid, name, stored[name], replayed[name]))
    return out


_REQUEST_COLUMNS = [Request.category_id, *(getattr(Request, name) for name in FIELDS
                                           if name not in ("category", "claims"))]
_EVENT_COLUMNS = (RequestEvent.id, RequestEvent.request_id, RequestEvent.trigger, RequestEvent.from_status,
                  RequestEvent.to_status, RequestEvent.actor_id, RequestEvent.actor_role, RequestEvent.data,
                  RequestEvent.created_at)
_CLAIM_COLUMNS = (Claim.id, Claim.request_id, Claim.member_id, Claim.status, Claim.send_back_count, Claim.round)


def verify(session: Session, request_ids: Sequence[int] | None = None, *, batch: int = 2000) -> Iterator[Difference]:
    """Replay every request (or those of ``request_ids``) and yield each difference between its
    stored state and its history, request by request in id order. Reads ``batch`` requests, their
    events and their claims at a time."""
    ref = Reference.load(session)
    if request_ids is not None:
        ids = sorted(set(request_ids))
        for start in range(0, len(ids), batch):
            chunk = ids[start:start + batch]
            yield from _verify_rows(session, ref, Request.id.in_(chunk), RequestEvent.request_id.in_(chunk),
                                    Claim.request_id.in_(chunk), missing=chunk)
        return
    after = 0
    while True:
        ids = session.scalars(select(Request.id).where(Request.id > after).order_by(Request.id).limit(batch)).all()
        if not ids:
            return
        low, high = ids[0], ids[-1]
        yield from _verify_rows(session, ref, Request.id.between(low, high), RequestEvent.request_id.between(low, high),
                                Claim.request_id.between(low, high))
        after = high


def _verify_rows(session: Session, ref: Reference, requests_where, events_where, claims_where,
                 missing: Sequence[int] = ()) -> Iterator[Difference]:
    rows = session.execute(select(Request.id, *_REQUEST_COLUMNS).where(requests_where).order_by(Request.id)).all()
    events: dict[int, list] = defaultdict(list)
    for event in session.execute(select(*_EVENT_COLUMNS).where(events_where)
                                 .order_by(RequestEvent.request_id, RequestEvent.id)):
        events[event.request_id].append(event)
    claims: dict[int, list] = defaultdict(list)
    for claim in session.execute(select(*_CLAIM_COLUMNS).where(claims_where)):
        claims[claim.request_id].append(claim)
    found = set()
    for row in rows:
        found.add(row.id)
        yield from compare(fold(row.id, events.get(row.id, ())), row, claims.get(row.id, ()), ref)
    for request_id in missing:
        if request_id not in found:
            yield Difference(request_id, "history", None, "no such request")
