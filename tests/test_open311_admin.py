"""Around the Open311 write side: admins issue, list and revoke client keys (API and command line),
set a category's extra questions, residents answer them through the JSON API, and the request page
shows the answers, the reporter's e-mail and their app's photo link, escaped."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, select, text

from workflow.commands import intake
from workflow.db import unit_of_work
from workflow.models import Open311Client, Request

from .helpers import act, get, submit, table_counts
from .test_cli import _env, _run

CLIENTS = "/api/v1/admin/open311-clients"
CATEGORIES = "/api/v1/admin/categories"
POST311 = "/open311/v2/requests.json"
XSS = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"

STREETLIGHT = [
    {"code": "pole_number", "datatype": "string", "description_zh": "灯杆编号", "description_en": "Pole number"},
    {"code": "lamps_out", "datatype": "number", "required": True, "description_zh": "不亮的灯数",
     "description_en": "Lamps out"},
    {"code": "hazard", "datatype": "singlevaluelist", "required": True, "description_zh": "隐患",
     "description_en": "Hazard",
     "values": [{"key": "dark_crossing", "name_zh": "路口昏暗", "name_en": "Dark crossing"},
                {"key": "none", "name_zh": "无", "name_en": "None"}]},
    {"code": "when_seen", "datatype": "multivaluelist", "description_zh": "发现时段", "description_en": "Seen",
     "values": [{"key": "dusk", "name_zh": "傍晚"}, {"key": "night", "name_zh": "深夜"}]},
    {"code": "notice", "datatype": "text", "variable": False, "description_zh": "夜间请注意安全"},
]


@pytest.fixture(autouse=True)
def test_categories_removed(database):
    """On PostgreSQL the seeded taxonomy stays between tests: the "zz" categories these tests add go
    (after the requests using them were emptied: autouse fixtures are torn down last)."""
    yield
    if database["kind"] != "postgresql":
        return
    engine = create_engine(database["url"])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM categories WHERE parent_id IS NOT NULL AND code LIKE 'zz%'"))
        conn.execute(text("DELETE FROM categories WHERE code LIKE 'zz%'"))
    engine.dispose()


def call(client, world, method: str, path: str, expect: int, user: str = "admin", body: dict | None = None,
         lang: str = "en"):
    response = client.request(method, path, json=body, headers=world.headers(user, **{"Accept-Language": lang}))
    assert response.status_code == expect, response.text
    return response.json() if response.content else None


def streetlight(client, world, attributes=None) -> str:
    """A top level and a leaf with the street-light questions; the leaf's code."""
    call(client, world, "POST", CATEGORIES, 201, body={"code": "zzlight", "name_zh": "路灯", "name_en": "Lights"})
    call(client, world, "POST", CATEGORIES, 201, body={
        "code": "zzlight.out", "parent": "zzlight", "name_zh": "路灯不亮", "name_en": "Light out",
        "attributes": STREETLIGHT if attributes is None else attributes})
    return "zzlight.out"


def file311(client, world, key: str, expect: int = 201, **fields) -> list[dict]:
    form = {"api_key": key, "jurisdiction_id": "S1", "service_code": "disputes.noise",
            "address_id": str(world.ids["building_A"]), "description": "楼下施工到深夜。", **fields}
    response = client.post(POST311, data=form)
    assert response.status_code == expect, response.text
    return response.json()


# --- client keys over the admin API --------------------------------------------------------------

def test_admin_issues_lists_and_revokes_a_client_key(client, world, runtime):
    issued = client.post(CLIENTS, json={"name": "城市服务App"}, headers=world.headers("admin"))
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    body = issued.json()
    key = body["api_key"]
    assert key.startswith("sbp_") and len(key) > 30 and body["key_prefix"] == key[:10]
    assert body["name"] == "城市服务App" and body["created_at"]

    # Only the key's SHA-256 is kept: the database does not hold a working key.
    with unit_of_work(runtime.sessions) as session:
        row = session.scalar(select(Open311Client).where(Open311Client.id == body["id"]))
        assert row.key_hash != key and key not in row.key_hash
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()

    (listed,) = call(client, world, "GET", CLIENTS, 200)
    assert listed == {"id": body["id"], "name": "城市服务App", "key_prefix": key[:10],
                      "created_at": listed["created_at"], "last_used_at": None, "revoked_at": None, "requests": 0}
    assert "api_key" not in listed

    filed = file311(client, world, key)
    (listed,) = call(client, world, "GET", CLIENTS, 200)
    assert listed["requests"] == 1 and listed["last_used_at"] is not None
    rid = int(filed[0]["service_request_id"])
    assert get(client, world, "staff_a", f"/requests/{rid}")["channel"] == "open311"

    again = call(client, world, "POST", CLIENTS, 409, body={"name": " 城市服务App "})
    assert again["error"]["code"] == "client_exists" and again["error"]["details"]["field"] == "name"

    revoked = call(client, world, "DELETE", f"{CLIENTS}/{body['id']}", 200)
    assert revoked["revoked_at"] is not None and revoked["requests"] == 1 and revoked["name"] == "城市服务App"
    refused = file311(client, world, key, expect=403)
    assert refused[0]["code"] == 403 and refused[0]["description"]
    # The requests it filed stay, and the listing says the key is revoked.
    assert get(client, world, "staff_a", f"/requests/{rid}")["id"] == rid
    (listed,) = call(client, world, "GET", CLIENTS, 200)
    assert listed["revoked_at"] == revoked["revoked_at"] and listed["requests"] == 1

    twice = call(client, world, "DELETE", f"{CLIENTS}/{body['id']}", 409)
    assert twice["error"]["code"] == "client_revoked"
    unknown = call(client, world, "DELETE", f"{CLIENTS}/{body['id'] + 100}", 404)
    assert unknown["error"]["code"] == "client_not_found"


@pytest.mark.parametrize("body, code", [
    ({"name": "   "}, "name_required"),
    ({"name": "客" * 101}, "text_too_long"),
    ({}, "validation_error"),
    ({"name": "App", "api_key": "sbp_mine"}, "validation_error"),
])
def test_a_bad_client_name_is_refused_and_nothing_is_issued(client, world, runtime, body, code):
    before = table_counts(runtime)
    answer = call(client, world, "POST", CLIENTS, 422, body=body)
    assert answer["error"]["code"] == code
    assert table_counts(runtime) == before


@pytest.mark.parametrize("user", ["staff_a", "secretary_a", "officer_1", "resident_a"])
def test_only_admins_handle_client_keys(client, world, runtime, user):
    issued = call(client, world, "POST", CLIENTS, 201, body={"name": "热线系统"})
    before = table_counts(runtime)
    for method, path, body in (("GET", CLIENTS, None), ("POST", CLIENTS, {"name": "冒名App"}),
                               ("DELETE", f"{CLIENTS}/{issued['id']}", None)):
        answer = call(client, world, method, path, 403, user=user, body=body)
        assert answer["error"]["code"] == "role_not_allowed"
    assert client.get(CLIENTS).status_code == 401
    assert table_counts(runtime) == before
    file311(client, world, issued["api_key"])  # the key still works


# --- category attributes through the admin category API ------------------------------------------

def test_admin_sets_and_changes_a_categorys_attributes(client, world):
    code = streetlight(client, world)
    (row,) = [c for c in call(client, world, "GET", CATEGORIES, 200) if c["code"] == code]
    stored = {a["code"]: a for a in row["attributes"]}
    assert list(stored) == ["pole_number", "lamps_out", "hazard", "when_seen", "notice"]
    # Defaults filled in: English from Chinese, required false, a notice is never required.
    assert stored["when_seen"]["values"][1] == {"key": "night", "name_zh": "深夜", "name_en": "深夜"}
    assert stored["pole_number"]["required"] is False and stored["notice"]["required"] is False
    assert stored["notice"]["description_en"] == "夜间请注意安全"

    changed = call(client, world, "PATCH", f"{CATEGORIES}/{code}", 200, body={"attributes": STREETLIGHT[:2]})
    assert [a["code"] for a in changed["attributes"]] == ["pole_number", "lamps_out"]
    definition = client.get(f"/open311/v2/services/{code}.json", params={"jurisdiction_id": "S1"}).json()
    assert [a["code"] for a in definition["attributes"]] == ["pole_number", "lamps_out"]
    cleared = call(client, world, "PATCH", f"{CATEGORIES}/{code}", 200, body={"attributes": []})
    assert cleared["attributes"] == []
    # A top level asks nothing: requests are filed under subcategories.
    top = call(client, world, "PATCH", f"{CATEGORIES}/zzlight", 422, body={"attributes": STREETLIGHT[:1]})
    assert top["error"]["code"] == "invalid_attribute_definition"
    assert top["error"]["details"]["field"] == "attributes"


LAMPS = {"code": "lamps", "datatype": "number", "description_zh": "灯数"}
CHOICE = {"code": "kind", "datatype": "singlevaluelist", "description_zh": "种类",
          "values": [{"key": "a", "name_zh": "甲"}]}


@pytest.mark.parametrize("attributes, field", [
    ({"code": "lamps"}, "attributes"),
    (None, "attributes"),
    ([{**LAMPS, "code": "Lamps"}], "attributes[0].code"),
    ([LAMPS, {**LAMPS}], "attributes[1].code"),
    ([{**LAMPS, "datatype": "integer"}], "attributes[0].datatype"),
    ([{**LAMPS, "description_zh": "  "}], "attributes[0].description_zh"),
    ([{**LAMPS, "required": "yes"}], "attributes[0].required"),
    ([{**LAMPS, "colour": "red"}], "attributes[0].colour"),
    ([{**CHOICE, "values": []}], "attributes[0].values"),
    ([{**CHOICE, "values": [{"key": "a b", "name_zh": "甲"}]}], "attributes[0].values[0].key"),
    ([{**LAMPS, "values": [{"key": "a", "name_zh": "甲"}]}], "attributes[0].values"),
    (["lamps"], "attributes[0]"),
    ([{**LAMPS, "code": f"c{i}"} for i in range(21)], "attributes"),
])
def test_bad_attribute_definitions_are_refused_with_the_field(client, world, runtime, attributes, field):
    code = streetlight(client, world, attributes=[LAMPS])
    before = table_counts(runtime)
    answer = call(client, world, "PATCH", f"{CATEGORIES}/{code}", 422, body={"attributes": attributes})
    assert answer["error"]["code"] == "invalid_attribute_definition"
    assert answer["error"]["details"]["field"] == field and answer["error"]["message"]
    assert table_counts(runtime) == before
    (row,) = [c for c in call(client, world, "GET", CATEGORIES, 200) if c["code"] == code]
    assert [a["code"] for a in row["attributes"]] == ["lamps"]
    # The same checks guard a new category.
    created = call(client, world, "POST", CATEGORIES, 422, body={
        "code": "zzlight.new", "parent": "zzlight", "name_zh": "新", "name_en": "New", "attributes": attributes})
    assert created["error"]["details"]["field"] == field


def test_the_chinese_message_names_the_field(client, world):
    code = streetlight(client, world, attributes=[])
    answer = call(client, world, "PATCH", f"{CATEGORIES}/{code}", 422, lang="zh-CN",
                  body={"attributes": [{**LAMPS, "datatype": "integer"}]})
    assert "attributes[0].datatype" in answer["error"]["message"] and "须为以下之一" in answer["error"]["message"]


# --- answering them through the JSON API ---------------------------------------------------------

def test_a_resident_answers_the_attributes_and_reads_them_back(client, world, runtime):
    code = streetlight(client, world)
    answers = {"pole_number": XSS, "lamps_out": 3, "hazard": "dark_crossing", "when_seen": ["dusk", "night"]}
    made = submit(client, world, "resident_a", category=code, attributes=answers)
    assert made["attributes"] == [
        {"code": "pole_number", "question": "灯杆编号", "answer": XSS},
        {"code": "lamps_out", "question": "不亮的灯数", "answer": "3"},
        {"code": "hazard", "question": "隐患", "answer": "路口昏暗"},
        {"code": "when_seen", "question": "发现时段", "answer": "傍晚、深夜"},
    ]
    assert made["media_url"] == "" and made["contact_email"] == ""
    english = client.get(f"/api/v1/requests/{made['id']}",
                         headers=world.headers("staff_a", **{"Accept-Language": "en"})).json()
    assert [(a["question"], a["answer"]) for a in english["attributes"]][2:] == [
        ("Hazard", "Dark crossing"), ("Seen", "傍晚, 深夜")]
    with unit_of_work(runtime.sessions) as session:
        stored = session.get(Request, made["id"]).attributes
    assert stored == {"pole_number": XSS, "lamps_out": 3, "hazard": "dark_crossing", "when_seen": ["dusk", "night"]}

    # Left out altogether, the questions are not asked (a form that does not show them).
    plain = submit(client, world, "resident_a", category=code)
    assert plain["attributes"] == []


@pytest.mark.parametrize("answers, code, attribute", [
    ({"lamps_out": "2"}, "attribute_required", "hazard"),
    ({}, "attribute_required", "lamps_out"),
    ({"lamps_out": "2", "hazard": "none", "colour": "red"}, "unknown_attribute", "colour"),
    ({"lamps_out": "2", "hazard": "none", "notice": "ok"}, "unknown_attribute", "notice"),
    ({"lamps_out": "many", "hazard": "none"}, "invalid_attribute", "lamps_out"),
    ({"lamps_out": 2, "hazard": "flood"}, "invalid_attribute", "hazard"),
    ({"lamps_out": 2, "hazard": ["none", "dark_crossing"]}, "invalid_attribute", "hazard"),
])
def test_answers_are_checked(client, world, runtime, answers, code, attribute):
    category = streetlight(client, world)
    before = table_counts(runtime)
    answer = submit(client, world, "resident_a", category=category, attributes=answers, expect=422)
    assert answer["error"]["code"] == code
    assert answer["error"]["details"]["attribute"] == attribute
    assert answer["error"]["details"]["field"] == f"attribute[{attribute}]"
    assert table_counts(runtime) == before


def test_answers_of_the_wrong_shape_are_refused(client, world):
    category = streetlight(client, world)
    for bad in ({"lamps_out": {"n": 2}}, {"lamps_out": True}, ["lamps_out"], {"lamps_out": [1]}):
        answer = submit(client, world, "resident_a", category=category, attributes=bad, expect=422)
        assert answer["error"]["code"] == "validation_error"


# --- the request page ----------------------------------------------------------------------------

def test_the_request_page_shows_answers_email_and_the_photo_link(client, world, runtime, browser_factory):
    category = streetlight(client, world)
    key = call(client, world, "POST", CLIENTS, 201, body={"name": "城市服务App"})["api_key"]
    filed = file311(client, world, key, service_code=category, email="wang@example.cn", phone="13800138000",
                    last_name="王", media_url="https://photos.example.cn/p/1.jpg?a=1&b=2",
                    **{"attribute[pole_number]": XSS, "attribute[lamps_out]": "2",
                       "attribute[hazard]": "dark_crossing"})
    rid = int(filed[0]["service_request_id"])
    runtime.drain()

    detail = get(client, world, "staff_a", f"/requests/{rid}")
    assert detail["contact_email"] == "wang@example.cn" and detail["contact_phone"] == "13800138000"
    assert detail["media_url"] == "https://photos.example.cn/p/1.jpg?a=1&b=2"

    browser = browser_factory()
    browser.login("staff_a")
    page = browser.get(f"/requests/{rid}")
    assert page.status_code == 200
    html = page.text
    assert "Open311 接口" in html and '<span class="collector">城市服务App</span>' in html
    assert '<dt>灯杆编号</dt><dd data-attribute="pole_number">' + ESCAPED in html
    assert XSS not in html
    assert '<dt>不亮的灯数</dt><dd data-attribute="lamps_out">2</dd>' in html
    assert '<dd data-attribute="hazard">路口昏暗</dd>' in html
    assert "13800138000" in html and 'href="mailto:wang@example.cn"' in html
    assert ('<a href="https://photos.example.cn/p/1.jpg?a=1&amp;b=2" rel="noopener noreferrer nofollow" '
            'target="_blank">') in html

    browser.set_language("en")
    html = browser.get(f"/requests/{rid}").text
    assert "<dt>Pole number</dt>" in html and '<dd data-attribute="hazard">Dark crossing</dd>' in html
    assert 'Open311 · <span class="collector">城市服务App</span>' in html

    # A member shown the task sees the answers and the link, not the reporter's contact.
    act(client, world, "staff_a", rid, "publish_task")
    member = get(client, world, "member_1", f"/requests/{rid}")
    assert member["contact_email"] is None and member["contact_phone"] is None
    assert [a["answer"] for a in member["attributes"]][:1] == [XSS]
    other = browser_factory()
    other.login("member_1")
    html = other.get(f"/requests/{rid}").text
    assert "wang@example.cn" not in html and "13800138000" not in html and ESCAPED in html


def test_only_a_web_address_becomes_a_link(client, world, runtime, browser_factory):
    """A media_url that is not http(s) (stored by some other path) is never made a link."""
    with unit_of_work(runtime.sessions) as session:
        request = intake.submit(session, world.actors["resident_a"], intake.Submission(
            channel="report", category="disputes.noise", description="楼上噪音", community_id=world.ids["community_A"],
            media_url="javascript:alert(1)"))
        rid = request.id
    browser = browser_factory()
    browser.login("resident_a")
    html = browser.get(f"/requests/{rid}").text
    assert "javascript:alert(1)" not in html and 'class="media-link"' not in html
    assert 'class="collector"' not in html  # a resident's own report names no collector


# --- the command line ----------------------------------------------------------------------------

def test_the_command_line_issues_lists_and_revokes(client, world, settings, tmp_path):
    env = _env(database_url=settings.database_url, dev_mode="1")
    empty = _run("open311-client", "list", env=env, cwd=tmp_path)
    assert empty.returncode == 0 and "no Open311 clients yet" in empty.stdout

    issued = _run("open311-client", "issue", "12345热线", env=env, cwd=tmp_path)
    assert issued.returncode == 0, issued.stderr
    (key,) = [line.split(": ", 1)[1] for line in issued.stdout.splitlines() if line.startswith("api_key: ")]
    assert key.startswith("sbp_") and "not shown again" in issued.stderr
    client_id = int(issued.stdout.split("client ", 1)[1].split(" ", 1)[0])
    file311(client, world, key)

    listed = _run("open311-client", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = [line.split("\t") for line in listed.stdout.splitlines()][1]
    assert row[0] == str(client_id) and row[1] == "12345热线" and row[2] == key[:10] + "…"
    assert row[4] != "-" and row[5] == "-" and row[6] == "1"
    assert key not in listed.stdout

    duplicate = _run("open311-client", "issue", "12345热线", env=env, cwd=tmp_path)
    assert duplicate.returncode != 0 and "client_exists" in duplicate.stderr

    revoked = _run("open311-client", "revoke", str(client_id), env=env, cwd=tmp_path)
    assert revoked.returncode == 0 and "revoked Open311 client" in revoked.stdout
    file311(client, world, key, expect=403)
    again = _run("open311-client", "revoke", str(client_id), env=env, cwd=tmp_path)
    assert again.returncode != 0 and "client_revoked" in again.stderr
    # The admin API sees what the command line did.
    (row,) = call(client, world, "GET", CLIENTS, 200)
    assert row["revoked_at"] is not None and row["requests"] == 1


def test_create_account_does_not_offer_the_client_role(tmp_path):
    helped = _run("create-account", "--help", env=_env(), cwd=tmp_path)
    assert "client" not in helped.stdout.split("--role", 1)[1].split("--community-id", 1)[0]
    refused = _run("create-account", "--username", "app1", "--display-name", "App", "--role", "client",
                   "--password", "x" * 12, env=_env(dev_mode="1"), cwd=tmp_path)
    assert refused.returncode == 2 and "'client' is not one of" in refused.stderr
