"""The whole collect → handle → evaluate loop over HTTP, as four users, with the worker consuming
the outbox on whichever broker this run uses."""

from __future__ import annotations

from workflow.models import OutboxMessage, OutboxStatus, Outcome, ProcessedMessage

from .helpers import act, all_rows, get, submit


def test_report_task_claim_verify_evaluate_closes_with_outcome(client, world, runtime):
    # The resident reports a problem in a category the task board handles by default.
    created = submit(client, world, "resident_a", category="sanitation.corridor_clutter",
                     building_id=world.ids["building_A"])
    rid = created["id"]
    assert created["status"] == "submitted"
    assert created["status_label"] == "已受理"

    # The worker consumes the outbox: routing publishes it on the task board.
    runtime.drain()
    request = get(client, world, "resident_a", f"/requests/{rid}")
    assert request["status"] == "open_task"
    route_event = request["events"][-1]
    assert route_event["trigger"] == "publish_task" and route_event["actor_role"] == "router"
    assert route_event["data"]["rule"] == "category_default:sanitation.corridor_clutter"

    # The member sees it on the board and claims it.
    board = get(client, world, "member_1", "/tasks")
    assert [t["id"] for t in board] == [rid]
    assert board[0]["actions"] == ["claim"]
    assert board[0]["contact_phone"] is None  # members do not see residents' contact details
    published = get(client, world, "member_1", f"/requests/{rid}")
    assert published["claim_by"] is not None  # the task waits on the board for a limited time
    claimed = act(client, world, "member_1", rid, "claim")
    assert claimed["claim_by"] is None
    mine = get(client, world, "member_1", "/claims/mine", live="true")
    assert [c["request"]["id"] for c in mine] == [rid]

    # The member reports a result with hours; staff verify it with an appraisal.
    act(client, world, "member_1", rid, "report_result", result="纸箱已清理，并提醒住户。", hours=1.5)
    queue = get(client, world, "staff_a", "/queue")
    assert rid in [r["id"] for r in queue]
    verified = act(client, world, "staff_a", rid, "verify", appraisal=4)
    assert verified["status"] == "resolved"
    assert verified["result"] == "纸箱已清理，并提醒住户。"

    # The resident evaluates: satisfied and solved closes it.
    closed = act(client, world, "resident_a", rid, "evaluation", satisfaction="satisfied", solved=True,
                 comment="很好")
    assert closed["status"] == "closed"

    # The outcome row is written by the worker from the outbox.
    runtime.drain()
    (outcome,) = all_rows(runtime, Outcome, Outcome.request_id == rid)
    assert outcome.satisfaction.value == "satisfied" and outcome.solved is True
    assert outcome.appraisal == 4 and float(outcome.hours) == 1.5
    assert outcome.member_id == world.actors["member_1"].member_id
    assert outcome.route == "open_task" and outcome.closed_by == "evaluate"
    assert outcome.responded_in_time and outcome.resolved_in_time

    history = get(client, world, "resident_a", f"/requests/{rid}")
    assert [e["trigger"] for e in history["events"]] == [
        "submit", "publish_task", "claim", "report_result", "verify", "evaluate",
    ]
    assert [e["to_status"] for e in history["events"]] == [
        "submitted", "open_task", "claimed", "verifying", "resolved", "closed",
    ]
    assert history["evaluations"][0]["satisfaction"] == "satisfied"
    assert history["claims"][0]["status"] == "verified" and history["claims"][0]["appraisal"] == 4

    # Every outbox message went out once and was processed once.
    messages = all_rows(runtime, OutboxMessage)
    assert {m.actor_name for m in messages} == {"route_request", "record_outcome"}
    assert all(m.status == OutboxStatus.sent for m in messages)
    processed = all_rows(runtime, ProcessedMessage)
    assert sorted(p.message_id for p in processed) == sorted(m.message_id for m in messages)


def test_unsatisfied_evaluation_reopens_and_second_reopen_goes_to_street(client, world, runtime):
    created = submit(client, world, "resident_a", category="disputes.noise")
    rid = created["id"]
    runtime.drain()
    assert get(client, world, "staff_a", f"/requests/{rid}")["status"] == "community"

    for round_ in (1, 2):
        act(client, world, "staff_a", rid, "resolve", result=f"第{round_}次处理：已上门协调。")
        reopened = act(client, world, "resident_a", rid, "evaluation", satisfaction="unsatisfied", solved=False,
                       comment="还是很吵")
        assert reopened["status"] == "submitted" and reopened["reopen_count"] == round_
        # The deadlines promised when the request came in still stand; the new round gets its own.
        assert (reopened["first_respond_by"], reopened["first_resolve_by"]) == (
            created["respond_by"], created["resolve_by"])
        assert reopened["resolve_by"] > created["resolve_by"]
        runtime.drain()
        status = get(client, world, "resident_a", f"/requests/{rid}")["status"]
        # The first reopen goes back to the community by the category's route; the second to the street.
        assert status == ("community" if round_ == 1 else "street")

    # The street office resolves it; the resident is content this time.
    act(client, world, "officer_1", rid, "resolve", result="街道协调执法队处理。")
    act(client, world, "resident_a", rid, "evaluation", satisfaction="basically_satisfied", solved=True)
    runtime.drain()
    detail = get(client, world, "resident_a", f"/requests/{rid}")
    assert detail["status"] == "closed"
    # Every round's evaluation is kept, the unsatisfied ones included.
    assert [(e["round"], e["satisfaction"]) for e in detail["evaluations"]] == [
        (1, "unsatisfied"), (2, "unsatisfied"), (3, "basically_satisfied"),
    ]
    (outcome,) = all_rows(runtime, Outcome, Outcome.request_id == rid)
    assert outcome.reopen_count == 2 and outcome.route == "street"
    # The rates count all three verdicts: the two that reopened it as well as the one that closed it.
    assert (outcome.verdicts, outcome.verdicts_solved, outcome.verdicts_satisfied, outcome.verdicts_basically) == (
        3, 1, 0, 1)


def test_verified_work_stays_in_the_outcome_after_a_reopen(client, world, runtime):
    rid = submit(client, world, "resident_a", category="sanitation.corridor_clutter")["id"]
    runtime.drain()
    act(client, world, "member_1", rid, "claim")
    act(client, world, "member_1", rid, "report_result", result="清理了一半", hours=3.5)
    act(client, world, "staff_a", rid, "verify", appraisal=5)
    act(client, world, "resident_a", rid, "evaluation", satisfaction="unsatisfied", solved=False)
    runtime.drain()  # the task board again
    act(client, world, "staff_a", rid, "withdraw")
    act(client, world, "staff_a", rid, "resolve", result="社区组织清运完毕")
    act(client, world, "resident_a", rid, "evaluation", satisfaction="satisfied", solved=True)
    runtime.drain()
    (outcome,) = all_rows(runtime, Outcome, Outcome.request_id == rid)
    assert outcome.member_id == world.actors["member_1"].member_id
    assert float(outcome.hours) == 3.5 and outcome.appraisal == 5
    assert outcome.reopen_count == 1 and outcome.satisfaction.value == "satisfied"


def test_inspection_and_visit_channels(client, world, runtime):
    inspected = submit(client, world, "staff_a", channel="inspection", category="safety.fire_lane",
                       community="A")
    assert inspected["reporter_id"] is None and inspected["collector_id"] == world.ids["staff_a"]
    visited = submit(client, world, "member_1", channel="visit", category="housing.roof_leak",
                     contact_name="马奶奶", contact_phone="13900000001")
    assert visited["channel"] == "visit" and visited["contact_name"] == "马奶奶"
    runtime.drain()
    # An inspection has no resident: the community secretary evaluates it.
    act(client, world, "staff_a", inspected["id"], "resolve", result="电动车已挪走")
    act(client, world, "resident_a", inspected["id"], "evaluation", expect=404, satisfaction="satisfied",
        solved=True)
    closed = act(client, world, "secretary_a", inspected["id"], "evaluation", satisfaction="satisfied",
                 solved=True)
    assert closed["status"] == "closed"
    assert [r["id"] for r in get(client, world, "member_1", "/requests/mine")] == [visited["id"]]


def test_english_on_request(client, world):
    body = {"channel": "report", "category": "sanitation.corridor_clutter", "description": "楼道堆物",
            "community_id": world.ids["community_A"]}
    english = world.headers("resident_a", **{"Accept-Language": "en-US,en;q=0.9"})
    created = client.post("/api/v1/requests", json=body, headers=english).json()
    assert created["status_label"] == "Received"
    assert created["events"][0]["label"] == "Submitted"
    refused = client.post("/api/v1/requests", json={**body, "category": "nope"}, headers=english).json()
    assert refused["error"]["message"] == "Unknown category nope."
    chinese = client.post("/api/v1/requests", json={**body, "category": "nope"},
                          headers=world.headers("resident_a")).json()
    assert chinese["error"]["message"] == "未知的诉求类别 nope。"
