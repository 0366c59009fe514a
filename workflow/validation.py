"""Input checks shared by commands: one wording and one set of error codes everywhere."""

from __future__ import annotations

import re
from typing import Any

from .errors import InvalidInput
from .i18n import Text, _


def clean_text(value: Any, field: str, *, code: str = "", message: Text | None = None, limit: int,
               required: bool = True) -> str:
    """Strip ``value``; refuse non-text, an empty value when ``required`` (with ``code`` and
    ``message``), and text longer than ``limit``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("{field} must be text.", field=field), code="invalid_type", details={"field": field})
    value = value.strip()
    if required and not value:
        raise InvalidInput(message, code=code, details={"field": field})
    if len(value) > limit:
        raise InvalidInput(_("{field} is longer than {limit} characters.", field=field, limit=limit),
                           code="text_too_long", details={"field": field, "limit": limit})
    return value


CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


def coded_names(code: Any, name_zh: Any, name_en: Any, *, what: Text, limit: int = 50) -> tuple[str, str, str]:
    """An entry an administrator adds to a vocabulary (a household tag, a member class): its
    stable code (lower-case letters, digits and _, from a letter) and its Chinese and English
    names, each cleaned; ``what`` names the vocabulary in the messages."""
    code = clean_text(code, "code", code="code_required", message=_("Give the {what} a code.", what=what), limit=32)
    if not re.match(CODE_PATTERN, code):
        raise InvalidInput(_("A code is lower-case letters, digits and _, starting with a letter."),
                           code="invalid_code", details={"field": "code"})
    zh, en = (clean_text(v, f, code="name_required", message=_("Give the {what} a name.", what=what), limit=limit)
              for v, f in ((name_zh, "name_zh"), (name_en, "name_en")))
    return code, zh, en
