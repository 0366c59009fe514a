"""Browser tests: real pages in Debian's headless chromium, driven by Playwright.

Each person in a test gets a browser of their own (a fresh user-data-dir, so nothing is shared but
the server). The server is the real app under uvicorn on a free port (``live_server``), on the same
database and broker as the rest of the suite. Screenshots of each main page go to
``test-artifacts/screenshots``. A machine without /usr/bin/chromium fails these tests loudly:
``.ci/debian-packages`` installs it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}  # pages are phone first; the tests look at them that way


@pytest.fixture(scope="session")
def playwright_driver():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/debian-packages (it installs Debian's chromium)")
    with sync_playwright() as driver:
        yield driver


def follow(page: Page, locator) -> None:
    """Click something that loads a new page (a link, a form's button) and wait for that page, not
    the one the click happened on."""
    with page.expect_navigation():
        locator.click()


class Person:
    """One person at their own browser."""

    def __init__(self, driver, base_url: str, name: str):
        self.name = name
        self.base_url = base_url
        self.profile = tempfile.mkdtemp(prefix=f"sbp-chromium-{name}-")
        self.context = driver.chromium.launch_persistent_context(
            self.profile, executable_path=CHROMIUM, args=FLAGS, headless=True, viewport=PHONE,
            locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.pages[0] if self.context.pages else self.context.new_page()

    def goto(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def login(self, username: str, password: str = PASSWORD) -> Page:
        """Log in by typing into the login form and clicking its button."""
        page = self.goto("/login")
        page.get_by_label(re.compile("用户名|Username")).fill(username)
        page.get_by_label(re.compile("密码|Password")).fill(password)
        follow(page, page.locator("main form button[type=submit]"))
        return page

    def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def people(playwright_driver, live_server, world):
    """``people("resident")`` opens a new browser for that person on the live server."""
    opened: list[Person] = []

    def open_browser(name: str) -> Person:
        person = Person(playwright_driver, live_server, name)
        opened.append(person)
        return person

    yield open_browser
    for person in opened:
        person.close()


# --- is every word of the page in the page's language? -----------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalogue() -> dict[str, str]:
    from babel.messages.pofile import read_po

    from workflow.i18n import LOCALE_DIR

    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and m.string}


def _plain(message: str) -> str:
    """A message as it can appear on a page: the text before its first placeholder."""
    return re.split(r"%\(|\{", message)[0].strip()


def wrong_language(text: str, locale: str) -> list[str]:
    """Interface texts of the other language found in ``text`` (a page's visible text): Chinese
    translations on an English page, or English messages of two words or more on a Chinese page."""
    # Only messages whose two versions differ and whose Chinese is Chinese ("PDF" is both).
    catalogue = {en: zh for en, zh in _catalogue().items() if en != zh and CJK.search(zh)}
    if locale == "en":
        found = {_plain(zh) for zh in catalogue.values()}
        return sorted(s for s in found if len(s) >= 3 and CJK.search(s) and s in text)
    found = {_plain(en) for en in catalogue if len(_plain(en).split()) >= 2}
    return sorted(s for s in found if s in text)
