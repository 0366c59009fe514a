"""Fixtures of the page tests: a browser-like client that logs in through the login form and posts
forms with the CSRF token the page gave it."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A TestClient that keeps the session cookie, reads each page's CSRF token and posts forms."""

    def __init__(self, client: TestClient):
        self.client = client
        self.last = None

    def get(self, url: str, **kw):
        self.last = self.client.get(url, **kw)
        return self.last

    def csrf(self) -> str:
        page = self.last if self.last is not None and CSRF.search(self.last.text or "") else self.get("/login")
        return CSRF.search(page.text).group(1)

    def post(self, url: str, data: dict | None = None, files=None, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        self.last = self.client.post(url, data=data, files=files, follow_redirects=kw.pop("follow_redirects", True),
                                     **kw)
        return self.last

    def login(self, username: str, password: str = PASSWORD) -> str:
        """Log in through the form; returns where the site sent the user (their role's home)."""
        self.get("/login")
        answer = self.post("/login", {"username": username, "password": password}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return answer.headers["location"]

    def set_language(self, locale: str):
        return self.post("/language", {"locale": locale, "next": "/"})


@pytest.fixture
def browser(runtime, world):
    """A logged-out browser on the small world of tests/conftest.py (``world`` is built first)."""
    with TestClient(create_app(runtime.settings, runtime), base_url="http://testserver") as client:
        yield Browser(client)
