"""The landing page. The pages for each kind of user build on this router."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from workflow.i18n import negotiate

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    locale = negotiate(request.headers.get("accept-language"))
    return templates.TemplateResponse(request, "index.html", {"locale": locale})
