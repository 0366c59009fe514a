"""The world of the authorization matrix (tests/test_authorization_matrix.py): one city per test
module, with an API client and a logged-in page browser per role, and builders that bring fresh
resources to the state an operation needs, in community A / street S1 ("own") or in community C /
street S2 ("other"), through the workflow commands.
"""

from __future__ import annotations

import itertools
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, func, select

from api.app import create_app
from handlers.broker import clear_namespace
from handlers.runtime import Runtime
from workflow import tracking
from workflow.access import Actor
from workflow.commands import accounts, clients, handling, intake, members, photos, rules, street, taxonomy, zones
from workflow.commands import calendar as calendar_cmd
from workflow.db import unit_of_work
from workflow.models import (
    Account,
    Base,
    Building,
    CalendarDay,
    Category,
    Community,
    Notification,
    OutboxMessage,
    OutboxStatus,
    Photo,
    Request,
    Role,
    RoutingRule,
    Unit,
    Webhook,
)
from workflow.settings import Settings
from workflow.visits import commands as visits
from workflow.visits import repository as visits_repo
from workflow.webhooks import register as register_webhook

from .conftest import _HASH, build_world, reset_postgres
from .web.conftest import Browser

ROLES = ["anonymous", "resident", "member", "staff", "street_officer", "secretary", "admin", "volunteer"]
# Who plays each role; all of them belong to community A / street S1 (admin: the whole city).
ACCOUNT = {"resident": "resident_a", "member": "member_1", "staff": "staff_a", "street_officer": "officer_1",
           "secretary": "secretary_a", "admin": "admin", "volunteer": "volunteer_a"}
# The people of community C, who own the "other" resources (member_c and officer_2 are in the world).
EXTRA = [("resident_c", Role.resident, "C"), ("staff_c", Role.staff, "C"), ("secretary_c", Role.secretary, "C"),
         ("volunteer_a", Role.volunteer, "A")]  # a volunteer living in and registered with community A
ROUTER = Actor.system("router")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x03\x00\x08\xfc\x02\xfe\xa7\x9a\xa0\xa0\x00\x00\x00\x00IEND\xaeB`\x82")
CODE = re.compile(r'data-code="([^"]*)"')
_serial = itertools.count(1)
MEETING_FIELDS = {"topic": "长椅放在哪里", "held_on": date(2026, 12, 5), "participant_count": 9,
                  "options": ["东侧", "西侧"]}


def serial() -> int:
    """A number no other cell of this run used: for unique names."""
    return next(_serial)


@dataclass
class Call:
    """One cell's call: where, with what, and as whom when not the role's own login."""

    path: str
    json: Any = None
    params: dict | None = None
    data: dict | None = None
    files: Any = None
    token: str | None = None  # API: a token other than the role's own (a call that revokes it)
    fresh_browser: bool = False  # pages: a browser of its own (a call that ends or replaces the login)
    login_as: str | None = None  # pages: with fresh_browser, logged in as this account, not the role's own


@dataclass
class Env:
    runtime: Runtime
    app: Any
    client: TestClient
    world: Any
    browsers: dict[str, Browser] = field(default_factory=dict)
    clients: list[TestClient] = field(default_factory=list)

    # --- who -------------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def actor(self, username: str) -> Actor:
        return self.world.actors[username]

    def id(self, key: str) -> int:
        return self.world.ids[key]

    def community(self, scope: str) -> int:
        return self.id("community_A" if scope == "own" else "community_C")

    def street(self, scope: str) -> int:
        return self.id("street_S1" if scope == "own" else "street_S2")

    def member_id(self, scope: str) -> int:
        return self.actor("member_1" if scope == "own" else "member_c").member_id

    def headers(self, role: str, token: str | None = None) -> dict[str, str]:
        if token is None and role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {token or self.world.token(ACCOUNT[role])}"}

    def new_browser(self) -> Browser:
        client = TestClient(self.app, base_url="http://testserver")
        client.__enter__()
        self.clients.append(client)
        return Browser(client)

    def browser(self, role: str, fresh: bool = False, login_as: str | None = None) -> Browser:
        """The role's page browser, logged in through the login form (anonymous: logged out).
        ``fresh``: a browser of its own, for calls that end or replace the login (as ``login_as``
        where given)."""
        if fresh or role not in self.browsers:
            browser = self.new_browser()
            if role != "anonymous":
                browser.login(login_as if fresh and login_as else ACCOUNT[role])
            if fresh:
                return browser
            self.browsers[role] = browser
        return self.browsers[role]

    def csrf(self, browser: Browser) -> str:
        """The CSRF token of the browser's session (it lasts as long as the session)."""
        if not hasattr(browser, "csrf_token"):
            browser.csrf_token = browser.csrf()
        return browser.csrf_token

    def token_of(self, username: str) -> str:
        """A further token of ``username``, for a call that revokes the one it uses."""
        with unit_of_work(self.runtime.sessions) as session:
            token, _row = accounts.issue_token(session, self.settings, session.get(Account, self.id(username)))
        return token

    # --- builders ----------------------------------------------------------------------------------

    def request(self, scope: str, state: str, *, channel: str = "report", category: str = "disputes.noise",
                description: str | None = None, photo: bool = False) -> int:
        """A fresh request in community A (own) or C (other), brought to ``state`` by real
        transitions. ``report``: reported by resident_a / resident_c; ``inspection``: by staff_a /
        staff_c. Its routing message is taken away, so no worker moves it meanwhile."""
        own = scope == "own"
        staff = self.actor("staff_a" if own else "staff_c")
        # The claiming member matters while a claim is held; later states take a member of their own.
        member = self.actor("member_1" if own else "member_c")
        if state in ("verifying", "resolved", "closed"):
            member = self.new_member([self.community(scope)])[0]
        collector = {"report": "resident_a" if own else "resident_c", "inspection": "staff_a" if own else "staff_c",
                     "visit": "member_1" if own else "member_c"}[channel]
        settings = self.settings
        with unit_of_work(self.runtime.sessions) as session:
            photo_ids = []
            if photo:
                photo_ids = [photos.store(session, self.actor(collector), PNG + str(serial()).encode(),
                                          settings.media_dir, settings.max_photo_bytes).id]
            rid = intake.submit(session, self.actor(collector), intake.Submission(
                channel=channel, category=category, community_id=self.community(scope), photo_ids=photo_ids,
                description=description or f"楼上深夜装修噪音扰民，第{serial()}次反映")).id
            session.flush()
            session.execute(delete(OutboxMessage).where(OutboxMessage.actor_name == "route_request",
                                                        OutboxMessage.status == OutboxStatus.pending))

            def fire(actor, trigger, **params):
                handling.fire(session, settings, actor, rid, trigger, params)

            task = ["open_task", "claimed", "verifying", "resolved", "closed"]
            if state == "community" or state in ("rejected",):
                fire(ROUTER, "route_to_community")
            elif state == "street":
                fire(ROUTER, "escalate")
            elif state in task:
                fire(ROUTER, "publish_task")
                session.get(Request, rid).zone_offer_until = None  # open to every registered member at once
            if state in task[1:]:
                fire(member, "claim")
            if state in task[2:]:
                fire(member, "report_result", result="已清理", hours="1.5")
            if state in task[3:]:
                fire(staff, "verify", appraisal=4)
            if state == "closed":
                handling.evaluate(session, settings, self.actor(collector), rid,
                                  {"satisfaction": "satisfied", "solved": True})
            if state == "rejected":
                fire(staff, "reject", reason="不属于受理范围")
        return rid

    def photo_of(self, scope: str) -> int:
        """A photo on a published request of A (resident_a's) or C (resident_c's)."""
        rid = self.request(scope, "open_task", photo=True)
        with unit_of_work(self.runtime.sessions) as session:
            return session.scalar(select(Photo.id).where(Photo.request_id == rid))

    def department(self, scope: str) -> int:
        with unit_of_work(self.runtime.sessions) as session:
            return street.create_department(session, self.actor("admin"), f"城管执法队{serial()}",
                                            self.street(scope)).id

    def whistle_call(self, scope: str) -> tuple[int, int]:
        """(request, call): a department of the request's street called in on an escalated request."""
        rid = self.request(scope, "street")
        department = self.department(scope)
        officer = self.actor("officer_1" if scope == "own" else "officer_2")
        with unit_of_work(self.runtime.sessions) as session:
            [view] = street.whistle(session, officer, rid, [department], 24, "请到场")
            return rid, view.call.id

    def zone(self, scope: str) -> tuple[int, int]:
        """(member, zone): a new member of A (own) or C (other) given a building to look after."""
        own = scope == "own"
        member = self.unzoned_member(scope)
        with unit_of_work(self.runtime.sessions) as session:
            zone = zones.assign(session, self.actor("staff_a" if own else "staff_c"), member,
                                building_id=self.id("building_A" if own else "building_C"))
            return member, zone.id

    def unzoned_member(self, scope: str) -> int:
        """A new member registered with A (own) or C (other) and no zone yet."""
        return self.new_member([self.community(scope)])[0].member_id

    def new_member(self, communities: list[int], role: Role = Role.member) -> tuple[Actor, str]:
        """A further member (or volunteer) registered with ``communities``, with a token."""
        username = f"member_x{serial()}"
        with unit_of_work(self.runtime.sessions) as session:
            unit = session.scalar(select(Unit).where(Unit.name == "区税务局")) if role == Role.member else None
            account = accounts.create_account(session, username=username, password="", password_hash=_HASH,
                                              display_name=username, role=role, unit_id=unit.id if unit else None)
            actor = Actor.of(session, account)
            for cid in communities:
                members.register(session, actor, cid)
            token, _row = accounts.issue_token(session, self.settings, account)
        self.world.ids[username] = actor.account_id
        return actor, token

    def volunteer(self, scope: str) -> int:
        """volunteer_a (own), or a volunteer registered with community C (other), made once."""
        if scope == "own":
            return self.actor("volunteer_a").member_id
        if "volunteer_c" not in self.world.ids:
            actor, _token = self.new_member([self.community("other")], Role.volunteer)
            self.world.ids["volunteer_c"] = actor.member_id
        return self.world.ids["volunteer_c"]

    def suggestion(self, scope: str) -> int:
        """A fresh suggestion of resident_a to community A (own) or resident_c to C (other)."""
        from workflow.deliberation import commands as deliberation

        with unit_of_work(self.runtime.sessions) as session:
            return deliberation.submit(session, self.actor("resident_a" if scope == "own" else "resident_c"),
                                       self.community(scope), f"建言{serial()}", "建议在花园装长椅").id

    def meeting(self, scope: str) -> int:
        """A fresh meeting of community A (own) or C (other), its decision not yet recorded."""
        from workflow.deliberation import commands as deliberation

        with unit_of_work(self.runtime.sessions) as session:
            return deliberation.convene(session, self.actor("staff_a" if scope == "own" else "staff_c"),
                                        self.community(scope), MEETING_FIELDS).id

    def activity(self, scope: str) -> tuple[int, str]:
        """A fresh party-life activity of community A (own) or C (other), held today: its id and code."""
        from workflow.models import utcnow
        from workflow.partylife import commands as partylife
        from workflow.scoring.periods import local_date

        timezone = self.runtime.settings.timezone
        with unit_of_work(self.runtime.sessions) as session:
            activity = partylife.post(session, timezone, self.actor("staff_a" if scope == "own" else "staff_c"),
                                      self.community(scope), {"kind": "study_day", "title": f"学习日{serial()}",
                                                              "held_on": local_date(utcnow(), timezone)})
            return activity.id, activity.code

    def new_resident(self, scope: str = "own") -> tuple[str, str]:
        """A fresh resident of community A (or C): their username and a token."""
        username = f"resident_x{serial()}"
        with unit_of_work(self.runtime.sessions) as session:
            account = accounts.create_account(session, username=username, password="", password_hash=_HASH,
                                              display_name=username, role=Role.resident,
                                              community_id=self.community(scope))
            token, _row = accounts.issue_token(session, self.settings, account)
        self.world.ids[username] = account.id
        return username, token

    def volunteer_with_hours(self, scope: str) -> int:
        """A fresh volunteer registered with community A (or C) whose verified task earned them 3
        hours in the time bank: their member id."""
        actor, _token = self.new_member([self.community(scope)], Role.volunteer)
        n = serial()
        with unit_of_work(self.runtime.sessions) as session:
            admin = self.actor("admin")
            taxonomy.create_category(session, admin, {"code": f"mxv{n}", "name_zh": f"志愿{n}", "name_en": f"Vol {n}",
                                                      "volunteers": True})
            taxonomy.create_category(session, admin, {"code": f"mxv{n}.leaf", "parent": f"mxv{n}",
                                                      "name_zh": f"志愿子类{n}", "name_en": f"Vol leaf {n}"})
        rid = self.request(scope, "open_task", category=f"mxv{n}.leaf")
        staff = self.actor("staff_a" if scope == "own" else "staff_c")
        with unit_of_work(self.runtime.sessions) as session:
            handling.fire(session, self.settings, actor, rid, "claim")
            handling.fire(session, self.settings, actor, rid, "report_result", {"result": "已帮忙", "hours": 3})
            handling.fire(session, self.settings, staff, rid, "verify", {"appraisal": 5})
        self.runtime.drain()
        return actor.member_id

    def notification(self, username: str) -> int:
        with unit_of_work(self.runtime.sessions) as session:
            row = Notification(event_id=str(uuid.uuid4()), account_id=self.id(username), kind="deadline_respond",
                               request_id=None, data={})
            session.add(row)
            session.flush()
            return row.id

    def category(self) -> str:
        """A fresh subcategory nobody uses, under a fresh top level."""
        n = serial()
        with unit_of_work(self.runtime.sessions) as session:
            admin = self.actor("admin")
            taxonomy.create_category(session, admin, {"code": f"mx{n}", "name_zh": f"矩阵{n}", "name_en": f"Mx{n}"})
            taxonomy.create_category(session, admin, {"code": f"mx{n}.leaf", "parent": f"mx{n}",
                                                      "name_zh": f"矩阵子类{n}", "name_en": f"Mx leaf {n}"})
        return f"mx{n}.leaf"

    def rule(self) -> int:
        """A disabled routing rule for a fresh category: it routes nothing the matrix builds."""
        category = self.category()
        with unit_of_work(self.runtime.sessions) as session:
            return rules.create_rule(session, self.actor("admin"), {
                "name": f"矩阵规则{serial()}", "target": "street", "enabled": False, "categories": [category]}).id

    def rule_ids(self) -> list[int]:
        with unit_of_work(self.runtime.sessions) as session:
            return list(session.scalars(select(RoutingRule.id).order_by(RoutingRule.position)))

    def calendar_day(self) -> str:
        """A weekday far ahead listed as a holiday, which nothing the matrix builds reaches."""
        day = CALENDAR_FROM + timedelta(days=1, weeks=serial() % 400)
        day -= timedelta(days=day.weekday())  # a Monday
        with unit_of_work(self.runtime.sessions) as session:
            calendar_cmd.set_day(session, self.actor("admin"), day, "holiday", "矩阵假日")
        return day.isoformat()

    def open311_client(self) -> tuple[int, str]:
        with unit_of_work(self.runtime.sessions) as session:
            client, key = clients.issue(session, None, f"矩阵客户端{serial()}")
            return client.id, key

    def webhook(self) -> int:
        with unit_of_work(self.runtime.sessions) as session:
            webhook, _secret = register_webhook(session, self.actor("admin"), url="http://127.0.0.1:9/hook",
                                                secret=None, kinds=["deadline_respond"], active=False)
            return webhook.id

    def webhook_ids(self) -> list[int]:
        with unit_of_work(self.runtime.sessions) as session:
            return list(session.scalars(select(Webhook.id)))

    def unit(self, name: str) -> int:
        with unit_of_work(self.runtime.sessions) as session:
            return session.scalar(select(Unit.id).where(Unit.name == name))

    def set_registration(self, username: str, community_id: int, *, active: bool) -> None:
        """Make ``username``'s registration with ``community_id`` active or ended, whichever it is now."""
        from workflow.access import is_registered

        actor = self.actor(username)
        with unit_of_work(self.runtime.sessions) as session:
            now = is_registered(session, actor.member_id, community_id)
            if active and not now:
                members.register(session, actor, community_id)
            elif now and not active:
                members.end_registration(session, actor, community_id)

    def call_form(self, scope: str) -> Call:
        rid, call = self.whistle_call(scope)
        return Call(f"/requests/{rid}/calls/{call}/response", data={"response": "已到场处置"})

    def tracking_code(self, scope: str) -> str:
        return tracking.code_for(self.settings, self.request(scope, "community"))

    # --- planned collection (workflow.visits) ------------------------------------------------------

    def household(self, scope: str, *, paired: bool = False) -> int:
        """A fresh household of A (own) or C (other), looked after by member_1 / member_c if ``paired``."""
        own = scope == "own"
        with unit_of_work(self.runtime.sessions) as session:
            staff = self.actor("staff_a" if own else "staff_c")
            household = visits.create_household(session, staff, {
                "building_id": self.id("building_A" if own else "building_C"), "code": f"MX-{serial()}",
                "door": "1单元101", "tags": ["party_member"]}, timezone=self.settings.timezone)
            if paired:
                visits.pair_member(session, staff, household.id, self.member_id(scope),
                                   timezone=self.settings.timezone)
            return household.id

    def new_building(self, scope: str) -> int:
        """A fresh building of A (own) or C (other): each has its own 党员中心户."""
        with unit_of_work(self.runtime.sessions) as session:
            building = Building(community_id=self.community(scope), name=f"矩阵{serial()}号楼")
            session.add(building)
            session.flush()
            return building.id

    def center_household(self, scope: str) -> tuple[int, int]:
        """(building, center household): a fresh building with member_1 / member_c as its 党员中心户."""
        building = self.new_building(scope)
        with unit_of_work(self.runtime.sessions) as session:
            staff = self.actor("staff_a" if scope == "own" else "staff_c")
            return building, visits.appoint_center_household(session, staff, building, self.member_id(scope),
                                                             timezone=self.settings.timezone).id

    def leader(self, scope: str) -> tuple[int, int]:
        """(building, leader): a fresh building led by resident_a / resident_c."""
        building = self.new_building(scope)
        with unit_of_work(self.runtime.sessions) as session:
            staff = self.actor("staff_a" if scope == "own" else "staff_c")
            resident = self.id("resident_a" if scope == "own" else "resident_c")
            return building, visits.appoint_leader(session, staff, building, resident,
                                                   timezone=self.settings.timezone).id

    def pairing(self, scope: str) -> tuple[int, int]:
        """(household, pairing): a fresh household and its open pairing."""
        household = self.household(scope, paired=True)
        with unit_of_work(self.runtime.sessions) as session:
            return household, visits_repo.pairings_of_household(session, household)[0].id

    def new_staff(self, scope: str) -> int:
        """A further staff account of A (own) or C (other)."""
        username = f"staff_x{serial()}"
        with unit_of_work(self.runtime.sessions) as session:
            account = accounts.create_account(session, username=username, password="", password_hash=_HASH,
                                              display_name=username, role=Role.staff,
                                              community_id=self.community(scope))
            return account.id

    def grid(self, scope: str) -> int:
        return self.id("grid_A" if scope == "own" else "grid_C")

    def grid_worker(self, scope: str) -> int:
        """A fresh staff account working the grid of A (own) or C (other); returns the assignment."""
        account_id = self.new_staff(scope)
        with unit_of_work(self.runtime.sessions) as session:
            staff = self.actor("staff_a" if scope == "own" else "staff_c")
            return visits.assign_grid_worker(session, staff, self.grid(scope), account_id,
                                             timezone=self.settings.timezone).id

    def open_round(self, scope: str) -> int:
        """staff_a's (own) or staff_c's (other) open round of their grid, started when there is none."""
        staff = self.actor("staff_a" if scope == "own" else "staff_c")
        grid = self.grid(scope)
        with unit_of_work(self.runtime.sessions) as session:
            if not any(w.account_id == staff.account_id for w in visits_repo.grid_workers(session, grid)):
                visits.assign_grid_worker(session, staff, grid, staff.account_id, timezone=self.settings.timezone)
        with unit_of_work(self.runtime.sessions) as session:
            return visits.start_round(session, staff, grid, timezone=self.settings.timezone)[0].id

    def close(self) -> None:
        for client in self.clients:
            client.__exit__(None, None, None)


_TABLES = [t.name for t in Base.metadata.sorted_tables]
_COUNTS = select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name)
                   for t in Base.metadata.sorted_tables])


def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows in every table, in one statement (tests/helpers.py's ``table_counts`` asks table by table):
    proof that a refused call wrote nothing."""
    with unit_of_work(runtime.sessions, read_only=True) as session:
        row = session.execute(_COUNTS).one()
    return dict(zip(_TABLES, row, strict=True))


def add_people(runtime: Runtime, world) -> None:
    """resident_c, staff_c and secretary_c: the people of community C; volunteer_a, registered with A."""
    with unit_of_work(runtime.sessions) as session:
        for username, role, code in EXTRA:
            community = session.get(Community, world.ids[f"community_{code}"])
            account = accounts.create_account(session, username=username, password="", password_hash=_HASH,
                                              display_name=username, role=role, community_id=community.id)
            world.actors[username] = Actor.of(session, account)
            if role == Role.volunteer:
                members.register(session, world.actors[username], community.id)
            world.ids[username] = account.id
            world.tokens[username], _row = accounts.issue_token(session, runtime.settings, account)


def open_env(database: dict, redis_url: str | None, tmp) -> Env:
    if database["kind"] == "sqlite":
        path = tmp / "shoubanping.db"
        shutil.copyfile(database["template"], path)
        url = f"sqlite:///{path}"
    else:
        url = database["url"]
    settings = Settings(dev_mode=True, database_url=url, redis_url=redis_url,
                        redis_namespace=f"sbp-test-{uuid.uuid4().hex[:8]}", media_dir=str(tmp / "media"),
                        relay_interval_seconds=0.2, worker_threads=4)
    runtime = Runtime(settings, worker=True).start()
    world = build_world(runtime)
    add_people(runtime, world)
    with unit_of_work(runtime.sessions) as session:
        # member_1 and member_c claim a fresh task in many cells.
        members.set_claim_limit(session, world.actors["staff_a"], world.actors["member_1"].member_id, 50)
        members.set_claim_limit(session, world.actors["staff_c"], world.actors["member_c"].member_id, 50)
    app = create_app(settings, runtime)
    client = TestClient(app)
    client.__enter__()
    env = Env(runtime=runtime, app=app, client=client, world=world)
    env.clients.append(client)
    return env


def close_env(env: Env, database: dict) -> None:
    env.close()
    env.runtime.stop()
    if env.settings.redis_url:
        clear_namespace(env.settings.redis_url, env.settings.redis_namespace)
    if database["kind"] == "postgresql":
        reset_postgres(database["url"])
        forget_taxonomy_and_calendar(database["url"])


CALENDAR_FROM = date(2090, 1, 1)  # the days the matrix lists are from here on; the seeded ones are 2026's


def forget_taxonomy_and_calendar(url: str) -> None:
    """The categories (``mx...``) and calendar days the matrix made: on PostgreSQL the taxonomy and the
    calendar outlive a test (conftest.KEEP), and later tests must not find them."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(Category).where(Category.code.like("mx%"), Category.parent_id.is_not(None)))
        conn.execute(delete(Category).where(Category.code.like("mx%")))
        conn.execute(delete(CalendarDay).where(CalendarDay.day >= CALENDAR_FROM))
    engine.dispose()
