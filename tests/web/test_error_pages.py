"""Error pages in the user's language: too large (413), an unexpected failure (500), a stale act (409)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.helpers import in_community
from tests.web.conftest import Browser


@pytest.fixture
def settings(settings):
    """Photos of at most 2 KiB, so an oversized upload is small enough to send in a test."""
    return settings.model_copy(update={"max_photo_bytes": 2048})


def test_an_upload_over_the_limit_gets_the_413_page_and_changes_nothing(browser, client, world, runtime):
    rid = in_community(client, world, runtime)
    browser.login("staff_a")
    browser.get(f"/requests/{rid}")
    page = browser.post(f"/requests/{rid}/act/resolve", {"result": "done"},
                        files=[("photos", ("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 1_200_000, "image/png"))])
    assert page.status_code == 413
    assert "内容过大" in page.text and "9 张照片" in page.text
    assert browser.get(f"/requests/{rid}").text.count('data-status="community"') == 1


def test_an_unexpected_error_shows_the_500_page_without_a_trace(runtime, world):
    app = create_app(runtime.settings, runtime)

    def boom():
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        browser = Browser(client)
        page = browser.get("/boom")
        assert page.status_code == 500
        assert "出错了" in page.text and "secret internals" not in page.text and "Traceback" not in page.text
        browser.set_language("en")
        page = browser.get("/boom")
        assert "Something went wrong" in page.text


def test_an_act_the_request_has_moved_past_gets_the_409_message_on_the_page(browser_factory, client, world, runtime):
    rid = in_community(client, world, runtime)
    first, second = browser_factory(), browser_factory()
    first.login("staff_a")
    second.login("staff_a")
    first.get(f"/requests/{rid}")
    second.get(f"/requests/{rid}")  # both see the publish form
    assert first.post(f"/requests/{rid}/act/publish_task", {}).status_code == 200
    page = second.post(f"/requests/{rid}/act/publish_task", {})
    assert page.status_code == 409
    assert 'class="form-error"' in page.text
    assert 'data-status="open_task"' in page.text


def test_a_chunked_body_without_its_length_is_refused_before_it_is_read(browser, client, world):
    def body():
        yield b"csrf_token=x&username=a&password="
        yield b"0" * 100_000

    page = browser.client.post("/login", content=body(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert page.status_code == 411 and "<html" in page.text
    api = client.post("/api/v1/photos", content=body(), headers={**world.headers("resident_a"),
                                                                "content-type": "multipart/form-data; boundary=x"})
    assert api.status_code == 411 and api.json()["error"]["code"] == "length_required"


def test_a_plain_form_over_64_kib_gets_the_413_page(browser):
    browser.get("/login")
    page = browser.post("/login", {"username": "a" * 70_000, "password": "x"})
    assert page.status_code == 413 and "内容过大" in page.text
