"""The report form (收) for its three ways in: a resident's report, a staff inspection round, a member's
home visit; errors beside their field with what was typed kept; the confirmation page."""

from __future__ import annotations

import re

from tests.helpers import all_rows, count
from tests.test_photos import png
from workflow.commands import members
from workflow.db import unit_of_work
from workflow.models import Photo, Request

XSS = '<script>alert("x")</script><b>bold</b>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def received_id(page) -> int:
    match = re.fullmatch(r"/requests/(\d+)/received", page.url.path)
    assert match, page.url
    return int(match.group(1))


def options(html: str, name: str) -> str:
    """The options of select ``name``."""
    return html.split(f'<select id="f-{name}" name="{name}"')[1].split("</select>")[0]


def report(browser, world, description="楼道里堆满了纸箱，影响通行。", category="disputes.noise", files=None, **extra):
    data = {"community_id": world.ids["community_A"], "category": category, "description": description, **extra}
    return browser.post("/report", data, files=files)


def test_a_resident_reports_with_two_photos_and_finds_it_in_my_requests(browser, world, runtime):
    browser.login("resident_a")
    form = browser.get("/report")
    assert form.status_code == 200 and "我要报事" in form.text
    # The community defaults to the resident's own; its grids and buildings are listed; the
    # categories are grouped under their parents, in Chinese.
    assert f'name="community_id" value="{world.ids["community_A"]}"' in form.text
    assert f'<option value="{world.ids["grid_A"]}">一网格</option>' in options(form.text, "grid_id")
    assert f'<option value="{world.ids["building_A"]}">1号楼</option>' in options(form.text, "building_id")
    assert "<optgroup label=" in form.text and 'value="disputes.noise"' in form.text
    assert 'enctype="multipart/form-data"' in form.text and 'name="csrf_token"' in form.text

    page = report(browser, world, "半夜楼上装修噪音很大", grid_id=world.ids["grid_A"],
                  building_id=world.ids["building_A"], address="3单元",
                  files=[("photos", ("a.png", png(2, 2), "image/png")), ("photos", ("b.png", png(3, 3), "image/png"))])
    assert page.status_code == 200
    rid = received_id(page)
    assert "您的诉求已提交" in page.text and f"#{rid}" in page.text and "查询码" in page.text
    assert re.search(rf'<code class="tracking-code">{rid}-[A-Z2-7]{{10}}</code>', page.text)
    assert f'href="/requests/{rid}"' in page.text

    (row,) = all_rows(runtime, Request, Request.id == rid)
    assert row.channel.value == "report" and row.reporter_id == world.ids["resident_a"]
    assert (row.grid_id, row.building_id, row.address) == (world.ids["grid_A"], world.ids["building_A"], "3单元")
    assert count(runtime, Photo, Photo.request_id == rid) == 2

    runtime.drain()
    mine = browser.get("/my/requests")
    card = mine.text.split(f'data-request-id="{rid}"')[1].split("</li>\n</ul>")[0]
    assert "社区办理" in card and "噪音扰民" in card and "半夜楼上装修噪音很大" in card
    page = browser.get(f"/requests/{rid}")
    assert page.text.count('<img src="/photos/') == 2


def test_refused_reports_show_the_error_beside_the_field_and_keep_what_was_typed(browser, world, runtime):
    browser.login("resident_a")
    typed = "路灯坏了好几天"

    page = report(browser, world, "", address="小区东门")
    assert page.status_code == 422 and 'id="description-error"' in page.text and "请描述" in page.text
    assert 'value="小区东门"' in page.text and 'value="disputes.noise" selected' in page.text
    assert "请重新选择照片" in page.text  # a browser never keeps chosen files across a post

    page = report(browser, world, typed, category="no.such")
    assert page.status_code == 422 and 'id="category-error"' in page.text
    assert f">{typed}</textarea>" in page.text

    ten = [("photos", (f"p{i}.png", png(2, 2), "image/png")) for i in range(10)]
    page = report(browser, world, typed, files=ten)
    assert page.status_code == 422 and 'id="photos-error"' in page.text and "9" in page.text
    assert f">{typed}</textarea>" in page.text

    page = report(browser, world, typed, files=[("photos", ("notes.txt", b"just some text", "image/png"))])
    assert page.status_code == 422 and 'id="photos-error"' in page.text and "JPEG" in page.text
    assert f">{typed}</textarea>" in page.text

    too_big = b"\x89PNG\r\n\x1a\n" + b"\0" * runtime.settings.max_photo_bytes
    page = report(browser, world, typed, files=[("photos", ("big.png", too_big, "image/png"))])
    assert page.status_code == 422 and 'id="photos-error"' in page.text and "MB" in page.text
    assert f">{typed}</textarea>" in page.text

    page = report(browser, world, typed, grid_id=world.ids["grid_B"])
    assert page.status_code == 422 and 'id="grid_id-error"' in page.text

    assert count(runtime, Request) == 0 and count(runtime, Photo) == 0


def test_choosing_another_community_lists_its_grids_without_javascript(browser, world):
    browser.login("resident_a")
    page = browser.get(f"/report?community_id={world.ids['community_B']}")
    assert f'name="community_id" value="{world.ids["community_B"]}"' in page.text
    assert f'<option value="{world.ids["grid_B"]}">' in options(page.text, "grid_id")
    assert options(page.text, "grid_id").count("<option") == 2  # "not sure" and B's one grid
    assert f'<option value="{world.ids["building_B"]}">' in options(page.text, "building_id")
    # The chooser is a GET form of its own: the CSRF token never lands in an address.
    chooser = page.text.split("data-community-chooser")[1].split("</form>")[0]
    assert "csrf_token" not in chooser and 'name="community_id"' in chooser
    assert browser.get("/report?community_id=abc").status_code == 200  # falls back to their own


def test_staff_log_an_inspection_and_members_a_visit(browser_factory, world, runtime):
    staff = browser_factory()
    staff.login("staff_a")
    form = staff.get("/desk/inspection")
    assert form.status_code == 200 and "登记巡查发现的问题" in form.text and "相关居民姓名（选填）" in form.text
    page = staff.post("/desk/inspection", {"community_id": world.ids["community_A"],
                                           "category": "sanitation.corridor_clutter", "description": "楼道堆物",
                                           "contact_name": "", "contact_phone": ""})
    sid = received_id(page)
    assert "问题已登记" in page.text and "请把查询码告诉相关居民" in page.text

    member = browser_factory()
    member.login("member_1")
    form = member.get("/member/visit")
    assert form.status_code == 200 and "走访居民姓名" in form.text
    page = member.post("/member/visit", {"community_id": world.ids["community_A"], "category": "disputes.noise",
                                         "description": "走访时王阿姨反映楼上噪音", "contact_name": "王阿姨",
                                         "contact_phone": "13800001234"})
    vid = received_id(page)

    rows = {r.id: r for r in all_rows(runtime, Request)}
    assert rows[sid].channel.value == "inspection" and rows[sid].collector_id == world.ids["staff_a"]
    assert rows[sid].reporter_id is None
    assert rows[vid].channel.value == "visit" and rows[vid].collector_id == world.ids["member_1"]
    assert (rows[vid].contact_name, rows[vid].contact_phone) == ("王阿姨", "13800001234")

    # Staff record inspections only in their own community: the command's refusal shows on the form.
    page = staff.post("/desk/inspection", {"community_id": world.ids["community_B"], "category": "disputes.noise",
                                           "description": "别的社区"})
    assert page.status_code == 403 and 'class="form-error"' in page.text and ">别的社区</textarea>" in page.text


def test_a_member_registered_nowhere_is_told_so(browser, world, runtime):
    with unit_of_work(runtime.sessions) as session:
        members.end_registration(session, world.actors["member_c"], world.ids["community_C"])
    browser.login("member_c")
    page = browser.get("/member/visit")
    assert page.status_code == 200 and "您还没有到任何社区报到" in page.text
    assert 'href="/member/registrations"' in page.text and 'method="post"' not in page.text.split("<main>")[1]
    page = browser.post("/member/visit", {"community_id": world.ids["community_C"], "category": "disputes.noise",
                                          "description": "噪音"})
    assert page.status_code == 403 and "只能登记已报到社区" in page.text and count(runtime, Request) == 0


def test_each_form_is_for_its_own_role(browser_factory, world):
    resident, staff, member = browser_factory(), browser_factory(), browser_factory()
    resident.login("resident_a")
    staff.login("staff_a")
    member.login("member_1")
    for who, url in ((resident, "/desk/inspection"), (resident, "/member/visit"), (staff, "/report"),
                     (member, "/report"), (staff, "/member/visit")):
        page = who.get(url)
        assert page.status_code == 403 and "您的角色无权访问此页面" in page.text, url
    page = resident.post("/desk/inspection", {"community_id": world.ids["community_A"], "category": "disputes.noise",
                                              "description": "x"})
    assert page.status_code == 403
    assert resident.get("/requests/1/received").status_code == 404


def test_the_form_refuses_a_post_without_its_csrf_token(browser, world, runtime):
    browser.login("resident_a")
    browser.get("/report")
    page = browser.post("/report", {"community_id": world.ids["community_A"], "category": "disputes.noise",
                                    "description": "噪音"}, csrf=False)
    assert page.status_code == 403 and count(runtime, Request) == 0


def test_html_in_the_description_is_escaped_on_the_confirmation_page(browser, world):
    browser.login("resident_a")
    page = report(browser, world, XSS)
    assert received_id(page) and XSS not in page.text and ESCAPED in page.text


def test_the_english_switch_translates_the_forms_and_the_confirmation(browser_factory, world):
    data = ("社区A", "社区B", "社区C", "街道S1", "街道S2", "一网格", "1号楼", "中文")

    def chinese_left(html: str) -> list[str]:
        for value in data:
            html = html.replace(value, "")
        return CJK.findall(html)

    resident = browser_factory()
    resident.login("resident_a")
    resident.set_language("en")
    form = resident.get("/report")
    assert "Report a problem" in form.text and "What is the problem?" in form.text and "Not sure" in form.text
    assert chinese_left(form.text) == []
    page = report(resident, world, "Rubbish by the gate", category="no.such")
    assert page.status_code == 422 and "Unknown category" in page.text and chinese_left(page.text) == []
    page = report(resident, world, "Rubbish by the gate")
    assert "Request received" in page.text and "Tracking code" in page.text and "Your request was received." \
        in page.text
    assert chinese_left(page.text) == []

    for user, url, title in (("staff_a", "/desk/inspection", "inspection round"),
                             ("member_1", "/member/visit", "home visit")):
        b = browser_factory()
        b.login(user)
        b.set_language("en")
        page = b.get(url)
        assert title in page.text and chinese_left(page.text) == [], url
