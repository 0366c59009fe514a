"""Every read and write is scoped to what the caller may see: other people's requests, other
communities' tasks and other streets' escalations answer 404 (or 403 when the caller may see the
task but is not the right person), and a refused call changes nothing."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD
from .helpers import act, get, in_community, submit, table_counts


def error_code(body: dict) -> str:
    return body["error"]["code"]


def on_board(client, world, runtime) -> int:
    """Corridor clutter in community A, routed by the worker onto the task board."""
    rid = submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"]
    runtime.drain()
    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "open_task"
    return rid


def ids(rows: list[dict]) -> list[int]:
    return [r["id"] for r in rows]


# --- residents ------------------------------------------------------------------------------------

def test_resident_cannot_read_or_evaluate_a_neighbours_request(client, world, runtime):
    """Another resident's request looks as if it did not exist, even when it waits for evaluation."""
    rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "resolve", result="已上门协调。")
    before = get(client, world, "resident_a", f"/requests/{rid}")

    refused = get(client, world, "resident_b", f"/requests/{rid}", expect=404)
    assert error_code(refused) == "request_not_found"
    for satisfaction, solved in (("satisfied", True), ("unsatisfied", False)):
        refused = act(client, world, "resident_b", rid, "evaluation", expect=404, satisfaction=satisfaction,
                      solved=solved)
        assert error_code(refused) == "request_not_found"
    assert rid not in ids(get(client, world, "resident_b", "/requests/mine"))

    after = get(client, world, "resident_a", f"/requests/{rid}")
    assert after["status"] == "resolved" and after["evaluations"] == []
    assert after["events"] == before["events"]


# --- members and registrations ------------------------------------------------------------------

def test_member_claims_only_after_registering_with_the_community(client, world, runtime):
    """A member registered elsewhere is told they are not registered; registering fixes it."""
    rid = on_board(client, world, runtime)
    community_a = world.ids["community_A"]

    refused = act(client, world, "member_c", rid, "claim", expect=403)
    assert error_code(refused) == "not_registered"
    task = get(client, world, "staff_a", f"/requests/{rid}")
    assert task["status"] == "open_task" and task["claims"] == []
    assert get(client, world, "member_c", "/tasks") == []
    # ... and cannot read it either: tasks are shown to the members of their own community only.
    assert get(client, world, "member_c", f"/requests/{rid}", expect=404)["error"]["code"] == "request_not_found"

    response = client.post("/api/v1/registrations", json={"community_id": community_a},
                           headers=world.headers("member_c"))
    assert response.status_code == 201, response.text
    assert ids(get(client, world, "member_c", "/tasks")) == [rid]
    claimed = act(client, world, "member_c", rid, "claim")
    assert claimed["status"] == "claimed"
    assert [c["member_id"] for c in claimed["claims"]] == [world.actors["member_c"].member_id]


def test_ending_a_registration_takes_the_community_off_the_task_board(client, world, runtime):
    """After ending the registration the member no longer sees, or may claim, that community's tasks."""
    rid = on_board(client, world, runtime)
    community_a = world.ids["community_A"]
    assert ids(get(client, world, "member_2", "/tasks")) == [rid]

    response = client.delete(f"/api/v1/registrations/{community_a}", headers=world.headers("member_2"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ended"
    assert get(client, world, "member_2", "/tasks") == []
    assert error_code(act(client, world, "member_2", rid, "claim", expect=403)) == "not_registered"
    assert get(client, world, "staff_a", f"/requests/{rid}")["claims"] == []
    # The other member registered with A still sees it.
    assert ids(get(client, world, "member_1", "/tasks")) == [rid]


def test_only_the_claiming_member_may_release_or_report(client, world, runtime):
    """Another registered member is told the task is someone else's; the claim stays put."""
    rid = on_board(client, world, runtime)
    act(client, world, "member_1", rid, "claim")
    before = table_counts(runtime)

    refused = act(client, world, "member_2", rid, "release", expect=403)
    assert error_code(refused) == "not_your_claim"
    refused = act(client, world, "member_2", rid, "report_result", expect=403, result="我清理好了。", hours=1)
    assert error_code(refused) == "not_your_claim"

    assert table_counts(runtime) == before
    task = get(client, world, "staff_a", f"/requests/{rid}")
    assert task["status"] == "claimed"
    assert [(c["member_id"], c["status"], c["result"]) for c in task["claims"]] == [
        (world.actors["member_1"].member_id, "active", "")]
    assert get(client, world, "member_2", "/claims/mine") == []


# --- staff and street officers ------------------------------------------------------------------

STAFF_MOVES = [
    ("route_to_community", {}),
    ("resolve", {"result": "已处理。"}),
    ("reject", {"reason": "不属于本社区。"}),
    ("publish_task", {}),
]


def test_staff_of_another_community_cannot_see_or_handle_the_request(client, world, runtime):
    """Community B's staff get 404 for community A's request and do not find it in their queue."""
    rid = in_community(client, world, runtime)
    before = get(client, world, "staff_a", f"/requests/{rid}")

    assert error_code(get(client, world, "staff_b", f"/requests/{rid}", expect=404)) == "request_not_found"
    for trigger, body in STAFF_MOVES:
        refused = act(client, world, "staff_b", rid, trigger, expect=404, **body)
        assert error_code(refused) == "request_not_found", trigger
    assert rid not in ids(get(client, world, "staff_b", "/queue"))

    after = get(client, world, "staff_a", f"/requests/{rid}")
    assert after["status"] == "community" and after["events"] == before["events"]
    assert rid in ids(get(client, world, "staff_a", "/queue"))
    assert act(client, world, "staff_a", rid, "publish_task")["status"] == "open_task"


def test_officer_of_another_street_cannot_see_or_handle_an_escalation(client, world, runtime):
    """Street 2's officer gets 404 for street 1's escalated request; street 1's officer resolves it."""
    rid = in_community(client, world, runtime)
    act(client, world, "staff_a", rid, "escalate")

    assert error_code(get(client, world, "officer_2", f"/requests/{rid}", expect=404)) == "request_not_found"
    for trigger, body in (("resolve", {"result": "街道已处理。"}),
                          ("return_to_community", {"reason": "请社区处理。"})):
        refused = act(client, world, "officer_2", rid, trigger, expect=404, **body)
        assert error_code(refused) == "request_not_found", trigger
    assert rid not in ids(get(client, world, "officer_2", "/queue"))

    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "street"
    assert rid in ids(get(client, world, "officer_1", "/queue"))
    assert act(client, world, "officer_1", rid, "resolve", result="街道协调处理。")["status"] == "resolved"


# --- roles ------------------------------------------------------------------------------------------

def test_resident_cannot_verify_even_their_own_request(client, world, runtime):
    """Verifying a member's work is for staff: the reporting resident gets 403 and nothing moves."""
    rid = on_board(client, world, runtime)
    act(client, world, "member_1", rid, "claim")
    act(client, world, "member_1", rid, "report_result", result="纸箱已清理。", hours=1)
    before = table_counts(runtime)

    refused = act(client, world, "resident_a", rid, "verify", expect=403, appraisal=5)
    assert error_code(refused) == "role_not_allowed"
    assert table_counts(runtime) == before
    assert get(client, world, "resident_a", f"/requests/{rid}")["status"] == "verifying"


NEW_STAFF = {"username": "staff_new", "password": "long-enough-password", "display_name": "新干部",
             "role": "staff", "community_id": None}


@pytest.mark.parametrize(("user", "method", "path", "body"), [
    ("member_1", "GET", "/queue", None),
    ("resident_a", "GET", "/tasks", None),
    ("resident_a", "GET", "/claims/mine", None),
    ("staff_a", "POST", "/accounts", NEW_STAFF),
    ("resident_a", "POST", "/accounts", NEW_STAFF),
])
def test_pages_of_other_roles_are_refused(client, world, runtime, user, method, path, body):
    """A desk that belongs to another role answers 403 role_not_allowed and creates nothing."""
    if body is not None:
        body = {**body, "community_id": world.ids["community_A"]}
    before = table_counts(runtime)
    response = client.request(method, f"/api/v1{path}", json=body, headers=world.headers(user))
    assert response.status_code == 403, response.text
    assert error_code(response.json()) == "role_not_allowed"
    assert table_counts(runtime) == before


def test_admin_creates_the_account_that_others_may_not(client, world):
    """The same new-account form that others are refused creates a working account for the admin."""
    body = {**NEW_STAFF, "community_id": world.ids["community_A"]}
    response = client.post("/api/v1/accounts", json=body, headers=world.headers("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "staff" and response.json()["community_id"] == world.ids["community_A"]
    login = client.post("/api/v1/auth/login", json={"username": "staff_new", "password": body["password"]})
    assert login.status_code == 200, login.text


# --- authentication ----------------------------------------------------------------------------

def test_calls_without_a_valid_token_are_refused(client, world):
    """No token asks the caller to log in; a made-up token asks them to log in again."""
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401
    assert error_code(missing.json()) == "not_authenticated"
    assert missing.headers["www-authenticate"] == "Bearer"

    forged = client.get("/api/v1/requests/mine", headers={"Authorization": "Bearer not-a-real-token"})
    assert forged.status_code == 401
    assert error_code(forged.json()) == "invalid_token"


def test_password_login_works_until_logout(client, world):
    """Logging in with the password gives a working token; after logging out that token is refused."""
    response = client.post("/api/v1/auth/login", json={"username": "resident_a", "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["username"] == "resident_a"
    assert me.json()["id"] == world.ids["resident_a"]

    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/me", headers=headers)
    assert after.status_code == 401
    assert error_code(after.json()) == "invalid_token"
    # Logging out ends this session only; the resident's other sessions keep working.
    assert get(client, world, "resident_a", "/me")["username"] == "resident_a"


def test_without_a_token_the_answer_is_401_whatever_the_body(client):
    """A caller who is not logged in hears that first, not that their form is incomplete."""
    response = client.post("/api/v1/requests", json={"channel": "fax"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"
