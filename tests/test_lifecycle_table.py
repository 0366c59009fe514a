"""Every state × trigger × actor of DESIGN.md §3.

The expectations below are written out from the design, independently of workflow/lifecycle.py.
Each request is brought to its state through real transitions, then every trigger is tried by every
kind of actor inside a savepoint that is rolled back: an allowed move changes the status and writes
exactly one event; a refused one raises the documented error and writes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workflow.access import Actor
from workflow.commands.handling import fire
from workflow.commands.intake import Submission, submit
from workflow.errors import DomainError
from workflow.models import Claim, Evaluation, OutboxMessage, Request, RequestEvent, Status, utcnow

STATES = [s.value for s in Status]
TRIGGERS = ["route_to_community", "publish_task", "escalate", "return_to_community", "claim", "release",
            "withdraw", "report_result", "send_back", "verify", "resolve", "evaluate", "reopen", "expire",
            "reject", "merge"]

# DESIGN.md §3, "trigger | from → to | who", with "who" as the personas below. One deliberate
# change: merge is also allowed from `community`, where staff actually notice duplicates (the
# router moves requests out of `submitted` within milliseconds).
R, SW, ST, OF, ME, CL, EV = "router", "sweeper", "staff_a", "officer_1", "member_2", "member_1", "resident_a"
TABLE = {
    "route_to_community": ({"submitted": {R, ST}}, "community"),
    "publish_task": ({"submitted": {R, ST}, "community": {R, ST}}, "open_task"),
    "escalate": ({"submitted": {R, ST, SW}, "community": {R, ST, SW}, "open_task": {R, ST, SW}}, "street"),
    "return_to_community": ({"street": {OF}}, "community"),
    "claim": ({"open_task": {ME, CL}}, "claimed"),
    "release": ({"claimed": {CL}}, "open_task"),
    "withdraw": ({"open_task": {ST, SW}}, "community"),
    "report_result": ({"claimed": {CL}}, "verifying"),
    "send_back": ({"verifying": {ST}}, "claimed"),
    "verify": ({"verifying": {ST}}, "resolved"),
    "resolve": ({"community": {ST}, "street": {OF}}, "resolved"),
    "evaluate": ({"resolved": {EV}}, "closed"),
    "reopen": ({"resolved": {EV}}, "submitted"),
    "expire": ({"resolved": {SW}}, "closed"),
    "reject": ({"submitted": {ST}, "community": {ST}}, "rejected"),
    "merge": ({"submitted": {ST}, "community": {ST}}, "merged"),
}
# Which account roles can ever fire a trigger (the first check, 403 role_not_allowed).
ROLES_FOR = {
    "route_to_community": {"router", "staff"}, "publish_task": {"router", "staff"},
    "escalate": {"router", "staff", "sweeper"}, "return_to_community": {"street_officer"},
    "claim": {"member"}, "release": {"member"}, "withdraw": {"staff", "sweeper"}, "report_result": {"member"},
    "send_back": {"staff"}, "verify": {"staff"}, "resolve": {"staff", "street_officer"},
    "evaluate": {"resident", "secretary"}, "reopen": {"resident", "secretary"}, "expire": {"sweeper"},
    "reject": {"staff"}, "merge": {"staff"},
}
PERSONAS = ["router", "sweeper", "staff_a", "staff_b", "officer_1", "officer_2", "resident_a", "resident_b",
            "secretary_a", "member_1", "member_2", "member_c", "admin"]
# States reached through the task board in the builders below: registered members may see them.
PUBLISHED = {"open_task", "claimed", "verifying", "resolved", "closed"}
PARAMS = {
    "return_to_community": {"reason": "不属于街道事权"}, "report_result": {"result": "已处理", "hours": "2"},
    "send_back": {"reason": "照片不清楚"}, "verify": {"appraisal": 4}, "resolve": {"result": "已处理"},
    "evaluate": {"satisfaction": "satisfied", "solved": True},
    "reopen": {"satisfaction": "unsatisfied", "solved": False}, "reject": {"reason": "不属于受理范围"},
}


def visible(persona: str, state: str) -> bool:
    if persona in ("staff_b", "officer_2", "resident_b"):
        return False  # another community, another street, another resident
    if persona in ("member_1", "member_2"):
        return state in PUBLISHED
    if persona == "member_c":  # registered elsewhere: sees none of community A's requests
        return False
    return True


def expected(state: str, trigger: str, persona: str, role: str) -> tuple[int, str] | str:
    """What should happen, following the order of checks in workflow/commands/handling.py."""
    allowed, dest = TABLE[trigger]
    if role not in ROLES_FOR[trigger]:
        return 403, "role_not_allowed"
    # A member trying to claim an open task elsewhere is told they are not registered there,
    # without being able to read the task.
    claim_elsewhere = trigger == "claim" and state == "open_task" and role == "member"
    if not (visible(persona, state) or claim_elsewhere):
        return 404, "request_not_found"
    if state not in allowed:
        return 409, "invalid_transition"
    if persona in allowed[state]:
        return dest
    if trigger == "claim":
        return 403, "not_registered"
    if trigger in ("release", "report_result"):
        return 403, "not_your_claim"
    if trigger in ("evaluate", "reopen"):
        return 403, "not_evaluator"
    return 403, "role_not_allowed"


def build(session, settings, actors, community_id, state: str) -> int:
    """Bring a fresh request to ``state`` through real transitions."""
    def new() -> int:
        sub = Submission(channel="report", category="disputes.noise", description="楼上噪音",
                         community_id=community_id)
        return submit(session, actors["resident_a"], sub).id

    def go(rid, *steps):
        for actor, trigger in steps:
            fire(session, settings, actors[actor], rid, trigger, PARAMS.get(trigger, {}))
        return rid

    path = {
        "submitted": [],
        "community": [("staff_a", "route_to_community")],
        "street": [("staff_a", "escalate")],
        "open_task": [("staff_a", "publish_task")],
        "claimed": [("staff_a", "publish_task"), ("member_1", "claim")],
        "verifying": [("staff_a", "publish_task"), ("member_1", "claim"), ("member_1", "report_result")],
        "resolved": [("staff_a", "publish_task"), ("member_1", "claim"), ("member_1", "report_result"),
                     ("staff_a", "verify")],
        "closed": [("staff_a", "publish_task"), ("member_1", "claim"), ("member_1", "report_result"),
                   ("staff_a", "verify"), ("resident_a", "evaluate")],
        "rejected": [("staff_a", "reject")],
    }
    if state == "merged":
        target = new()
        rid = new()
        fire(session, settings, actors["staff_a"], rid, "merge", {"duplicate_of": target})
        return rid
    return go(new(), *path[state])


def _counts(session, rid):
    def n(model, col):
        return session.scalar(select(func.count()).select_from(model).where(col == rid))
    return (n(RequestEvent, RequestEvent.request_id), n(Claim, Claim.request_id),
            n(Evaluation, Evaluation.request_id), session.scalar(select(func.count()).select_from(OutboxMessage)))


@pytest.mark.parametrize("state", STATES)
def test_every_trigger_by_every_actor(state, runtime, world):
    actors = {**world.actors, "router": Actor.system("router"), "sweeper": Actor.system("sweeper")}
    settings = runtime.settings
    later = utcnow() + timedelta(days=30)  # past every evaluation window, so expire is not time-guarded
    mismatches = []
    session = runtime.sessions()
    try:
        with session.begin():
            rid = build(session, settings, actors, world.ids["community_A"], state)
            assert session.get(Request, rid).status.value == state
            # In the merge case, give the trigger an open target in the same community.
            target = submit(session, actors["resident_a"], Submission(
                channel="report", category="disputes.noise", description="另一件",
                community_id=world.ids["community_A"],
            )).id
            for trigger in TRIGGERS:
                for persona in PERSONAS:
                    actor = actors[persona]
                    want = expected(state, trigger, persona, actor.role)
                    params = {"duplicate_of": target} if trigger == "merge" else PARAMS.get(trigger, {})
                    savepoint = session.begin_nested()
                    before = _counts(session, rid)
                    try:
                        fire(session, settings, actor, rid, trigger, params, now=later)
                        got = session.get(Request, rid).status.value
                        after = _counts(session, rid)
                        if after[0] != before[0] + 1:
                            mismatches.append(f"{state} {trigger} {persona}: wrote {after[0] - before[0]} events")
                        event = session.scalar(select(RequestEvent).where(RequestEvent.request_id == rid)
                                               .order_by(RequestEvent.id.desc()))
                        if (event.trigger, event.from_status, event.to_status, event.actor_role) != (
                                trigger, state, got, actor.role):
                            mismatches.append(f"{state} {trigger} {persona}: wrong event {event.trigger}")
                    except DomainError as exc:
                        got = (exc.status, exc.code)
                        if _counts(session, rid) != before:
                            mismatches.append(f"{state} {trigger} {persona}: refused but wrote rows")
                        if session.get(Request, rid).status.value != state:
                            mismatches.append(f"{state} {trigger} {persona}: refused but moved")
                    finally:
                        savepoint.rollback()
                        session.expunge_all()  # ids freed by the rollback may be handed out again
                    if got != want:
                        mismatches.append(f"{state} {trigger} {persona}: expected {want}, got {got}")
            session.rollback()
    finally:
        session.close()
    assert not mismatches, "\n".join(mismatches)


def test_table_covers_the_design():
    from workflow import lifecycle

    assert sorted(lifecycle.TRIGGERS) == sorted(TRIGGERS)
    for trigger, (allowed, dest) in TABLE.items():
        for state in allowed:
            t = lifecycle.transition_for(trigger, Status(state))
            assert t is not None and t.dest.value == dest, (trigger, state)
        for state in set(STATES) - set(allowed):
            assert lifecycle.transition_for(trigger, Status(state)) is None, (trigger, state)
