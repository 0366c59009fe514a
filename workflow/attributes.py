"""A category's extra questions (Open311 service attributes) and the answers a report gives them.

A definition is a dict stored in ``Category.attributes``::

    {"code": "lamp_number", "datatype": "string", "required": true, "variable": true,
     "description_zh": "灯杆编号", "description_en": "Lamp post number",
     "values": [{"key": "…", "name_zh": "…", "name_en": "…"}]}      # list datatypes only

``variable`` false makes it a notice shown to the reporter that takes no answer. Answers are stored
in ``Request.attributes`` by code: text for string and text, a number, an ISO 8601 date and time
with its offset, a key for singlevaluelist, a list of keys for multivaluelist.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .errors import InvalidInput
from .i18n import DEFAULT_LOCALE, Text, _

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
MAX_ATTRIBUTES = 20
MAX_VALUES = 50
TEXT_LIMITS = {"string": 200, "text": 2000}
DESCRIPTION_LIMIT = 200
NAME_LIMIT = 100


# --- definitions (administration) ----------------------------------------------------------------

def _bad(message, field: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_attribute_definition", details={"field": field})


def _text(raw: Any, field: str, limit: int, *, required: bool) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise _bad(_("{field} must be text.", field=field), field)
    value = raw.strip()
    if required and not value:
        raise _bad(_("Please fill in {field}.", field=field), field)
    if len(value) > limit:
        raise _bad(_("{field} is longer than {limit} characters.", field=field, limit=limit), field)
    return value


def _flag(raw: Any, field: str, default: bool) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise _bad(_("{field} must be true or false.", field=field), field)
    return raw


def definitions(raw: Any) -> list[dict]:
    """Check an administrator's list of attribute definitions and return it in its stored form."""
    if not isinstance(raw, list):
        raise _bad(_("attributes must be a list."), "attributes")
    if len(raw) > MAX_ATTRIBUTES:
        raise _bad(_("A category has at most {n} attributes.", n=MAX_ATTRIBUTES), "attributes")
    out, seen = [], set()
    for i, item in enumerate(raw):
        where = f"attributes[{i}]"
        if not isinstance(item, dict):
            raise _bad(_("{field} must be an object.", field=where), where)
        unknown = sorted(set(item) - {"code", "datatype", "required", "variable", "description_zh",
                                      "description_en", "values"})
        if unknown:
            raise _bad(_("Unknown field {field}.", field=f"{where}.{unknown[0]}"), f"{where}.{unknown[0]}")
        code = item.get("code")
        if not isinstance(code, str) or not CODE.match(code):
            raise _bad(_("{field} must be 1 to 32 lowercase letters, digits or underscores, starting with a "
                         "letter.", field=f"{where}.code"), f"{where}.code")
        if code in seen:
            raise _bad(_("Two attributes have the code {code}.", code=code), f"{where}.code")
        seen.add(code)
        datatype = item.get("datatype")
        if datatype not in DATATYPES:
            raise _bad(_("{field} must be one of: {allowed}.", field=f"{where}.datatype",
                         allowed=", ".join(DATATYPES)), f"{where}.datatype")
        zh = _text(item.get("description_zh"), f"{where}.description_zh", DESCRIPTION_LIMIT, required=True)
        definition = {
            "code": code,
            "datatype": datatype,
            "required": _flag(item.get("required"), f"{where}.required", False),
            "variable": _flag(item.get("variable"), f"{where}.variable", True),
            "description_zh": zh,
            "description_en": _text(item.get("description_en"), f"{where}.description_en", DESCRIPTION_LIMIT,
                                    required=False) or zh,
        }
        if not definition["variable"]:
            definition["required"] = False
        values = item.get("values")
        if datatype in LISTS:
            definition["values"] = _values(values, f"{where}.values")
        elif values not in (None, []):
            raise _bad(_("Only list attributes (singlevaluelist, multivaluelist) have values."), f"{where}.values")
        out.append(definition)
    return out


def _values(raw: Any, where: str) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise _bad(_("A list attribute needs at least one value to choose from."), where)
    if len(raw) > MAX_VALUES:
        raise _bad(_("A list attribute has at most {n} values.", n=MAX_VALUES), where)
    out, keys = [], set()
    for j, value in enumerate(raw):
        spot = f"{where}[{j}]"
        if not isinstance(value, dict) or set(value) - {"key", "name_zh", "name_en"}:
            raise _bad(_("{field} must be an object with key, name_zh and name_en.", field=spot), spot)
        key = value.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            raise _bad(_("{field} must be 1 to 32 letters, digits, dots, dashes or underscores.",
                         field=f"{spot}.key"), f"{spot}.key")
        if key in keys:
            raise _bad(_("Two values have the key {key}.", key=key), f"{spot}.key")
        keys.add(key)
        zh = _text(value.get("name_zh"), f"{spot}.name_zh", NAME_LIMIT, required=True)
        out.append({"key": key, "name_zh": zh,
                    "name_en": _text(value.get("name_en"), f"{spot}.name_en", NAME_LIMIT, required=False) or zh})
    return out


def described(definition: dict, locale: str) -> str:
    return definition["description_en"] if locale == "en" else definition["description_zh"]


def value_name(value: dict, locale: str) -> str:
    return value["name_en"] if locale == "en" else value["name_zh"]


# --- answers (intake) ----------------------------------------------------------------------------

class _Question(Text):
    """A definition's description inside a message, in the reader's language (the administrator
    wrote both; it is no msgid of the catalogue)."""

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        return self.params["en"] if locale == "en" else self.params["zh"]


def _wrong(message, code: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_attribute", details={"field": f"attribute[{code}]", "attribute": code})


def answers(defs: list[dict], given: dict[str, list[str]], zone: str, *, required: bool = True) -> dict[str, Any]:
    """Check a report's answers against its category's definitions and return them to store.

    ``given`` maps an attribute code to the values sent for it (a list: forms may repeat a field).
    Empty values count as absent. An answer to a question the category does not ask is an error, as
    is a required question left unanswered (unless ``required`` is false: the form that sent the
    report does not ask these questions)."""
    by_code = {d["code"]: d for d in defs}
    given = {code: [v.strip() for v in values if v is not None and v.strip()] for code, values in given.items()}
    given = {code: values for code, values in given.items() if values}
    for code in given:
        if code not in by_code or not by_code[code]["variable"]:
            raise InvalidInput(_("This service has no attribute {code}.", code=code), code="unknown_attribute",
                               details={"field": f"attribute[{code}]", "attribute": code})
    out: dict[str, Any] = {}
    for definition in defs:
        code = definition["code"]
        values = given.get(code)
        if not values:
            if definition["required"] and required:
                question = _Question(code, {"zh": definition["description_zh"], "en": definition["description_en"]})
                raise InvalidInput(_("Please answer {question} (attribute {code}).", question=question, code=code),
                                   code="attribute_required", details={"field": f"attribute[{code}]",
                                                                       "attribute": code})
            continue
        datatype = definition["datatype"]
        if datatype != "multivaluelist" and len(values) > 1:
            raise _wrong(_("Attribute {code} takes one value.", code=code), code)
        if datatype == "multivaluelist":
            keys = {v["key"] for v in definition["values"]}
            bad = [v for v in values if v not in keys]
            if bad:
                raise _wrong(_("{value} is not a choice of attribute {code}.", value=bad[0], code=code), code)
            out[code] = list(dict.fromkeys(values))
            continue
        value = values[0]
        if datatype in TEXT_LIMITS:
            if len(value) > TEXT_LIMITS[datatype]:
                raise _wrong(_("Attribute {code} is longer than {limit} characters.", code=code,
                               limit=TEXT_LIMITS[datatype]), code)
            out[code] = value
        elif datatype == "number":
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise _wrong(_("Attribute {code} must be a number.", code=code), code)
            out[code] = int(number) if number.is_integer() and abs(number) < 2**53 else number
        elif datatype == "datetime":
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise _wrong(_("Attribute {code} must be a date and time, like 2026-11-01T08:30:00+08:00.",
                               code=code), code) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(zone))
            out[code] = moment.isoformat(timespec="seconds")
        else:  # singlevaluelist
            if value not in {v["key"] for v in definition["values"]}:
                raise _wrong(_("{value} is not a choice of attribute {code}.", value=value, code=code), code)
            out[code] = value
    return out


def answered(defs: list[dict], stored: dict[str, Any], locale: str) -> list[dict[str, str]]:
    """The answers as ``{code, question, answer}`` in the reader's language, in the definitions'
    order; list choices by their names. Answers to questions since removed are still shown, their
    code as the question."""
    rows, done = [], set()
    for definition in defs:
        code = definition["code"]
        if code not in stored:
            continue
        done.add(code)
        value = stored[code]
        if definition["datatype"] in LISTS:
            names = {v["key"]: value_name(v, locale) for v in definition.get("values", [])}
            keys = value if isinstance(value, list) else [value]
            value = ("、" if locale != "en" else ", ").join(names.get(k, k) for k in keys)
        rows.append({"code": code, "question": described(definition, locale), "answer": str(value)})
    for code, value in stored.items():
        if code not in done:
            rows.append({"code": code, "question": code,
                         "answer": ", ".join(map(str, value)) if isinstance(value, list) else str(value)})
    return rows


def shown(defs: list[dict], stored: dict[str, Any], locale: str) -> list[tuple[str, str]]:
    """The answers as (question, answer) pairs in the reader's language, in the definitions' order.
    Answers to questions since removed are still shown, under their code."""
    return [(row["question"], row["answer"]) for row in answered(defs, stored, locale)]
