"""建言 and 议事: submitting a suggestion, the desk's steps on it, convening a meeting and recording
its decision. Each command flushes and never commits; a refusal is raised before anything is
written. Two desks acting on one suggestion or one meeting at once are decided by its row lock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor, is_registered, known_community, require_keeper
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Request, Role, utcnow
from ..validation import clean_text
from .lifecycle import MEETING, STATUS_LABELS, SUGGESTION, TRIGGER_LABELS
from .models import Meeting, MeetingRequest, MeetingStatus, Suggestion, SuggestionEvent, SuggestionStatus

AUTHORS = (Role.resident, Role.volunteer, Role.member)
MAX_TITLE = 100
MAX_BODY = 2000
MAX_TOPIC = 200
MAX_PARTICIPANTS = 500
MAX_OPTION = 100
MAX_OPTIONS = 6
MAX_TAKEN_UP = 50
MAX_COUNT = 10_000


REFUSAL = _("Suggestions and meetings are kept by the community's staff and secretary.")


def not_found(kind: str, ident: Any) -> NotFound:
    if kind == "meeting":
        return NotFound(_("There is no meeting {id}.", id=ident), code="meeting_not_found")
    return NotFound(_("There is no suggestion {id}.", id=ident), code="suggestion_not_found")


def _event(session: Session, suggestion: Suggestion, trigger: str, before: str | None, actor: Actor, note: str,
           now: datetime, meeting_id: int | None = None) -> None:
    session.add(SuggestionEvent(suggestion_id=suggestion.id, trigger=trigger, from_status=before,
                                to_status=suggestion.status.value, actor_id=actor.account_id, actor_role=actor.role,
                                note=note, meeting_id=meeting_id, at=now))


def submit(session: Session, actor: Actor, community_id: Any, title: Any, body: Any,
           *, now: datetime | None = None) -> Suggestion:
    """建言: a resident (or volunteer) suggests something to a community; a member to a community
    they are registered with."""
    now = now or utcnow()
    if actor.role not in AUTHORS:
        raise Forbidden(_("Suggestions come from residents, volunteers and members."), code="role_not_allowed")
    community = known_community(session, community_id)
    if actor.role == Role.member and not is_registered(session, actor.member_id, community.id):
        raise Forbidden(_("You are not registered with this community."), code="not_registered")
    title = clean_text(title, "title", code="title_required", message=_("Please give your suggestion a title."),
                       limit=MAX_TITLE)
    body = clean_text(body, "body", code="body_required", message=_("Please describe your suggestion."),
                      limit=MAX_BODY)
    suggestion = Suggestion(community_id=community.id, author_id=actor.account_id, title=title, body=body,
                            status=SuggestionStatus.received, created_at=now, updated_at=now)
    session.add(suggestion)
    session.flush()
    _event(session, suggestion, "submit", None, actor, "", now)
    session.flush()
    return suggestion


def _locked(session: Session, suggestion_id: Any) -> Suggestion:
    known = isinstance(suggestion_id, int) and not isinstance(suggestion_id, bool)
    suggestion = session.get(Suggestion, suggestion_id, with_for_update=True) if known else None
    if suggestion is None:
        raise not_found("suggestion", suggestion_id)
    return suggestion


def _step(session: Session, actor: Actor, suggestion: Suggestion, trigger: str, note: str, now: datetime,
          meeting_id: int | None = None) -> None:
    step = SUGGESTION.step_for(trigger, suggestion.status)
    if step is None:
        raise Conflict(_("This suggestion is {status}: “{action}” is not possible now.",
                         status=STATUS_LABELS[suggestion.status], action=TRIGGER_LABELS[trigger]),
                       code="invalid_transition", details={"status": suggestion.status.value, "trigger": trigger})
    before = suggestion.status.value
    SUGGESTION.move(suggestion, trigger)
    suggestion.updated_at = now
    if trigger in ("adopt", "decline"):
        suggestion.decided_at = now
        if trigger == "decline":
            suggestion.reason = note
    if trigger == "complete":
        suggestion.done_at, suggestion.result = now, note
    if meeting_id is not None:
        suggestion.meeting_id = meeting_id
    _event(session, suggestion, trigger, before, actor, note, now, meeting_id)


def act(session: Session, actor: Actor, suggestion_id: Any, trigger: str, params: dict[str, Any] | None = None,
        *, now: datetime | None = None) -> Suggestion:
    """The desk's steps: take up for deliberation, adopt (a note), decline (a reason, which the
    author reads), carried out (what was done)."""
    now = now or utcnow()
    params = params or {}
    if trigger not in SUGGESTION.triggers:
        raise InvalidInput(_("Unknown action {trigger}.", trigger=trigger), code="unknown_trigger")
    suggestion = _locked(session, suggestion_id)
    require_keeper(session, actor, suggestion.community_id, REFUSAL)
    if trigger == "decline":
        note = clean_text(params.get("reason"), "reason", code="reason_required",
                          message=_("Please give the reason, for the person who made the suggestion."), limit=500)
    elif trigger == "complete":
        note = clean_text(params.get("result"), "result", code="result_required",
                          message=_("Please say what was done."), limit=MAX_BODY)
    else:
        note = clean_text(params.get("note"), "note", limit=500, required=False)
    _step(session, actor, suggestion, trigger, note, now)
    session.flush()
    return suggestion


def _options(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(_("Options are a list of texts."), code="invalid_options", details={"field": "options"})
    options = [v.strip() for v in value if v.strip()]
    if not 2 <= len(options) <= MAX_OPTIONS or any(len(o) > MAX_OPTION for o in options) \
            or len(set(options)) != len(options):
        raise InvalidInput(_("A meeting votes on 2 to {n} different options of at most {limit} characters each.",
                             n=MAX_OPTIONS, limit=MAX_OPTION), code="invalid_options", details={"field": "options"})
    return options


def _ids(value: Any, field: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value) \
            or len(value) > MAX_TAKEN_UP:
        raise InvalidInput(_("{field} is a list of at most {n} ids.", field=field, n=MAX_TAKEN_UP),
                           code="invalid_ids", details={"field": field})
    return sorted(set(value))


def _count(value: Any, field: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= MAX_COUNT:
        raise InvalidInput(_("{field} must be a whole number from {least} to {most}.", field=field, least=least,
                             most=MAX_COUNT), code="invalid_count", details={"field": field})
    return value


def convene(session: Session, actor: Actor, community_id: Any, fields: dict[str, Any],
            *, now: datetime | None = None) -> Meeting:
    """议事会: the desk records a meeting with its topic, date, who took part and the options put to
    the vote, and the suggestions (received ones are taken up for deliberation) and requests of the
    community it takes up."""
    now = now or utcnow()
    community = require_keeper(session, actor, community_id, REFUSAL)
    topic = clean_text(fields.get("topic"), "topic", code="topic_required", message=_("Please give the topic."),
                       limit=MAX_TOPIC)
    held_on = fields.get("held_on")
    if not isinstance(held_on, date):
        raise InvalidInput(_("Please give the day of the meeting."), code="held_on_required",
                           details={"field": "held_on"})
    participants = clean_text(fields.get("participants"), "participants", limit=MAX_PARTICIPANTS, required=False)
    count = _count(fields.get("participant_count"), "participant_count", least=1)
    options = _options(fields.get("options"))
    suggestion_ids = _ids(fields.get("suggestion_ids"), "suggestion_ids")
    request_ids = _ids(fields.get("request_ids"), "request_ids")
    suggestions = list(session.scalars(select(Suggestion).where(Suggestion.id.in_(suggestion_ids))
                                       .order_by(Suggestion.id).with_for_update())) if suggestion_ids else []
    for s in suggestions:
        taken = s.status == SuggestionStatus.deliberating and s.meeting_id is not None
        if s.community_id != community.id or s.status not in (SuggestionStatus.received,
                                                              SuggestionStatus.deliberating) or taken:
            raise Conflict(_("Suggestion {id} cannot be taken up: it is {status} or with another meeting.",
                             id=s.id, status=STATUS_LABELS[s.status]), code="suggestion_not_open",
                           details={"suggestion_id": s.id})
    if len(suggestions) != len(suggestion_ids):
        missing = sorted(set(suggestion_ids) - {s.id for s in suggestions})
        raise not_found("suggestion", missing[0])
    requests = list(session.scalars(select(Request.id).where(Request.id.in_(request_ids),
                                                             Request.community_id == community.id)))
    if len(requests) != len(request_ids):
        missing = sorted(set(request_ids) - set(requests))
        raise NotFound(_("Request {id} is not one of this community's.", id=missing[0]), code="request_not_found")
    meeting = Meeting(community_id=community.id, topic=topic, held_on=held_on, participants=participants,
                      participant_count=count, options=options, status=MeetingStatus.open,
                      convened_by=actor.account_id, created_at=now)
    session.add(meeting)
    session.flush()
    for s in suggestions:
        if s.status == SuggestionStatus.received:
            _step(session, actor, s, "take_up", "", now, meeting.id)
        else:
            s.meeting_id = meeting.id
    session.add_all(MeetingRequest(meeting_id=meeting.id, request_id=rid) for rid in requests)
    session.flush()
    audit.record(session, actor, "meeting.convene", f"meeting:{meeting.id}", now,
                 {"after": {"topic": topic, "held_on": held_on.isoformat(), "suggestions": suggestion_ids,
                            "requests": request_ids}})
    return meeting


def decide(session: Session, actor: Actor, meeting_id: Any, fields: dict[str, Any],
           *, now: datetime | None = None) -> Meeting:
    """The meeting's decision: the votes per option, the option decided on, the decision in words,
    and whether the suggestions it took up are adopted or declined (with the decision as reason).
    Recorded once: a second decision is refused."""
    now = now or utcnow()
    known = isinstance(meeting_id, int) and not isinstance(meeting_id, bool)
    meeting = session.get(Meeting, meeting_id, with_for_update=True) if known else None
    if meeting is None:
        raise not_found("meeting", meeting_id)
    require_keeper(session, actor, meeting.community_id, REFUSAL)
    if MEETING.step_for("decide", meeting.status) is None:
        raise Conflict(_("This meeting's decision is recorded already."), code="already_decided")
    votes = fields.get("votes")
    if not isinstance(votes, list) or len(votes) != len(meeting.options):
        raise InvalidInput(_("Give the votes of each of the {n} options.", n=len(meeting.options)),
                           code="invalid_votes", details={"field": "votes"})
    votes = [_count(v, "votes") for v in votes]
    if sum(votes) > meeting.participant_count:
        raise InvalidInput(_("{votes} votes, but {count} took part.", votes=sum(votes),
                             count=meeting.participant_count), code="invalid_votes", details={"field": "votes"})
    chosen = fields.get("chosen")
    if not isinstance(chosen, int) or isinstance(chosen, bool) or not 0 <= chosen < len(meeting.options):
        raise InvalidInput(_("Choose the option decided on."), code="invalid_choice", details={"field": "chosen"})
    decision = clean_text(fields.get("decision"), "decision", code="decision_required",
                          message=_("Please write down the decision."), limit=MAX_BODY)
    outcome = fields.get("outcome")
    if outcome not in ("adopt", "decline"):
        raise InvalidInput(_("Say whether the suggestions taken up are adopted or declined."),
                           code="invalid_outcome", details={"field": "outcome"})
    MEETING.move(meeting, "decide")
    meeting.votes, meeting.chosen, meeting.decision, meeting.outcome = votes, chosen, decision, outcome
    meeting.decided_at = now
    taken_up = session.scalars(select(Suggestion).where(Suggestion.meeting_id == meeting.id,
                                                        Suggestion.status == SuggestionStatus.deliberating)
                               .order_by(Suggestion.id).with_for_update())
    for s in taken_up:
        _step(session, actor, s, outcome, decision, now, meeting.id)
    session.flush()
    audit.record(session, actor, "meeting.decide", f"meeting:{meeting.id}", now,
                 {"after": {"votes": votes, "chosen": chosen, "outcome": outcome}})
    return meeting
