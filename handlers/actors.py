"""Queue actors. Each reloads what it needs by id inside its own unit of work, and treats
"already done" as success, so a message delivered twice changes nothing the second time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import dramatiq
from dramatiq.common import compute_backoff
from dramatiq.middleware import CurrentMessage
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workflow import outcomes, routing, webhooks
from workflow.db import insert_once, unit_of_work
from workflow.models import DeliveryStatus, ProcessedMessage, utcnow
from workflow.repository import requests as requests_repo
from workflow.settings import Settings

from .broker import QUEUE
from .channels import NotificationEvent, channels_for, post_webhook

log = logging.getLogger(__name__)


_PROCESSED = ProcessedMessage.__table__


def _once(session: Session, actor_name: str) -> bool:
    """Record the current message as processed; False when it already was."""
    message = CurrentMessage.get_current_message()
    if message is None:  # called directly, not through the broker
        return True
    # A worker that meets a delivery still being processed by another waits for that transaction,
    # then skips it.
    if not insert_once(session, _PROCESSED, "message_id", {"message_id": message.message_id,
                                                           "actor_name": actor_name, "processed_at": utcnow()}):
        log.info("%s: message %s already processed", actor_name, message.message_id)
        return False
    return True


def declare(broker: dramatiq.Broker, sessions: sessionmaker[Session], settings: Settings) -> dict[str, dramatiq.Actor]:
    """Declare the actors on ``broker``, bound to this process's database."""

    def route_request(request_id: int, round: int | None = None) -> None:
        with unit_of_work(sessions) as session:
            if not _once(session, "route_request"):
                return
            # Locked here once; routing and the trigger it fires find the row locked and loaded.
            request = requests_repo.get_for_update(session, request_id, missing_ok=True)
            if request is None or (round is not None and request.round != round):
                return  # gone, or a message from an earlier round
            fired = routing.route_request(session, settings, request_id)
            if fired:
                log.info("routed request %s by %s", request_id, fired.trigger)

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

    channels = channels_for(settings)

    def send_notification(event_id: str, kind: str, request_id: int | None, recipients: list[int],
                          data: dict) -> None:
        event = NotificationEvent(event_id=event_id, kind=kind, request_id=request_id,
                                  recipients=tuple(recipients), data=data or {})
        with unit_of_work(sessions) as session:
            if _once(session, "send_notification"):
                for channel in channels:
                    channel.send(session, event)

    def deliver_webhook(delivery_id: int) -> None:
        """POST one planned webhook delivery. Three steps so that no transaction (and no row lock)
        is open during the network call: read what to send, send, record the answer."""
        with unit_of_work(sessions) as session:
            attempt = webhooks.next_attempt(session, delivery_id, utcnow())
            if attempt is None:  # delivered, failed or gone: already done is success
                _once(session, "deliver_webhook")
                return
        status_code, error = post_webhook(attempt, int(time.time()), settings.webhook_timeout_seconds)
        # dramatiq counts retries in the message; the row counts attempts across redeliveries too.
        # Either reaching the limit makes this the last attempt.
        message = CurrentMessage.get_current_message()
        retries = message.options.get("retries", 0) if message is not None else 0
        last = retries >= settings.webhook_max_attempts - 1
        _, delay_ms = compute_backoff(retries, factor=settings.webhook_min_backoff_ms,
                                      max_backoff=settings.webhook_max_backoff_ms)
        now = utcnow()
        with unit_of_work(sessions) as session:
            delivery = webhooks.record_attempt(session, settings, delivery_id, status_code=status_code, error=error,
                                               now=now, last=last, retry_at=now + timedelta(milliseconds=delay_ms))
            finished = delivery is None or delivery.status != DeliveryStatus.pending
            if finished:
                # Recorded so that the embedded relay's restart recovery does not send it again.
                _once(session, "deliver_webhook")
        if finished:
            if delivery is not None and delivery.status == DeliveryStatus.failed:
                log.warning("webhook delivery %s failed for good after %s attempts: %s", delivery_id,
                            delivery.attempts, delivery.last_error)
            return
        log.info("webhook delivery %s: attempt %s failed (%s), retrying in %d ms", delivery_id,
                 delivery.attempts, error, delay_ms)
        # Retry (not a plain exception): dramatiq retries it without logging a traceback, after
        # exactly the delay recorded in next_attempt_at.
        raise dramatiq.Retry(f"webhook delivery {delivery_id}: {error}", delay=delay_ms)

    functions: list[Callable[..., None]] = [route_request, record_outcome, send_notification]
    for channel in channels:
        functions.extend(channel.actors(sessions))
    declared = {
        fn.__name__: dramatiq.actor(fn, broker=broker, actor_name=fn.__name__, queue_name=QUEUE, max_retries=10,
                                    min_backoff=500, max_backoff=60_000)
        for fn in functions
    }
    # Webhook retries follow their own settings: receivers can be down far longer than our own parts.
    declared["deliver_webhook"] = dramatiq.actor(
        deliver_webhook, broker=broker, actor_name="deliver_webhook", queue_name=QUEUE,
        max_retries=settings.webhook_max_attempts - 1, min_backoff=settings.webhook_min_backoff_ms,
        max_backoff=settings.webhook_max_backoff_ms,
    )
    return declared
