"""Public pages: the notice board of a community or street (公示) and its PDF, and a building's
stairwell poster (亮身份); and the member's own choice of what residents see of them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.schemas import DbId
from workflow import exports
from workflow.board import views as board_views
from workflow.errors import DomainError, NotFound
from workflow.exports import PDF
from workflow.i18n import _
from workflow.identity import commands as identity_commands
from workflow.identity import views as identity
from workflow.models import Building, Community

from .. import charts, forms
from ..context import WebCtx, form_data, get_web_ctx
from ..render import page, redirect

router = APIRouter(include_in_schema=False)
Code = Path(max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$")
# The board and the poster change at most with a publication or a pairing: a short public cache.
PUBLIC_HEADERS = {"Cache-Control": "public, max-age=300"}


def _today(ctx: WebCtx) -> date:
    return ctx.settings.today()


def _board(ctx: WebCtx, tx, scope_kind: str, code: str, period: str | None) -> dict:
    return board_views.board(tx.session, scope_kind, code, _today(ctx), ctx.locale, period=period,
                             timezone=ctx.settings.timezone)


@router.get("/board/{scope_kind}/{code}")
def board_page(scope_kind: Literal["community", "street"], code: str = Code,
               period: str | None = Query(None, max_length=7), ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(auth=False) as tx:
        board = _board(ctx, tx, scope_kind, code, period)
    label = charts.period_label(board["period"], ctx.locale) if board["period"] else ""
    return page(ctx.request, "board/board.html", {"board": board, "period_label": label}, headers=PUBLIC_HEADERS)


@router.get("/board/{scope_kind}/{code}/notice.pdf")
def board_notice(scope_kind: Literal["community", "street"], code: str = Code,
                 period: str | None = Query(None, max_length=7), ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(auth=False) as tx:
        board = _board(ctx, tx, scope_kind, code, period)
    body = exports.board_pdf(board, ctx.locale, ctx.settings.pdf_font)  # reportlab loads on first use
    return Response(body, media_type=PDF, headers={
        **PUBLIC_HEADERS, "Content-Disposition": f'attachment; filename="notice-{scope_kind}-{code}.pdf"'})


@router.get("/buildings/{building_id}/poster.pdf")
def building_poster(building_id: DbId, ctx: WebCtx = Depends(get_web_ctx)):
    with ctx.transaction(auth=False) as tx:
        building = tx.session.get(Building, building_id)
        if building is None:
            raise NotFound(_("Building {id} does not exist.", id=building_id), code="building_not_found")
        serving = identity.serving(tx.session, building.id, _today(ctx), ctx.locale)
        community = tx.session.get(Community, building.community_id).name
    report_url = str(ctx.request.base_url).rstrip("/") + f"/report?community_id={building.community_id}"
    body = exports.poster_pdf(serving, community, report_url, ctx.locale, ctx.settings.pdf_font)
    return Response(body, media_type=PDF, headers={
        **PUBLIC_HEADERS, "Content-Disposition": f'attachment; filename="poster-building-{building_id}.pdf"'})


# --- the member's choice ----------------------------------------------------------------------

def _showing_page(ctx: WebCtx, *, errors: dict | None = None, status: int = 200):
    with ctx.transaction(roles=("member",)) as tx:
        showing = identity.showing_of(tx.session, tx.actor.member_id)
    return page(ctx.request, "member/showing.html", {"showing": showing, "errors": errors or {}}, status=status)


@router.get("/member/showing")
def showing(ctx: WebCtx = Depends(get_web_ctx)):
    return _showing_page(ctx)


@router.post("/member/showing")
def set_showing(form: FormData = Depends(form_data), ctx: WebCtx = Depends(get_web_ctx)):
    changes = {"show_name": forms.text(form, "show_name") == "1", "show_unit": forms.text(form, "show_unit") == "1",
               "title": forms.text(form, "title")}
    try:
        with ctx.transaction(roles=("member",)) as tx:
            identity_commands.set_showing(tx.session, tx.actor, changes)
    except DomainError as exc:
        if exc.status in (401, 404) or exc.code == "wrong_role":
            raise
        return _showing_page(ctx, errors={"_form": forms.message_of(ctx, exc), **forms.errors_of(ctx, exc, ("title",))},
                             status=exc.status)
    ctx.flash(_("Saved."))
    return redirect("/member/showing")
