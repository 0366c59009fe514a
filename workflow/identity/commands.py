"""A member sets what residents see of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor, require_member
from ..db import insert_once
from ..errors import InvalidInput
from ..i18n import _
from ..models import utcnow
from ..validation import clean_text
from .models import MemberShowing

FIELDS = ("show_name", "show_unit", "title")


def set_showing(session: Session, actor: Actor, changes: dict[str, Any], *, now: datetime | None = None
                ) -> MemberShowing:
    now = now or utcnow()
    member_id = require_member(actor)
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(_("Unknown field {field}.", field=unknown[0]), code="unknown_field",
                           details={"field": unknown[0]})
    row = session.get(MemberShowing, member_id, with_for_update=True)
    if row is None:
        # Two first choices at once (two tabs, two phones): one row goes in, the other waits for it.
        insert_once(session, MemberShowing.__table__, "member_id", {
            "member_id": member_id, "show_name": True, "show_unit": True, "title": "", "updated_at": now})
        row = session.get(MemberShowing, member_id, with_for_update=True, populate_existing=True)
    before = audit.snapshot(row, FIELDS)
    for field in ("show_name", "show_unit"):
        if field in changes:
            if not isinstance(changes[field], bool):
                raise InvalidInput(_("{field} must be true or false.", field=field), code="invalid_type",
                                   details={"field": field})
            setattr(row, field, changes[field])
    if "title" in changes:
        row.title = clean_text(changes["title"], "title", limit=30, required=False)
    row.updated_at = now
    session.flush()
    audit.record(session, actor, "member.showing", f"member:{member_id}", now,
                 {"before": before, "after": audit.snapshot(row, FIELDS)})
    return row
