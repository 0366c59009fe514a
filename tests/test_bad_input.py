"""Bad input gets a 4xx with a stable code and a readable message, and nothing is written: every
refused call leaves the row count of every table as it was."""

from __future__ import annotations

import pytest

from api.app import create_app
from workflow.settings import Settings

from .helpers import act, get, submit, table_counts


def error(body: dict) -> dict:
    return body["error"]


def quiet_counts(runtime) -> dict[str, int]:
    """Row counts once the worker has nothing left to do, so that only the refused call could change them."""
    runtime.drain()
    return table_counts(runtime)


def field_names(body: dict) -> set[str]:
    return {part for f in error(body)["details"]["fields"] for part in f["loc"]}


def bring(client, world, runtime, state: str) -> int:
    """A request of community A brought to ``state`` over HTTP by the people who would do it."""
    category = "disputes.noise" if state in ("community", "resolved") else "sanitation.corridor_clutter"
    rid = submit(client, world, "resident_a", category=category)["id"]
    runtime.drain()
    if state == "resolved":
        act(client, world, "staff_a", rid, "resolve", result="已上门协调。")
    if state in ("claimed", "verifying"):
        act(client, world, "member_1", rid, "claim")
    if state == "verifying":
        act(client, world, "member_1", rid, "report_result", result="纸箱已清理。", hours=1)
    assert get(client, world, "admin", f"/requests/{rid}")["status"] == state
    return rid


# --- submitting ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "code"), [
    ({"category": "nope"}, "unknown_category"),
    ({"category": "sanitation"}, "unknown_category"),  # a top level, not a leaf
    ({"description": ""}, "description_required"),
    ({"description": " \n\t　 "}, "description_required"),
    ({"description": "很" * 100_000}, "description_too_long"),
    ({"community_id": 999999}, "unknown_community"),
    ({"building_id": "building_B"}, "invalid_location"),
    ({"photo_ids": [999999]}, "invalid_photo"),
])
def test_submission_with_bad_content_is_refused(client, world, runtime, fields, code):
    """Each problem with the content of a report gets its own code and no request is created."""
    fields = {k: world.ids[v] if k == "building_id" else v for k, v in fields.items()}
    before = quiet_counts(runtime)
    refused = submit(client, world, "resident_a", expect=422, **fields)
    assert error(refused)["code"] == code
    assert table_counts(runtime) == before
    assert get(client, world, "resident_a", "/requests/mine") == []


@pytest.mark.parametrize(("fields", "name"), [
    ({"description": 42}, "description"),
    ({"community_id": "abc"}, "community_id"),
    ({"photo_ids": "1,2"}, "photo_ids"),
    ({"channel": "carrier-pigeon"}, "channel"),
    ({"priority": "urgent"}, "priority"),
])
def test_submission_with_wrong_types_names_the_field(client, world, runtime, fields, name):
    """A field of the wrong type, or one the API does not know, is named in the 422 response."""
    before = quiet_counts(runtime)
    refused = submit(client, world, "resident_a", expect=422, **fields)
    assert error(refused)["code"] == "validation_error"
    assert name in field_names(refused)
    assert table_counts(runtime) == before


def test_body_that_is_not_json_is_refused(client, world, runtime):
    """A body that is not JSON at all is a validation error, not a server error."""
    before = quiet_counts(runtime)
    response = client.post("/api/v1/requests", content=b"{not json",
                           headers=world.headers("resident_a", **{"Content-Type": "application/json"}))
    assert response.status_code == 422, response.text
    assert error(response.json())["code"] == "validation_error"
    assert table_counts(runtime) == before


# --- unknown ids -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "method", "path", "body"), [
    ("resident_a", "GET", "/requests/999999", None),
    ("staff_a", "POST", "/requests/999999/resolve", {"result": "已处理。"}),
    ("staff_a", "POST", "/requests/999999/publish-task", None),
    ("resident_a", "POST", "/requests/999999/evaluation", {"satisfaction": "satisfied", "solved": True}),
])
def test_unknown_request_is_not_found(client, world, runtime, user, method, path, body):
    """A request id that does not exist answers 404 request_not_found."""
    before = quiet_counts(runtime)
    response = client.request(method, f"/api/v1{path}", json=body, headers=world.headers(user))
    assert response.status_code == 404, response.text
    assert error(response.json())["code"] == "request_not_found"
    assert table_counts(runtime) == before


# --- logging in ------------------------------------------------------------------------------------

def test_bad_login_does_not_say_which_part_was_wrong(client, world, runtime):
    """A wrong password and an unknown username get the same 401 and the same message, and leave
    nothing behind but their lines in the log of logins; a malformed one not even that."""
    before = quiet_counts(runtime)
    answers = [client.post("/api/v1/auth/login", json={"username": username, "password": "wrong-password"})
               for username in ("resident_a", "nobody_here")]
    assert [a.status_code for a in answers] == [401, 401]
    wrong_password, unknown_user = (error(a.json()) for a in answers)
    assert wrong_password["code"] == unknown_user["code"] == "invalid_credentials"
    assert wrong_password["message"] == unknown_user["message"] == "用户名或密码错误。"

    missing = client.post("/api/v1/auth/login", json={"username": "resident_a"})
    assert missing.status_code == 422
    assert error(missing.json())["code"] == "validation_error" and "password" in field_names(missing.json())
    assert table_counts(runtime) == {**before, "login_attempts": before["login_attempts"] + 2}


# --- triggers that need input --------------------------------------------------------------------

@pytest.mark.parametrize(("state", "user", "trigger", "body", "code", "field"), [
    ("community", "staff_a", "reject", {"reason": ""}, "reason_required", "reason"),
    ("community", "staff_a", "reject", {"reason": "   "}, "reason_required", "reason"),
    ("community", "staff_a", "reject", {}, "validation_error", "reason"),  # the field itself is missing
    ("verifying", "staff_a", "verify", {"appraisal": 0}, "invalid_appraisal", "appraisal"),
    ("verifying", "staff_a", "verify", {"appraisal": 6}, "invalid_appraisal", "appraisal"),
    ("verifying", "staff_a", "verify", {"appraisal": "5"}, "validation_error", "appraisal"),
    ("claimed", "member_1", "report_result", {"result": "已清理。", "hours": 0}, "invalid_hours", "hours"),
    ("claimed", "member_1", "report_result", {"result": "已清理。", "hours": -1}, "invalid_hours", "hours"),
    ("claimed", "member_1", "report_result", {"result": "已清理。", "hours": 25}, "invalid_hours", "hours"),
    ("resolved", "resident_a", "evaluation", {"satisfaction": "meh", "solved": True}, "validation_error",
     "satisfaction"),
])
def test_trigger_with_bad_input_leaves_the_request_as_it_was(client, world, runtime, state, user, trigger,
                                                             body, code, field):
    """The right person in the right state gets 422 naming the bad field, and the request does not move."""
    rid = bring(client, world, runtime, state)
    before = quiet_counts(runtime)
    refused = act(client, world, user, rid, trigger, expect=422, **body)
    assert error(refused)["code"] == code
    if code == "validation_error":
        assert field in field_names(refused)
    else:
        assert error(refused)["details"]["field"] == field
    assert table_counts(runtime) == before
    assert get(client, world, "admin", f"/requests/{rid}")["status"] == state


def test_merge_needs_an_open_request_of_the_same_community(client, world, runtime):
    """Merging into itself or into another community's request is refused; a real duplicate merges."""
    rid = submit(client, world, "resident_a", community="A", category="disputes.noise")["id"]
    primary = submit(client, world, "resident_b", community="A", category="disputes.noise")["id"]
    elsewhere = submit(client, world, "resident_a", community="B", category="disputes.noise")["id"]
    runtime.drain()
    before = table_counts(runtime)

    itself = act(client, world, "staff_a", rid, "merge", expect=422, duplicate_of=rid)
    assert error(itself)["code"] == "merge_target_required"
    other = act(client, world, "staff_a", rid, "merge", expect=422, duplicate_of=elsewhere)
    assert error(other)["code"] == "invalid_merge_target"
    assert table_counts(runtime) == before
    detail = get(client, world, "staff_a", f"/requests/{rid}")
    assert detail["status"] == "community" and detail["merged_into_id"] is None

    merged = act(client, world, "staff_a", rid, "merge", duplicate_of=primary)
    assert merged["status"] == "merged" and merged["merged_into_id"] == primary


# --- wrong state, and the language of messages ---------------------------------------------------

def test_trigger_from_the_wrong_state_says_what_state_it_is_in(client, world, runtime):
    """Verifying a request that community staff are handling is a 409 naming the state, in Chinese."""
    rid = bring(client, world, runtime, "community")
    before = quiet_counts(runtime)
    refused = error(act(client, world, "staff_a", rid, "verify", expect=409, appraisal=5))
    assert refused["code"] == "invalid_transition"
    assert refused["details"]["status"] == "community"
    assert refused["message"] == "该诉求当前为“社区办理”，不能执行“核查通过”。"
    assert table_counts(runtime) == before


def test_messages_follow_accept_language(client, world, runtime):
    """The same refusal reads in English when the caller asks for English, in Chinese otherwise."""
    before = quiet_counts(runtime)
    body = {"channel": "report", "category": "disputes.noise", "description": "   ",
            "community_id": world.ids["community_A"]}
    in_english = world.headers("resident_a", **{"Accept-Language": "en"})
    english = client.post("/api/v1/requests", json=body, headers=in_english)
    chinese = client.post("/api/v1/requests", json=body, headers=world.headers("resident_a"))
    assert (english.status_code, chinese.status_code) == (422, 422)
    english, chinese = error(english.json()), error(chinese.json())
    assert english["code"] == chinese["code"] == "description_required"
    assert english["message"] == "Please describe the problem."
    assert chinese["message"] == "请描述遇到的问题。"
    assert table_counts(runtime) == before


def test_ids_beyond_any_row_are_refused_with_a_code(client, world, runtime):
    """An id too large to be a key is a 4xx with a code, never a bare server error."""
    huge = 10**20
    response = client.get(f"/api/v1/requests/{huge}", headers=world.headers("resident_a"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    before = table_counts(runtime)
    response = client.post("/api/v1/requests", headers=world.headers("resident_a"), json={
        "channel": "report", "category": "sanitation.corridor_clutter", "description": "楼道堆物",
        "community_id": huge})
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert table_counts(runtime) == before


@pytest.mark.parametrize(("user", "path"), [
    ("resident_a", "/notifications"), ("resident_a", "/requests/mine"), ("staff_a", "/queue"),
    ("member_1", "/tasks"), ("member_1", "/claims/mine"), ("officer_1", "/street/queue"),
    ("admin", "/admin/logins"), ("admin", "/admin/audit"),
])
def test_an_offset_past_any_row_is_refused_with_a_code(client, world, user, path):
    """Found by schemathesis: ``offset=2**63`` reached the database and overflowed SQLite's integer (a
    500). An offset is at most the largest id."""
    response = client.get(f"/api/v1{path}", params={"offset": 2**63}, headers=world.headers(user))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    assert "offset" in field_names(response.json())
    assert client.get(f"/api/v1{path}", params={"offset": 2_147_483_647}, headers=world.headers(user)).json() == []


# --- what schemathesis found: answers the description did not list ---------------------------------

DESCRIPTION = create_app(Settings(dev_mode=True, database_url="sqlite://")).openapi()


def _documented(method: str, path: str) -> set[str]:
    return set(DESCRIPTION["paths"][path][method]["responses"])


def test_the_description_lists_the_answers_the_operations_give(client, world):
    """Each of these answers was once missing from the description (schemathesis's "undocumented
    status code"): a resident at the staff queue (403), a member ending a registration they do not
    have (404), a body that is not UTF-8 (400), and Open311's own errors, which are never FastAPI's 422."""
    queue = client.get("/api/v1/queue", headers=world.headers("resident_a"))
    assert queue.status_code == 403 and "403" in _documented("get", "/api/v1/queue")
    ended = client.delete(f"/api/v1/registrations/{world.ids['community_B']}", headers=world.headers("member_1"))
    assert ended.status_code == 404 and "404" in _documented("delete", "/api/v1/registrations/{community_id}")
    garbled = client.post("/api/v1/auth/login", content=b"\xff", headers={"Content-Type": "application/json"})
    assert garbled.status_code == 400 and all("400" in _documented(method, path)
                                              for path, ops in DESCRIPTION["paths"].items()
                                              if path.startswith("/api/") for method in ops)

    unknown = client.get("/open311/v2/services.xml", params={"jurisdiction_id": "nowhere"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/xml")
    for path, operations in DESCRIPTION["paths"].items():
        if path.startswith("/open311/"):
            for operation in operations.values():
                assert "422" not in operation["responses"] and {"400", "404"} <= set(operation["responses"])
                assert set(operation["responses"]["404"]["content"]) == {"application/json", "text/xml"}
