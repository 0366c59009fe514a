"""What the pages show of a request: the JSON API's view of it plus the names a person reads
(category, community, grid, building) and the deadline it now runs against."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api import schemas as s
from workflow.access import Actor
from workflow.deadlines import next_deadline
from workflow.errors import NotFound
from workflow.i18n import _
from workflow.models import Account, Building, Category, Channel, Community, Grid, Request
from workflow.repository import places
from workflow.repository.places import kept

DEADLINE_LABELS = {
    "respond": _("Respond by"),
    "claim": _("Claim by"),
    "resolve": _("Resolve by"),
    "evaluate": _("Evaluate by"),
}
CHANNEL_LABELS = {
    "report": _("Resident report"),
    "inspection": _("Inspection round"),
    "visit": _("Home visit"),
    "hotline": _("Hotline"),
    "open311": _("Open311"),
}
SATISFACTION_LABELS = {
    "satisfied": _("Satisfied"),
    "basically_satisfied": _("Basically satisfied"),
    "unsatisfied": _("Unsatisfied"),
}
# The parts of a member's composite score ("why this rank").
PART_LABELS = {"quality": _("Quality"), "hours": _("Service hours"), "points": _("Points")}
SUPERVISION_LABELS = {"normal": _("No mark"), "yellow": _("Yellow mark"), "red": _("Red mark")}


def _names(session: Session, request: Request, locale: str) -> dict[str, Any]:
    category = kept(session, Category, request.category_id)
    community = kept(session, Community, request.community_id)
    grid = kept(session, Grid, request.grid_id)
    building = kept(session, Building, request.building_id)
    return {
        "category_name": category.name_in(locale),
        "community_name": community.name if community else "",
        "grid_name": grid.name if grid else "",
        "building_name": building.name if building else "",
        "channel_label": CHANNEL_LABELS.get(request.channel.value, _("Other")),
        "collector_name": _collector_name(session, request),
        "supervision_label": SUPERVISION_LABELS.get(request.supervision, SUPERVISION_LABELS["normal"]),
    }


def _collector_name(session: Session, request: Request) -> str:
    """The Open311 client that filed it (its account bears the client's name); for the other
    channels the channel says enough."""
    if request.channel != Channel.open311:
        return ""
    account = kept(session, Account, request.collector_id)
    return account.display_name if account else ""


def _link(url: str) -> str | None:
    """A reporter's ``media_url`` as a link only when it is a web address (never javascript: and the like)."""
    return url if url.lower().startswith(("http://", "https://")) else None


def _deadline(request: Request) -> dict[str, Any]:
    due = next_deadline(request)
    if due is None:
        return {"deadline": None, "deadline_kind": None, "deadline_label": None}
    kind, at = due
    return {"deadline": at, "deadline_kind": kind, "deadline_label": DEADLINE_LABELS[kind]}


def request_card(session: Session, actor: Actor, request: Request, locale: str) -> dict[str, Any]:
    """One line of a list: the API's RequestOut plus names and the running deadline."""
    out = s.request_out(session, actor, request, locale).model_dump()
    return {**out, **_names(session, request, locale), **_deadline(request)}


def request_detail(session: Session, actor: Actor, request: Request, locale: str) -> dict[str, Any]:
    """A whole request: history, claims, evaluations and photos as the API shows them, plus names."""
    out = s.request_detail_out(session, actor, request, locale, door="page").model_dump()
    return {**out, **_names(session, request, locale), **_deadline(request), "media_link": _link(out["media_url"])}


def desk_community(session: Session, actor: Actor, community_id: int | None) -> int:
    """The community a desk page shows: the one asked for, else the viewer's own, else the first
    (street officers, street secretaries and admins belong to none)."""
    if community_id is None:
        community_id = actor.community_id or next((c.id for c, _st in places.communities(session)), None)
    if community_id is None:
        raise NotFound(_("There is no community yet."), code="community_not_found")
    return community_id
