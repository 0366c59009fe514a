"""Account guarantees: passwords are kept as argon2id hashes only; a session ends when its token
outlives SHOUBANPING_TOKEN_TTL_HOURS (401 ``token_expired`` on the API, back to the login page with
the reason on the pages) or is logged out; tokens are kept server-side as keyed hashes with their
expiry; and no process starts with the built-in secret key outside dev mode, or with a short key,
saying so in one line instead of a traceback.

Login throttling is proven in tests/test_login_limits.py, the refusal of a logged-out API token in
tests/test_scoping.py (test_password_login_works_until_logout)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from workflow.db import unit_of_work
from workflow.models import Account, AuditEntry, AuthToken, utcnow
from workflow.settings import DEV_SECRET_KEY

from .conftest import PASSWORD
from .helpers import all_rows

BIN = Path(sys.executable).parent
GOOD_KEY = "a-long-enough-secret-key-for-tests"


def _hash_of(runtime, username: str) -> str:
    with unit_of_work(runtime.sessions) as session:
        return session.scalar(select(Account.password_hash).where(Account.username == username))


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUBANPING_")}
    env.update({f"SHOUBANPING_{k.upper()}": v for k, v in settings.items()})
    return env


def test_passwords_are_stored_as_argon2id_hashes(client, world, runtime, tmp_path):
    signup = client.post("/api/v1/auth/signup", json={"username": "newcomer", "password": "my-own-password",
                                                       "display_name": "新居民"})
    assert signup.status_code == 201, signup.text
    made = client.post("/api/v1/accounts", headers=world.headers("admin"),
                       json={"username": "staff_new", "password": "my-own-password", "display_name": "新社工",
                             "role": "staff", "community_id": world.ids["community_A"]})
    assert made.status_code == 201, made.text
    hashes = [_hash_of(runtime, name) for name in ("newcomer", "staff_new")]
    for stored in hashes:
        # argon2id with an OWASP setting (7 MiB, 5 passes, 1 lane), its own salt, never the password.
        assert stored.startswith("$argon2id$v=19$m=7168,t=5,p=1$"), stored
        assert "my-own-password" not in stored
        assert PasswordHasher().verify(stored, "my-own-password")
    assert hashes[0] != hashes[1]  # the same password, salted differently
    login = client.post("/api/v1/auth/login", json={"username": "newcomer", "password": "my-own-password"})
    assert login.status_code == 200, login.text

    # The first administrator, made at the command line, is no exception, and the operator is in the audit log.
    cli = subprocess.run([str(BIN / "shoubanping"), "create-account", "--username", "root_admin",
                          "--display-name", "管理员", "--role", "admin", "--password", "another-password"],
                         env=_env(dev_mode="1", database_url=runtime.settings.database_url), cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert _hash_of(runtime, "root_admin").startswith("$argon2id$")
    created = [e for e in all_rows(runtime, AuditEntry) if e.action == "account.create"]
    assert [(e.actor_role, e.details["after"]["username"]) for e in created][-1] == ("operator", "root_admin")


def test_tokens_are_kept_as_keyed_hashes_with_their_expiry(client, world, runtime):
    login = client.post("/api/v1/auth/login", json={"username": "resident_a", "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    (row,) = all_rows(runtime, AuthToken, AuthToken.account_id == world.ids["resident_a"],
                      AuthToken.created_at > utcnow() - timedelta(minutes=5), order=AuthToken.id)[-1:]
    assert row.token_hash != token and len(row.token_hash) == 64 and token not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(hours=runtime.settings.token_ttl_hours)
    assert datetime.fromisoformat(login.json()["expires_at"].replace("Z", "+00:00")) == row.expires_at


def _token_issued(runtime, username: str, hours_ago: float) -> str:
    from workflow.commands import accounts

    with unit_of_work(runtime.sessions) as session:
        account = session.scalar(select(Account).where(Account.username == username))
        token, _row = accounts.issue_token(session, runtime.settings, account,
                                           now=utcnow() - timedelta(hours=hours_ago))
    return token


def test_a_token_older_than_its_lifetime_is_refused_with_token_expired(client, world, runtime):
    ttl = runtime.settings.token_ttl_hours
    fresh = _token_issued(runtime, "staff_a", ttl - 0.1)  # six minutes before it runs out: still good
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    old = _token_issued(runtime, "staff_a", ttl + 0.1)
    for path in ("/api/v1/me", "/api/v1/queue"):
        refused = client.get(path, headers={"Authorization": f"Bearer {old}"})
        assert refused.status_code == 401, refused.text
        error = refused.json()["error"]
        assert error["code"] == "token_expired"
        assert error["message"] == "登录已过期，请重新登录。"
        assert "expired_at" in error["details"]
    english = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}", "Accept-Language": "en"})
    assert english.json()["error"]["message"] == "Your session has expired. Please log in again."
    # A new login gives a working token again.
    login = client.post("/api/v1/auth/login", json={"username": "staff_a", "password": PASSWORD})
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
                      ).status_code == 200


def test_the_pages_send_an_expired_session_back_to_the_login_page_with_the_reason(browser_factory, world, runtime):
    browser = browser_factory()
    home = browser.login("staff_a")
    assert browser.get(home).status_code == 200
    # Time passes beyond the token's lifetime (its expiry, as the server keeps it, is now behind us).
    with unit_of_work(runtime.sessions) as session:
        for row in session.scalars(select(AuthToken).where(AuthToken.account_id == world.ids["staff_a"],
                                                           AuthToken.revoked_at.is_(None))):
            row.expires_at = utcnow() - timedelta(minutes=1)
    page = browser.get(home, follow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")
    login_page = browser.get(page.headers["location"])
    assert "登录已过期，请重新登录。" in login_page.text
    # Logging in again opens the page again.
    browser.login("staff_a")
    assert browser.get(home).status_code == 200


def test_the_pages_logout_revokes_the_token_on_the_server(browser_factory, world, runtime):
    browser = browser_factory()
    browser.login("staff_a")
    live = all_rows(runtime, AuthToken, AuthToken.account_id == world.ids["staff_a"], AuthToken.revoked_at.is_(None))
    browser.post("/logout", {})
    still = all_rows(runtime, AuthToken, AuthToken.account_id == world.ids["staff_a"], AuthToken.revoked_at.is_(None))
    assert len(still) == len(live) - 1
    page = browser.get("/desk", follow_redirects=False)
    assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")


# --- the secret key ----------------------------------------------------------------------------

REFUSED = {
    "unset": ({}, "built-in development key"),  # no key set: the built-in one, and no dev mode
    "built-in": ({"secret_key": DEV_SECRET_KEY}, "built-in development key"),
    "short": ({"secret_key": "short-key"}, "at least 16 characters"),
    "short-in-dev-mode": ({"secret_key": "short-key", "dev_mode": "1"}, "at least 16 characters"),
}
COMMANDS = {
    "serve": ["shoubanping", "serve", "--port", "0"],
    "worker": ["shoubanping", "worker"],
    "scheduler": ["shoubanping", "scheduler", "--once"],
    "uvicorn-factory": ["uvicorn", "api.asgi:create", "--factory", "--port", "0"],
}
CASES = [("serve", "unset"), ("serve", "built-in"), ("serve", "short"), ("serve", "short-in-dev-mode"),
         ("worker", "unset"), ("scheduler", "short"), ("uvicorn-factory", "unset"), ("uvicorn-factory", "short")]


def _with_this_tree(env: dict[str, str]) -> dict[str, str]:
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parents[1]), env.get("PYTHONPATH")) if p)
    return env


@pytest.mark.parametrize("command,key", CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_no_process_starts_without_a_secret_key_of_its_own(command, key, tmp_path):
    settings, reason = REFUSED[key]
    args = COMMANDS[command]
    env = _with_this_tree(_env(database_url=f"sqlite:///{tmp_path / 'never.db'}", **settings))
    done = subprocess.run([str(BIN / args[0]), *args[1:]], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert "SHOUBANPING_SECRET_KEY" in lines[0] and reason in lines[0], lines[0]
    assert not (tmp_path / "never.db").exists()  # it stopped before touching anything


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_with_a_key_of_its_own_outside_dev_mode(tmp_path):
    """The refusal above is about the key: with a long key of its own and no dev mode, serve runs."""
    url = f"sqlite:///{tmp_path / 'own-key.db'}"
    port = _free_port()
    env = _with_this_tree(_env(database_url=url, secret_key=GOOD_KEY))
    server = subprocess.Popen([str(BIN / "shoubanping"), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    status, body = answer.status, json.loads(answer.read())
                break
            except OSError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.2)
        assert status == 200 and body["status"] == "ok"
    finally:
        server.terminate()
        server.communicate(timeout=30)
