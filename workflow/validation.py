"""Input checks shared by commands: one wording and one set of error codes everywhere."""

from __future__ import annotations

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
