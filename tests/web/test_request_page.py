"""The request page: one loop of acts through plain form posts, errors beside their fields, and what
a person typed shown escaped."""

from __future__ import annotations

from tests.helpers import act, get, in_community
from tests.test_photos import png

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_the_loop_through_the_request_page(browser_factory, client, world, runtime):
    rid = in_community(client, world, runtime)
    staff, member, resident = browser_factory(), browser_factory(), browser_factory()

    staff.login("staff_a")
    page = staff.get(f"/requests/{rid}")
    assert page.status_code == 200 and f'action="/requests/{rid}/act/publish_task"' in page.text
    page = staff.post(f"/requests/{rid}/act/publish_task", {"note": XSS})
    assert page.status_code == 200 and page.url.path == f"/requests/{rid}"
    assert "已发布到任务大厅" in page.text
    assert XSS not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text

    member.login("member_1")
    page = member.post(f"/requests/{rid}/act/claim", {})
    assert "您已认领该任务" in page.text
    page = member.post(f"/requests/{rid}/act/report_result", {"result": "清理完毕", "hours": "30"},
                       files=[("photos", ("after.png", png(), "image/png"))])
    assert page.status_code == 422
    assert 'id="hours-error"' in page.text and "24" in page.text
    page = member.post(f"/requests/{rid}/act/report_result", {"result": "清理完毕", "hours": "1.5"},
                       files=[("photos", ("after.png", png(), "image/png"))])
    assert page.status_code == 200 and "办理结果已提交核查" in page.text
    photo = page.text.split('<img src="/photos/')[1].split('"')[0]
    assert member.get(f"/photos/{photo}").headers["content-type"] == "image/png"

    page = staff.post(f"/requests/{rid}/act/verify", {"appraisal": "9"})
    assert page.status_code == 422 and 'id="appraisal-error"' in page.text
    page = staff.post(f"/requests/{rid}/act/verify", {"appraisal": "5"})
    assert "核查通过" in page.text

    resident.login("resident_a")
    page = resident.post(f"/requests/{rid}/evaluation", {"satisfaction": "satisfied"})
    assert page.status_code == 422 and 'id="solved-error"' in page.text
    page = resident.post(f"/requests/{rid}/evaluation", {"satisfaction": "satisfied", "solved": "yes",
                                                          "comment": XSS})
    assert "感谢您的评价" in page.text and 'data-status="closed"' in page.text
    assert XSS not in page.text


def test_the_page_offers_only_the_acts_the_viewer_may_take(browser_factory, client, world, runtime):
    """Another member's claim, or a resident's report seen by the secretary, offers no form that
    would only be refused; the JSON API lists the same acts."""
    rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "publish_task")
    act(client, world, "member_1", rid, "claim")
    other = browser_factory()
    other.login("member_2")
    page = other.get(f"/requests/{rid}")
    assert page.status_code == 200 and "/act/release" not in page.text and "/act/report_result" not in page.text
    assert get(client, world, "member_2", f"/requests/{rid}")["actions"] == []
    assert get(client, world, "member_1", f"/requests/{rid}")["actions"] == ["release", "report_result"]

    act(client, world, "member_1", rid, "report_result", result="清理完毕", hours=1)
    act(client, world, "staff_a", rid, "verify", appraisal=4)
    secretary = browser_factory()
    secretary.login("secretary_a")
    assert 'id="evaluation"' not in secretary.get(f"/requests/{rid}").text
    resident = browser_factory()
    resident.login("resident_a")
    assert 'id="evaluation"' in resident.get(f"/requests/{rid}").text


def test_the_language_switch_after_a_form_error_returns_to_the_form(browser, client, world, runtime):
    rid = in_community(client, world, runtime)
    browser.login("staff_a")
    browser.get(f"/requests/{rid}")
    page = browser.post(f"/requests/{rid}/act/reject", {"reason": ""},
                        headers={"referer": f"http://testserver/requests/{rid}"})
    assert page.status_code == 422 and f'name="next" value="/requests/{rid}"' in page.text
    page = browser.post("/language", {"locale": "en", "next": f"/requests/{rid}"})
    assert page.status_code == 200 and page.url.path == f"/requests/{rid}" and "What you can do" in page.text
