"""Queries of suggestions and meetings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Meeting, MeetingRequest, MeetingStatus, Suggestion, SuggestionEvent, SuggestionStatus


def by_author(session: Session, account_id: int, *, limit: int = 50) -> Sequence[Suggestion]:
    return session.scalars(select(Suggestion).where(Suggestion.author_id == account_id)
                           .order_by(Suggestion.id.desc()).limit(limit)).all()


def of_community(session: Session, community_id: int, status: SuggestionStatus | None = None,
                 *, limit: int = 100) -> Sequence[Suggestion]:
    stmt = select(Suggestion).where(Suggestion.community_id == community_id)
    if status is not None:
        stmt = stmt.where(Suggestion.status == status)
    return session.scalars(stmt.order_by(Suggestion.id.desc()).limit(limit)).all()


def history(session: Session, suggestion_id: int) -> Sequence[SuggestionEvent]:
    return session.scalars(select(SuggestionEvent).where(SuggestionEvent.suggestion_id == suggestion_id)
                           .order_by(SuggestionEvent.id)).all()


def meetings_of(session: Session, community_id: int, *, limit: int = 50) -> Sequence[Meeting]:
    return session.scalars(select(Meeting).where(Meeting.community_id == community_id)
                           .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)).all()


def taken_up(session: Session, meeting_id: int) -> tuple[Sequence[Suggestion], list[int]]:
    suggestions = session.scalars(select(Suggestion).where(Suggestion.meeting_id == meeting_id)
                                  .order_by(Suggestion.id)).all()
    requests = list(session.scalars(select(MeetingRequest.request_id).where(MeetingRequest.meeting_id == meeting_id)
                                    .order_by(MeetingRequest.request_id)))
    return suggestions, requests


def adopted_decisions(session: Session, community_ids: list[int], *, limit: int = 10) -> Sequence[Meeting]:
    """The newest meetings of these communities whose decision adopted what they took up."""
    return session.scalars(select(Meeting).where(Meeting.community_id.in_(community_ids),
                                                 Meeting.status == MeetingStatus.decided,
                                                 Meeting.outcome == "adopt")
                           .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)).all()
