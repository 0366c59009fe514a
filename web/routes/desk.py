"""The desks: community staff's queue (secretaries and admins see theirs), the street office's
escalated queue, and the supervision marks (督办) a street or a secretary follows.

The lists come from the same queries as the JSON API's ``/queue`` and ``/street/queue``; the pages
only pick the page and the statuses asked for in the address.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request

from workflow.commands import street
from workflow.lifecycle import STATUS_LABELS
from workflow.repository import requests as repo

from .. import forms
from ..context import WebCtx, get_web_ctx
from ..render import page
from ..views import SUPERVISION_LABELS, request_card

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
DESK_ROLES = ("staff", "secretary", "admin")
STREET_ROLES = ("street_officer", "admin")
SUPERVISION_ROLES = ("street_officer", "secretary", "admin")


def _page_number(request: Request) -> int:
    """``?page=`` as a number from 1; anything else is the first page."""
    raw = request.query_params.get("page", "")
    return forms.number(raw, 99_999) or 1


def _pager(request: Request, number: int, more: bool, **params) -> dict:
    """Links to the previous and next page that keep the other parameters of the address."""
    def url(n: int) -> str:
        query = urlencode({**{k: v for k, v in params.items() if v}, "page": n}, doseq=True)
        return f"{request.url.path}?{query}"

    return {"number": number, "prev": url(number - 1) if number > 1 else None,
            "next": url(number + 1) if more else None}


@router.get("/desk")
def desk(request: Request, ctx: WebCtx = Depends(get_web_ctx)):
    """The queue of community staff (a secretary's scope, every community for admins), supervision
    marks first, then the nearest running deadline; filtered by status, 20 to a page."""
    number = _page_number(request)
    asked = set(request.query_params.getlist("status"))
    with ctx.transaction(roles=DESK_ROLES) as tx:
        _scope, offered = repo.desk_scope(tx.actor)
        chosen = [s for s in offered if s.value in asked]
        rows = repo.queue(tx.session, tx.actor, statuses=chosen or None, limit=PAGE_SIZE + 1,
                          offset=(number - 1) * PAGE_SIZE)
        cards = [request_card(tx.session, tx.actor, r, ctx.locale) for r in rows[:PAGE_SIZE]]
        counts = repo.queue_counts(tx.session, tx.actor)
    statuses = [{"value": s.value, "label": STATUS_LABELS[s], "count": counts.get(s, 0),
                 "checked": s in chosen} for s in offered]
    context = {
        "cards": cards,
        "statuses": statuses,
        "total": sum(counts.values()),
        "filtered": bool(chosen),
        "pager": _pager(request, number, len(rows) > PAGE_SIZE, status=[s.value for s in chosen]),
    }
    return page(request, "desk/queue.html", context)


@router.get("/street")
def street_desk(request: Request, ctx: WebCtx = Depends(get_web_ctx)):
    """The street office's escalated requests (every street's for admins), each with the
    departments called in that have not reported in and how many of them are late."""
    number = _page_number(request)
    with ctx.transaction(roles=STREET_ROLES) as tx:
        rows = street.street_queue(tx.session, tx.actor, None, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE)
        cards = [{**request_card(tx.session, tx.actor, r, ctx.locale), "open_whistles": open_,
                  "overdue_whistles": overdue} for r, open_, overdue in rows[:PAGE_SIZE]]
    context = {"cards": cards, "pager": _pager(request, number, len(rows) > PAGE_SIZE)}
    return page(request, "street/queue.html", context)


@router.get("/street/supervision")
def supervision(request: Request, ctx: WebCtx = Depends(get_web_ctx)):
    """Yellow and red marks on the requests of the officer's street (a secretary's scope), with the
    reason and who set each."""
    number = _page_number(request)
    with ctx.transaction(roles=SUPERVISION_ROLES) as tx:
        marks = street.supervision_marks(tx.session, tx.actor, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE)
        cards = [{**request_card(tx.session, tx.actor, m.request, ctx.locale), "mark_reason": m.reason,
                  "mark_set_at": m.set_at, "mark_set_by": m.set_by} for m in marks[:PAGE_SIZE]]
    context = {"cards": cards, "pager": _pager(request, number, len(marks) > PAGE_SIZE),
               "supervision_labels": SUPERVISION_LABELS}
    return page(request, "street/supervision.html", context)

