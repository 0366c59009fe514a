"""User-facing text: English message ids in code, translated through Babel catalogues.

Simplified Chinese is the default language; English is the second. A :class:`Text` is rendered
when it reaches a person (an API error, a label), in the language that person asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED = ("zh_CN", "en")


@dataclass(frozen=True)
class Text:
    """A message id with its parameters, translated late."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        template = translate(self.msgid, locale)
        values = {k: (v.render(locale) if isinstance(v, Text) else v) for k, v in self.params.items()}
        return template.format(**values) if values else template

    def __str__(self) -> str:
        return self.render("en")


def _(msgid: str, **params: object) -> Text:
    return Text(msgid, params)


@lru_cache
def _catalogue(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def translate(msgid: str, locale: str) -> str:
    if locale == "en":
        return msgid
    return _catalogue(locale).get(msgid, msgid)


def missing_translations(msgids: list[str], locale: str = DEFAULT_LOCALE) -> list[str]:
    catalogue = _catalogue(locale)
    return [m for m in msgids if m not in catalogue]


def negotiate(accept_language: str | None) -> str:
    """Pick the language from an Accept-Language header: English if it comes first, else Chinese."""
    if not accept_language:
        return DEFAULT_LOCALE
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh") or tag == "*":
            return DEFAULT_LOCALE
    return DEFAULT_LOCALE
