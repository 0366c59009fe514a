"""The two formats of GeoReport v2. JSON lists are bare arrays and XML wraps each list in its plural
element (``<services><service>...``); booleans are ``true``/``false``, datetimes ISO 8601 with an
offset, ids and codes strings, and an empty list is still a well-formed element."""

from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree as ET

from fastapi.responses import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "" if value is None else str(value)


def _fill(element: ET.Element, value) -> None:
    """``value`` as the content of ``element``: a dict as child elements, a list of (tag, items) as
    repeated children, anything else as text."""
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, Plural):
                holder = ET.SubElement(element, key)
                for item in child.items:
                    _fill(ET.SubElement(holder, child.tag), item)
            else:
                _fill(ET.SubElement(element, key), child)
    else:
        element.text = _text(value)


class Plural:
    """A list that XML writes as ``<key><tag>..</tag><tag>..</tag></key>`` and JSON as an array."""

    def __init__(self, tag: str, items: list):
        self.tag, self.items = tag, items


def _plain(value):
    if isinstance(value, Plural):
        return [_plain(v) for v in value.items]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


def respond(fmt: str, root: str, body, status: int = 200, headers: dict | None = None) -> Response:
    """``body`` is a :class:`Plural` (a list: ``root`` wraps its items in XML) or a dict (one object,
    ``root`` is its element)."""
    if fmt == "json":
        return Response(json.dumps(_plain(body), ensure_ascii=False), status_code=status, media_type=JSON_TYPE,
                        headers=headers)
    element = ET.Element(root)
    if isinstance(body, Plural):
        for item in body.items:
            _fill(ET.SubElement(element, body.tag), item)
    else:
        _fill(element, body)
    xml = ET.tostring(element, encoding="unicode")
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + xml, status_code=status, media_type=XML_TYPE,
                    headers=headers)


def error(fmt: str, status: int, description: str, headers: dict | None = None) -> Response:
    """Errors are always a list of ``{code, description}``, even for one."""
    return respond(fmt, "errors", Plural("error", [{"code": status, "description": description}]), status=status,
                   headers=headers)


def format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"
