"""The suggestion's and the meeting's lifecycles, as tables (DESIGN.md §3).

Kinds of actor, relative to the suggestion or meeting:
  desk     the staff and secretary of its community
"""

from __future__ import annotations

from ..i18n import _
from ..lifecycle import Table
from .models import MeetingStatus, SuggestionStatus

S = SuggestionStatus

SUGGESTION = Table(SuggestionStatus, (
    ("take_up", "received", S.deliberating, "desk"),
    ("adopt", "received deliberating", S.adopted, "desk"),
    ("decline", "received deliberating", S.declined, "desk"),
    ("complete", "adopted", S.done, "desk"),
), initial=S.received)

MEETING = Table(MeetingStatus, (
    ("decide", "open", MeetingStatus.decided, "desk"),
), initial=MeetingStatus.open)

STATUS_LABELS = {
    S.received: _("Awaiting consideration"),
    S.deliberating: _("Under deliberation"),
    S.adopted: _("Adopted"),
    S.declined: _("Not adopted"),
    S.done: _("Carried out"),
}
TRIGGER_LABELS = {
    "submit": _("Submitted"),
    "take_up": _("Take up for deliberation"),
    "adopt": _("Adopt"),
    "decline": _("Decline"),
    "complete": _("Carried out"),
}
