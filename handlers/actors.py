"""Queue actors. Each reloads what it needs by id inside its own unit of work, and treats
"already done" as success, so a message delivered twice changes nothing the second time."""

from __future__ import annotations

import logging
from collections.abc import Callable

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflow import notifications, outcomes, routing
from workflow.db import unit_of_work
from workflow.models import ProcessedMessage, Request
from workflow.settings import Settings

from .broker import QUEUE

log = logging.getLogger(__name__)


def _once(session: Session, actor_name: str) -> bool:
    """Record the current message as processed; False when it already was."""
    message = CurrentMessage.get_current_message()
    if message is None:  # called directly, not through the broker
        return True
    if session.get(ProcessedMessage, message.message_id) is not None:
        log.info("%s: message %s already processed", actor_name, message.message_id)
        return False
    session.add(ProcessedMessage(message_id=message.message_id, actor_name=actor_name))
    session.flush()
    return True


def declare(broker: dramatiq.Broker, sessions: sessionmaker[Session], settings: Settings) -> dict[str, dramatiq.Actor]:
    """Declare the actors on ``broker``, bound to this process's database."""

    def route_request(request_id: int, round: int | None = None) -> None:
        with unit_of_work(sessions) as session:
            if not _once(session, "route_request"):
                return
            request = session.get(Request, request_id)
            if request is None or (round is not None and request.round != round):
                return  # gone, or a message from an earlier round
            fired = routing.route_request(session, settings, request_id)
            if fired:
                log.info("routed request %s by %s", request_id, fired.event.trigger)

    def record_outcome(request_id: int) -> None:
        try:
            with unit_of_work(sessions) as session:
                if _once(session, "record_outcome"):
                    outcomes.record_outcome(session, settings, request_id)
        except IntegrityError:
            # Another worker wrote the same outcome row at the same moment: that is success. Any
            # other integrity failure is a real error and goes to dramatiq's retries.
            with unit_of_work(sessions) as session:
                if not outcomes.has_outcome(session, request_id):
                    raise
            log.info("outcome of request %s already recorded", request_id)

    def send_notification(event_id: str, kind: str, request_id: int | None, recipients: list[int],
                          data: dict) -> None:
        with unit_of_work(sessions) as session:
            if _once(session, "send_notification"):
                notifications.deliver_to_inbox(session, event_id, kind, request_id, recipients, data)

    functions: list[Callable[..., None]] = [route_request, record_outcome, send_notification]
    return {
        fn.__name__: dramatiq.actor(fn, broker=broker, actor_name=fn.__name__, queue_name=QUEUE, max_retries=10,
                                    min_backoff=500, max_backoff=60_000)
        for fn in functions
    }
