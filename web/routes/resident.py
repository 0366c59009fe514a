"""Pages of the resident side: "my requests", and following a request by its tracking code without
logging in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from workflow import tracking
from workflow.i18n import _
from workflow.identity import views as identity
from workflow.lifecycle import EVENT_LABELS, STATUS_LABELS
from workflow.models import Category, Community, Request, Role, utcnow
from workflow.repository import requests as repo
from workflow.scoring.periods import local_date

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


def _steps(steps: list[tuple[str, datetime]], locale: str) -> list[dict[str, Any]]:
    """A timeline as labels and times only (no notes, actors or data)."""
    return [{"trigger": trigger, "label": EVENT_LABELS[trigger].render(locale) if trigger in EVENT_LABELS
             else trigger, "created_at": at} for trigger, at in steps]


@router.get("/my/requests")
def my_requests(page_no: int = Query(1, alias="page", ge=1, le=100_000), ctx: WebCtx = Depends(get_web_ctx)):
    """The resident's requests, and the ones their merged duplicates joined, newest first."""
    with ctx.transaction(roles=(Role.resident.value, Role.volunteer.value)) as tx:
        me = tx.actor.account_id
        rows = repo.mine(tx.session, tx.actor, limit=PER_PAGE + 1, offset=(page_no - 1) * PER_PAGE, following=True)
        more, rows = len(rows) > PER_PAGE, rows[:PER_PAGE]
        recent = repo.recent_events(tx.session, [r.id for r in rows], RECENT_EVENTS)
        waiting = repo.awaiting_evaluation(tx.session, me, rows)
        cards = [{
            **request_card(tx.session, tx.actor, r, ctx.locale),
            "following": r.reporter_id != me,
            "awaiting_evaluation": r.id in waiting,
            "tracking_code": tracking.code_shown_to(ctx.settings, tx.actor, r),
            "recent": _steps([(e.trigger, e.created_at) for e in recent.get(r.id, [])], ctx.locale),
        } for r in rows]
    return page(ctx.request, "resident/requests.html", {
        "cards": cards, "page_no": page_no, "has_next": more, "has_previous": page_no > 1,
    })


def _public(session, request: Request, locale: str, timezone: str) -> dict[str, Any]:
    """The tracking page's view (workflow.tracking.public_view decides what it holds) with names."""
    view = tracking.public_view(session, request)
    category = session.get(Category, view.category_id)
    community = session.get(Community, view.community_id)
    return {
        "id": view.id,
        "status": view.status.value,
        "status_label": STATUS_LABELS[view.status].render(locale),
        "category_name": category.name_in(locale),
        "community_name": community.name if community else "",
        "submitted_at": view.submitted_at,
        "deadline": view.deadline[1] if view.deadline else None,
        "deadline_label": DEADLINE_LABELS[view.deadline[0]] if view.deadline else None,
        "result": view.result,
        "events": _steps(view.steps, locale),
        # 亮身份: the members and grid workers serving its building, and who did the work.
        "serving": identity.serving(session, request.building_id, local_date(utcnow(), timezone), locale),
        "handled": identity.handled_by(session, request, locale),
    }


def _track(ctx: WebCtx, token: str):
    token = token.strip()
    with ctx.transaction(auth=False) as tx:
        request = tracking.find(tx.session, ctx.settings, token) if token else None
        r = _public(tx.session, request, ctx.locale, ctx.settings.timezone) if request is not None else None
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
