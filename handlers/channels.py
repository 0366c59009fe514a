"""Notification channels: how one notification event leaves the system.

``send_notification`` (handlers/actors.py) hands each event to every registered channel, in
registration order, inside the actor's one unit of work: the in-app inbox, then webhooks, then any
plug-in. A channel that raises rolls the whole unit back (the processed-message guard included) and
dramatiq retries the message, so every channel must be idempotent per ``event_id``: the inbox skips
accounts that already have the event, webhooks skip webhooks that already have a delivery of it.

A channel never talks to the outside world inside ``send``: the unit of work is open, a slow
provider would hold it, and a message sent cannot be rolled back with it. A channel that reaches an
outside service plans instead — a row per (recipient, event) with a unique key plus an outbox
message for an actor of its own — and that actor sends after the commit, outside any transaction,
as ``WebhookChannel`` and the ``deliver_webhook`` actor do.

Plug-in points (SMS, WeChat): subclass :class:`Channel`, e.g. an ``SmsChannel`` whose ``send`` looks
up ``Account.phone`` of the recipients, writes one row per (account, event id) and enqueues a
``send_sms`` outbox message, and whose ``actors`` returns the ``send_sms`` function that calls the
SMS gateway (providers such as Aliyun SMS take a caller-chosen id to drop duplicates: pass the
event id). A WeChat channel does the same with the resident's openid (which needs a column first).
Register it in either of two ways, before the runtime starts:

- ``register_channel("sms", SmsChannel)`` in code imported by the process, or
- an entry point in the package that ships it, found at start-up without touching this code::

      [project.entry-points."shoubanping.channels"]
      sms = "mycity_sms:SmsChannel"
"""

from __future__ import annotations

import abc
import http.client
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import ClassVar

from sqlalchemy.orm import Session, sessionmaker

from workflow import notifications, webhooks
from workflow.models import utcnow
from workflow.settings import Settings

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "shoubanping.channels"
USER_AGENT = "Shoubanping-Webhook/1"
_ERROR_BODY_CHARS = 200


@dataclass(frozen=True)
class NotificationEvent:
    """One notification as the outbox carries it: ``recipients`` are account ids."""

    event_id: str
    kind: str
    request_id: int | None
    recipients: tuple[int, ...]
    data: dict = field(default_factory=dict)


class Channel(abc.ABC):
    """A way notifications go out. Built once per runtime with its settings."""

    name: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def send(self, session: Session, event: NotificationEvent) -> None:
        """Deliver or plan ``event`` inside the caller's unit of work; flush, never commit.
        Must be idempotent per ``event.event_id`` and must not do network I/O."""

    def actors(self, sessions: sessionmaker[Session]) -> list[Callable[..., None]]:
        """Functions to declare as dramatiq actors (named after the function) for the messages this
        channel enqueues. Built-in channels declare theirs in handlers/actors.py."""
        return []


class InboxChannel(Channel):
    """The in-app inbox, read through ``GET /api/v1/notifications``."""

    name = "inbox"

    def send(self, session: Session, event: NotificationEvent) -> None:
        notifications.deliver_to_inbox(session, event.event_id, event.kind, event.request_id,
                                       list(event.recipients), event.data)


class WebhookChannel(Channel):
    """Outgoing webhooks: plans one delivery per matching webhook; ``deliver_webhook`` POSTs it."""

    name = "webhook"

    def send(self, session: Session, event: NotificationEvent) -> None:
        planned = webhooks.plan(session, event_id=event.event_id, kind=event.kind, request_id=event.request_id,
                                data=event.data, now=utcnow())
        if planned:
            log.info("event %s: %d webhook deliveries planned", event.event_id, len(planned))


ChannelFactory = Callable[[Settings], Channel]
_registry: dict[str, ChannelFactory] = {"inbox": InboxChannel, "webhook": WebhookChannel}


def register_channel(name: str, factory: ChannelFactory) -> None:
    """Add (or replace) a channel; runtimes built afterwards use it."""
    _registry[name] = factory


def channels_for(settings: Settings) -> list[Channel]:
    """The channels of one runtime: the registered ones, then plug-ins found as entry points."""
    factories = dict(_registry)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        # A plug-in that fails to load stops the start-up: silently dropping SMS would be worse.
        factories.setdefault(point.name, point.load())
    return [factory(settings) for factory in factories.values()]


# --- the HTTP side of webhooks -------------------------------------------------------------------

class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: a receiver that moved is re-registered by an admin,
    and following it would re-POST signed events to an address nobody registered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_webhook(attempt: webhooks.Attempt, timestamp: int, timeout: float) -> tuple[int | None, str]:
    """POST one attempt. Returns the HTTP status (None when there was no answer) and an error text
    for anything that is not 2xx. Runs outside any database transaction."""
    headers = {**attempt.headers(timestamp), "User-Agent": USER_AGENT}
    request = urllib.request.Request(attempt.url, data=attempt.body.encode(), headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(64 * 1024)  # drain a little so keep-alive servers see a complete exchange
            return response.status, ""
    except urllib.error.HTTPError as exc:
        with exc:
            detail = (exc.read(_ERROR_BODY_CHARS) or b"").decode(errors="replace").strip()
        return exc.code, f"HTTP {exc.code}" + (f": {detail}" if detail else "")
    except (OSError, http.client.HTTPException, ValueError) as exc:  # refused, timeout, reset, bad answer
        return None, f"{type(exc).__name__}: {exc}"
