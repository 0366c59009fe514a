"""User-facing text: every message in code has its Simplified Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from workflow import lifecycle
from workflow.i18n import missing_translations, negotiate

ROOT = Path(__file__).resolve().parent.parent


def _msgids() -> list[str]:
    """Every message marked in Python code and in the page templates, as pybabel extracts them."""
    found = []
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for package in ("workflow", "api", "web"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=method_map, options_map=options, keywords={"_": None, "gettext": None}
        ):
            found.append(message if isinstance(message, str) else message[0])
    return sorted(set(found))


def test_every_message_is_translated_to_chinese():
    msgids = _msgids()
    assert len(msgids) > 300
    assert "Log in" in msgids and "Shoubanping" in msgids  # the templates were read too
    assert missing_translations(msgids) == []


def test_every_status_and_action_has_a_chinese_label():
    assert lifecycle.STATUS_LABELS[lifecycle.Status.claimed].render("zh_CN") == "已认领"
    for label in [*lifecycle.STATUS_LABELS.values(), *lifecycle.EVENT_LABELS.values()]:
        assert label.render("zh_CN") != label.render("en")


def test_language_negotiation_defaults_to_chinese():
    assert negotiate(None) == "zh_CN"
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR") == "zh_CN"
