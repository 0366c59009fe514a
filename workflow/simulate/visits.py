"""Planned collection in the simulated city (:mod:`workflow.visits`): households on every building,
each paired with a member of its community, a grid worker for every grid, and the home visits and
weekly inspection rounds of the simulated months, with the rows :mod:`workflow.visits.commands`
writes for them.

- Households: about ``shape.households_per_building`` a building (a quarter more or less), two
  doors a floor, six floors a unit (eighteen when buildings hold more than 36 doors); about one in
  five carries built-in tags (``plan.BUILTIN_TAGS``); one in fifty joined the register during the
  months. Each is paired with one member registered with its community, neighbouring doors with the
  same member, from a few days before the months (or from the day it joined).
- Grid workers: a staff account of the community for each grid, from before the months.
- Visits: against the visit plan in force at ``now`` (the policy's ``visits`` section). For each
  rule that applies to a household, each of its windows in the months is met (``times`` visits on
  days drawn in it, none after ``now``) with the diligence of who the rule asks for: the paired
  member's own, 55 % to 100 %, or 85 % for staff (the grid's worker mostly); a rule any member may
  meet is met by another member one time in four, one anyone may meet by staff one time in four
  and by another member one in seven; a window the household's visits already meet is left alone.
  One household in thirty was forgotten some weeks before ``now`` and one in a hundred never
  visited. Methods and outcomes are drawn (about 7 % note a need, 2 % a problem). Every
  visit by a member earns the visit bonus (``ledger.credit_visit``: once a member, household and
  month, dated the first such visit).
- Rounds: each grid's worker goes round once a week, nine weeks in ten, on a working day, ticking
  every building of the grid and two common areas; a round still going at ``now`` is left open.

Unlike the commands: a visit that found a problem has no request (``request_id`` NULL), because the
simulated requests are drawn apart from the visits; the rounds found nothing (no
``finding_ids``); and the audit log has no entries for the households, pairings and grid workers
(the simulator writes none for the city either). Each community draws from its own random
stream, so the rows depend only on the seed, the shape and ``now``.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..models import PointEntry
from ..outcomes import period_19, period_month
from ..scoring.policy import PolicyRules
from ..visits.plan import BUILTIN_TAGS, VisitPlan, next_window, window
from .bulk import BulkWriter, Pipeline, RawJson
from .city import City, CommunityInfo
from .lives import draw
from .shape import SURNAMES, CityShape

HOUSEHOLD_COLUMNS = ("id", "community_id", "building_id", "code", "door", "tags", "contact_name", "contact_phone",
                     "active", "created_on", "created_at", "updated_at")
PAIRING_COLUMNS = ("id", "household_id", "member_id", "starts_on", "ends_on", "created_by", "created_at")
WORKER_COLUMNS = ("id", "grid_id", "account_id", "starts_on", "ends_on", "created_by", "created_at")
VISIT_COLUMNS = ("id", "household_id", "community_id", "street_id", "visitor_id", "member_id", "visitor_role",
                 "paired", "local_date", "at", "method", "outcome", "note", "request_id", "created_at")
ROUND_COLUMNS = ("id", "grid_id", "community_id", "street_id", "account_id", "local_date", "started_at", "ended_at",
                 "building_ids", "areas", "finding_ids", "note")
POINT_COLUMNS = ("id", "member_id", "request_id", "reason", "points", "policy_version", "source_key", "street_id",
                 "community_id", "local_date", "period_month", "period_19", "created_at")
# In the order their rows may be written (foreign keys first); point_entries is the requests' table too.
TABLES = (("households", HOUSEHOLD_COLUMNS), ("household_pairings", PAIRING_COLUMNS),
          ("grid_workers", WORKER_COLUMNS), ("visits", VISIT_COLUMNS), ("inspection_rounds", ROUND_COLUMNS),
          ("point_entries", POINT_COLUMNS))
NEW_TABLES = tuple(table for table, _columns in TABLES if table != "point_entries")

TAG_SHARES = {"party_member": 0.08, "key": 0.03, "needy": 0.04, "special": 0.02, "empty_nest": 0.07}
PER_ORDER = {"week": 0, "half_month": 1, "month": 2, "quarter": 3}
METHODS = (("at_home", 0.7), ("phone", 0.2), ("met_outside", 0.1))
NEEDS = ["老人腿脚不便，需要帮忙代买药品。", "家里老人想了解居家养老服务。", "希望社区帮忙申请困难补助。"]
PROBLEMS = ["楼道灯不亮了，晚上上下楼很黑。", "家里水管老化，经常渗水。", "门口堆放杂物，影响通行。"]
AREAS = RawJson(json.dumps(["小区广场", "地下车库"], ensure_ascii=False))
EMPTY_LIST = RawJson("[]")
STAFF_DILIGENCE = 0.85
assert set(TAG_SHARES) == set(BUILTIN_TAGS)


def _counts(by: str, role: str, paired: bool) -> bool:
    """Whether a visit counts for a rule asking for ``by`` (as ``workflow.visits.coverage`` counts it)."""
    if by == "paired_member":
        return paired
    return role == "member" if by == "any_member" else role == "staff" if by == "staff" else True


class Visits:
    """The planned collection of the whole city, community by community."""

    def __init__(self, out: BulkWriter, city: City, shape: CityShape, seed: int, start: datetime, now: datetime,
                 timezone: str, policies: dict[str, tuple[int, PolicyRules]]):
        self.out, self.city, self.shape, self.seed, self.now = out, city, shape, seed, now
        self.tz = ZoneInfo(timezone)
        self.first, self.today = start.astimezone(self.tz).date(), now.astimezone(self.tz).date()
        self.start = start
        self.policies = policies
        self.plan: VisitPlan = policies[period_month(self.today)][1].visits
        self.rules = sorted(self.plan.rules, key=lambda r: PER_ORDER[r.per])
        # Every window of each kind that overlaps the months.
        self.windows: dict[str, list[tuple[date, date]]] = {}
        for per in {r.per for r in self.rules} | {"week"}:
            found, cursor = [], window(self.first, per)
            while cursor[0] <= self.today:
                found.append(cursor)
                cursor = next_window(cursor[1], per)
            self.windows[per] = found
        self.ids = {table: out.next_id(table) for table in NEW_TABLES}
        # The requests have used point entry ids already: the next one is read, not remembered.
        self.ids["point_entries"] = (out.session.scalar(select(func.coalesce(func.max(PointEntry.id), 0))) or 0) + 1
        self.rows: dict[str, list[tuple]] = {table: [] for table, _columns in TABLES}
        self._tags: dict[tuple[str, ...], RawJson] = {}
        self._dates: dict[date, tuple[str, str]] = {}
        self._instants: dict[tuple[date, int, int], datetime] = {}
        self._points = {month: (version, rules.point_value("household_visit"))
                        for month, (version, rules) in policies.items()}

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table] - 1

    def _local(self, day: date, hour: int, minute: int) -> datetime:
        key = (day, hour, minute)
        found = self._instants.get(key)
        if found is None:
            found = self._instants[key] = datetime.combine(day, time(hour, minute), self.tz).astimezone(UTC)
        return found

    def take_rows(self) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
        batch = [(table, columns, self.rows[table]) for table, columns in TABLES]
        self.rows = {table: [] for table, _columns in TABLES}
        return batch

    def run(self, batch: int):
        """Yield the rows, about ``batch`` households at a time."""
        for info in self.city.communities:
            self.community(info)
            if len(self.rows["households"]) >= batch:
                yield self.take_rows()
        yield self.take_rows()

    # --- one community -------------------------------------------------------------------------

    def community(self, c: CommunityInfo) -> None:
        rng = random.Random(f"{self.seed}/visits/{c.id}")
        rows, member_account = self.rows, self.city.member_account
        desk = c.staff[0]
        before = self.start - timedelta(days=rng.uniform(1, 9))  # after every registration (city.build)
        before_day = before.astimezone(self.tz).date()
        grids = sorted({g for _b, g, _a in c.buildings})
        worker = {g: c.staff[k % len(c.staff)] for k, g in enumerate(grids)}
        for g in grids:
            rows["grid_workers"].append((self._id("grid_workers"), g, worker[g], before_day, None, desk, before))
        diligence = {m: rng.triangular(0.55, 1.0, 0.92) for m in c.members}

        doors = [(b, g, max(1, round(self.shape.households_per_building * rng.uniform(0.75, 1.25))))
                 for b, g, _a in c.buildings]
        total = sum(n for _b, _g, n in doors)
        per_unit = 12 if self.shape.households_per_building <= 36 else 36
        index = 0
        for b, g, n in doors:
            for i in range(n):
                unit, within = divmod(i, per_unit)
                floor, room = within // 2 + 1, within % 2 + 1
                carer = c.members[index * len(c.members) // total]  # neighbouring doors, the same member
                index += 1
                self.household(rng, c, b, worker[g], f"B{b}-{unit + 1}{floor:02d}{room:02d}",
                               f"{unit + 1}单元{floor}{room:02d}", carer, member_account[carer], diligence,
                               before, before_day)
        for g in grids:
            self.rounds(rng, c, g, worker[g], sorted(b for b, bg, _a in c.buildings if bg == g))

    def household(self, rng: random.Random, c: CommunityInfo, building: int, worker: int, code: str, door: str,
                  carer: int, carer_account: int, diligence: dict[int, float], before: datetime,
                  before_day: date) -> None:
        random_ = rng.random
        rows, first, today = self.rows, self.first, self.today
        household = self._id("households")
        tags = tuple(t for t, share in TAG_SHARES.items() if random_() < share)
        if random_() < 0.02:  # joined the register during the months
            created_on = first + timedelta(days=rng.randrange(max(1, (today - first).days)))
            created = self._local(created_on, 8, rng.randrange(60))
            paired_from, paired_at = created_on, created + timedelta(minutes=5)
        else:
            created_on = first - timedelta(days=rng.randint(10, 900))
            created = self._local(created_on, 8, rng.randrange(60))
            paired_from, paired_at = before_day, before
        name = f"{SURNAMES[household % len(SURNAMES)]}{'阿姨' if household % 2 else '师傅'}" if random_() < 0.7 else ""
        phone = f"139{(household * 7919) % 10**8:08d}" if name else ""
        rows["households"].append((household, c.id, building, code, door, self._tags_json(tags), name, phone, True,
                                   created_on, created, created))
        rows["household_pairings"].append((self._id("household_pairings"), household, carer, paired_from, None,
                                           c.staff[0], paired_at))

        u = random_()
        stop = today if u >= 0.043 else first - timedelta(days=1) if u < 0.01 else \
            today - timedelta(days=rng.randint(20, 60))  # forgotten lately, or never visited
        others = c.members if len(c.members) > 1 else None
        made: dict[tuple[int, date], tuple] = {}  # (visitor account, day) -> (day, role, paired, member)
        for rule in self.rules:
            by, times = rule.by, rule.times
            if rule.tag != "*" and rule.tag not in tags:
                continue
            kept = STAFF_DILIGENCE if by == "staff" else diligence[carer]
            for a, b in self.windows[rule.per]:
                lo = max(a, created_on, first)
                if lo > b or lo > stop:
                    continue
                done = sum(1 for day, role, paired, _m in made.values()
                           if a <= day <= b and _counts(by, role, paired)) if made else 0
                if done >= times or random_() >= kept:
                    continue
                for _k in range(times - done):
                    day = lo + timedelta(days=int(random_() * ((b - lo).days + 1)))
                    if day > stop:
                        continue
                    role, member, account = "member", carer, carer_account
                    u = random_()
                    if by == "staff" or (by == "anyone" and u < 0.25):
                        role, member, account = "staff", None, worker if random_() < 0.7 else rng.choice(c.staff)
                    elif others and ((by == "any_member" and u < 0.25) or (by == "anyone" and u < 0.4)):
                        member = rng.choice(others)
                        account = self.city.member_account[member]
                    made.setdefault((account, day), (day, role, member == carer, member))
        visits = []
        for (account, day), (_d, role, paired, member) in made.items():
            at = self._local(day, 9 + int(random_() * 11), int(random_() * 60))
            if at <= self.now:
                visits.append((at, day, account, role, paired, member))
        visits.sort()
        credited = set()
        for at, day, account, role, paired, member in visits:
            u = random_()
            outcome, note = ("problem", rng.choice(PROBLEMS)) if u < 0.02 else \
                ("need", rng.choice(NEEDS)) if u < 0.09 else ("all_well", "")
            rows["visits"].append((self._id("visits"), household, c.id, c.street_id, account, member, role,
                                   paired, day, at, draw(rng, METHODS), outcome, note, None, at))
            if member is not None:
                self.credit(c, household, member, day, at, credited)

    def credit(self, c: CommunityInfo, household: int, member: int, day: date, at: datetime, credited: set) -> None:
        """The visit bonus, once a member, household and month, as ``ledger.credit_visit`` writes it."""
        month, nineteen = self._dates.get(day) or self._dates.setdefault(day, (period_month(day), period_19(day)))
        if (member, month) in credited:
            return
        credited.add((member, month))
        version, points = self._points[month]
        if points:
            self.rows["point_entries"].append((
                self._id("point_entries"), member, None, "household_visit", points, version,
                f"visit-household:{member}:{household}:{month}", c.street_id, c.id, day, month, nineteen, at))

    def rounds(self, rng: random.Random, c: CommunityInfo, grid: int, worker: int, buildings: list[int]) -> None:
        ticked = RawJson(json.dumps(buildings))
        for a, _b in self.windows["week"]:
            if rng.random() >= 0.9:
                continue
            day = a + timedelta(days=rng.randrange(5))
            started = self._local(day, 14 + rng.randrange(2), rng.randrange(60))
            if day < self.first or started > self.now:
                continue
            ended = started + timedelta(minutes=rng.randint(40, 100))
            self.rows["inspection_rounds"].append((
                self._id("inspection_rounds"), grid, c.id, c.street_id, worker, day, started,
                ended if ended <= self.now else None, ticked, AREAS, EMPTY_LIST, ""))

    def _tags_json(self, tags: tuple[str, ...]) -> RawJson:
        found = self._tags.get(tags)
        if found is None:
            found = self._tags[tags] = RawJson(json.dumps(list(tags)))
        return found


def write(out: BulkWriter, city: City, shape: CityShape, seed: int, start: datetime, now: datetime, timezone: str,
          policies: dict[str, tuple[int, PolicyRules]], batch: int) -> None:
    """Write the planned collection of the city (after its requests: the visit bonus takes the
    point entry ids after theirs)."""
    rows = Visits(out, city, shape, seed, start, now, timezone, policies)
    pipeline = Pipeline(out) if out.postgresql else None
    try:
        for tables in rows.run(batch):
            if pipeline is not None:
                pipeline.put(tables)
            else:
                for table, columns, table_rows in tables:
                    out.write(table, columns, table_rows)
    finally:
        if pipeline is not None:
            pipeline.close()
