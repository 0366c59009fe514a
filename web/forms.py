"""From a posted form to the plain values the workflow commands take, and back to field errors.

The commands check every value themselves (types, ranges, lengths) and name the field at fault in
``details["field"]``; the pages only turn form strings into ints and booleans where a command wants
them, leaving anything that does not convert as it is so the command's own message explains it.
"""

from __future__ import annotations

import re

from starlette.datastructures import FormData

from workflow.commands import photos as photo_cmds
from workflow.errors import DomainError, InvalidInput
from workflow.i18n import _

from .context import WebCtx, uploads


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def integer(form: FormData, name: str):
    """An int, None when left empty, or the raw text when it is not a number (the command refuses it)."""
    raw = text(form, name)
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return raw


def boolean(form: FormData, name: str):
    """Radio buttons or a select of yes/no: True, False, or None when not answered."""
    raw = text(form, name).lower()
    return {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}.get(raw)


class Message(str):
    """An error shown beside a field or at the top of a form: the text in the user's language, and
    the command's machine-readable code, which the page puts in ``data-code`` as the error pages do."""

    code: str

    def __new__(cls, text: str, code: str = "") -> Message:
        message = super().__new__(cls, text)
        message.code = code
        return message


def message_of(ctx: WebCtx, exc: DomainError) -> Message:
    return Message(ctx.text(exc.message), exc.code)


def errors_of(ctx: WebCtx, exc: DomainError, fields: tuple[str, ...] = ()) -> dict[str, str]:
    """A command's error beside the field it names (``_form`` when it names none of ``fields``)."""
    field = (exc.details or {}).get("field")
    message = message_of(ctx, exc)
    if field in fields:
        return {field: message}
    return {"_form": message}


def number(raw: object, maximum: int = 2_147_483_647) -> int | None:
    """A whole number from 1 to ``maximum`` written in ASCII digits, else None (``"²"`` and
    ``"٣"`` are digits to ``str.isdigit`` but not numbers anyone typed into an address)."""
    if not isinstance(raw, str) or re.fullmatch(r"[0-9]{1,10}", raw) is None:
        return None
    value = int(raw)
    return value if 1 <= value <= maximum else None


def to_int(raw):
    """One value of a multi-select as an int, or the raw text for the command to refuse."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return raw


def store_photos(ctx: WebCtx, tx, form: FormData, name: str = "photos") -> list[int]:
    """Store the photos chosen in file input ``name`` inside this unit of work; their ids go to the
    command, which attaches them. Size, type and count are checked by the photo commands, and an
    error names the ``photos`` field."""
    files = uploads(form, name)
    if len(files) > photo_cmds.MAX_PHOTOS:
        raise InvalidInput(_("At most {n} photos.", n=photo_cmds.MAX_PHOTOS), code="too_many_photos",
                           details={"field": "photos"})
    ids = []
    for upload in files:
        data = upload.file.read(ctx.settings.max_photo_bytes + 1)
        try:
            ids.append(photo_cmds.store(tx.session, tx.actor, data, ctx.settings.media_dir,
                                        ctx.settings.max_photo_bytes).id)
        except InvalidInput as exc:
            exc.details = {**(exc.details or {}), "field": "photos", "file": upload.filename or ""}
            raise
    return ids
