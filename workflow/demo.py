"""A demo city for newcomers: every screen has something to show.

Two parts. First ``shoubanping simulate`` at a small scale lays down two streets with six months of
history (closed requests through every route, outcomes, ledgers, score drafts to read: trends,
rankings and unit reports are full). Then the demo street 示范街道 is built beside them through the
real commands, each request's history a true one, with an account for every role and a request in
every state, and households, pairings, grid workers and six months of visits and rounds. Seeding
refuses a database that already has streets or accounts.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from . import attributes, outcomes
from .access import Actor, is_registered
from .commands import accounts, clients, members, zones
from .commands.handling import fire
from .commands.intake import Submission, submit
from .db import unit_of_work
from .models import (
    Account,
    Building,
    Category,
    Community,
    Grid,
    OutboxMessage,
    Request,
    Role,
    ScopeKind,
    Street,
    Unit,
    utcnow,
)
from .partylife import commands as partylife
from .scoring import periods, runs
from .settings import Settings
from .simulate import CityShape, simulate
from .visits import demo as visits_demo
from .volunteers import commands as volunteer_cmds

PASSWORD = "demo-pass-2026"
UNITS = ["区税务局机关党委", "市第一人民医院党委", "区教育委员会机关党委"]
COMMUNITIES = [("HP", "和平社区", ["一网格", "二网格", "三网格"]), ("XF", "幸福社区", ["东网格", "西网格"])]
# Where the demo street stands (WGS 84): its buildings sit about 120 m apart from here.
ORIGIN = (39.9120, 116.3600)
STEP = 0.0011
# Well known like the demo password: the demo's Open311 client uses it, so it can be printed each start.
OPEN311_KEY = "sbp_demo-open311-key-2026"
# The simulated part: two streets of three communities, six months, 300 requests a community a month.
HISTORY = CityShape(streets=2, communities_per_street=3, grids_per_community=3, buildings_per_grid=4,
                    members_per_community=20, residents_per_community=40, months=6, requests=10_800)
HISTORY_SEED = 2026
# The extra questions a street-light report answers (Open311 service attributes).
STREETLIGHT_ATTRIBUTES = [
    {"code": "pole_number", "datatype": "string", "required": False, "description_zh": "灯杆编号（灯杆上的铭牌）",
     "description_en": "Pole number (on the plate on the pole)"},
    {"code": "lamps_out", "datatype": "number", "required": True, "description_zh": "不亮的路灯有几盏",
     "description_en": "How many lamps are out"},
    {"code": "hazard", "datatype": "singlevaluelist", "required": True, "description_zh": "有无安全隐患",
     "description_en": "Is it a hazard",
     "values": [{"key": "none", "name_zh": "无", "name_en": "No"},
                {"key": "dark_crossing", "name_zh": "路口漆黑", "name_en": "Dark crossing"},
                {"key": "exposed_wires", "name_zh": "电线外露", "name_en": "Exposed wires"}]},
]


def accounts_text() -> str:
    lines = [
        f"Demo accounts (password for all: {PASSWORD}):",
        "  resident1 … resident6     residents (居民)",
        "  staff_hp1, staff_hp2      staff of 和平社区 (社区干部)",
        "  staff_xf1                 staff of 幸福社区",
        "  secretary_hp              secretary of 和平社区 (社区书记)",
        "  secretary_street          secretary of the street (街道党工委)",
        "  officer1                  street officer (街道干部)",
        "  member01 … member20       members from 3 home units (下沉党员)",
        "  volunteer1, volunteer2    volunteers of 和平社区 and 幸福社区 (志愿者), with a time bank",
        "  admin                     administrator (of the whole demo city)",
        "Two simulated streets beside it, S001 and S002, with six months of history (same password):",
        "  s001.secretary            secretary of street S001; s001c01.secretary … of its communities",
        "  s001.officer1, s001c01.staff1, m000001 …   its street officers, staff and members",
        f"Open311 client key (api_key) of the demo client 示范客户端: {OPEN311_KEY} "
        "(name the street: jurisdiction_id=DEMO)",
    ]
    return "\n".join(lines)


def seed_into(factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None) -> bool:
    """Seed the demo in two units of work: the facts, committed; then last month published for the
    demo street, as its secretary would, so the public boards (公示) have figures to show. The
    publication reads what is committed (on PostgreSQL its counts run on connections of their own),
    hence its own transaction. False (and nothing written) when the database already holds data."""
    now = now or utcnow()
    with unit_of_work(factory) as session:
        if not seed(session, settings, now=now):
            return False
    with unit_of_work(factory) as session:
        publish_last_month(session, settings, now=now)
    return True


def publish_last_month(session: Session, settings: Settings, *, now: datetime) -> None:
    street = session.scalar(select(Street).where(Street.code == "DEMO"))
    secretary = Actor.of(session, demo_account(session, "secretary_street"))
    last_month = periods.shift(periods.label_of(periods.local_date(now, settings.timezone), "month"), -1)
    runs.publish(session, settings, secretary, last_month, ScopeKind.street, street.id, now=now)


def seed(session: Session, settings: Settings, *, now: datetime | None = None) -> bool:
    """Seed the demo's facts (publication aside: :func:`seed_into`). Returns False (and writes
    nothing) when the database already has a street or an account."""
    now = now or utcnow()
    if simulate(session, settings, seed=HISTORY_SEED, shape=HISTORY, now=now, workers=1, password=PASSWORD) is None:
        return False
    pw = accounts.hash_password(PASSWORD)  # one hash for all demo accounts: seeding stays fast

    street = Street(code="DEMO", name="示范街道")
    session.add(street)
    session.flush()
    places: dict[str, dict] = {}
    for code, name, grids in COMMUNITIES:
        community = Community(street_id=street.id, code=code, name=name)
        session.add(community)
        session.flush()
        grid_rows = [Grid(community_id=community.id, name=g) for g in grids]
        session.add_all(grid_rows)
        session.flush()
        row = len(places)
        building_rows = [
            Building(community_id=community.id, grid_id=g.id, name=f"{i + 1 + 2 * n}号楼",
                     address=f"{name}{i + 1 + 2 * n}号楼",
                     latitude=round(ORIGIN[0] - row * 4 * STEP - i * STEP, 6),
                     longitude=round(ORIGIN[1] + n * STEP, 6))
            for n, g in enumerate(grid_rows) for i in range(2)
        ]
        session.add_all(building_rows)
        session.flush()
        places[code] = {"community": community, "grids": grid_rows, "buildings": building_rows}
    hp, xf = places["HP"]["community"], places["XF"]["community"]

    session.scalar(select(Category).where(Category.code == "facilities.streetlight")).attributes = \
        attributes.definitions(STREETLIGHT_ATTRIBUTES)
    clients.issue(session, None, "示范客户端", key=OPEN311_KEY, now=now)

    units = [Unit(name=n) for n in UNITS]
    session.add_all(units)
    session.flush()

    def person(username: str, name: str, role: Role, **kw) -> Actor:
        account = accounts.create_account(session, username=username, password="", password_hash=pw,
                                          display_name=name, role=role, **kw)
        return Actor.of(session, account)

    residents = [person(f"resident{i}", n, Role.resident, community_id=(hp if i <= 4 else xf).id,
                        phone=f"1380000000{i}")
                 for i, n in enumerate(["王阿姨", "李大爷", "张先生", "赵女士", "刘师傅", "陈同学"], start=1)]
    staff_hp = person("staff_hp1", "周网格员", Role.staff, community_id=hp.id)
    staff_hp2 = person("staff_hp2", "吴社工", Role.staff, community_id=hp.id)
    staff_xf = person("staff_xf1", "郑网格员", Role.staff, community_id=xf.id)
    person("secretary_hp", "孙书记", Role.secretary, community_id=hp.id)
    person("secretary_street", "钱书记", Role.secretary, street_id=street.id)
    person("officer1", "冯科长", Role.street_officer, street_id=street.id)
    # The administrator ("admin") is the simulated city's, with the demo password.
    surnames = "杨朱秦许何吕施张孔曹严华金魏陶姜戚谢邹喻"
    member_actors = []
    for i in range(20):
        actor = person(f"member{i + 1:02d}", f"{surnames[i]}党员", Role.member, unit_id=units[i % 3].id)
        members.register(session, actor, hp.id if i < 12 else xf.id, now=now - timedelta(days=HISTORY_DAYS + 10))
        if i % 5 == 0:  # some members live near both communities
            members.register(session, actor, xf.id if i < 12 else hp.id, now=now - timedelta(days=30))
        member_actors.append(actor)

    b_hp, b_xf = places["HP"]["buildings"], places["XF"]["buildings"]
    # 责任区: a few members look after a building or a grid of 和平社区.
    zones.assign(session, staff_hp, member_actors[3].member_id, building_id=b_hp[0].id)
    zones.assign(session, staff_hp, member_actors[4].member_id, building_id=b_hp[1].id)
    zones.assign(session, staff_hp, member_actors[5].member_id, grid_id=places["HP"]["grids"][1].id)
    # 住户, 联户, 网格员: households on every building, two members looking after each building's,
    # the grid workers, and six months of visits and rounds (workflow.visits.demo).
    all_buildings = [*b_hp, *b_xf]
    carers = {b.id: member_actors[2 * k:2 * k + 2] for k, b in enumerate(b_hp)}
    carers.update({b.id: member_actors[12 + 2 * k:14 + 2 * k] for k, b in enumerate(b_xf)})
    hp_grids, xf_grids = places["HP"]["grids"], places["XF"]["grids"]
    visits_demo.seed(session, settings.timezone, now, staff=[staff_hp, staff_xf], grids=[*hp_grids, *xf_grids],
                     grid_staff=[staff_hp, staff_hp, staff_hp2, staff_xf, staff_xf], buildings=all_buildings,
                     members_by_building=carers)
    # Hundreds of past requests: the state machine's line per transition would bury the accounts
    # printed at start (and fill a pipe nobody reads yet).
    machine_log = logging.getLogger("transitions")
    level = machine_log.level
    machine_log.setLevel(max(level, logging.WARNING))
    try:
        _history(session, settings, now, residents=residents, staff={hp.id: staff_hp, xf.id: staff_xf},
                 members={hp.id: member_actors[:12], xf.id: member_actors[12:]}, buildings=all_buildings)
    finally:
        machine_log.setLevel(level)
    t = now - timedelta(days=6)

    def report(actor: Actor, category: str, text: str, building: Building, at: datetime, channel="report",
               **kw) -> int:
        sub = Submission(channel=channel, category=category, description=text, community_id=building.community_id,
                         building_id=building.id, address=building.address, **kw)
        return submit(session, actor, sub, now=at, timezone=settings.timezone).id

    def step(actor: Actor, rid: int, trigger: str, at: datetime, **params) -> None:
        fire(session, settings, actor, rid, trigger, params, now=at)

    h = timedelta(hours=1)
    # closed: reported, handled by the community, evaluated satisfied.
    r = report(residents[0], "sanitation.uncollected_waste", "3号楼门口垃圾桶两天没人清运，味道很大。", b_hp[2], t)
    step(staff_hp, r, "route_to_community", t + h)
    step(staff_hp, r, "resolve", t + 5 * h, result="已联系环卫公司清运，并调整为每日两次。")
    step(residents[0], r, "evaluate", t + 8 * h, satisfaction="satisfied", solved=True, comment="很及时，谢谢！")
    # closed through the task board: claimed, reported, verified, evaluated basically satisfied.
    r = report(residents[1], "sanitation.corridor_clutter", "2号楼三单元楼道堆满纸箱，影响通行。", b_hp[1], t + h)
    step(staff_hp, r, "publish_task", t + 2 * h)
    step(member_actors[4], r, "claim", t + 3 * h)  # 2号楼 is member05's zone
    step(member_actors[4], r, "report_result", t + 20 * h, result="已与住户沟通，纸箱全部清理。", hours="2.5")
    step(staff_hp, r, "verify", t + 22 * h, appraisal=5)
    step(residents[1], r, "evaluate", t + 30 * h, satisfaction="basically_satisfied", solved=True)
    # closed after one reopen.
    r = report(residents[2], "disputes.noise", "楼上装修晚上十点以后还在施工。", b_hp[0], t + 2 * h)
    step(staff_hp, r, "route_to_community", t + 3 * h)
    step(staff_hp, r, "resolve", t + 6 * h, result="已上门提醒，约定施工时间。")
    step(residents[2], r, "reopen", t + 30 * h, satisfaction="unsatisfied", solved=False, comment="昨晚又施工了。")
    step(staff_hp, r, "route_to_community", t + 31 * h)
    step(staff_hp, r, "resolve", t + 40 * h, result="联合物业签订装修承诺书，夜间停工。")
    step(residents[2], r, "evaluate", t + 50 * h, satisfaction="satisfied", solved=True)
    # resolved, waiting for the resident's evaluation.
    r = report(residents[3], "property.elevator", "5号楼电梯停在二楼不动了，老人上不去。", b_hp[4], now - 10 * h)
    step(staff_hp, r, "route_to_community", now - 10 * h + timedelta(minutes=20))
    step(staff_hp, r, "resolve", now - 9 * h, result="维保单位已到场修复，更换门机板。")
    # verifying: a member reported a result, staff still to check.
    r = report(residents[0], "services.elderly_help", "独居的刘奶奶需要有人帮忙买菜。", b_hp[3], now - 30 * h)
    step(staff_hp, r, "publish_task", now - 29 * h)
    step(member_actors[5], r, "claim", now - 28 * h)  # 二网格 is member06's zone
    step(member_actors[5], r, "report_result", now - 3 * h, result="已帮忙采购一周食材，并留下联系方式。", hours="1.5")
    # 志愿者: services are open to volunteers; volunteer1 helped an elderly resident, the work was
    # verified, and 1 hour of the time bank paid for a haircut at home; volunteer2 sees 幸福社区's
    # open service task on their board.
    session.scalar(select(Category).where(Category.code == "services")).volunteers = True
    volunteer1 = person("volunteer1", "林志愿者", Role.volunteer, community_id=hp.id, phone="13800000011")
    volunteer2 = person("volunteer2", "黄志愿者", Role.volunteer, community_id=xf.id, phone="13800000012")
    members.register(session, volunteer1, hp.id, now=t - 2 * h)
    members.register(session, volunteer2, xf.id, now=t - 2 * h)
    r = report(residents[3], "services.elderly_help", "5号楼的周奶奶腿脚不便，想请人陪她去社区医院复诊。", b_hp[4],
               t + h)
    step(staff_hp, r, "publish_task", t + 2 * h)
    step(volunteer1, r, "claim", t + 3 * h)
    step(volunteer1, r, "report_result", t + 26 * h, result="已陪同周奶奶到社区医院复诊，并帮忙取药。", hours="3")
    step(staff_hp, r, "verify", t + 28 * h, appraisal=5)
    step(residents[3], r, "evaluate", t + 34 * h, satisfaction="satisfied", solved=True, comment="志愿者很细心。")
    volunteer_cmds.record_service(session, settings.timezone, staff_hp, volunteer1.member_id, "1",
                                  "上门理发（时间银行兑换）", now=t + 50 * h)
    # 组织生活: last week's theme party day in 和平社区, the members who came checked in by staff; and
    # today's study day, whose code members can type on /member/check-in.
    day = periods.local_date(now, settings.timezone)
    theme = partylife.post(session, settings.timezone, staff_hp, hp.id, {
        "kind": "theme_day", "title": "主题党日：学习社区议事规则", "held_on": day - timedelta(days=7),
        "place": "和平社区党群服务中心"}, now=now - 8 * 24 * h)
    for member in member_actors:
        if is_registered(session, member.member_id, hp.id) and member.member_id % 3:
            partylife.check_in(session, settings.timezone, staff_hp, theme.id, member.member_id, now=now - 7 * 24 * h)
    partylife.post(session, settings.timezone, staff_hp, hp.id, {"kind": "study_day", "title": "固定学习日",
                                                                 "held_on": day, "place": "和平社区会议室"}, now=now)
    # claimed: a member is on it.
    r = report(residents[4], "property.greenery", "小区东门的灌木长得太高挡住了路灯。", b_xf[0], now - 20 * h)
    step(staff_xf, r, "publish_task", now - 19 * h)
    step(member_actors[13], r, "claim", now - 18 * h)
    # open tasks on the board.
    for res, cat, text, b, ago in [
        (residents[1], "sanitation.waste_sorting", "垃圾分类点经常混投，希望有人值守指导。", b_hp[5], 5),
        (residents[5], "cityscape.flyposting", "单元门上贴满小广告。", b_xf[2], 4),
        (residents[4], "services.convenience", "希望组织一次义务理发活动。", b_xf[1], 2),
    ]:
        r = report(res, cat, text, b, now - ago * h)
        step(staff_hp if b.community_id == hp.id else staff_xf, r, "publish_task", now - ago * h + h / 2)
    # community: being handled by staff (one found on an inspection round, one on a member's visit).
    r = report(staff_hp, "safety.fire_lane", "巡查发现6号楼消防通道被电动车堵塞。", b_hp[5], now - 2 * h,
               channel="inspection")
    step(staff_hp, r, "route_to_community", now - 2 * h + timedelta(minutes=5))
    r = report(member_actors[2], "housing.roof_leak", "入户走访：7号楼顶层住户反映雨天屋顶漏水。", b_hp[0], now - 5 * h,
               channel="visit", contact_name="马奶奶", contact_phone="13900000001")
    step(staff_hp, r, "route_to_community", now - 4 * h)
    # street: escalated to the street office.
    r = report(residents[2], "facilities.streetlight", "社区北门外三盏路灯不亮，晚上很黑。", b_hp[1], now - 26 * h,
               attributes={"lamps_out": ["3"], "hazard": ["dark_crossing"]})
    step(staff_hp, r, "escalate", now - 25 * h)
    # rejected and merged.
    r = report(residents[5], "disputes.family", "想咨询个人所得税专项扣除怎么填。", b_xf[3], now - 50 * h)
    step(staff_xf, r, "reject", now - 49 * h, reason="属个人税务咨询，请拨打12366纳税服务热线。")
    primary = report(residents[4], "cityscape.piled_materials", "西门外堆了很多建筑垃圾。", b_xf[2], now - 8 * h)
    step(staff_xf, primary, "route_to_community", now - 7 * h)
    dup = report(residents[5], "cityscape.piled_materials", "西门口的建筑垃圾没人管。", b_xf[2], now - 6 * h)
    step(staff_xf, dup, "merge", now - 5 * h, duplicate_of=primary)
    # submitted: just arrived, the router picks it up when the worker runs.
    report(residents[3], "disputes.pets", "楼下邻居的狗每天早上五点叫。", b_hp[2], now - timedelta(minutes=1))
    session.flush()
    return True


# Six months of the demo street's own history, so its secretaries' charts have points in every
# month: each community gets a few requests a week, handled by staff or as member tasks, evaluated.
HISTORY_DAYS = 183
HISTORY_PER_WEEK = 4
HISTORY_CASES = [
    ("sanitation.uncollected_waste", "垃圾桶满了没人清运。", "已联系环卫公司清运。"),
    ("sanitation.corridor_clutter", "楼道里堆放杂物，影响通行。", "已与住户沟通，杂物已清理。"),
    ("disputes.noise", "晚上楼上装修噪音很大。", "已上门提醒，约定施工时间。"),
    ("property.greenery", "绿化带的灌木长得太高挡路。", "已联系物业修剪。"),
    ("services.elderly_help", "独居老人需要有人帮忙买菜。", "已帮忙采购食材，并约定每周探望。"),
    ("cityscape.flyposting", "单元门上贴满小广告。", "已清理小广告。"),
]


def _history(session: Session, settings: Settings, now: datetime, *, residents: list[Actor],
             staff: dict[int, Actor], members: dict[int, list[Actor]], buildings: list[Building]) -> None:
    """Requests of the demo street over the last six months, each through the real commands at the
    time it happened: most handled by staff, some as member tasks; evaluated satisfied, basically
    satisfied, or unsatisfied once and then closed."""
    rng = random.Random(HISTORY_SEED)
    start = now - timedelta(days=HISTORY_DAYS)
    session.flush()
    outbox_before = session.scalar(select(func.max(OutboxMessage.id))) or 0
    closed: list[int] = []
    by_community: dict[int, list[Building]] = {}
    for building in buildings:
        by_community.setdefault(building.community_id, []).append(building)
    h = timedelta(hours=1)
    for week in range(HISTORY_DAYS // 7 - 1):
        for community_id, places in by_community.items():
            people = [r for r in residents if r.community_id == community_id]
            for _n in range(HISTORY_PER_WEEK):
                at = start + timedelta(days=7 * week + rng.randint(0, 6), hours=rng.randint(1, 10))
                category, text, result = rng.choice(HISTORY_CASES)
                building = rng.choice(places)
                resident = rng.choice(people)
                rid = submit(session, resident, Submission(
                    channel="report", category=category, description=text, community_id=community_id,
                    building_id=building.id, address=building.address), now=at, timezone=settings.timezone).id
                desk = staff[community_id]
                if rng.random() < 0.4:
                    member = rng.choice(members[community_id])
                    fire(session, settings, desk, rid, "publish_task", {}, now=at + h)
                    fire(session, settings, member, rid, "claim", {}, now=at + 3 * h)
                    fire(session, settings, member, rid, "report_result",
                         {"result": result, "hours": str(rng.choice([1, 1.5, 2, 3]))}, now=at + 20 * h)
                    fire(session, settings, desk, rid, "verify", {"appraisal": rng.choice([3, 4, 4, 5, 5])},
                         now=at + 22 * h)
                else:
                    fire(session, settings, desk, rid, "route_to_community", {}, now=at + h)
                    fire(session, settings, desk, rid, "resolve", {"result": result}, now=at + 8 * h)
                verdict = rng.random()
                if verdict < 0.08:
                    fire(session, settings, resident, rid, "reopen", {"satisfaction": "unsatisfied", "solved": False},
                         now=at + 30 * h)
                    fire(session, settings, desk, rid, "route_to_community", {}, now=at + 31 * h)
                    fire(session, settings, desk, rid, "resolve", {"result": result}, now=at + 40 * h)
                satisfaction = "basically_satisfied" if verdict > 0.8 else "satisfied"
                fire(session, settings, resident, rid, "evaluate", {"satisfaction": satisfaction, "solved": True},
                     now=at + 50 * h)
                closed.append(rid)
    # What the history's commands queued (routing, notifications, webhooks) is long past: nobody is
    # told today of a task offered in June. The outcome rows its closings queued are written here.
    session.flush()
    session.execute(delete(OutboxMessage).where(OutboxMessage.id > outbox_before))
    for rid in closed:
        outcomes.record_outcome(session, settings, rid)


def demo_request_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Request)) or 0


def demo_account(session: Session, username: str) -> Account | None:
    return session.scalar(select(Account).where(Account.username == username))
