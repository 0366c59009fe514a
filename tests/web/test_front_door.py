"""The front door: login, logout, the session cookie, CSRF, the language switch, error pages."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.helpers import get


def test_login_sets_a_signed_http_only_same_site_cookie_and_lands_on_the_role_home(browser):
    page = browser.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert browser.login("staff_a") == "/desk"
    page = browser.get("/requests/999999")
    assert page.status_code == 404
    assert "staff_a" in page.text and "退出" in page.text and 'href="/desk"' in page.text


def test_wrong_password_is_refused_beside_the_form(browser):
    browser.get("/login")
    page = browser.post("/login", {"username": "staff_a", "password": "wrong-password"})
    assert page.status_code == 401
    assert 'class="form-error"' in page.text
    assert "/desk" not in str(page.url)


def test_a_form_without_its_csrf_token_is_refused(browser):
    browser.get("/login")
    page = browser.post("/login", {"username": "staff_a", "password": PASSWORD}, csrf=False)
    assert page.status_code == 403
    assert "csrf_failed" in page.text
    forged = browser.post("/login", {"username": "staff_a", "password": PASSWORD, "csrf_token": "forged"},
                          csrf=False)
    assert forged.status_code == 403


def test_a_tampered_cookie_is_a_logged_out_visitor(browser):
    browser.login("staff_a")
    tampered = browser.client.cookies.get("sbp_session")[:-3] + "abc"
    browser.client.cookies.clear()
    browser.client.cookies.set("sbp_session", tampered)
    page = browser.get("/requests/1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=/requests/1")


def test_logout_revokes_the_login(browser):
    browser.login("staff_a")
    stolen = browser.client.cookies.get("sbp_session")
    browser.post("/logout")
    browser.client.cookies.clear()
    browser.client.cookies.set("sbp_session", stolen)
    assert browser.get("/requests/1", follow_redirects=False).status_code == 303


def test_the_language_switch_turns_the_pages_to_english_and_back(browser):
    assert "登录" in browser.get("/login").text
    browser.set_language("en")
    page = browser.get("/login")
    assert "Log in" in page.text and "登录" not in page.text
    browser.set_language("zh_CN")
    assert "登录" in browser.get("/login").text


def test_error_pages_speak_the_users_language_and_show_no_trace(browser):
    page = browser.get("/requests/999999", follow_redirects=False)
    assert page.status_code == 303  # a login first
    browser.login("resident_a")
    page = browser.get("/requests/999999")
    assert page.status_code == 404 and "<html" in page.text and "页面不存在" in page.text
    assert browser.get("/no/such/page").status_code == 404
    browser.set_language("en")
    page = browser.get("/requests/abc")
    assert page.status_code == 404 and "Page not found" in page.text


def test_logging_in_over_a_login_ends_the_earlier_one(browser):
    browser.login("resident_a")
    earlier = browser.client.cookies.get("sbp_session")
    browser.login("resident_b")
    browser.client.cookies.clear()
    browser.client.cookies.set("sbp_session", earlier)
    assert browser.get("/my/requests", follow_redirects=False).status_code == 303


def test_pages_are_not_cached_or_framed_and_the_cookie_can_be_forced_secure(browser, runtime):
    page = browser.get("/login")
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
    assert "Secure" not in page.headers["set-cookie"]  # plain http, as the test client speaks
    runtime.settings.secure_cookies = True
    browser.client.cookies.clear()
    assert "; Secure" in browser.get("/login").headers["set-cookie"]


def test_addresses_with_odd_digits_are_ordinary_pages_not_errors(browser):
    browser.login("staff_a")
    for url in ("/desk?page=²", "/desk/inspection?community_id=²", "/desk?page=99999999999999999999"):
        assert browser.get(url).status_code == 200, url
    browser.login("secretary_a")
    assert browser.get("/dashboard?unit=community-99999999999999999999999").status_code == 200


def test_the_login_form_says_when_to_come_back_and_logs_the_page_attempts(browser, client, world):
    browser.get("/login")
    for _ in range(5):
        page = browser.post("/login", {"username": "secretary_a", "password": "wrong-password"})
        assert page.status_code == 401
    page = browser.post("/login", {"username": "secretary_a", "password": PASSWORD})
    assert page.status_code == 429 and 890 <= int(page.headers["Retry-After"]) <= 900
    assert "登录尝试次数过多，请 15 分钟后再试。" in page.text and 'class="form-error"' in page.text
    log = get(client, world, "admin", "/admin/logins", username="secretary_a")
    assert [(row["door"], row["outcome"]) for row in log] == [("page", "throttled")] + [("page", "refused")] * 5
