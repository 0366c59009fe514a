"""What authors, the desk and the public read of suggestions and meetings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .. import privacy
from ..access import Actor, may_read_community, require_community_reader
from ..errors import InvalidInput
from ..i18n import _
from ..models import Role
from . import repository as repo
from .commands import REFUSAL, not_found
from .lifecycle import STATUS_LABELS, SUGGESTION, TRIGGER_LABELS
from .models import Meeting, Suggestion, SuggestionStatus


def _may_read(session: Session, actor: Actor, community_id: int) -> bool:
    return may_read_community(session, actor, community_id)


def require_reader(session: Session, actor: Actor, community_id: int) -> None:
    require_community_reader(session, actor, community_id, REFUSAL)


def suggestion_out(s: Suggestion, locale: str, *, actions: list[str] | None = None) -> dict[str, Any]:
    return {"id": s.id, "community_id": s.community_id, "title": s.title, "body": s.body, "status": s.status.value,
            "status_label": STATUS_LABELS[s.status].render(locale), "reason": s.reason, "result": s.result,
            "meeting_id": s.meeting_id, "created_at": s.created_at, "decided_at": s.decided_at, "done_at": s.done_at,
            "actions": actions or []}


def desk_actions(actor: Actor, s: Suggestion) -> list[str]:
    if actor.role not in (Role.staff, Role.secretary) or actor.community_id != s.community_id:
        return []
    return SUGGESTION.available(s.status)


def mine(session: Session, actor: Actor, locale: str) -> list[dict[str, Any]]:
    return [suggestion_out(s, locale) for s in repo.by_author(session, actor.account_id)]


def community_suggestions(session: Session, actor: Actor, community_id: int, locale: str,
                          status: str | None = None) -> list[dict[str, Any]]:
    require_reader(session, actor, community_id)
    chosen = None
    if status:
        try:
            chosen = SuggestionStatus(status)
        except ValueError:
            raise InvalidInput(_("Unknown status {status}.", status=status[:16]), code="unknown_status",
                               details={"field": "status"}) from None
    return [suggestion_out(s, locale, actions=desk_actions(actor, s))
            for s in repo.of_community(session, community_id, chosen)]


def suggestion(session: Session, actor: Actor, suggestion_id: int, locale: str) -> dict[str, Any]:
    """One suggestion with its history: for its author and the community's readers; anyone else
    is told there is none."""
    s = session.get(Suggestion, suggestion_id)
    if s is None or not (s.author_id == actor.account_id or _may_read(session, actor, s.community_id)):
        raise not_found("suggestion", suggestion_id)
    history = [{"trigger": e.trigger, "label": TRIGGER_LABELS.get(e.trigger, _("Submitted")).render(locale),
                "to_status": e.to_status, "note": e.note, "at": e.at, "meeting_id": e.meeting_id}
               for e in repo.history(session, s.id)]
    return {**suggestion_out(s, locale, actions=desk_actions(actor, s)), "history": history}


def meeting_out(session: Session, m: Meeting, locale: str) -> dict[str, Any]:
    suggestions, requests = repo.taken_up(session, m.id)
    return {"id": m.id, "community_id": m.community_id, "topic": m.topic, "held_on": m.held_on,
            "participants": m.participants, "participant_count": m.participant_count, "options": list(m.options),
            "votes": list(m.votes) if m.votes is not None else None, "chosen": m.chosen, "decision": m.decision,
            "outcome": m.outcome, "status": m.status.value, "decided_at": m.decided_at,
            "suggestions": [suggestion_out(s, locale) for s in suggestions], "request_ids": requests}


def meeting(session: Session, actor: Actor, meeting_id: int, locale: str) -> dict[str, Any]:
    m = session.get(Meeting, meeting_id)
    if m is None or not _may_read(session, actor, m.community_id):
        raise not_found("meeting", meeting_id)
    return meeting_out(session, m, locale)


def community_meetings(session: Session, actor: Actor, community_id: int, locale: str) -> list[dict[str, Any]]:
    require_reader(session, actor, community_id)
    return [meeting_out(session, m, locale) for m in repo.meetings_of(session, community_id)]


def public_decisions(session: Session, community_ids: list[int]) -> list[dict[str, Any]]:
    """公示: the adopted decisions of these communities' meetings, newest first, with the votes for
    what was decided; no participants' names, and the text scrubbed as the board's examples are."""
    out = []
    for m in repo.adopted_decisions(session, community_ids):
        votes = list(m.votes or [])
        out.append({"meeting_id": m.id, "community_id": m.community_id, "topic": privacy.scrub(m.topic),
                    "held_on": m.held_on, "decision": privacy.scrub(m.decision),
                    "option": privacy.scrub(m.options[m.chosen]) if m.chosen is not None else "",
                    "votes_for": votes[m.chosen] if m.chosen is not None and votes else 0,
                    "votes_cast": sum(votes), "participant_count": m.participant_count})
    return out
