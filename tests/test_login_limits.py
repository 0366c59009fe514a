"""Login limits and the log of logins: a name that keeps failing, or an address that keeps trying,
waits (429 with Retry-After) before any password is checked; every attempt is logged, the refused
ones too, through the API and the login form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from workflow.commands import accounts
from workflow.db import unit_of_work
from workflow.errors import TooManyRequests, Unauthorized
from workflow.models import LoginAttempt, utcnow

from .conftest import PASSWORD
from .helpers import get

LOGIN = "/api/v1/auth/login"


def _login(client, username: str, password: str, **headers):
    return client.post(LOGIN, json={"username": username, "password": password}, headers=headers)


def test_five_failures_make_the_name_wait_and_every_attempt_is_logged(client, world):
    for _ in range(5):
        refused = _login(client, "resident_a", "wrong-password")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_credentials"

    # The right password now waits too: nothing is checked until the oldest failure is 15 minutes old.
    waiting = _login(client, "resident_a", PASSWORD)
    assert waiting.status_code == 429
    error = waiting.json()["error"]
    assert error["code"] == "too_many_attempts" and "15 分钟后再试" in error["message"]
    assert 890 <= int(waiting.headers["Retry-After"]) <= 900
    assert error["details"]["retry_after"] == int(waiting.headers["Retry-After"])
    english = _login(client, "resident_a", PASSWORD, **{"Accept-Language": "en"})
    assert english.status_code == 429 and "Please wait 15 minutes" in english.json()["error"]["message"]

    # Another name from the same client is not held up by this one.
    assert _login(client, "resident_b", PASSWORD).status_code == 200

    log = get(client, world, "admin", "/admin/logins", username="resident_a")
    resident = world.ids["resident_a"]
    assert [(row["outcome"], row["account_id"]) for row in log] == [("throttled", None)] * 2 + [
        ("refused", resident)] * 5
    assert {(row["door"], row["address"]) for row in log} == {("api", "testclient")}
    assert get(client, world, "admin", "/admin/logins", outcome="succeeded")[0]["username"] == "resident_b"
    assert client.get("/api/v1/admin/logins", headers=world.headers("staff_a")).status_code == 403


def test_the_wait_ends_as_the_failures_leave_the_window_and_a_success_ends_a_run(client, world, runtime):
    for _ in range(5):
        assert _login(client, "staff_a", "wrong-password").status_code == 401
    assert _login(client, "staff_a", PASSWORD).status_code == 429
    # Sixteen minutes later (the attempts moved back): the failures are out of the window.
    with unit_of_work(runtime.sessions) as session:
        for attempt in session.scalars(select(LoginAttempt)):
            attempt.at -= timedelta(minutes=16)
    assert _login(client, "staff_a", PASSWORD).status_code == 200

    # Four failures, a success, four more: never five in a row, so no wait.
    for _ in range(4):
        assert _login(client, "staff_b", "wrong-password").status_code == 401
    assert _login(client, "staff_b", PASSWORD).status_code == 200
    for _ in range(4):
        assert _login(client, "staff_b", "wrong-password").status_code == 401
    assert _login(client, "staff_b", PASSWORD).status_code == 200


def test_an_address_that_tries_many_names_waits_whatever_the_name(runtime, world):
    settings = runtime.settings.model_copy(update={"login_failures_per_address": 4})
    now = utcnow() - timedelta(minutes=1)
    with unit_of_work(runtime.sessions) as session:
        # An office behind one address: its people log in as often as they like.
        for i, name in enumerate(("staff_a", "staff_b", "secretary_a", "resident_a", "resident_b") * 2):
            assert accounts.login(session, settings, name, PASSWORD, address="203.0.113.9",
                                  now=now - timedelta(seconds=20 - i)).refusal is None
        for i, name in enumerate(("admin1", "root", "test", "resident_a")):
            attempt = accounts.login(session, settings, name, "guess-123", address="203.0.113.9",
                                     now=now + timedelta(seconds=i))
            assert isinstance(attempt.refusal, Unauthorized)
        # The fifth try from that address waits, even with a right name and password...
        held = accounts.login(session, settings, "resident_b", PASSWORD, address="203.0.113.9",
                              now=now + timedelta(seconds=10))
        assert isinstance(held.refusal, TooManyRequests) and held.token is None
        assert held.refusal.retry_after == 15 * 60 - 10
        # ...while another address logs the same account in.
        other = accounts.login(session, settings, "resident_b", PASSWORD, address="198.51.100.7",
                               now=now + timedelta(seconds=11))
        assert other.refusal is None and other.token
        # Waiting tries do not count: the wait still ends 15 minutes after the first try.
        later = accounts.login(session, settings, "resident_b", PASSWORD, address="203.0.113.9",
                               now=now + timedelta(minutes=15, seconds=1))
        assert later.refusal is None and later.account.username == "resident_b"
