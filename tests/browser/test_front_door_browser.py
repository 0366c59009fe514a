"""The front door in a real browser: logging in by typing and clicking, the language switch, the
CSRF check a forged form meets."""

from __future__ import annotations

import pytest

from tests.browser.conftest import follow

pytestmark = pytest.mark.browser


def test_login_and_the_language_switch_in_chromium(people):
    resident = people("resident")
    page = resident.goto("/")
    assert page.locator("h1").inner_text() == "收办评"
    resident.shot("front-door-zh")
    page = resident.login("resident_a")
    assert "resident_a" in page.locator(".account").inner_text()
    follow(page, page.get_by_role("button", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Log out" in page.locator(".account").inner_text()
    resident.shot("front-door-en")
    follow(page, page.get_by_role("button", name="中文"))
    assert "退出" in page.locator(".account").inner_text()


def test_a_form_posted_from_another_site_is_refused(people, live_server):
    """A page elsewhere that posts the logout form without the session's CSRF token gets 403."""
    victim = people("victim")
    victim.login("resident_a")
    page = victim.page
    page.set_content(f'<form method="post" action="{live_server}/logout"><button>go</button></form>')
    follow(page, page.locator("button"))
    assert "csrf_failed" in page.content() or "表单已过期" in page.content()
    # Still logged in: the forged logout did nothing.
    page = victim.goto("/login")
    assert "resident_a" in page.locator(".account").inner_text()
