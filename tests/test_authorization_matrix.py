"""The authorization matrix: every API operation and every page × every role × own / other
community or street → allow or deny, table-driven.

The expectations are written out from README ("The API", "The web pages", "The lifecycle") and
DESIGN.md §1, not read from the code. Each role is played by one account of tests/conftest.py's
world, all of community A / street S1 (admins: the whole city). "own" is a resource of community A
/ street S1 (and of the caller where it is personal: their request, their claim, their
notification); "other" is the same kind of resource in community C / street S2 (another resident's,
member_c's, another account's). Rows that are not about a community or street (reference data, an
admin's settings, the caller's own lists) have one column per role.

A cell reads:
  ok                    allowed: a 2xx from the API; a page 200, or a 303 that is not to the login form
  401                   the API without a token: 401 not_authenticated
  login                 a page without a session: 303 to /login?next=...
  <status> <code>       denied: the status and the machine-readable code (the API's error body; on a
                        page the data-code of the error page, or of the reason shown beside a form
                        that comes back)
  own|other             different answers for the two scopes
A denied call that may write is checked to have written nothing (the rows of every table).

Lifecycle triggers are proven state × trigger × actor by tests/test_lifecycle_table.py; here each
trigger endpoint is tried by every role in the state where the trigger is valid.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.routing import APIRoute

from api.app import create_app
from workflow.models import Role
from workflow.settings import Settings

from .authz_world import ACCOUNT, CODE, PNG, ROLES, Call, Env, close_env, open_env, row_counts, serial

PERIOD = "2026-09"  # an ended month: its scores are computed when first read
S1 = {"jurisdiction_id": "S1"}  # Open311 serves two streets here


Build = Callable[[Env, str, str], Call]


@dataclass
class Row:
    op: str  # "METHOD /path", as the OpenAPI schema or the page router names it
    expect: dict[str, tuple[str, str]]
    build: Build
    scoped: bool
    variant: str = ""
    # What the call acts on depends on the role (its channel, its state, its own token, ...), not only
    # on the scope: the roles with one key share it, all roles when None.
    key: Callable[[str], Any] | None = None

    @property
    def method(self) -> str:
        return self.op.split(" ", 1)[0]

    @property
    def id(self) -> str:
        return f"{self.op} [{self.variant}]" if self.variant else self.op


def X(anonymous: str, resident: str, member: str, staff: str, street_officer: str, secretary: str, admin: str,
      volunteer: str | None = None):
    """The cells of one row, in the order of ROLES. A volunteer is a resident who also takes tasks
    (README, "Volunteers"): where not given, their cell is the resident's."""
    volunteer = resident if volunteer is None else volunteer
    cells = dict(zip(ROLES, (anonymous, resident, member, staff, street_officer, secretary, admin, volunteer),
                     strict=True))
    return {role: (v.partition("|")[0], v.partition("|")[2] or v.partition("|")[0]) for role, v in cells.items()}


def api(op: str, expect: dict, build: Build, *, scoped: bool = True, variant: str = "", key=None) -> Row:
    return Row(op, expect, build, scoped, variant, key)


D = "403 role_not_allowed"
NF = "404 request_not_found"
OUT = "403 out_of_scope"
ADMIN_ONLY = X("401", D, D, D, D, D, "ok")
ANY_LOGIN = X("401", "ok", "ok", "ok", "ok", "ok", "ok")
EVERYONE = X("ok", "ok", "ok", "ok", "ok", "ok", "ok")
MSO = "403 members_only"  # a volunteer and a task whose category is for party members
NYC = "403 not_your_claim"


# --- builders: each makes what one cell acts on, fresh where the call consumes it ------------------

def static(url: str, **kw) -> Build:
    return lambda env, role, scope: Call(url, **kw)


def on_request(url: str, state: str | Callable[[str], str], body: dict | None = None, **request_kw) -> Build:
    """A fresh request in the scope, in ``state`` (or the state the role's move needs)."""
    def build(env: Env, role: str, scope: str) -> Call:
        chosen = state(role) if callable(state) else state
        rid = env.request(scope, chosen, **request_kw)
        return Call(url.format(request_id=rid), json=body)
    return build


def evaluation_target(env: Env, role: str, scope: str) -> Call:
    # Residents evaluate their own reports; the secretary evaluates what no resident reported.
    channel = "inspection" if role == "secretary" else "report"
    rid = env.request(scope, "resolved", channel=channel)
    return Call(f"/api/v1/requests/{rid}/evaluation", json={"satisfaction": "satisfied", "solved": True})


def merge_target(env: Env, role: str, scope: str) -> Call:
    primary = env.request(scope, "community")
    rid = env.request(scope, "community")
    return Call(f"/api/v1/requests/{rid}/merge", json={"duplicate_of": primary})


def submission(env: Env, role: str, scope: str) -> Call:
    channel = {"resident": "report", "volunteer": "report", "member": "visit"}.get(role, "inspection")
    return Call("/api/v1/requests", json={"channel": channel, "category": "disputes.noise",
                                          "description": f"楼道里堆满了纸箱，第{serial()}次", "community_id":
                                          env.community(scope)})


def login_body(env: Env, role: str, scope: str) -> Call:
    return Call("/api/v1/auth/login", json={"username": ACCOUNT.get(role, "resident_a"),
                                            "password": "correct-horse-battery"})


def own_token(url: str) -> Build:
    def build(env: Env, role: str, scope: str) -> Call:
        return Call(url, token=env.token_of(ACCOUNT[role]) if role != "anonymous" else None)
    return build


def new_account(role_name: str) -> Build:
    def build(env: Env, role: str, scope: str) -> Call:
        n = serial()
        return Call("/api/v1/accounts" if role_name else "/api/v1/auth/signup",
                    json={"username": f"mx_user{n}", "password": "long-enough-pass-2026", "display_name": f"用户{n}",
                          **({"role": role_name} if role_name else {})})
    return build


def _new_claimer(env: Env, role: str, communities: list[int]) -> tuple[Any, str]:
    """A fresh member, or a fresh volunteer when a volunteer calls."""
    return env.new_member(communities, Role.volunteer if role == "volunteer" else Role.member)


def registration_of_new_member(env: Env, role: str, scope: str) -> Call:
    actor, token = _new_claimer(env, role, [env.community("own")])
    return Call(f"/api/v1/registrations/{env.community('own')}",
                token=token if role in ("member", "volunteer") else None)


def register_new_member(env: Env, role: str, scope: str) -> Call:
    actor, token = _new_claimer(env, role, [])
    return Call("/api/v1/registrations", json={"community_id": env.community("own")},
                token=token if role in ("member", "volunteer") else None)


def becoming_volunteer(env: Env, role: str, scope: str) -> Call:
    """A fresh resident signs up (the role's own token for everyone else)."""
    _name, token = env.new_resident()
    return Call("/api/v1/volunteers/me", token=token if role == "resident" else None)


def web_joining(env: Env, role: str, scope: str) -> Call:
    name, _token = env.new_resident()
    return Call("/volunteer/join", fresh_browser=role == "resident", login_as=name)


def zone_body(env: Env, role: str, scope: str) -> Call:
    member = env.unzoned_member(scope)
    return Call(f"/api/v1/members/{member}/zones",
                json={"grid_id": env.id("grid_A" if scope == "own" else "grid_C")})


def zone_removal(env: Env, role: str, scope: str) -> Call:
    member, zone = env.zone(scope)
    return Call(f"/api/v1/members/{member}/zones/{zone}")


def claim_limit(env: Env, role: str, scope: str) -> Call:
    return Call(f"/api/v1/members/{env.member_id(scope)}/claim-limit", json={"claim_limit": 50})


def photo_upload(env: Env, role: str, scope: str) -> Call:
    return Call("/api/v1/photos", files={"file": ("a.png", PNG + str(serial()).encode(), "image/png")})


def photo_download(prefix: str) -> Build:
    return lambda env, role, scope: Call(f"{prefix}/photos/{env.photo_of(scope)}")


def notification_read(env: Env, role: str, scope: str) -> Call:
    owner = ACCOUNT.get(role, "resident_a") if scope == "own" else "resident_c"
    return Call(f"/api/v1/notifications/{env.notification(owner)}/read")


def category_body(env: Env, role: str, scope: str) -> Call:
    n = serial()
    return Call("/api/v1/admin/categories", json={"code": f"mxnew{n}", "name_zh": f"新类{n}", "name_en": f"New {n}"})


def rule_body(env: Env, role: str, scope: str) -> Call:
    return Call("/api/v1/admin/rules", json={"name": f"新规则{serial()}", "target": "street", "enabled": False,
                                             "categories": [env.category()]})


def dry_run(env: Env, role: str, scope: str) -> Call:
    return Call("/api/v1/admin/rules/dry-run", json={"category": "disputes.noise", "channel": "report",
                                                     "community_id": env.community(scope)})


def department_body(env: Env, role: str, scope: str) -> Call:
    body = {"name": f"房管所{serial()}"}
    if role in ("admin", "street_officer") and (role == "admin" or scope == "other"):
        body["street_id"] = env.street(scope)  # an officer names a street only to reach another's
    return Call("/api/v1/street/departments", json=body)


def street_filter(url: str) -> Build:
    def build(env: Env, role: str, scope: str) -> Call:
        return Call(url, params={"street_id": env.street(scope)} if scope == "other" else None)
    return build


def whistle_body(env: Env, role: str, scope: str) -> Call:
    rid = env.request(scope, "street")
    return Call(f"/api/v1/requests/{rid}/whistles", json={"department_ids": [env.department(scope)],
                                                          "report_within_hours": 24, "note": "请到场"})


def call_response(env: Env, role: str, scope: str) -> Call:
    _rid, call = env.whistle_call(scope)
    return Call(f"/api/v1/street/whistles/{call}/response", json={"response": "已到场处置"})


def webhook_body(env: Env, role: str, scope: str) -> Call:
    return Call("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "active": False})


def unit_scores(url: str, kind: str = "community") -> Build:
    def unit(env: Env, scope: str) -> int:
        return {"street": env.street, "community": env.community, "member": env.member_id,
                "grid": lambda s: env.id("grid_A" if s == "own" else "grid_C")}[kind](scope)
    return lambda env, role, scope: Call(url.format(kind=kind, id=unit(env, scope)), params={"end": PERIOD})


def member_scores(url: str) -> Build:
    return lambda env, role, scope: Call(url.format(id=env.member_id(scope)))


_PUBLISHED_PERIODS = itertools.count()


def publication(env: Env, role: str, scope: str) -> Call:
    # Every allowed publication is a first one: each cell publishes an ended period of its own.
    year, month = divmod(next(_PUBLISHED_PERIODS), 12)
    return Call(f"/api/v1/scores/{2018 + year}-{month + 1:02d}/publications",
                json={"scope_kind": "community", "scope_id": env.community(scope)})


def policy_body(env: Env, role: str, scope: str) -> Call:
    return Call("/api/v1/admin/scoring-policies", json={"effective_from": f"{2090 + serial() % 10}-01-01", "rules": {},
                                                        "note": "矩阵"})


def open311_post(env: Env, role: str, scope: str) -> Call:
    _id, key = env.open311_client()
    return Call("/open311/v2/requests.json", data={"api_key": key, "jurisdiction_id": "S1",
                                                   "service_code": "disputes.noise", "address_string": "社区A",
                                                   "description": "夜间施工噪音"})


def open311_request(env: Env, role: str, scope: str) -> Call:
    return Call(f"/open311/v2/requests/{env.request('own', 'community')}.json", params={"jurisdiction_id": "S1"})


def unit_id(env: Env) -> int:
    return env.unit("区税务局")


def by_role(role: str) -> str:
    return role


def is_secretary(role: str) -> bool:
    return role == "secretary"


STAFF_ONLY = X("401", D, D, "ok|" + NF, D, D, D)
VNF = "404 volunteer_not_found"
TIME_BANK_READERS = X("401", D, D, "ok|" + VNF, D, "ok|" + VNF, "ok", D)
TIME_BANK_KEEPERS = X("401", D, D, "ok|" + VNF, D, "ok|" + VNF, D, D)
SNF, MNF = "404 suggestion_not_found", "404 meeting_not_found"
NREG = "403 not_registered"
NBL = "403 not_building_leader"
DELIBERATION_READERS = X("401", D, D, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok", D)
DELIBERATION_KEEPERS = X("401", D, D, "ok|" + OUT, D, "ok|" + OUT, D, D)
CLAIMERS = X("401", D, "ok", D, D, D, D, "ok")  # members and volunteers: the task side
OFFICER_ONLY = X("401", D, D, D, "ok|" + NF, D, D)
SCORE_READERS = X("401", D, OUT, D, D, "ok|" + OUT, "ok", OUT)
# A community's households: its staff and secretary, its street's officers, admins, and the members
# registered there (masked); kept by its staff and admins.
HOUSEHOLD_READERS = X("401", D, "ok|403 not_registered", "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok")
HOUSEHOLD_KEEPERS = X("401", D, D, "ok|" + OUT, D, D, "ok")

TRIGGERS = {
    # trigger: (state, body, expectation)
    "route-to-community": ("submitted", None, STAFF_ONLY),
    "publish-task": ("community", None, STAFF_ONLY),
    "escalate": ("community", None, STAFF_ONLY),
    "return-to-community": ("street", {"reason": "请社区先行处理"}, OFFICER_ONLY),
    "claim": ("open_task", None, X("401", D, "ok|403 not_registered", D, D, D, D, MSO + "|403 not_registered")),
    "release": ("claimed", None, X("401", D, "ok|" + NF, D, D, D, D, NYC + "|" + NF)),
    "withdraw": ("open_task", None, STAFF_ONLY),
    "report-result": ("claimed", {"result": "已清理", "hours": 1.5}, X("401", D, "ok|" + NF, D, D, D, D,
                                                                        NYC + "|" + NF)),
    "send-back": ("verifying", {"reason": "照片不清楚"}, STAFF_ONLY),
    "verify": ("verifying", {"appraisal": 4}, STAFF_ONLY),
    # Staff resolve in the community, street officers at the street office.
    "resolve": (lambda role: "street" if role == "street_officer" else "community", {"result": "已处理"},
                X("401", D, D, "ok|" + NF, "ok|" + NF, D, D)),
    "reject": ("community", {"reason": "不属于受理范围"}, STAFF_ONLY),
}

API_ROWS = [
    # accounts
    api("POST /api/v1/auth/login", EVERYONE, login_body, scoped=False),
    api("POST /api/v1/auth/logout", ANY_LOGIN, own_token("/api/v1/auth/logout"), scoped=False),
    api("POST /api/v1/auth/signup", EVERYONE, new_account(""), scoped=False),
    api("GET /api/v1/me", ANY_LOGIN, static("/api/v1/me"), scoped=False),
    api("POST /api/v1/accounts", ADMIN_ONLY, new_account("resident"), scoped=False),
    # requests
    api("POST /api/v1/requests", X("401", "ok", "ok|403 not_registered", "ok|" + OUT, D, D, D), submission,
        key=by_role),
    api("GET /api/v1/requests/mine", ANY_LOGIN, static("/api/v1/requests/mine"), scoped=False),
    api("GET /api/v1/requests/{request_id}", X("401", "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok"),
        on_request("/api/v1/requests/{request_id}", "open_task")),
    api("GET /api/v1/requests/{request_id}/duplicates", X("401", D, D, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok"),
        on_request("/api/v1/requests/{request_id}/duplicates", "community")),
    api("POST /api/v1/requests/{request_id}/evaluation",
        X("401", "ok|" + NF, D, D, D, "ok|" + NF, D, "403 not_evaluator|" + NF),
        evaluation_target, key=is_secretary),
    *[api(f"POST /api/v1/requests/{{request_id}}/{t}", expect,
          on_request(f"/api/v1/requests/{{request_id}}/{t}", state, body), key=state if callable(state) else None)
      for t, (state, body, expect) in TRIGGERS.items()],
    api("POST /api/v1/requests/{request_id}/merge", STAFF_ONLY, merge_target),
    api("GET /api/v1/queue", X("401", D, D, "ok", "ok", "ok", "ok"), static("/api/v1/queue"), scoped=False),
    # members
    api("GET /api/v1/registrations", CLAIMERS, static("/api/v1/registrations"), scoped=False),
    api("POST /api/v1/registrations", CLAIMERS, register_new_member, scoped=False),
    api("DELETE /api/v1/registrations/{community_id}", CLAIMERS, registration_of_new_member, scoped=False),
    api("GET /api/v1/tasks", CLAIMERS, static("/api/v1/tasks"), scoped=False),
    api("GET /api/v1/claims/mine", CLAIMERS, static("/api/v1/claims/mine"), scoped=False),
    api("GET /api/v1/community/members", X("401", D, D, "ok", D, D, D), static("/api/v1/community/members"),
        scoped=False),
    api("POST /api/v1/members/{member_id}/zones", X("401", D, D, "ok|404 member_not_found", D, D, D), zone_body),
    api("DELETE /api/v1/members/{member_id}/zones/{zone_id}", X("401", D, D, "ok|404 zone_not_found", D, D, D),
        zone_removal),
    api("PUT /api/v1/members/{member_id}/claim-limit", X("401", D, D, "ok|404 member_not_found", D, D, D),
        claim_limit),
    # reference data
    api("GET /api/v1/categories", EVERYONE, static("/api/v1/categories"), scoped=False),
    api("GET /api/v1/communities", EVERYONE, static("/api/v1/communities"), scoped=False),
    api("GET /api/v1/communities/{community_id}", EVERYONE,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}")),
    # photos and the inbox
    api("POST /api/v1/photos", ANY_LOGIN, photo_upload, scoped=False),
    api("GET /api/v1/photos/{photo_id}", X("401", *["ok|404 photo_not_found"] * 5, "ok"),
        photo_download("/api/v1")),
    api("GET /api/v1/notifications", ANY_LOGIN, static("/api/v1/notifications"), scoped=False),
    api("POST /api/v1/notifications/{notification_id}/read",
        X("401", *["ok|404 notification_not_found"] * 6), notification_read, key=by_role),
    # administration
    api("GET /api/v1/admin/categories", ADMIN_ONLY, static("/api/v1/admin/categories"), scoped=False),
    api("POST /api/v1/admin/categories", ADMIN_ONLY, category_body, scoped=False),
    api("PATCH /api/v1/admin/categories/{code}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/categories/{env.category()}", json={"active": False}),
        scoped=False),
    api("DELETE /api/v1/admin/categories/{code}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/categories/{env.category()}"), scoped=False),
    api("GET /api/v1/admin/rules", ADMIN_ONLY, static("/api/v1/admin/rules"), scoped=False),
    api("POST /api/v1/admin/rules", ADMIN_ONLY, rule_body, scoped=False),
    api("PATCH /api/v1/admin/rules/{rule_id}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/rules/{env.rule()}", json={"name": f"改名{serial()}"}),
        scoped=False),
    api("DELETE /api/v1/admin/rules/{rule_id}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/rules/{env.rule()}"), scoped=False),
    api("POST /api/v1/admin/rules/reorder", ADMIN_ONLY,
        lambda env, role, scope: Call("/api/v1/admin/rules/reorder", json={"ids": env.rule_ids()[::-1]}),
        scoped=False),
    api("POST /api/v1/admin/rules/dry-run", X("401", D, D, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok"), dry_run),
    api("GET /api/v1/admin/calendar", ADMIN_ONLY, static("/api/v1/admin/calendar", params={"year": 2026}),
        scoped=False),
    api("PUT /api/v1/admin/calendar/{day}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/calendar/{env.calendar_day()}",
                                      json={"kind": "holiday", "name": "矩阵"}), scoped=False),
    api("DELETE /api/v1/admin/calendar/{day}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/calendar/{env.calendar_day()}"), scoped=False),
    api("GET /api/v1/admin/logins", ADMIN_ONLY, static("/api/v1/admin/logins"), scoped=False),
    api("GET /api/v1/admin/personal-data-reads", ADMIN_ONLY, static("/api/v1/admin/personal-data-reads"),
        scoped=False),
    api("GET /api/v1/admin/open311-clients", ADMIN_ONLY, static("/api/v1/admin/open311-clients"), scoped=False),
    api("POST /api/v1/admin/open311-clients", ADMIN_ONLY,
        lambda env, role, scope: Call("/api/v1/admin/open311-clients", json={"name": f"新客户端{serial()}"}),
        scoped=False),
    api("DELETE /api/v1/admin/open311-clients/{client_id}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/admin/open311-clients/{env.open311_client()[0]}"), scoped=False),
    # the street office
    api("POST /api/v1/street/departments", X("401", D, D, D, "ok|" + OUT, D, "ok"), department_body,
        key=by_role),
    api("GET /api/v1/street/departments", X("401", D, D, D, "ok|" + OUT, D, "ok"),
        street_filter("/api/v1/street/departments")),
    api("GET /api/v1/street/queue", X("401", D, D, D, "ok|" + OUT, D, "ok"), street_filter("/api/v1/street/queue")),
    api("POST /api/v1/requests/{request_id}/whistles", OFFICER_ONLY, whistle_body),
    # (an escalated request is on no task board: the volunteer of community A does not see it)
    api("GET /api/v1/requests/{request_id}/whistles", X("401", "ok|" + NF, NF, "ok|" + NF, "ok|" + NF, "ok|" + NF,
                                                        "ok", NF),
        lambda env, role, scope: Call(f"/api/v1/requests/{env.whistle_call(scope)[0]}/whistles")),
    api("POST /api/v1/street/whistles/{call_id}/response", X("401", D, D, D, "ok|404 whistle_not_found", D, D),
        call_response),
    api("POST /api/v1/requests/{request_id}/supervision", X("401", D, D, D, "ok|" + NF, "ok|" + NF, D),
        on_request("/api/v1/requests/{request_id}/supervision", "community",
                   {"level": "yellow", "reason": "群众反映强烈"})),
    # webhooks
    api("GET /api/v1/webhooks", ADMIN_ONLY, static("/api/v1/webhooks"), scoped=False),
    api("POST /api/v1/webhooks", ADMIN_ONLY, webhook_body, scoped=False),
    api("PATCH /api/v1/webhooks/{webhook_id}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/webhooks/{env.webhook()}", json={"kinds": []}), scoped=False),
    api("DELETE /api/v1/webhooks/{webhook_id}", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/webhooks/{env.webhook()}"), scoped=False),
    api("GET /api/v1/webhooks/{webhook_id}/deliveries", ADMIN_ONLY,
        lambda env, role, scope: Call(f"/api/v1/webhooks/{env.webhook()}/deliveries"), scoped=False),
    # scores
    # The units: a community secretary reads their community and its grids, not the street; a member's
    # own rates (which cover every community they serve) are read by the member and admins only.
    *[api(op, expect, unit_scores(url, kind), variant=kind)
      for op, url in (("GET /api/v1/scores/{period}/units/{unit_kind}/{unit_id}",
                       f"/api/v1/scores/{PERIOD}/units/{{kind}}/{{id}}"),
                      ("GET /api/v1/scores/trend/{unit_kind}/{unit_id}", "/api/v1/scores/trend/{kind}/{id}"))
      for kind, expect in (("community", SCORE_READERS), ("grid", SCORE_READERS),
                           ("street", X("401", D, OUT, D, D, OUT, "ok", OUT)),
                           ("member", X("401", D, "ok|" + OUT, D, D, OUT, "ok", OUT)))],
    *[api("GET /api/v1/scores/{period}/rankings/{scope_kind}/{scope_id}", expect,
          unit_scores(f"/api/v1/scores/{PERIOD}/rankings/{{kind}}/{{id}}", kind), variant=kind)
      for kind, expect in (("community", SCORE_READERS), ("street", X("401", D, OUT, D, D, OUT, "ok", OUT)))],
    api("GET /api/v1/scores/{period}/members/{member_id}", X("401", D, "ok|" + OUT, D, D, "ok|" + OUT, "ok", OUT),
        member_scores(f"/api/v1/scores/{PERIOD}/members/{{id}}")),
    api("GET /api/v1/members/me/scores/{period}", CLAIMERS,
        static(f"/api/v1/members/me/scores/{PERIOD}"), scoped=False),
    api("POST /api/v1/scores/{period}/publications", X("401", D, D, D, D, "ok|" + OUT, "ok"), publication),
    api("GET /api/v1/scores/{period}/publications/{scope_kind}/{scope_id}", SCORE_READERS,
        unit_scores(f"/api/v1/scores/{PERIOD}/publications/community/{{id}}")),
    api("POST /api/v1/admin/scores/{period}/recompute", ADMIN_ONLY,
        static(f"/api/v1/admin/scores/{PERIOD}/recompute"), scoped=False),
    *[api(f"GET /api/v1/reports/units/{{unit_id}}/{{period}}{suffix}", X("401", D, D, D, D, "ok", "ok"),
          lambda env, role, scope, suffix=suffix: Call(f"/api/v1/reports/units/{unit_id(env)}/{PERIOD}{suffix}"),
          scoped=False)
      for suffix in ("", "/xlsx", "/pdf")],
    api("GET /api/v1/admin/scoring-policies", ADMIN_ONLY, static("/api/v1/admin/scoring-policies"), scoped=False),
    api("POST /api/v1/admin/scoring-policies", ADMIN_ONLY, policy_body, scoped=False),
    api("GET /api/v1/admin/scoring-policies/{version}", ADMIN_ONLY, static("/api/v1/admin/scoring-policies/1"),
        scoped=False),
    api("GET /api/v1/scoring-policy/{period}", X("401", D, "ok", D, D, "ok", "ok", "ok"),
        static(f"/api/v1/scoring-policy/{PERIOD}"), scoped=False),
    api("GET /api/v1/admin/audit", ADMIN_ONLY, static("/api/v1/admin/audit"), scoped=False),
    # Open311: public reads; filing needs a client's key, not a login
    api("GET /open311/v2/discovery.{fmt}", EVERYONE, static("/open311/v2/discovery.json", params=S1), scoped=False),
    api("GET /open311/v2/services.{fmt}", EVERYONE, static("/open311/v2/services.json", params=S1), scoped=False),
    api("GET /open311/v2/services/{service_code}.{fmt}", EVERYONE,
        static("/open311/v2/services/disputes.noise.json", params=S1), scoped=False),
    api("GET /open311/v2/requests.{fmt}", EVERYONE,
        static("/open311/v2/requests.json", params={**S1, "service_code": "facilities.streetlight"}), scoped=False),
    api("POST /open311/v2/requests.{fmt}", EVERYONE, open311_post, scoped=False),
    api("GET /open311/v2/requests/{service_request_id}.{fmt}", EVERYONE, open311_request, scoped=False),
    api("GET /open311/v2/tokens/{token}.{fmt}", EVERYONE,
        lambda env, role, scope: Call(f"/open311/v2/tokens/{env.tracking_code('own')}.json",
                                      params={"jurisdiction_id": "S1"}), scoped=False),
    api("GET /healthz", EVERYONE, static("/healthz"), scoped=False),
    # the member register (README, "The member register")
    api("GET /api/v1/member-classes", ANY_LOGIN, static("/api/v1/member-classes"), scoped=False),
    api("POST /api/v1/admin/member-classes", ADMIN_ONLY,
        lambda env, role, scope: Call("/api/v1/admin/member-classes",
                                      json={"code": f"mc{serial()}", "name_zh": "矩阵党员", "name_en": "Matrix"}),
        scoped=False),
    api("GET /api/v1/communities/{community_id}/member-register",
        X("401", D, D, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok"),
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/member-register")),
    api("GET /api/v1/requests/{request_id}/skilled-members", X("401", D, D, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok"),
        on_request("/api/v1/requests/{request_id}/skilled-members", "community")),
    api("GET /api/v1/members/me/profile", X("401", D, "ok", D, D, D, D), static("/api/v1/members/me/profile"),
        scoped=False),
    api("PATCH /api/v1/members/me/profile", X("401", D, "ok", D, D, D, D),
        static("/api/v1/members/me/profile", json={"skills": ["水电"]}), scoped=False),
    api("PATCH /api/v1/members/{member_id}/profile",
        X("401", D, "ok|403 not_your_entry", "ok|" + OUT, D, "ok|" + OUT, "ok"),
        lambda env, role, scope: Call(f"/api/v1/members/{env.member_id(scope)}/profile", json={"post": "科员"})),
    # planned collection: households, pairings, visits, rounds, coverage (README, "Visits and coverage")
    api("GET /api/v1/household-tags", ANY_LOGIN, static("/api/v1/household-tags"), scoped=False),
    api("POST /api/v1/admin/household-tags", ADMIN_ONLY,
        lambda env, role, scope: Call("/api/v1/admin/household-tags",
                                      json={"code": f"mx{serial()}", "name_zh": "矩阵户", "name_en": "Matrix"}),
        scoped=False),
    api("GET /api/v1/communities/{community_id}/households", HOUSEHOLD_READERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/households")),
    api("POST /api/v1/households", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call("/api/v1/households", json={
            "building_id": env.id("building_A" if scope == "own" else "building_C"), "code": f"MXN-{serial()}",
            "door": "3单元302"})),
    api("GET /api/v1/households/{household_id}", HOUSEHOLD_READERS,
        lambda env, role, scope: Call(f"/api/v1/households/{env.household(scope)}")),
    api("PATCH /api/v1/households/{household_id}", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/households/{env.household(scope)}", json={"door": "3单元303"})),
    api("POST /api/v1/households/{household_id}/pairings", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/households/{env.household(scope)}/pairings",
                                      json={"member_id": env.member_id(scope)})),
    api("POST /api/v1/households/{household_id}/pairings/{pairing_id}/end", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call("/api/v1/households/{}/pairings/{}/end".format(*env.pairing(scope)), json={})),
    api("POST /api/v1/households/{household_id}/visits",
        X("401", D, "ok|403 not_registered", "ok|" + OUT, D, D, D),
        lambda env, role, scope: Call(f"/api/v1/households/{env.household(scope)}/visits", json={})),
    api("POST /api/v1/households/{household_id}/reminders", X("401", D, D, "ok|" + OUT, D, "ok|" + OUT, "ok"),
        lambda env, role, scope: Call(f"/api/v1/households/{env.household(scope, paired=True)}/reminders")),
    api("GET /api/v1/members/me/households", X("401", D, "ok", D, D, D, D), static("/api/v1/members/me/households"),
        scoped=False),
    api("GET /api/v1/buildings/{building_id}/center-households", HOUSEHOLD_READERS,
        lambda env, role, scope: Call(f"/api/v1/buildings/{env.center_household(scope)[0]}/center-households")),
    api("POST /api/v1/buildings/{building_id}/center-households", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/buildings/{env.new_building(scope)}/center-households",
                                      json={"member_id": env.member_id(scope)})),
    api("POST /api/v1/buildings/{building_id}/center-households/{center_id}/end", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call("/api/v1/buildings/{}/center-households/{}/end".format(
            *env.center_household(scope)), json={})),
    # 楼栋长 (README, "Building leaders")
    api("GET /api/v1/buildings/{building_id}/leaders", HOUSEHOLD_READERS,
        lambda env, role, scope: Call(f"/api/v1/buildings/{env.leader(scope)[0]}/leaders")),
    api("POST /api/v1/buildings/{building_id}/leaders", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/buildings/{env.new_building(scope)}/leaders",
                                      json={"account_id": env.id("resident_a" if scope == "own" else "resident_c")})),
    api("POST /api/v1/buildings/{building_id}/leaders/{leader_id}/end", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call("/api/v1/buildings/{}/leaders/{}/end".format(*env.leader(scope)), json={})),
    api("GET /api/v1/buildings/{building_id}/requests",
        X("401", NBL, NBL, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok"),
        lambda env, role, scope: Call(f"/api/v1/buildings/{env.id('building_A' if scope == 'own' else 'building_C')}"
                                      "/requests")),
    api("GET /api/v1/me/buildings", ANY_LOGIN, static("/api/v1/me/buildings"), scoped=False),
    api("GET /api/v1/grids/{grid_id}/workers", HOUSEHOLD_READERS,
        lambda env, role, scope: Call(f"/api/v1/grids/{env.grid(scope)}/workers")),
    api("POST /api/v1/grids/{grid_id}/workers", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/grids/{env.grid(scope)}/workers",
                                      json={"account_id": env.new_staff(scope)})),
    api("POST /api/v1/grids/{grid_id}/workers/{worker_id}/end", HOUSEHOLD_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/grids/{env.grid(scope)}/workers/{env.grid_worker(scope)}/end",
                                      json={})),
    api("POST /api/v1/rounds", X("401", D, D, "ok|" + OUT, D, D, D),
        lambda env, role, scope: (env.open_round("own"), Call("/api/v1/rounds", json={"grid_id": env.grid(scope)}))[1]),
    api("GET /api/v1/rounds/mine", X("401", D, D, "ok", D, D, D), static("/api/v1/rounds/mine"), scoped=False),
    *[api(f"POST /api/v1/rounds/{{round_id}}/{action}", X("401", D, D, "ok|404 round_not_found", D, D, D),
          lambda env, role, scope, action=action, body=body: Call(f"/api/v1/rounds/{env.open_round(scope)}/{action}",
                                                                  json=body))
      for action, body in (("ticks", {"areas": ["小区广场"]}), ("end", {"note": "巡查完毕"}),
                           ("findings", {"category": "disputes.noise", "description": "巡查发现夜间施工"}))],
    *[api(f"GET /api/v1/coverage/{{period}}/{{scope_kind}}/{{scope_id}}{suffix}", expect,
          lambda env, role, scope, kind=kind, suffix=suffix: Call(
              f"/api/v1/coverage/{PERIOD}/{kind}/{(env.community if kind == 'community' else env.street)(scope)}"
              f"{suffix}"), variant=kind)
      for suffix in ("", "/missed")
      for kind, expect in (("community", X("401", D, D, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok")),
                           ("street", X("401", D, D, OUT, "ok|" + OUT, OUT, "ok")))],
    # 公示 and 亮身份: the board and who serves a building are public; a member sets what is shown
    api("GET /api/v1/board/{scope_kind}/{code}", EVERYONE, static("/api/v1/board/community/A"), scoped=False),
    api("GET /api/v1/buildings/{building_id}/serving", EVERYONE,
        lambda env, role, scope: Call(f"/api/v1/buildings/{env.id('building_A')}/serving"), scoped=False),
    api("GET /api/v1/members/me/showing", X("401", D, "ok", D, D, D, D), static("/api/v1/members/me/showing"),
        scoped=False),
    api("PUT /api/v1/members/me/showing", X("401", D, "ok", D, D, D, D),
        static("/api/v1/members/me/showing", json={"title": "楼栋长"}), scoped=False),
    # 志愿者 and the time bank (README, "Volunteers")
    api("POST /api/v1/volunteers/me", X("401", "ok", D, D, D, D, D, D), becoming_volunteer, scoped=False),
    api("GET /api/v1/volunteers/me/time-bank", X("401", D, D, D, D, D, D, "ok"),
        static("/api/v1/volunteers/me/time-bank"), scoped=False),
    api("GET /api/v1/volunteers/{member_id}/time-bank", TIME_BANK_READERS,
        lambda env, role, scope: Call(f"/api/v1/volunteers/{env.volunteer(scope)}/time-bank")),
    api("POST /api/v1/volunteers/{member_id}/time-bank/services", TIME_BANK_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/volunteers/{env.volunteer_with_hours(scope)}/time-bank/services",
                                      json={"hours": 1, "note": "上门理发"})),
    # 建言 and 议事 (README, "Suggestions and meetings")
    api("POST /api/v1/suggestions", X("401", "ok", "ok|403 not_registered", D, D, D, D),
        lambda env, role, scope: Call("/api/v1/suggestions", json={"community_id": env.community(scope),
                                                                   "title": "装长椅", "body": "花园缺座椅"})),
    api("GET /api/v1/suggestions/mine", ANY_LOGIN, static("/api/v1/suggestions/mine"), scoped=False),
    api("GET /api/v1/suggestions/{suggestion_id}", X("401", "ok|" + SNF, SNF, "ok|" + SNF, "ok|" + SNF, "ok|" + SNF,
                                                     "ok", SNF),
        lambda env, role, scope: Call(f"/api/v1/suggestions/{env.suggestion(scope)}")),
    api("POST /api/v1/suggestions/{suggestion_id}/{action}", DELIBERATION_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/suggestions/{env.suggestion(scope)}/adopt", json={})),
    api("GET /api/v1/communities/{community_id}/suggestions", DELIBERATION_READERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/suggestions")),
    api("POST /api/v1/communities/{community_id}/meetings", DELIBERATION_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/meetings", json={
            "topic": "长椅", "held_on": "2026-12-05", "participant_count": 5, "options": ["东", "西"]})),
    api("GET /api/v1/communities/{community_id}/meetings", DELIBERATION_READERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/meetings")),
    api("GET /api/v1/meetings/{meeting_id}", X("401", MNF, MNF, "ok|" + MNF, "ok|" + MNF, "ok|" + MNF, "ok", MNF),
        lambda env, role, scope: Call(f"/api/v1/meetings/{env.meeting(scope)}")),
    api("POST /api/v1/meetings/{meeting_id}/decision", DELIBERATION_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/meetings/{env.meeting(scope)}/decision", json={
            "votes": [5, 2], "chosen": 0, "decision": "装在东侧", "outcome": "adopt"})),
    api("GET /api/v1/communities/{community_id}/volunteers", X("401", D, D, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT,
                                                               "ok", D),
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/volunteers")),
    # 组织生活 and annual targets (README, "Party life")
    api("POST /api/v1/communities/{community_id}/activities", DELIBERATION_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/activities", json={
            "kind": "theme_day", "title": "主题党日", "held_on": str(date.today())})),
    api("GET /api/v1/communities/{community_id}/activities", DELIBERATION_READERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/activities")),
    api("GET /api/v1/activities/mine", CLAIMERS, static("/api/v1/activities/mine"), scoped=False),
    api("POST /api/v1/activities/check-in", X("401", D, "ok|" + NREG, D, D, D, D, "ok|" + NREG),
        lambda env, role, scope: Call("/api/v1/activities/check-in", json={"code": env.activity(scope)[1]})),
    api("GET /api/v1/activities/{activity_id}", DELIBERATION_READERS,
        lambda env, role, scope: Call(f"/api/v1/activities/{env.activity(scope)[0]}")),
    api("POST /api/v1/activities/{activity_id}/attendance", DELIBERATION_KEEPERS,
        lambda env, role, scope: Call(f"/api/v1/activities/{env.activity(scope)[0]}/attendance",
                                      json={"member_id": env.member_id(scope)})),
    api("GET /api/v1/communities/{community_id}/targets", DELIBERATION_READERS,
        lambda env, role, scope: Call(f"/api/v1/communities/{env.community(scope)}/targets")),
    api("GET /api/v1/me/targets", X("401", D, "ok", D, D, D, D, D), static("/api/v1/me/targets"), scoped=False),
    api("PUT /api/v1/members/{member_id}/targets/{year}", X("401", D, D, D, D, "ok|404 member_not_found", D, D),
        lambda env, role, scope: Call(f"/api/v1/members/{env.member_id(scope)}/targets/{date.today().year}",
                                      json={"hours": "12", "visits": 6, "activities": 8})),
]


# --- running a row ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def env(database, redis_url, tmp_path_factory):
    env = open_env(database, redis_url, tmp_path_factory.mktemp("matrix"))
    yield env
    close_env(env, database)


def _verdict(expected: str, status: int, code: str | None, location: str, page: bool) -> bool:
    if expected == "ok":
        if page:
            return status == 200 or (status == 303 and not location.startswith("/login"))
        return 200 <= status < 300
    if expected == "401":
        return status == 401 and code == "not_authenticated"
    if expected == "login":
        return status == 303 and location.startswith("/login?next=")
    want_status, want_code = expected.split(" ")
    return status == int(want_status) and code == want_code


def run_row(env: Env, row: Row, page: bool) -> None:
    failures = []
    shared: dict[tuple, Call] = {}  # what reads and refused writes act on, built once per scope and key
    for role in ROLES:
        for scope in ("own", "other") if row.scoped else ("own",):
            expected = row.expect[role][0 if scope == "own" else 1]
            writes = row.method != "GET"
            if writes and expected == "ok":
                call = row.build(env, role, scope)  # fresh: the call consumes it
            else:
                key = (scope, row.key(role) if row.key else None)
                call = shared[key] if key in shared else shared.setdefault(key, row.build(env, role, scope))
            if page:  # logged in, and the form's CSRF token read, before anything is counted
                browser = env.browser(role, fresh=call.fresh_browser, login_as=call.login_as)
                csrf = env.csrf(browser) if writes else None
            before = None
            if writes and expected != "ok":
                env.runtime.drain()
                before = row_counts(env.runtime)
            if page:
                response = _page_call(browser, row, call, csrf)
                match = CODE.search(response.text or "")
                code = match.group(1) if match else None
            else:
                response = env.client.request(row.method, call.path, headers=env.headers(role, call.token),
                                              json=call.json, params=call.params, data=call.data, files=call.files)
                code = _api_code(response)
            location = response.headers.get("location", "")
            if not _verdict(expected, response.status_code, code, location, page):
                json_body = response.headers.get("content-type", "").startswith("application/json")
                said = response.text[:160] if json_body and not page else ""
                failures.append(f"{role}/{scope}: expected {expected}, got {response.status_code} {code or ''} "
                                f"{location} {said}".rstrip())
            elif before is not None and row_counts(env.runtime) != before:
                after = row_counts(env.runtime)
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                failures.append(f"{role}/{scope}: refused, yet rows changed: {changed}")
            if writes and expected == "ok":
                env.runtime.drain()
    assert not failures, f"{row.id}:\n  " + "\n  ".join(failures)


def _api_code(response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    body = response.json()
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


def _page_call(browser, row: Row, call: Call, csrf: str | None):
    if row.method == "GET":
        return browser.client.get(call.path, params=call.params, follow_redirects=False)
    data = {"csrf_token": csrf, **(call.data or {})}
    return browser.client.post(call.path, data=data, files=call.files, follow_redirects=False)


@pytest.mark.parametrize("row", API_ROWS, ids=lambda r: r.id)
def test_api_operation(env, row):
    run_row(env, row, page=False)


# --- the table covers the app, no more and no less --------------------------------------------------

def _app():
    return create_app(Settings(dev_mode=True, database_url="sqlite://"))


def test_every_api_operation_has_a_row():
    schema = _app().openapi()["paths"]
    operations = {f"{method.upper()} {p}" for p, methods in schema.items() for method in methods}
    rows = {row.op for row in API_ROWS}
    assert len({row.id for row in API_ROWS}) == len(API_ROWS), "an operation has two rows of the same variant"
    assert operations - rows == set(), "operations whose authorization the matrix does not decide"
    assert rows - operations == set(), "rows naming operations that no longer exist"


# --- the pages ---------------------------------------------------------------------------------------

W = "403 wrong_role"
L = "login"
PAGE_OK = X("ok", "ok", "ok", "ok", "ok", "ok", "ok")
# Who may see a request, from README "The API" / DESIGN.md §1: the reporting resident; members, once it
# is on the task board of a community they are registered with (or they claimed it); staff, street
# officers and secretaries, inside their community or street; admins, all.
PUBLISHED = {"open_task", "claimed", "verifying", "resolved", "closed"}


def sees(role: str, scope: str, state: str) -> bool:
    if role == "admin":
        return True
    if role in ("member", "volunteer"):  # the volunteer of the matrix reported none of these
        return scope == "own" and state in PUBLISHED
    return role != "anonymous" and scope == "own"


def on_page(api_cells: dict, state: str | Callable[[str], str]) -> dict:
    """A page act's cells from its API cells: a login instead of 401, and a refusal shown on the
    request page to whoever may see the request, or the 404 page to whoever may not."""
    out = {}
    for role, cells in api_cells.items():
        chosen = state(role) if callable(state) else state
        row = []
        for scope, cell in zip(("own", "other"), cells, strict=True):
            if cell == "401":
                cell = L
            elif cell.startswith("403 ") and not sees(role, scope, chosen):
                cell = NF
            row.append(cell)
        out[role] = tuple(row)
    return out


def page(op: str, expect: dict, build: Build, *, scoped: bool = True, variant: str = "", key=None) -> Row:
    return Row(op, expect, build, scoped, variant, key)


def form_of(build: Build, url: Callable[[str], str] | None = None) -> Build:
    """The API builder's call as a page form: the body as form fields, at the page's address."""
    def page_build(env: Env, role: str, scope: str) -> Call:
        call = build(env, role, scope)
        fields = {k: [str(i) for i in v] if isinstance(v, list) else str(v) for k, v in (call.json or {}).items()}
        return Call(url(call.path) if url else call.path, data=fields)
    return page_build


def act_url(trigger: str) -> Callable[[str], str]:
    def url(api_path: str) -> str:
        rid = api_path.split("/")[4]
        return f"/requests/{rid}/act/{trigger}"
    return url


def web_login(env: Env, role: str, scope: str) -> Call:
    return Call("/login", data={"username": ACCOUNT.get(role, "resident_a"), "password": "correct-horse-battery"},
                fresh_browser=True)


def web_signup(env: Env, role: str, scope: str) -> Call:
    n = serial()
    return Call("/signup", data={"username": f"mx_web{n}", "password": "long-enough-pass-2026",
                                 "display_name": f"居民{n}", "community_id": str(env.community("own"))},
                fresh_browser=True)


def intake_form(url: str, channel: str) -> Build:
    def build(env: Env, role: str, scope: str) -> Call:
        return Call(url, data={"category": "disputes.noise", "community_id": str(env.community(scope)),
                               "description": f"{channel}: 楼道里堆满了纸箱，第{serial()}次"})
    return build


def received(env: Env, role: str, scope: str) -> Call:  # resident_a's report for the volunteer too
    channel = {"member": "visit", "staff": "inspection"}.get(role, "report")
    return Call(f"/requests/{env.request(scope, 'community', channel=channel)}/received")


def web_registration(end: bool) -> Build:
    """member_1 (volunteer_a for the volunteer) registers with community B (or ends it); B is in no
    other cell."""
    def build(env: Env, role: str, scope: str) -> Call:
        env.set_registration(ACCOUNT[role] if role == "volunteer" else "member_1", env.id("community_B"), active=end)
        if end:
            return Call(f"/member/registrations/{env.id('community_B')}/end")
        return Call("/member/registrations", data={"community_id": str(env.id("community_B"))})
    return build


def scope_page(url: str) -> Build:
    return lambda env, role, scope: Call(url, params={"period": PERIOD, "scope": "community",
                                                      "id": env.community(scope)})


def web_publication(env: Env, role: str, scope: str) -> Call:
    call = publication(env, role, scope)
    period = call.path.split("/")[4]
    return Call(f"/scores/{period}/publish", data={"scope_kind": "community", "scope_id": str(env.community(scope)),
                                                   "back": "dashboard"})


READER_PAGE = X(L, W, W, W, W, "ok|" + OUT, "ok")
MEMBER_PAGE = X(L, W, "ok", W, W, W, W)  # party members only
TASK_PAGE = X(L, W, "ok", W, W, W, W, "ok")  # members and volunteers
ROUND_PAGE = X(L, W, W, "ok|404 round_not_found", W, W, W)  # a grid worker's own rounds
TRIGGER_PAGES = {t.replace("-", "_"): (state, body, expect) for t, (state, body, expect) in TRIGGERS.items()}
TRIGGER_PAGES["merge"] = ("community", None, STAFF_ONLY)

PAGE_ROWS = [
    # the front door
    page("GET /", PAGE_OK, static("/"), scoped=False),
    page("GET /login", PAGE_OK, static("/login"), scoped=False),
    page("POST /login", PAGE_OK, web_login, scoped=False),
    page("POST /logout", PAGE_OK, lambda env, role, scope: Call("/logout", fresh_browser=True), scoped=False),
    page("GET /signup", PAGE_OK, static("/signup"), scoped=False),
    page("POST /signup", PAGE_OK, web_signup, scoped=False),
    page("POST /language", PAGE_OK, static("/language", data={"locale": "en", "next": "/"}), scoped=False),
    # desks
    page("GET /desk", X(L, W, W, "ok", W, "ok", "ok"), static("/desk"), scoped=False),
    page("GET /street", X(L, W, W, W, "ok", W, "ok"), static("/street"), scoped=False),
    page("GET /street/supervision", X(L, W, W, W, "ok", "ok", "ok"), static("/street/supervision"), scoped=False),
    # 收
    page("GET /report", X(L, "ok", W, W, W, W, W), static("/report"), scoped=False),
    page("POST /report", X(L, "ok", W, W, W, W, W), intake_form("/report", "report")),
    page("GET /desk/inspection", X(L, W, W, "ok", W, W, W), static("/desk/inspection"), scoped=False),
    page("POST /desk/inspection", X(L, W, W, "ok|" + OUT, W, W, W), intake_form("/desk/inspection", "inspection")),
    page("GET /member/visit", MEMBER_PAGE, static("/member/visit"), scoped=False),
    page("POST /member/visit", X(L, W, "ok|403 not_registered", W, W, W, W), intake_form("/member/visit", "visit")),
    # The confirmation after a report is for the person who brought the request in.
    page("GET /requests/{request_id}/received", X(L, "ok|" + NF, "ok|" + NF, "ok|" + NF, NF, NF, NF, NF), received,
         key=by_role),
    # the member's pages
    page("GET /member/registrations", TASK_PAGE, static("/member/registrations"), scoped=False),
    page("POST /member/registrations", TASK_PAGE, web_registration(end=False), scoped=False),
    page("POST /member/registrations/{community_id}/end", TASK_PAGE, web_registration(end=True), scoped=False),
    page("GET /member/tasks", TASK_PAGE, static("/member/tasks"), scoped=False),
    page("GET /member/claims", TASK_PAGE, static("/member/claims"), scoped=False),
    page("GET /member/record", TASK_PAGE, static("/member/record", params={"period": PERIOD}), scoped=False),
    # the request page and its forms
    page("GET /requests/{request_id}", X(L, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok|" + NF, "ok"),
         on_request("/requests/{request_id}", "open_task")),
    *[page("POST /requests/{request_id}/act/{trigger}", on_page(expect, state),
           form_of(merge_target if trigger == "merge" else
                   on_request(f"/api/v1/requests/{{request_id}}/{trigger}", state, body), act_url(trigger)),
           variant=trigger, key=state if callable(state) else None)
      for trigger, (state, body, expect) in TRIGGER_PAGES.items()],
    page("POST /requests/{request_id}/evaluation",
         on_page(X("401", "ok|" + NF, D, D, D, "ok|" + NF, D, "403 not_evaluator|" + NF), "resolved"),
         form_of(evaluation_target, lambda p: p.removeprefix("/api/v1")), key=is_secretary),
    page("POST /requests/{request_id}/whistle", on_page(OFFICER_ONLY, "street"),
         form_of(whistle_body, lambda p: p.removeprefix("/api/v1").replace("/whistles", "/whistle"))),
    page("POST /requests/{request_id}/calls/{call_id}/response",
         on_page(X("401", D, D, D, "ok|404 whistle_not_found", D, D), "street"),
         lambda env, role, scope: env.call_form(scope)),
    page("POST /requests/{request_id}/supervision", on_page(X("401", D, D, D, "ok|" + NF, "ok|" + NF, D), "community"),
         form_of(on_request("/api/v1/requests/{request_id}/supervision", "community",
                            {"level": "yellow", "reason": "群众反映强烈"}), lambda p: p.removeprefix("/api/v1"))),
    page("GET /photos/{photo_id}", X(L, *["ok|404 photo_not_found"] * 5, "ok"), photo_download("")),
    # the resident's pages, and tracking without a login
    page("GET /my/requests", X(L, "ok", W, W, W, W, W), static("/my/requests"), scoped=False),
    page("GET /track", PAGE_OK, lambda env, role, scope: Call("/track", params={"token": env.tracking_code("own")}),
         scoped=False),
    page("GET /track/{token}", PAGE_OK, lambda env, role, scope: Call(f"/track/{env.tracking_code('own')}"),
         scoped=False),
    # 评: the secretary's pages
    page("GET /dashboard", READER_PAGE, scope_page("/dashboard")),
    page("GET /rankings", READER_PAGE, scope_page("/rankings")),
    page("GET /assessment", READER_PAGE, scope_page("/assessment")),
    page("GET /rankings/members/{member_id}", READER_PAGE,
         lambda env, role, scope: Call(f"/rankings/members/{env.member_id(scope)}", params={"period": PERIOD})),
    page("POST /scores/{period}/publish", READER_PAGE, web_publication),
    page("POST /scores/{period}/recompute", X(L, W, W, W, W, D, "ok"), static(f"/scores/{PERIOD}/recompute")),
    *[page("GET /reports/{unit_id}/{period}.{kind}", X(L, D, D, D, D, "ok", "ok"),
           lambda env, role, scope, kind=kind: Call(f"/reports/{unit_id(env)}/{PERIOD}.{kind}"), scoped=False,
           variant=kind)
      for kind in ("xlsx", "pdf")],
    # planned collection
    page("GET /member/households", MEMBER_PAGE, static("/member/households"), scoped=False),
    page("POST /member/households/{household_id}/visit", X(L, W, "ok|403 not_registered", W, W, W, W),
         lambda env, role, scope: Call(f"/member/households/{env.household(scope)}/visit")),
    page("GET /desk/rounds", X(L, W, W, "ok", W, W, W), static("/desk/rounds"), scoped=False),
    page("POST /desk/rounds", X(L, W, W, "ok|" + OUT, W, W, W),
         lambda env, role, scope: (env.open_round("own"),
                                   Call("/desk/rounds", data={"grid_id": str(env.grid(scope))}))[1]),
    page("GET /desk/rounds/{round_id}", ROUND_PAGE,
         lambda env, role, scope: Call(f"/desk/rounds/{env.open_round(scope)}")),
    *[page(f"POST /desk/rounds/{{round_id}}/{action}", ROUND_PAGE,
           lambda env, role, scope, action=action, data=data: Call(f"/desk/rounds/{env.open_round(scope)}/{action}",
                                                                   data=data))
      for action, data in (("ticks", {"areas": "小区广场"}), ("end", {"note": ""}),
                           ("findings", {"category": "disputes.noise", "description": "巡查发现夜间施工"}))],
    page("GET /desk/households", X(L, W, W, "ok", W, W, "ok"), static("/desk/households"), scoped=False),
    page("POST /desk/households", X(L, W, W, "ok|" + OUT, W, W, "ok"),
         lambda env, role, scope: Call("/desk/households", data={
             "building_id": str(env.id("building_A" if scope == "own" else "building_C")), "code": f"MXP-{serial()}",
             "door": "4单元401"})),
    page("GET /desk/households/{household_id}", X(L, W, W, "ok|" + OUT, W, "ok|" + OUT, "ok"),
         lambda env, role, scope: Call(f"/desk/households/{env.household(scope)}")),
    page("POST /desk/center-households", X(L, W, W, "ok|" + OUT, W, W, "ok"),
         lambda env, role, scope: Call("/desk/center-households", data={
             "building_id": str(env.new_building(scope)), "member_id": str(env.member_id(scope))})),
    page("GET /coverage", X(L, W, W, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok"),
         lambda env, role, scope: Call("/coverage", params={"period": PERIOD, "scope": "community",
                                                            "id": env.community(scope)})),
    page("POST /coverage/reminders/{household_id}", X(L, W, W, "ok|" + OUT, W, "ok|" + OUT, "ok"),
         lambda env, role, scope: Call(f"/coverage/reminders/{env.household(scope, paired=True)}",
                                       data={"back": "/coverage"})),
    page("GET /board/{scope_kind}/{code}", PAGE_OK, static("/board/community/A"), scoped=False),
    page("GET /board/{scope_kind}/{code}/notice.pdf", PAGE_OK, static("/board/street/S1/notice.pdf"), scoped=False),
    page("GET /buildings/{building_id}/poster.pdf", PAGE_OK,
         lambda env, role, scope: Call(f"/buildings/{env.id('building_A')}/poster.pdf"), scoped=False),
    page("GET /member/profile", MEMBER_PAGE, static("/member/profile"), scoped=False),
    page("POST /member/profile", MEMBER_PAGE, static("/member/profile", data={"skills": "水电，法律",
                                                                              "availability": "weekend"}),
         scoped=False),
    page("GET /desk/members", X(L, W, W, "ok", "ok", "ok", "ok"), static("/desk/members"), scoped=False),
    page("POST /desk/members/{member_id}", X(L, W, W, "ok|" + OUT, W, "ok|" + OUT, "ok"),
         lambda env, role, scope: Call(f"/desk/members/{env.member_id(scope)}", data={"post": "科员"})),
    page("GET /member/showing", MEMBER_PAGE, static("/member/showing"), scoped=False),
    page("POST /member/showing", MEMBER_PAGE, static("/member/showing", data={"show_name": "1", "show_unit": "1",
                                                                              "title": "楼栋长"}), scoped=False),
    page("GET /my/suggestions", X(L, "ok", "ok", W, W, W, W), static("/my/suggestions"), scoped=False),
    page("POST /my/suggestions", X(L, "ok", "ok|403 not_registered", W, W, W, W),
         lambda env, role, scope: Call("/my/suggestions", data={"community_id": str(env.community(scope)),
                                                                "title": "装长椅", "body": "花园缺座椅"})),
    page("GET /desk/suggestions", X(L, W, W, "ok", "ok", "ok", "ok", W), static("/desk/suggestions"), scoped=False),
    page("POST /desk/suggestions/{suggestion_id}/act/{trigger}", X(L, W, W, "ok|" + OUT, W, "ok|" + OUT, W, W),
         lambda env, role, scope: Call(f"/desk/suggestions/{env.suggestion(scope)}/act/adopt")),
    page("POST /desk/meetings", X(L, W, W, "ok", W, "ok", W, W),
         static("/desk/meetings", data={"topic": "长椅", "held_on": "2026-12-05", "participant_count": "5",
                                        "options": "东\n西"}), scoped=False),
    page("GET /desk/meetings/{meeting_id}", X(L, W, W, "ok|" + MNF, "ok|" + MNF, "ok|" + MNF, "ok", W),
         lambda env, role, scope: Call(f"/desk/meetings/{env.meeting(scope)}")),
    page("POST /desk/meetings/{meeting_id}/decision", X(L, W, W, "ok|" + OUT, W, "ok|" + OUT, W, W),
         lambda env, role, scope: Call(f"/desk/meetings/{env.meeting(scope)}/decision",
                                       data={"votes": ["5", "2"], "chosen": "0", "decision": "装在东侧",
                                             "outcome": "adopt"})),
    page("GET /volunteer/join", X(L, "ok", W, W, W, W, W, W), static("/volunteer/join"), scoped=False),
    page("POST /volunteer/join", X(L, "ok", W, W, W, W, W, W), web_joining, scoped=False),
    page("GET /volunteer/time-bank", X(L, W, W, W, W, W, W, "ok"), static("/volunteer/time-bank"), scoped=False),
    page("GET /desk/volunteers", X(L, W, W, "ok", "ok", "ok", "ok", W), static("/desk/volunteers"), scoped=False),
    page("POST /desk/volunteers/{member_id}/services", X(L, W, W, "ok|" + VNF, W, "ok|" + VNF, W, W),
         lambda env, role, scope: Call(f"/desk/volunteers/{env.volunteer_with_hours(scope)}/services",
                                       data={"hours": "1", "note": "上门理发"})),
    # 组织生活 and annual targets
    page("GET /member/check-in", X(L, W, "ok", W, W, W, W, "ok"), static("/member/check-in"), scoped=False),
    page("POST /member/check-in", X(L, W, "ok|" + NREG, W, W, W, W, "ok|" + NREG),
         lambda env, role, scope: Call("/member/check-in", data={"code": env.activity(scope)[1]})),
    page("GET /desk/activities", X(L, W, W, "ok", "ok", "ok", "ok", W), static("/desk/activities"), scoped=False),
    page("POST /desk/activities", X(L, W, W, "ok", W, "ok", W, W),
         static("/desk/activities", data={"kind": "study_day", "title": "固定学习日", "held_on": str(date.today())}),
         scoped=False),
    page("GET /desk/activities/{activity_id}", X(L, W, W, "ok|" + OUT, "ok|" + OUT, "ok|" + OUT, "ok", W),
         lambda env, role, scope: Call(f"/desk/activities/{env.activity(scope)[0]}")),
    page("POST /desk/activities/{activity_id}/attendance", X(L, W, W, "ok|" + OUT, W, "ok|" + OUT, W, W),
         lambda env, role, scope: Call(f"/desk/activities/{env.activity(scope)[0]}/attendance",
                                       data={"member_id": str(env.member_id(scope))})),
    page("GET /desk/targets", X(L, W, W, "ok", "ok", "ok", "ok", W), static("/desk/targets"), scoped=False),
]


@pytest.mark.parametrize("row", PAGE_ROWS, ids=lambda r: r.id)
def test_page(env, row):
    run_row(env, row, page=True)


def test_every_page_has_a_row():
    import web

    routes = {f"{method} {route.path}" for router in web.routers() for route in router.routes
              if isinstance(route, APIRoute) for method in route.methods}
    rows = {row.op for row in PAGE_ROWS}
    assert routes - rows == set(), "pages whose authorization the matrix does not decide"
    assert rows - routes == set(), "rows naming pages that no longer exist"
    assert len({row.id for row in PAGE_ROWS}) == len(PAGE_ROWS), "a page has two rows"
    acts = {row.variant for row in PAGE_ROWS if row.op == "POST /requests/{request_id}/act/{trigger}"}
    from web.routes.requests import ACT_FIELDS
    assert acts == set(ACT_FIELDS), "request page acts without a row"
