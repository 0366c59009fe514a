"""Pages of the resident side: "my requests", and following a request by its tracking code without
logging in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from workflow import tracking
from workflow.deadlines import next_deadline
from workflow.i18n import _
from workflow.lifecycle import EVENT_LABELS, STATUS_LABELS
from workflow.models import Category, Community, Request, Role, Status
from workflow.repository import requests as repo

from ..context import WebCtx, get_web_ctx
from ..render import page
from ..views import DEADLINE_LABELS, request_card

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
RECENT_EVENTS = 3
# The tracking page is opened by whoever holds the code: keep it out of caches, search engines and
# the Referer header of any link followed from it.
NO_SUCH_CODE = _("No request has this tracking code. Check the code and try again.")
TRACK_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _events(events, locale: str) -> list[dict[str, Any]]:
    """A timeline as labels and times only (no notes, actors or data)."""
    return [{"trigger": e.trigger, "label": EVENT_LABELS[e.trigger].render(locale) if e.trigger in EVENT_LABELS
             else e.trigger, "created_at": e.created_at} for e in events]


@router.get("/my/requests")
def my_requests(page_no: int = Query(1, alias="page", ge=1, le=100_000), ctx: WebCtx = Depends(get_web_ctx)):
    """The resident's requests, and the ones their merged duplicates joined, newest first."""
    with ctx.transaction(roles=(Role.resident.value,)) as tx:
        me = tx.actor.account_id
        rows = repo.mine(tx.session, tx.actor, limit=PER_PAGE + 1, offset=(page_no - 1) * PER_PAGE, following=True)
        more, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
        recent = repo.recent_events(tx.session, [r.id for r in rows], RECENT_EVENTS)
        waiting = repo.awaiting_evaluation(tx.session, me, rows)
        cards = [{
            **request_card(tx.session, tx.actor, r, ctx.locale),
            "following": r.reporter_id != me,
            "awaiting_evaluation": r.id in waiting,
            "tracking_code": tracking.code_for(ctx.settings, r.id) if r.reporter_id == me else None,
            "recent": _events(recent.get(r.id, []), ctx.locale),
        } for r in rows]
    return page(ctx.request, "resident/requests.html", {
        "cards": cards, "page_no": page_no, "has_next": more, "has_previous": page_no > 1,
    })


def _public(session, request: Request, locale: str) -> dict[str, Any]:
    """What anyone holding the tracking code may see: no description, contact, notes, actors or photos."""
    category = session.get(Category, request.category_id)
    community = session.get(Community, request.community_id)
    due = next_deadline(request)
    return {
        "id": request.id,
        "status": request.status.value,
        "status_label": STATUS_LABELS[request.status].render(locale),
        "category_name": category.name_en if locale == "en" else category.name_zh,
        "community_name": community.name if community else "",
        "submitted_at": request.submitted_at,
        "deadline": due[1] if due else None,
        "deadline_label": DEADLINE_LABELS[due[0]] if due else None,
        "result": request.result if request.status in (Status.resolved, Status.closed) else "",
        "events": _events(repo.events(session, request.id), locale),
    }


def _track(ctx: WebCtx, token: str):
    token = token.strip()
    with ctx.transaction(auth=False) as tx:
        request = tracking.find(tx.session, ctx.settings, token) if token else None
        r = _public(tx.session, request, ctx.locale) if request is not None else None
    if r is None:
        errors = {"token": ctx.text(NO_SUCH_CODE)} if token else {}
        return page(ctx.request, "resident/track.html", {"r": None, "token": token, "errors": errors},
                    status=404 if token else 200, headers=TRACK_HEADERS)
    return page(ctx.request, "resident/track.html", {"r": r, "token": token, "errors": {}}, headers=TRACK_HEADERS)


@router.get("/track")
def track_form(token: str = Query("", max_length=100), ctx: WebCtx = Depends(get_web_ctx)):
    """Follow a request by its tracking code, without logging in."""
    return _track(ctx, token)


@router.get("/track/{token}")
def track(token: str, ctx: WebCtx = Depends(get_web_ctx)):
    return _track(ctx, token[:100])
