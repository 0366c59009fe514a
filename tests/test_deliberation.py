"""建言 and 议事 on both backends: a suggestion's lifecycle is a table the desk walks, a meeting takes
suggestions and requests up and records its decision once, and an adopted decision reaches the
public board without anyone's name."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx

from workflow.deliberation.lifecycle import SUGGESTION
from workflow.deliberation.models import Meeting, SuggestionEvent
from workflow.models import AuditEntry

from .helpers import all_rows, count, get, submit, table_counts


def _post(client, world, user: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
    answer = client.post(f"/api/v1{path}", json=body, headers=world.headers(user))
    assert answer.status_code == expect, answer.text
    return answer.json()


def _suggest(client, world, user: str = "resident_a", title: str = "在小区里装几张长椅") -> dict:
    return _post(client, world, user, "/suggestions", {"community_id": world.ids["community_A"], "title": title,
                                                       "body": "老人散步走累了没有地方坐，建议在花园边装几张长椅。"},
                 expect=201)


def _meeting(world, suggestion_ids: list[int], request_ids: list[int] = ()) -> dict:
    return {"topic": "花园长椅放在哪里", "held_on": "2026-12-05", "participants": "居民代表8人、物业1人、社区2人",
            "participant_count": 11, "options": ["花园东侧", "花园西侧"], "suggestion_ids": suggestion_ids,
            "request_ids": list(request_ids)}


def test_the_suggestion_lifecycle_is_a_table_the_desk_walks(client, world, runtime):
    assert [(s.trigger, [x.value for x in s.sources], s.dest.value) for s in SUGGESTION.steps] == [
        ("take_up", ["received"], "deliberating"), ("adopt", ["received", "deliberating"], "adopted"),
        ("decline", ["received", "deliberating"], "declined"), ("complete", ["adopted"], "done")]
    first = _suggest(client, world)
    assert (first["status"], first["status_label"]) == ("received", "已收到")
    # Only the community's desk takes a step; the author and other communities' staff may not.
    for user, code in (("resident_a", "role_not_allowed"), ("staff_b", "out_of_scope")):
        before = table_counts(runtime)
        answer = client.post(f"/api/v1/suggestions/{first['id']}/adopt", json={}, headers=world.headers(user))
        assert (answer.status_code, answer.json()["error"]["code"]) == (403, code)
        assert table_counts(runtime) == before
    # A decline needs its reason, which the author reads; a declined suggestion is finished.
    missing = client.post(f"/api/v1/suggestions/{first['id']}/decline", json={}, headers=world.headers("staff_a"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "reason_required")
    declined = _post(client, world, "staff_a", f"/suggestions/{first['id']}/decline",
                     {"reason": "花园属于市政绿地，社区无权改建，已转交街道。"})
    assert declined["status"] == "declined" and declined["actions"] == []
    mine = get(client, world, "resident_a", "/suggestions/mine")
    assert (mine[0]["status_label"], mine[0]["reason"]) == ("未采纳", "花园属于市政绿地，社区无权改建，已转交街道。")
    again = client.post(f"/api/v1/suggestions/{first['id']}/adopt", json={}, headers=world.headers("staff_a"))
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invalid_transition")

    second = _suggest(client, world, "member_1", "楼道装感应灯")
    assert _post(client, world, "staff_a", f"/suggestions/{second['id']}/adopt", {"note": "同意"})["status"] == \
        "adopted"
    done = _post(client, world, "secretary_a", f"/suggestions/{second['id']}/complete", {"result": "已安装12盏感应灯"})
    assert (done["status"], done["result"]) == ("done", "已安装12盏感应灯")
    assert [h["trigger"] for h in done["history"]] == ["submit", "adopt", "complete"]
    # Someone else's suggestion is not theirs to read.
    assert client.get(f"/api/v1/suggestions/{second['id']}", headers=world.headers("resident_b")).status_code == 404
    # A member suggests only to a community they are registered with.
    refused = client.post("/api/v1/suggestions", json={"community_id": world.ids["community_C"], "title": "x",
                                                        "body": "y"}, headers=world.headers("member_1"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_registered")


def test_a_meeting_decides_once_and_an_adopted_decision_reaches_the_board(client, world, runtime):
    one = _suggest(client, world)
    two = _suggest(client, world, "resident_b", "长椅要有靠背")
    rid = submit(client, world, "resident_a", category="disputes.noise")["id"]
    meeting = _post(client, world, "staff_a", f"/communities/{world.ids['community_A']}/meetings",
                    _meeting(world, [one["id"], two["id"]], [rid]), expect=201)
    assert meeting["status"] == "open" and meeting["request_ids"] == [rid]
    assert {s["status"] for s in meeting["suggestions"]} == {"deliberating"}
    # A suggestion already with a meeting cannot be taken up by another.
    clash = client.post(f"/api/v1/communities/{world.ids['community_A']}/meetings",
                        json=_meeting(world, [one["id"]]), headers=world.headers("staff_a"))
    assert (clash.status_code, clash.json()["error"]["code"]) == (409, "suggestion_not_open")
    bad = [({"votes": [5], "chosen": 0, "decision": "x", "outcome": "adopt"}, "invalid_votes"),
           ({"votes": [9, 5], "chosen": 0, "decision": "x", "outcome": "adopt"}, "invalid_votes"),  # 14 > 11
           ({"votes": [6, 5], "chosen": 2, "decision": "x", "outcome": "adopt"}, "invalid_choice"),
           ({"votes": [6, 5], "chosen": 0, "decision": " ", "outcome": "adopt"}, "decision_required")]
    for body, code in bad:
        before = table_counts(runtime)
        answer = client.post(f"/api/v1/meetings/{meeting['id']}/decision", json=body, headers=world.headers("staff_a"))
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, code), answer.text
        assert table_counts(runtime) == before
    decided = _post(client, world, "secretary_a", f"/meetings/{meeting['id']}/decision",
                    {"votes": [7, 3], "chosen": 0, "outcome": "adopt",
                     "decision": "在花园东侧装4张带靠背的长椅，王先生（13812345678）负责联系厂家。"})
    assert decided["status"] == "decided" and {s["status"] for s in decided["suggestions"]} == {"adopted"}
    twice = client.post(f"/api/v1/meetings/{meeting['id']}/decision",
                        json={"votes": [7, 3], "chosen": 1, "decision": "改", "outcome": "decline"},
                        headers=world.headers("staff_a"))
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_decided")

    board = client.get("/api/v1/board/community/A").json()
    [posted] = board["decisions"]
    assert (posted["topic"], posted["option"], posted["votes_for"], posted["votes_cast"]) == \
        ("花园长椅放在哪里", "花园东侧", 7, 10)
    assert "13812345678" not in posted["decision"] and "居民代表" not in str(posted)  # no phones, no participants
    page = client.get("/board/community/A")
    assert "花园东侧" in page.text and "13812345678" not in page.text
    assert {e.action for e in all_rows(runtime, AuditEntry)} >= {"meeting.convene", "meeting.decide"}
    assert count(runtime, SuggestionEvent, SuggestionEvent.trigger == "adopt") == 2


def test_two_desks_deciding_one_meeting_at_once_record_one_decision(live_server, client, world, runtime):
    one = _suggest(client, world)
    meeting = _post(client, world, "staff_a", f"/communities/{world.ids['community_A']}/meetings",
                    _meeting(world, [one["id"]]), expect=201)
    barrier = threading.Barrier(2)

    def decide(args):
        user, outcome = args
        with httpx.Client(base_url=live_server, timeout=60) as http:
            barrier.wait()
            return http.post(f"/api/v1/meetings/{meeting['id']}/decision", headers=world.headers(user),
                             json={"votes": [6, 5], "chosen": 0, "decision": f"{outcome}", "outcome": outcome})

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(decide, [("staff_a", "adopt"), ("secretary_a", "decline")]))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    [row] = all_rows(runtime, Meeting)
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert row.outcome == winner["outcome"]
    statuses = {s["status"] for s in get(client, world, "staff_a", f"/meetings/{meeting['id']}")["suggestions"]}
    assert statuses == {"adopted" if row.outcome == "adopt" else "declined"}
    assert count(runtime, SuggestionEvent, SuggestionEvent.trigger.in_(("adopt", "decline"))) == 1
