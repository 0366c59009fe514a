"""评 end to end: the ledgers written by the real commands, scores read over HTTP by each role,
publishing and republishing, the reports to home units, the policy API, and the CLI recompute."""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import openpyxl
from sqlalchemy import func, select, update

from workflow.access import Actor
from workflow.commands import handling, intake
from workflow.db import unit_of_work
from workflow.models import AuditEntry, HoursEntry, PointEntry, Registration, ScoreRun, utcnow
from workflow.scoring import periods, runs
from workflow.sweeps import sweep

from .conftest import make_member
from .helpers import all_rows, get

ROUTER = Actor.system("router")
SEPT = datetime(2026, 9, 8, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Tuesday


def _running_period() -> str:
    """The month running today in Shanghai: the tests must hold whatever day they run on."""
    return periods.label_of(periods.local_date(utcnow(), "Asia/Shanghai"), "month")


def _backdate_registrations(runtime, when=datetime(2026, 1, 5, tzinfo=UTC)):
    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Registration).values(registered_at=when))


def _published(session, runtime, world, *, at: datetime, resident: str = "resident_a", community: str = "A") -> int:
    """A resident's report in ``community``, routed and put on the task board at ``at``, open to
    every member at once. Returns the request id."""
    settings, a = runtime.settings, world.actors
    request = intake.submit(session, a[resident], intake.Submission(
        channel="report", category="sanitation.corridor_clutter", description="楼道堆物",
        community_id=world.ids[f"community_{community}"]), now=at, timezone=settings.timezone)
    handling.fire(session, settings, ROUTER, request.id, "route_to_community", {}, now=at)
    handling.fire(session, settings, a[f"staff_{community.lower()}"], request.id, "publish_task", {}, now=at)
    request.zone_offer_until = None
    return request.id


def _task(runtime, world, member: str, *, at: datetime, appraisal: int = 4, hours: str = "2.5",
          satisfaction: str | None = "satisfied", solved: bool = True, resident: str = "resident_a",
          community: str = "A", member_actor: Actor | None = None) -> int:
    """A resident's report in ``community`` done as a member task and verified, all at ``at``; then
    evaluated an hour later (unless ``satisfaction`` is None). Returns the request id."""
    settings, a = runtime.settings, world.actors
    member_actor = member_actor or a[member]
    staff = a["staff_a"] if community == "A" else a["staff_b"]
    with unit_of_work(runtime.sessions) as session:
        rid = _published(session, runtime, world, at=at, resident=resident, community=community)
        handling.fire(session, settings, member_actor, rid, "claim", {}, now=at + timedelta(minutes=5))
        handling.fire(session, settings, member_actor, rid, "report_result",
                      {"result": "已清理", "hours": hours}, now=at + timedelta(minutes=30))
        handling.fire(session, settings, staff, rid, "verify", {"appraisal": appraisal}, now=at + timedelta(minutes=40))
    if satisfaction is not None:
        with unit_of_work(runtime.sessions) as session:
            handling.evaluate(session, settings, a[resident], rid, {"satisfaction": satisfaction, "solved": solved},
                              now=at + timedelta(hours=1))
    runtime.drain()
    return rid


def test_commands_write_the_ledgers_once_with_their_reasons(client, world, runtime):
    _backdate_registrations(runtime)
    rid = _task(runtime, world, "member_1", at=SEPT, appraisal=5, hours="3")
    entries = all_rows(runtime, PointEntry, order=PointEntry.id)
    assert [(e.reason.value, e.points, e.request_id) for e in entries] == [
        ("task_verified", 5, rid), ("resident_satisfied", 3, rid)]
    [hours] = all_rows(runtime, HoursEntry)
    assert (hours.request_id, str(hours.hours), hours.appraisal, hours.period_month) == (rid, "3.0", 5, "2026-09")

    # A member who gives a task back and has a result sent back loses points for each.
    settings, a = runtime.settings, world.actors
    with unit_of_work(runtime.sessions) as session:
        other = _published(session, runtime, world, at=SEPT)
        handling.fire(session, settings, a["member_2"], other, "claim", {}, now=SEPT)
        handling.fire(session, settings, a["member_2"], other, "release", {}, now=SEPT)
        handling.fire(session, settings, a["member_1"], other, "claim", {}, now=SEPT)
        handling.fire(session, settings, a["member_1"], other, "report_result", {"result": "x", "hours": 1},
                      now=SEPT)
        handling.fire(session, settings, a["staff_a"], other, "send_back", {"reason": "照片不清楚"}, now=SEPT)
    reasons = {(e.reason.value, e.points) for e in all_rows(runtime, PointEntry, PointEntry.request_id == other)}
    assert reasons == {("released", -2), ("sent_back", -3)}

    # The resolve deadline passes while member_1 still holds it: one overdue deduction, however
    # many sweeps see it. (The worker first finishes the routing message of the new request: while
    # it holds the request's lock, a sweep skips the request, as sweeps skip locked rows.)
    runtime.drain()
    late = SEPT + timedelta(days=40)
    assert sweep(runtime.sessions, settings, now=late).overdue == 1
    assert sweep(runtime.sessions, settings, now=late + timedelta(minutes=5)).overdue == 0
    overdue = all_rows(runtime, PointEntry, PointEntry.reason == "overdue")
    assert [(e.points, e.request_id) for e in overdue] == [(-5, other)]


def test_a_visit_earns_its_bonus_when_the_problem_is_closed(client, world, runtime):
    settings, a = runtime.settings, world.actors
    with unit_of_work(runtime.sessions) as session:
        request = intake.submit(session, a["member_1"], intake.Submission(
            channel="visit", category="sanitation.corridor_clutter", description="入户走访发现楼道堆物",
            community_id=world.ids["community_A"]), now=SEPT, timezone=settings.timezone)
        handling.fire(session, settings, ROUTER, request.id, "route_to_community", {}, now=SEPT)
        rid = request.id
    assert all_rows(runtime, PointEntry) == []  # logging a visit earns nothing by itself
    with unit_of_work(runtime.sessions) as session:
        handling.fire(session, settings, a["staff_a"], rid, "resolve", {"result": "已清理"}, now=SEPT)
        handling.evaluate(session, settings, a["secretary_a"], rid, {"satisfaction": "satisfied", "solved": True},
                          now=SEPT)
    [entry] = all_rows(runtime, PointEntry)
    member_id = world.actors["member_1"].member_id
    assert (entry.reason.value, entry.points, entry.member_id) == ("visit_collected", 2, member_id)


def _september_community(runtime, world):
    """member_1 with 3 tasks, member_2 with 1, in community A, September 2026; scores recomputed."""
    _backdate_registrations(runtime)
    for day, (appraisal, satisfaction) in enumerate([(5, "satisfied"), (4, "satisfied"),
                                                     (3, "basically_satisfied")]):
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=appraisal,
              satisfaction=satisfaction)
    _task(runtime, world, "member_2", at=SEPT + timedelta(days=3), appraisal=5, resident="resident_b")
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")


def test_secretary_reads_rates_ranking_and_breakdown_of_their_community_only(client, world, runtime):
    _september_community(runtime, world)
    rates = get(client, world, "secretary_a", f"/scores/2026-09/units/community/{world.ids['community_A']}")
    # 4 requests, all responded in time (staff published at once), all evaluated and solved;
    # 3 satisfied + 1 basically satisfied: satisfaction (3 + 0.9) / 4 = 0.975;
    # composite 0.1·1 + 0.5·1 + 0.4·0.975 = 0.99.
    assert (rates["received"], rates["evaluated"], rates["satisfied"], rates["basically_satisfied"]) == (4, 4, 3, 1)
    assert (rates["response_rate"], rates["resolution_rate"], rates["satisfaction_rate"], rates["composite"]) == \
        (1.0, 1.0, 0.975, 0.99)
    assert rates["published"] is False and rates["policy_version"] == 1

    ranking = get(client, world, "secretary_a", f"/scores/2026-09/rankings/community/{world.ids['community_A']}")
    assert [m["username"] for m in ranking["ranked"]] == ["member_1"]
    # Quotas are caps on cumulative shares, rounded half up: with one ranked member, 10 % and 40 %
    # of 1 round to 0, 70 % to 1, so the only member is "competent" (合格), not "excellent".
    assert ranking["ranked"][0]["grade"] == "competent" and ranking["ranked"][0]["grade_label"] == "合格"
    assert [q["last_position"] for q in ranking["quotas"]] == [0, 0, 1, 1, 1]
    [kept_out] = ranking["not_ranked"]
    assert kept_out["username"] == "member_2"
    assert kept_out["gate_failures"][0]["gate"] == "min_verified_tasks"
    assert "3" in kept_out["gate_failures"][0]["message"]

    member_id = world.actors["member_1"].member_id
    why = get(client, world, "secretary_a", f"/scores/2026-09/members/{member_id}")
    [record] = why["records"]
    # Task scores: 0.4·100 + 0.6·100 = 100; 0.4·80 + 0.6·100 = 92; 0.4·60 + 0.6·80 = 72.
    assert [t["task_score"] for t in record["tasks"]] == [100.0, 92.0, 72.0]
    # member_2's one task: 0.4·100 + 0.6·100 = 100. Community mean (100+92+72+100)/4 = 91;
    # member_1: mean 88, shrunk (264 + 3·91) / (3 + 3) = 89.5.
    assert (record["quality"]["mean"], record["quality"]["community_mean"], record["quality"]["value"]) == \
        (88.0, 91.0, 89.5)
    # Points: 60 + 3 × 5 (verified) + 2 × 3 (satisfied; the basically satisfied one earns none) = 81;
    # hours 7.5 of 20 → 37.5.
    assert (record["points"]["total"], record["hours"]["hours"], record["hours"]["score"]) == (81, 7.5, 37.5)
    assert [e["reason"] for e in record["points"]["entries"]] == ["task_verified", "resident_satisfied"] * 2 + \
        ["task_verified"]
    # Composite 0.5·89.5 + 0.2·37.5 + 0.3·81 = 44.75 + 7.5 + 24.3 = 76.55.
    assert record["composite"] == 76.55
    assert [p["contribution"] for p in record["parts"]] == [44.75, 7.5, 24.3]
    assert record["community_ranking"]["rank"] == 1 and record["community_ranking"]["of"] == 1

    # Another community's secretary, staff and residents are refused.
    with unit_of_work(runtime.sessions) as session:
        from workflow.commands import accounts
        from workflow.models import Role

        accounts.create_account(session, username="secretary_b", password="another-long-pass", display_name="书记B",
                                role=Role.secretary, community_id=world.ids["community_B"])
    token = client.post("/api/v1/auth/login", json={"username": "secretary_b", "password": "another-long-pass"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for path in (f"/scores/2026-09/units/community/{world.ids['community_A']}",
                 f"/scores/2026-09/rankings/community/{world.ids['community_A']}",
                 f"/scores/2026-09/members/{member_id}"):
        response = client.get(f"/api/v1{path}", headers=headers)
        assert response.status_code == 403 and response.json()["error"]["code"] == "out_of_scope", path
    for user in ("staff_a", "resident_a", "officer_1"):
        get(client, world, user, f"/scores/2026-09/members/{member_id}", expect=403)


def test_a_member_sees_their_own_breakdown_and_nobody_elses(client, world, runtime):
    _september_community(runtime, world)
    mine = get(client, world, "member_1", "/members/me/scores/2026-09")
    assert mine["records"][0]["composite"] == 76.55
    assert get(client, world, "member_1", f"/scores/2026-09/members/{world.actors['member_1'].member_id}") == mine
    other = world.actors["member_2"].member_id
    assert get(client, world, "member_1", f"/scores/2026-09/members/{other}", expect=403)["error"]["code"] == \
        "out_of_scope"
    get(client, world, "member_1", f"/scores/2026-09/rankings/community/{world.ids['community_A']}", expect=403)
    get(client, world, "member_1", f"/scores/2026-09/units/member/{other}", expect=403)
    # member_2 is ranked below nobody, but sees what the member above scored without the name.
    theirs = get(client, world, "member_2", "/members/me/scores/2026-09")["records"][0]
    assert theirs["community_ranking"]["rank"] is None
    assert theirs["gate_failures"][0]["gate"] == "min_verified_tasks"


def test_publishing_freezes_the_figures_and_republishing_is_explicit_and_audited(client, world, runtime):
    _september_community(runtime, world)
    community = world.ids["community_A"]
    url = "/api/v1/scores/2026-09/publications"
    body = {"scope_kind": "community", "scope_id": community}
    response = client.post(url, json=body, headers=world.headers("secretary_a"))
    assert response.status_code == 201, response.text
    assert (response.json()["revision"], response.json()["policy_version"]) == (1, 1)

    # New facts after publishing change the draft, not the published figures.
    _task(runtime, world, "member_2", at=SEPT + timedelta(days=10), appraisal=1, satisfaction="basically_satisfied",
          resident="resident_b")
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")
    rates = get(client, world, "secretary_a", f"/scores/2026-09/units/community/{community}")
    assert (rates["published"], rates["received"]) == (True, 4)

    again = client.post(url, json=body, headers=world.headers("secretary_a"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_published"
    no_reason = client.post(url, json={**body, "republish": True}, headers=world.headers("secretary_a"))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "reason_required"
    redo = client.post(url, json={**body, "republish": True, "reason": "补录9月漏登记的任务"},
                       headers=world.headers("secretary_a"))
    assert redo.status_code == 201 and redo.json()["revision"] == 2
    rates = get(client, world, "secretary_a", f"/scores/2026-09/units/community/{community}")
    assert (rates["received"], rates["revision"]) == (5, 2)
    history = get(client, world, "secretary_a", f"/scores/2026-09/publications/community/{community}")
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"), (2, "published")]
    audit = get(client, world, "admin", "/admin/audit", action="scores.")
    assert [(e["action"], e["details"]["reason"]) for e in audit] == [
        ("scores.republish", "补录9月漏登记的任务"), ("scores.publish", "")]
    assert [e.actor_id for e in all_rows(runtime, AuditEntry) if e.action.startswith("scores.")][0] \
        == world.ids["secretary_a"]

    # Each stored run still reproduces from the facts and policy it was made from.
    with unit_of_work(runtime.sessions) as session:
        for run in session.scalars(select(ScoreRun).where(ScoreRun.period == "2026-09")):
            assert runs.reproduce(session, runtime.settings, run) == [], run.id

    # The running period cannot be published; another community's secretary cannot publish A.
    current = client.post(f"/api/v1/scores/{_running_period()}/publications", json=body,
                          headers=world.headers("secretary_a"))
    assert current.status_code == 409 and current.json()["error"]["code"] == "period_not_over"
    other = client.post(url, json={"scope_kind": "community", "scope_id": world.ids["community_B"]},
                        headers=world.headers("secretary_a"))
    assert other.status_code == 403


def test_unit_report_as_json_excel_and_pdf(client, world, runtime):
    _september_community(runtime, world)
    from workflow.models import Account

    with unit_of_work(runtime.sessions) as session:
        session.execute(update(Account).where(Account.username == "member_1").values(display_name="张伟"))
    unit = _unit_id(runtime, "区税务局")  # member_1's home unit
    report = get(client, world, "secretary_a", f"/reports/units/{unit}/2026-09")
    assert report["unit"] == "区税务局" and report["published"] is False
    [row] = report["members"]
    assert (row["name"], row["tasks"], row["hours"], row["points"], row["composite"], row["rank"], row["grade"]) == \
        ("张伟", 3, 7.5, 81, 76.55, 1, "合格")

    xlsx = client.get(f"/api/v1/reports/units/{unit}/2026-09/xlsx", headers=world.headers("secretary_a"))
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(xlsx.content)).active
    cells = [[c for c in r] for r in sheet.iter_rows(values_only=True)]
    member_row = next(r for r in cells if "张伟" in r)
    assert 76.55 in member_row and 81 in member_row and 7.5 in member_row

    pdf = client.get(f"/api/v1/reports/units/{unit}/2026-09/pdf", headers=world.headers("secretary_a"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.pdf"
        path.write_bytes(pdf.content)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    assert "区税务局" in text and "张伟" in text and "社区A" in text and "合格" in text
    english = client.get(f"/api/v1/reports/units/{unit}/2026-09/pdf",
                         headers=world.headers("secretary_a", **{"Accept-Language": "en"}))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "en.pdf"
        path.write_bytes(english.content)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    assert "张伟" in text and "Competent" in text and "Provisional" in text

    # Members do not read reports to home units; a secretary of another community gets no rows of A.
    get(client, world, "member_1", f"/reports/units/{unit}/2026-09", expect=403)


def _unit_id(runtime, name: str) -> int:
    from workflow.models import Unit

    with unit_of_work(runtime.sessions) as session:
        return session.scalar(select(Unit.id).where(Unit.name == name))


def test_admins_version_the_policy_and_a_new_version_changes_later_periods_only(client, world, runtime):
    _september_community(runtime, world)
    url = "/api/v1/admin/scoring-policies"
    bad = client.post(url, json={"effective_from": "2026-10-01", "rules": {"assessment": {
        "quality": "0.2", "hours": "0.5", "points": "0.3"}}}, headers=world.headers("admin"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_policy"
    assert "assessment" in bad.json()["error"]["details"]["problems"][0]["field"]
    refused = client.post(url, json={"effective_from": "2026-10-01", "rules": {}},
                          headers=world.headers("secretary_a"))
    assert refused.status_code == 403
    created = client.post(url, json={"effective_from": "2026-10-01", "note": "满意率系数调为0.8",
                                     "rules": {"satisfaction_k": "0.8"}}, headers=world.headers("admin"))
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["applies_from_period"]) == (2, "2026-10")
    assert [p["version"] for p in get(client, world, "admin", "/admin/scoring-policies")] == [1, 2]
    assert get(client, world, "secretary_a", "/scoring-policy/2026-09")["version"] == 1
    assert get(client, world, "secretary_a", "/scoring-policy/2026-10")["version"] == 2
    # September keeps k = 0.9 after a recompute.
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")
    rates = get(client, world, "secretary_a", f"/scores/2026-09/units/community/{world.ids['community_A']}")
    assert (rates["policy_version"], rates["satisfaction_rate"]) == (1, 0.975)
    assert get(client, world, "admin", "/admin/audit", action="policy.")[0]["details"]["version"] == 2


def test_trend_gives_twelve_periods_oldest_first(client, world, runtime):
    _september_community(runtime, world)
    trend = get(client, world, "secretary_a", f"/scores/trend/community/{world.ids['community_A']}", end="2026-10")
    assert [p["period"] for p in trend["periods"]] == [f"2025-{m:02d}" for m in range(11, 13)] + \
        [f"2026-{m:02d}" for m in range(1, 11)]
    by_period = {p["period"]: p for p in trend["periods"]}
    assert by_period["2026-09"]["received"] == 4 and by_period["2026-10"]["received"] == 0
    assert by_period["2026-10"]["composite"] is None


def test_two_members_in_a_new_community_rank_with_a_gate_and_a_street_ranking(client, world, runtime):
    """The street ranking puts members of A and B together; gates apply the same way."""
    _backdate_registrations(runtime)
    actor, _token = make_member(runtime, "member_b", [world.ids["community_B"]], unit_name="市第一医院")
    _backdate_registrations(runtime)
    for day in range(3):
        _task(runtime, world, "member_b", at=SEPT + timedelta(days=day), appraisal=3,
              satisfaction="basically_satisfied", community="B", member_actor=actor, resident="resident_b")
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5)
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")
    ranking = get(client, world, "admin", f"/scores/2026-09/rankings/street/{world.ids['street_S1']}")
    assert [(m["username"], m["rank"]) for m in ranking["ranked"]] == [("member_1", 1), ("member_b", 2)]
    assert ranking["ranked"][1]["decided_by"] == "composite"


def test_cli_recompute_twice_gives_the_same_scores(client, world, runtime):
    _september_community(runtime, world)
    from .test_cli import CLI, _env

    env = _env(database_url=runtime.settings.database_url, dev_mode="true")
    snapshots = []
    for _ in range(2):
        done = subprocess.run([str(CLI), "scores", "recompute", "--period", "2026-09"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "2 member assessments" in done.stdout or "member assessments" in done.stdout
        snapshots.append(_snapshot(runtime))
    assert snapshots[0] == snapshots[1] and snapshots[0]
    recomputes = [e for e in all_rows(runtime, AuditEntry) if e.action == "scores.recompute"]
    assert [(e.actor_role, e.actor_id, e.target) for e in recomputes] == [("operator", None, "2026-09/city")] * 2
    assert recomputes[1].details["replaced_run_id"] == recomputes[0].details["run_id"]
    reproduced = subprocess.run([str(CLI), "scores", "reproduce", "--period", "2026-09"], env=env,
                                capture_output=True, text=True, timeout=120)
    assert reproduced.returncode == 0 and "holds" in reproduced.stdout, reproduced.stdout + reproduced.stderr


def test_an_administrators_recompute_is_audited_and_the_schedulers_is_not(client, world, runtime):
    _september_community(runtime, world)
    runs.refresh(runtime.sessions, runtime.settings, now=SEPT + timedelta(days=5))
    done = client.post("/api/v1/admin/scores/2026-09/recompute", headers=world.headers("admin"))
    assert done.status_code == 200, done.text
    with unit_of_work(runtime.sessions) as session:
        draft = runs.draft_of(session, "2026-09").id
    audit = get(client, world, "admin", "/admin/audit", action="scores.recompute")
    assert [(e["actor_id"], e["actor_role"], e["target"], e["details"]["run_id"]) for e in audit] == [
        (world.ids["admin"], "admin", "2026-09/city", draft)]
    assert client.post("/api/v1/admin/scores/2026-09/recompute",
                       headers=world.headers("secretary_a")).status_code == 403


def _snapshot(runtime) -> list:
    from workflow.models import MemberScore, UnitScore

    with unit_of_work(runtime.sessions) as session:
        draft = runs.draft_of(session, "2026-09").id
        units = [(u.unit_kind.value, u.unit_id, u.received, u.composite)
                 for u in session.scalars(select(UnitScore).where(UnitScore.run_id == draft)
                                          .order_by(UnitScore.unit_kind, UnitScore.unit_id))]
        members = [(m.member_id, m.community_id, m.composite, m.community_rank, m.community_grade)
                   for m in session.scalars(select(MemberScore).where(MemberScore.run_id == draft)
                                            .order_by(MemberScore.member_id))]
    return units + members


def test_the_scheduler_keeps_drafts_current_and_leaves_unchanged_ones_alone(client, world, runtime):
    october = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
    refreshed = runs.refresh(runtime.sessions, runtime.settings, now=october)
    assert refreshed == [f"2026-{m:02d}" for m in range(10, 0, -1)] + ["2025-12", "2025-11"]
    assert runs.refresh(runtime.sessions, runtime.settings, now=october) == []  # nothing changed
    _backdate_registrations(runtime)
    _task(runtime, world, "member_1", at=SEPT, appraisal=5)
    # A new fact: the running and the previous period are recomputed, older ones are left alone.
    assert runs.refresh(runtime.sessions, runtime.settings, now=october) == ["2026-10", "2026-09"]
    rates = get(client, world, "secretary_a", f"/scores/2026-09/units/community/{world.ids['community_A']}")
    assert rates["received"] == 1


def test_a_street_secretary_reads_the_street_and_not_the_other_street(client, world, runtime):
    _september_community(runtime, world)
    with unit_of_work(runtime.sessions) as session:
        from workflow.commands import accounts
        from workflow.models import Role

        accounts.create_account(session, username="street_secretary", password="another-long-pass",
                                display_name="街道书记", role=Role.secretary, street_id=world.ids["street_S1"])
    login = client.post("/api/v1/auth/login", json={"username": "street_secretary", "password": "another-long-pass"})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def status(path: str) -> int:
        return client.get(f"/api/v1{path}", headers=headers).status_code

    assert status(f"/scores/2026-09/rankings/street/{world.ids['street_S1']}") == 200
    assert status(f"/scores/2026-09/units/community/{world.ids['community_A']}") == 200
    assert status(f"/scores/2026-09/units/grid/{world.ids['grid_B']}") == 200
    assert status(f"/scores/2026-09/members/{world.actors['member_1'].member_id}") == 200
    assert status(f"/scores/2026-09/units/street/{world.ids['street_S2']}") == 403
    assert status(f"/scores/2026-09/units/community/{world.ids['community_C']}") == 403
    assert status(f"/scores/2026-09/members/{world.actors['member_c'].member_id}") == 403
    assert status("/scores/2026-09/units/community/99999") == 404


def test_a_red_mark_bars_one_community_and_a_person_ranks_once_in_the_street(client, world, runtime):
    """member_1 serves both A and B (street S1). A red supervision mark put on a B task while they
    held it keeps them out of B's ranking only; the street ranks them once, by their A record."""
    from workflow.commands import members as member_cmds
    from workflow.commands import street

    settings, a = runtime.settings, world.actors
    with unit_of_work(runtime.sessions) as session:
        member_cmds.register(session, a["member_1"], world.ids["community_B"])
    _backdate_registrations(runtime)
    for day in range(3):
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5)
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5, community="B",
              resident="resident_b")
    with unit_of_work(runtime.sessions) as session:
        rid = _published(session, runtime, world, at=SEPT, resident="resident_b", community="B")
        handling.fire(session, settings, a["member_1"], rid, "claim", {}, now=SEPT)
        street.supervise(session, a["officer_1"], rid, "red", "拖延未办", now=SEPT + timedelta(hours=2))
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, settings, "2026-09")
    in_a = get(client, world, "admin", f"/scores/2026-09/rankings/community/{world.ids['community_A']}")
    in_b = get(client, world, "admin", f"/scores/2026-09/rankings/community/{world.ids['community_B']}")
    in_s1 = get(client, world, "admin", f"/scores/2026-09/rankings/street/{world.ids['street_S1']}")
    assert [m["username"] for m in in_a["ranked"]] == ["member_1"]
    assert in_b["ranked"] == []
    assert [g["gate"] for g in in_b["not_ranked"][0]["gate_failures"]] == ["no_red_supervision"]
    assert [(m["username"], m["community_id"]) for m in in_s1["ranked"]] == [("member_1", world.ids["community_A"])]


def test_a_member_serving_two_communities_of_a_street_stands_once_in_its_ranking(client, world, runtime):
    from workflow.commands import members as member_cmds

    with unit_of_work(runtime.sessions) as session:
        member_cmds.register(session, world.actors["member_1"], world.ids["community_B"])
    _backdate_registrations(runtime)
    for day in range(3):
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=3)
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=5, community="B",
              resident="resident_b")
        _task(runtime, world, "member_2", at=SEPT + timedelta(days=day), appraisal=4)
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")
    in_s1 = get(client, world, "admin", f"/scores/2026-09/rankings/street/{world.ids['street_S1']}")
    # member_1's B record (appraisals of 5) is their better one; their A record is not ranked again.
    assert [(m["username"], m["community_id"], m["rank"]) for m in in_s1["ranked"]] == [
        ("member_1", world.ids["community_B"], 1), ("member_2", world.ids["community_A"], 2)]
    assert [q["last_position"] for q in in_s1["quotas"]][-1] == 2 and in_s1["not_ranked"] == []


def test_review_findings_on_policy_versions_and_period_kinds(client, world, runtime):
    url = "/api/v1/admin/scoring-policies"
    admin = world.headers("admin")
    # Effective mid-September, created after one effective 1 October: both govern from 2026-10,
    # and the newer version wins.
    assert client.post(url, json={"effective_from": "2026-10-01", "rules": {}}, headers=admin).status_code == 201
    assert client.post(url, json={"effective_from": "2026-09-20", "rules": {"satisfaction_k": "0.8"}},
                       headers=admin).status_code == 201
    assert get(client, world, "admin", "/scoring-policy/2026-10")["version"] == 3
    assert get(client, world, "admin", "/scoring-policy/2026-09")["version"] == 1
    # Booleans are not numbers.
    bad = client.post(url, json={"effective_from": "2027-01-01", "rules": {"points": {"base": True}}}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["problems"][0]["field"] == "points.base"
    # Once something has been scored, the period kind is fixed.
    _task(runtime, world, "member_1", at=SEPT)
    switch = client.post(url, json={"effective_from": "2027-01-01", "rules": {"period_kind": "19th"}}, headers=admin)
    assert switch.status_code == 422 and switch.json()["error"]["code"] == "period_kind_locked"


def test_review_findings_on_scope_and_future_periods(client, world, runtime):
    _september_community(runtime, world)
    member_id = world.actors["member_1"].member_id
    # A member's own rates span every community they serve: secretaries read members through rankings.
    refused = client.get(f"/api/v1/scores/2026-09/units/member/{member_id}", headers=world.headers("secretary_a"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "out_of_scope"
    assert get(client, world, "member_1", f"/scores/2026-09/units/member/{member_id}")["received"] == 3
    assert get(client, world, "admin", f"/scores/2026-09/units/member/{member_id}")["received"] == 3
    # Periods that have not started are not computed or stored, whoever asks.
    future = client.get("/api/v1/members/me/scores/2999-12", headers=world.headers("member_1"))
    assert future.status_code == 404 and future.json()["error"]["code"] == "period_not_started"
    with unit_of_work(runtime.sessions) as session:
        before = session.scalar(select(func.count()).select_from(ScoreRun))
    trend = get(client, world, "secretary_a", f"/scores/trend/community/{world.ids['community_A']}", end="2999-12",
                periods=24)
    assert {p["received"] for p in trend["periods"]} == {0}
    with unit_of_work(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(ScoreRun)) == before
    early = get(client, world, "secretary_a", f"/scores/trend/community/{world.ids['community_A']}", end="2000-03")
    assert [p["period"] for p in early["periods"]] == ["2000-01", "2000-02", "2000-03"]
    # Nobody ranked: the quota table is still there.
    ranking = get(client, world, "secretary_a", f"/scores/2026-08/rankings/community/{world.ids['community_A']}")
    assert ranking["ranked"] == [] and [q["last_position"] for q in ranking["quotas"]] == [0, 0, 0, 0, 0]


def test_a_community_secretary_does_not_learn_names_from_the_street_ranking(client, world, runtime):
    _backdate_registrations(runtime)
    actor, _token = make_member(runtime, "member_b", [world.ids["community_B"]], unit_name="市第一医院")
    _backdate_registrations(runtime)
    for day in range(3):
        _task(runtime, world, "member_b", at=SEPT + timedelta(days=day), appraisal=5, community="B",
              member_actor=actor, resident="resident_b")
        _task(runtime, world, "member_1", at=SEPT + timedelta(days=day), appraisal=2)
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")
    member_id = world.actors["member_1"].member_id
    record = get(client, world, "secretary_a", f"/scores/2026-09/members/{member_id}")["records"][0]
    above = record["street_ranking"]["above"]
    assert record["street_ranking"]["rank"] == 2 and above["name"] is None and above["composite"] > record["composite"]
    assert get(client, world, "admin", f"/scores/2026-09/members/{member_id}")["records"][0]["street_ranking"][
        "above"]["name"] == "member_b"


def test_a_recompute_waits_for_facts_still_being_written_and_reproduces_exactly(client, world, runtime):
    """PostgreSQL hands out ids before commit: a points entry written while a later one is already
    committed sits below the run's mark. The recompute waits for it, so the run counts it, and
    reproducing the run later gives the same figures. (On SQLite the writers simply queue.)"""
    import threading
    import time

    _september_community(runtime, world)

    def entry(member: str, key: str) -> PointEntry:
        return _late_deduction(world, member, key)

    flushed = threading.Event()

    def slow_writer():
        with unit_of_work(runtime.sessions) as session:
            session.add(entry("member_1", "slow"))
            session.flush()
            flushed.set()
            time.sleep(0.5)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert flushed.wait(10)
    committed = threading.Thread(target=lambda: _commit(runtime, entry("member_2", "quick")))
    committed.start()
    time.sleep(0.1)  # on PostgreSQL the quick entry commits now, above the slow one's id
    with unit_of_work(runtime.sessions) as session:
        run = runs.recompute(session, runtime.settings, "2026-09")
        run_id = run.id
    thread.join()
    committed.join()
    _assert_settled_with_the_slow_entry(client, world, runtime, run_id)


def _assert_settled_with_the_slow_entry(client, world, runtime, run_id: int) -> None:
    """The run waited for the slow writer: it reproduces exactly, and counts the slow −2."""
    with unit_of_work(runtime.sessions) as session:
        run = session.get(ScoreRun, run_id)
        assert run.marks["settled"] is True
        assert runs.reproduce(session, runtime.settings, run) == []
    record = get(client, world, "secretary_a", f"/scores/2026-09/members/{world.actors['member_1'].member_id}")
    assert record["records"][0]["points"]["total"] == 79  # 81 − 2: the slow entry counted


def _late_deduction(world, member: str, key: str) -> PointEntry:
    """A −2 entry of 20 September in community A, written straight into the ledger."""
    from datetime import date

    return PointEntry(member_id=world.actors[member].member_id, request_id=None, reason="released", points=-2,
                      policy_version=1, source_key=key, street_id=world.ids["street_S1"],
                      community_id=world.ids["community_A"], local_date=date(2026, 9, 20),
                      period_month="2026-09", period_19="2026-10")


def _commit(runtime, row) -> None:
    with unit_of_work(runtime.sessions) as session:
        session.add(row)


def test_a_writer_with_a_newer_transaction_id_is_waited_for_too(client, world, runtime):
    """The slow writer's transaction started after the quick one took its id (on PostgreSQL it is
    then outside the snapshot's in-progress list): the recompute still waits for it."""
    import threading
    import time

    from workflow.models import AuditEntry

    _september_community(runtime, world)

    def entry(member: str, key: str) -> PointEntry:
        return _late_deduction(world, member, key)

    postgresql = runtime.settings.database_url.startswith("postgresql")
    quick_started, slow_flushed = threading.Event(), threading.Event()

    def quick():
        with unit_of_work(runtime.sessions) as session:
            if postgresql:  # take a transaction id first (on SQLite writers queue, one at a time)
                session.add(AuditEntry(actor_role="admin", action="probe", target="t", details={}))
                session.flush()
                quick_started.set()
                assert slow_flushed.wait(10)
            session.add(entry("member_2", "quick"))

    def slow():
        if postgresql:
            assert quick_started.wait(10)
        with unit_of_work(runtime.sessions) as session:
            session.add(entry("member_1", "slow"))
            session.flush()
            slow_flushed.set()
            time.sleep(0.5)

    threads = [threading.Thread(target=quick), threading.Thread(target=slow)]
    for thread in threads:
        thread.start()
    assert slow_flushed.wait(10)
    time.sleep(0.1)
    with unit_of_work(runtime.sessions) as session:
        run_id = runs.recompute(session, runtime.settings, "2026-09").id
    for thread in threads:
        thread.join()
    _assert_settled_with_the_slow_entry(client, world, runtime, run_id)


def test_retired_drafts_stay_ten_minutes_after_retirement(client, world, runtime):
    _september_community(runtime, world)
    t0 = datetime(2026, 10, 5, tzinfo=UTC)
    with unit_of_work(runtime.sessions) as session:
        first = runs.recompute(session, runtime.settings, "2026-09", now=t0).id
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09", now=t0 + timedelta(hours=2))
        assert session.get(ScoreRun, first).status.value == "retired"  # computed long ago, retired just now
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09", now=t0 + timedelta(hours=2, minutes=11))
        assert session.get(ScoreRun, first) is None


def test_a_street_publication_answers_for_its_communities_and_the_kind_stays_locked(client, world, runtime):
    _september_community(runtime, world)
    published = client.post("/api/v1/scores/2026-09/publications", json={
        "scope_kind": "street", "scope_id": world.ids["street_S1"]}, headers=world.headers("admin"))
    assert published.status_code == 201
    _task(runtime, world, "member_2", at=SEPT + timedelta(days=12), appraisal=5, resident="resident_b")
    with unit_of_work(runtime.sessions) as session:
        runs.recompute(session, runtime.settings, "2026-09")
    ranking = get(client, world, "secretary_a", f"/scores/2026-09/rankings/community/{world.ids['community_A']}")
    breakdown = get(client, world, "secretary_a", f"/scores/2026-09/members/{world.actors['member_1'].member_id}")
    report = get(client, world, "secretary_a", f"/reports/units/{_unit_id(runtime, '区税务局')}/2026-09")
    assert ranking["published"] and breakdown["records"][0]["published"] and report["published"]
    assert ranking["revision"] == breakdown["records"][0]["revision"] == 1

    # A month period that has not started is neither computed nor stored.
    future = client.get(f"/api/v1/scores/{periods.shift(_running_period(), 1)}/units/community/"
                        f"{world.ids['community_A']}",
                        headers=world.headers("secretary_a"))
    assert future.status_code == 404 and future.json()["error"]["code"] == "period_not_started"


def test_the_period_kind_cannot_flip_back_once_scored(client, world, runtime):
    url, admin = "/api/v1/admin/scoring-policies", world.headers("admin")
    assert client.post(url, json={"effective_from": "2027-01-01", "rules": {"period_kind": "19th"}},
                       headers=admin).status_code == 201  # nothing scored yet: allowed
    _task(runtime, world, "member_1", at=SEPT)
    for when, kind in (("2027-06-01", "month"), ("2026-12-01", "19th"), ("2026-10-01", "month")):
        answer = client.post(url, json={"effective_from": when, "rules": {"period_kind": kind}}, headers=admin)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "period_kind_locked", (when, kind)
