"""Rendering pages: one Jinja2 environment with Babel translations and locale-aware formatting.

Templates mark text with ``{{ _("...") }}`` (``%(name)s`` placeholders) and ``{% trans %}``; the
messages live in the same catalogue as the rest of the project (``workflow/locale``). Dates, times,
numbers and percentages go through the filters below so they read the way the user's language
writes them. Autoescaping is on for every template.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request

from workflow.i18n import SUPPORTED, Text, negotiate, translate

from . import session as web_session

TEMPLATES = Path(__file__).parent / "templates"
_locale: ContextVar[str] = ContextVar("web_locale", default="zh_CN")
_zone: ContextVar[str] = ContextVar("web_zone", default="Asia/Shanghai")


def gettext(message: str) -> str:
    return translate(message, _locale.get())


def ngettext(singular: str, plural: str, n: int) -> str:
    return translate(singular if n == 1 else plural, _locale.get())


env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html", "xml"], default=True),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]


# --- locale-aware formatting --------------------------------------------------------------------

@lru_cache(maxsize=8)
def babel_locale(code: str) -> Locale:
    """The babel Locale of a language code, parsed once: parsing costs more than formatting."""
    return Locale.parse(code)


@lru_cache(maxsize=32)
def number_pattern(pattern: str) -> babel_numbers.NumberPattern:
    """A number format pattern, parsed once (babel parses a pattern string on every call)."""
    return babel_numbers.parse_pattern(pattern)


def _babel_locale() -> Locale:
    return babel_locale(_locale.get())


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(_zone.get()))


def format_datetime(value: datetime | None, form: str = "medium") -> str:
    if value is None:
        return "—"
    return babel_dates.format_datetime(_local(value), form, locale=_babel_locale())


def format_date(value, form: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _local(value).date()
    return babel_dates.format_date(value, form, locale=_babel_locale())


def format_number(value, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is not None:
        return babel_numbers.format_decimal(
            value, format=number_pattern(f"#,##0.{'0' * digits}" if digits else "#,##0"), locale=_babel_locale())
    return babel_numbers.format_decimal(value, locale=_babel_locale())


def format_percent(value, digits: int = 1) -> str:
    """A rate from 0 to 1 (or None when nothing was counted) as a percentage."""
    if value is None:
        return "—"
    return babel_numbers.format_percent(Decimal(str(value)), format=number_pattern(f"#,##0.{'0' * digits}%"),
                                        locale=_babel_locale())


def until(deadline: datetime | None, now: datetime | None = None) -> str:
    """How long until ``deadline`` ("in 3 hours" / "3 小时后"), or how long past it."""
    if deadline is None:
        return ""
    now = now or datetime.now(UTC)
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    delta = deadline - now
    return babel_dates.format_timedelta(delta, add_direction=True, threshold=1.5, locale=_babel_locale())


def overdue(deadline: datetime | None, now: datetime | None = None) -> bool:
    if deadline is None:
        return False
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    return deadline < (now or datetime.now(UTC))


def render_text(value) -> str:
    """A workflow :class:`Text` (an error, a label) in the user's language."""
    return value.render(_locale.get()) if isinstance(value, Text) else str(value)


def iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


env.filters.update(dt=format_datetime, date=format_date, num=format_number, pct=format_percent,
                   until=until, text=render_text, iso=iso)
env.globals.update(overdue=overdue, SUPPORTED=SUPPORTED)


# --- pages --------------------------------------------------------------------------------------

def locale_of(request: Request) -> str:
    chosen = web_session.load(request).locale
    return chosen if chosen in SUPPORTED else negotiate(request.headers.get("accept-language"))


def activate(request: Request) -> str:
    """Make this request's language and time zone the ones templates and filters use."""
    locale = locale_of(request)
    _locale.set(locale)
    _zone.set(request.app.state.runtime.settings.timezone)
    return locale


PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                "X-Content-Type-Options": "nosniff"}


def page(request: Request, template: str, context: dict | None = None, *, status: int = 200,
         headers: dict | None = None) -> HTMLResponse:
    """Render ``template`` as a full page for this request's user."""
    from .context import current_user  # the context module renders through this one
    from .nav import navigation

    locale = activate(request)
    ws = web_session.load(request)
    context = dict(context or {})
    user = context.get("user") or current_user(request)
    links, path = navigation(user), request.url.path
    values = {
        "request": request,
        "locale": locale,
        "lang": "zh-CN" if locale == "zh_CN" else "en",
        "csrf_token": ws.csrf,
        "csrf_field": Markup(f'<input type="hidden" name="{web_session.CSRF_FIELD}" value="{ws.csrf}">'),
        "flashes": ws.pop_flashes(),
        "user": user,
        "nav": links,
        "nav_active": max((link.href for link in links if path == link.href or path.startswith(link.href + "/")),
                          key=len, default=None),
        "path": path,
        "current": _here(request),
        **context,
    }
    html = env.get_template(template).render(values)
    # Pages show personal data: no shared cache keeps them, and no other site frames them.
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def _here(request: Request) -> str:
    """Where the language switch comes back to: this page, or for a page answering a form post
    (an error shown beside a field) the page the form was on, since its address only takes posts."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return "/"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""), "/")


def redirect(url: str, status: int = 303) -> RedirectResponse:
    """After a form post: see the result at ``url`` (303, so a reload does not post again)."""
    return RedirectResponse(url, status_code=status)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: ``next=//evil.example`` or ``next=https://...`` go to ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
