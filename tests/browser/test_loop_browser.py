"""The whole loop in headless chromium, by clicking: a resident reports with a photo, the worker
puts it on the task board, a member claims it and reports the result with a photo, staff verify
it, the resident evaluates, and the secretary's dashboard numbers change. Each main page is
screenshotted; each page visited is checked in Chinese and again after the English switch; HTML a
person typed is shown as text and never runs."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import Person, follow, wrong_language
from tests.test_photos import png

pytestmark = pytest.mark.browser

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
CLUTTER = "sanitation.corridor_clutter"  # routed straight to the task board by the default rules


class Visitor:
    """A person plus what they visited, to check every page in both languages."""

    def __init__(self, person: Person, dialogs: list[str]):
        self.person, self.visited = person, []
        person.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    @property
    def page(self):
        return self.person.page

    def seen(self, label: str) -> None:
        """Remember the page for the English pass, check its language, save a screenshot."""
        path = self.page.url.split("://", 1)[1].split("/", 1)[1]
        self.visited.append("/" + path)
        text = self.page.locator("body").inner_text()
        assert wrong_language(text, "zh_CN") == [], f"English text on the Chinese page {path}"
        assert "Traceback" not in text
        self.person.shot(label)

    def click_nav(self, name: str) -> None:
        follow(self.page, self.page.locator("nav.menu").get_by_role("link", name=name))

    def check_english(self) -> None:
        follow(self.page, self.page.locator("form.lang button"))
        for path in dict.fromkeys(self.visited):
            self.person.goto(path)
            assert self.page.locator("html").get_attribute("lang") == "en"
            text = self.page.locator("body").inner_text()
            assert wrong_language(text, "en") == [], f"Chinese interface text left on {path} in English"


def _tile(page, rate: str) -> str:
    return page.locator(f'.tile[data-rate="{rate}"] .value').inner_text().strip()


def test_the_whole_loop_by_clicking(people, runtime, world):
    dialogs: list[str] = []
    period = datetime.now(ZoneInfo(runtime.settings.timezone)).strftime("%Y-%m")

    # The secretary's dashboard before anything happened this period.
    secretary = Visitor(people("secretary"), dialogs)
    secretary.person.login("secretary_a")
    assert secretary.page.url.endswith("/dashboard")
    before = {rate: _tile(secretary.page, rate) for rate in ("response_rate", "satisfaction_rate", "composite")}
    secretary.seen("secretary-dashboard-before")

    # 收: the resident reports clutter in a stairwell with a photo.
    resident = Visitor(people("resident"), dialogs)
    resident.person.login("resident_a")
    resident.seen("resident-my-requests-empty")
    resident.click_nav("我要报事")
    page = resident.page
    page.locator("form.intake select[name=category]").select_option(CLUTTER)
    page.locator("form.intake select[name=building_id]").select_option(index=1)
    page.get_by_label("问题描述", exact=False).fill("楼道堆满纸箱 " + XSS)
    page.locator("form.intake input[name=photos]").set_input_files(
        [{"name": "stairwell.png", "mimeType": "image/png", "buffer": png(8, 8)}])
    resident.seen("resident-report-form")
    follow(page, page.locator("form.intake button[type=submit]"))
    match = re.search(r"/requests/(\d+)/received", page.url)
    assert match, page.url
    rid = int(match.group(1))
    code = page.locator(".tracking-code").inner_text().strip()
    assert XSS in page.locator("main").inner_text()  # shown as the text that was typed
    resident.seen("resident-received")
    runtime.drain()  # the worker routes it to the task board

    # 办: the member claims it from the task board and reports the result with a photo.
    member = Visitor(people("member"), dialogs)
    member.person.login("member_1")
    assert member.page.url.endswith("/member/tasks")
    card = member.page.locator(f'[data-request-id="{rid}"]')
    assert XSS in card.inner_text()
    member.seen("member-task-board")
    follow(member.page, card.get_by_role("button"))
    assert member.page.locator("article.request").get_attribute("data-status") == "claimed"
    member.page.locator("#act-report_result summary").click()
    form = member.page.locator("#act-report_result form")
    form.locator("textarea[name=result]").fill("纸箱已清运，楼道畅通。")
    form.locator("input[name=hours]").fill("1.5")
    form.locator("input[name=photos]").set_input_files(
        [{"name": "after.png", "mimeType": "image/png", "buffer": png(6, 6)}])
    follow(member.page, form.locator("button[type=submit]"))
    assert member.page.locator("article.request").get_attribute("data-status") == "verifying"
    member.seen("member-request-reported")
    member.click_nav("我的任务")
    member.seen("member-claims")

    # Staff find it on their desk and verify the work with an appraisal.
    staff = Visitor(people("staff"), dialogs)
    staff.person.login("staff_a")
    assert staff.page.url.endswith("/desk")
    staff.seen("staff-queue")
    follow(staff.page, staff.page.locator(f'[data-request-id="{rid}"] a.card-link'))
    assert len(staff.page.locator(".photos img").all()) == 2  # the resident's and the member's photo
    staff.page.locator("#act-verify summary").click()
    staff.page.locator("#act-verify select[name=appraisal]").select_option("5")
    follow(staff.page, staff.page.locator("#act-verify button[type=submit]"))
    assert staff.page.locator("article.request").get_attribute("data-status") == "resolved"
    staff.seen("staff-request-verified")

    # 评: the resident sees it waiting for their evaluation and evaluates it.
    resident.person.goto("/my/requests")
    follow(resident.page, resident.page.locator(f'[data-request-id="{rid}"]').get_by_role("link", name="去评价"))
    evaluation = resident.page.locator("form#evaluation")
    evaluation.get_by_label("满意", exact=True).check()
    evaluation.get_by_label("是", exact=True).check()
    evaluation.locator("textarea[name=comment]").fill("很及时，谢谢！")
    follow(resident.page, evaluation.locator("button[type=submit]"))
    assert resident.page.locator("article.request").get_attribute("data-status") == "closed"
    timeline = resident.page.locator("ol.timeline").inner_text()
    for label in ("提交诉求", "认领", "提交办理结果", "核查通过", "评价"):
        assert label in timeline
    resident.seen("resident-request-closed")
    runtime.drain()  # the outcome row the rates are built on

    # Anyone with the tracking code follows it without logging in.
    stranger = Visitor(people("stranger"), dialogs)
    stranger.person.goto("/")
    stranger.page.locator("input[name=token]").fill(code)
    with stranger.page.expect_navigation():
        stranger.page.locator("input[name=token]").press("Enter")
    assert "已结案" in stranger.page.locator("main").inner_text()
    assert "resident_a" not in stranger.page.content()
    stranger.seen("track-by-code")

    # The scheduler recomputes drafts every few minutes; the administrator does it now.
    admin = Visitor(people("admin"), dialogs)
    admin.person.login("admin")
    follow(admin.page, admin.page.get_by_role("button", name="立即重新计算"))
    admin.seen("admin-dashboard-recomputed")

    secretary.person.goto(f"/dashboard?period={period}")
    after = {rate: _tile(secretary.page, rate) for rate in ("response_rate", "satisfaction_rate", "composite")}
    assert after != before
    assert after["satisfaction_rate"] == "100.0%"
    assert secretary.page.locator(".chart svg").count() >= 1
    secretary.seen("secretary-dashboard-after")
    secretary.click_nav("排名")
    secretary.seen("secretary-rankings")
    secretary.click_nav("党员考核")
    secretary.seen("secretary-assessment")

    # Nothing typed ran as script anywhere, and every page reads in English after the switch.
    assert dialogs == []
    for visitor in (resident, member, staff, secretary, stranger, admin):
        visitor.check_english()
    secretary.person.shot("secretary-assessment-en")
