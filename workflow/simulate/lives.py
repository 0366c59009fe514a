"""Each request's life, from intake to its state at ``now``, as the real commands would write it.

A request is simulated whole when it arrives: the router routes it by its category's default
route (the street office after a second reopen); community staff resolve, reject, merge, publish or
escalate it; members claim, release, report, get sent back and verified; the street office
whistles departments in, marks supervision, returns or resolves; the resident (or, with no
resident, the secretary) evaluates, reopens, or lets the window pass. The deadline sweeper acts
where the scheduler would: it escalates a request whose respond or resolve deadline passes while it
waits in ``submitted``, ``community`` or ``open_task``, withdraws a task nobody claims by
``claim_by``, deducts overdue points from a member holding a task past ``resolve_by``, and closes a
request whose evaluation window passes. Whatever would happen after ``now`` does not happen.

Every move is checked against the lifecycle table and leaves the event row, the rows and the
column values that :mod:`workflow.commands.handling` writes for it (claims, evaluations, hours and
points with their ``source_key``, deadline columns, links, whistle calls, deadline actions), and a
closed request gets the outcome row :func:`workflow.outcomes.record_outcome` would write. Not
written: notifications, reminders, outbox messages and photos (none of them is a fact the rates,
rankings or histories read).
"""

from __future__ import annotations

import itertools
import json
import math
import random
from bisect import bisect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from zoneinfo import ZoneInfo

from .. import deadlines
from ..lifecycle import TRANSITIONS
from ..models import DeadlineClass, Request, Urgency
from ..outcomes import period_19, period_month
from ..scoring.policy import PolicyRules
from ..settings import Settings
from .bulk import RawJson
from .city import CommunityInfo
from .plan import EPOCH, Partition
from .shape import (
    DEPARTMENT_ANSWERS,
    REJECT_REASONS,
    RETURN_REASONS,
    SATISFIED_COMMENTS,
    SEND_BACK_REASONS,
    SUPERVISE_REASONS,
    UNSATISFIED_COMMENTS,
    WORDS,
)

INF = datetime.max.replace(tzinfo=UTC)
MOVES = {(t.trigger, s.value): t.dest.value for t in TRANSITIONS for s in t.sources}
HUMAN = frozenset({"staff", "street_officer", "member", "secretary"})
ESCALATABLE = frozenset({"submitted", "community", "open_task"})
ROUTE_TRIGGER = {"community": "route_to_community", "open_task": "publish_task", "street": "escalate"}
COLLECTOR_ROLE = {"report": "resident", "inspection": "staff", "visit": "member", "open311": "client"}
CHANNELS = (("report", 0.70), ("inspection", 0.14), ("visit", 0.10), ("open311", 0.06))
# How common each kind of problem is, relative to 1 (the others).
CATEGORY_WEIGHTS = {
    "disputes.noise": 4, "sanitation.uncollected_waste": 3, "property.parking": 3, "property.heating": 2.5,
    "sanitation.corridor_clutter": 2.5, "property.elevator": 2, "disputes.water_leak": 2,
    "cityscape.exposed_garbage": 2, "facilities.streetlight": 2, "property.service": 2, "services.elderly_help": 1.5,
    "cityscape.piled_materials": 1.5, "safety.ebike_charging": 1.5, "facilities.road_damage": 1.5, "disputes.pets": 1.5,
}
# Medians, in seconds: how soon someone first acts (by urgency), and how long resolving takes (by
# deadline class), before the log-normal spread.
REACTION = {Urgency.emergency: 900, Urgency.urgent: 1800, Urgency.normal: 3 * 3600, Urgency.complex: 4 * 3600}
RESOLVING = {DeadlineClass.h2: 3600, DeadlineClass.h24: 10 * 3600, DeadlineClass.d7: 3 * 86400,
             DeadlineClass.d15: 6 * 86400}
APPRAISALS = ((5, .45), (4, .35), (3, .15), (2, .04), (1, .01))
HOUR = 3600.0

REQUEST_COLUMNS = tuple(c.name for c in Request.__table__.columns)
EVENT_COLUMNS = ("id", "request_id", "trigger", "from_status", "to_status", "actor_id", "actor_role", "note", "data",
                 "created_at")
CLAIM_COLUMNS = ("id", "request_id", "member_id", "round", "status", "claimed_at", "result", "hours", "reported_at",
                 "send_back_count", "appraisal", "ended_at")
EVALUATION_COLUMNS = ("id", "request_id", "round", "evaluator_id", "evaluator_role", "satisfaction", "solved",
                      "comment", "decisive", "created_at")
LINK_COLUMNS = ("id", "request_id", "account_id", "from_request_id", "created_at")
CALL_COLUMNS = ("id", "request_id", "department_id", "called_by_id", "note", "called_at", "report_by",
                "responded_at", "response", "recorded_by_id", "closed_at")
ACTION_COLUMNS = ("id", "request_id", "action", "due_at", "created_at")
HOURS_COLUMNS = ("id", "member_id", "request_id", "claim_id", "round", "street_id", "community_id", "hours",
                 "appraisal", "local_date", "period_month", "period_19", "created_at")
POINT_COLUMNS = ("id", "member_id", "request_id", "reason", "points", "policy_version", "source_key", "street_id",
                 "community_id", "local_date", "period_month", "period_19", "created_at")
OUTCOME_COLUMNS = ("id", "request_id", "period_month", "period_19", "street_id", "community_id", "grid_id",
                   "building_id", "category_id", "channel", "route", "handler_id", "member_id", "responded_in_time",
                   "resolved_in_time", "evaluated", "solved", "satisfaction", "verdicts", "verdicts_solved",
                   "verdicts_satisfied", "verdicts_basically", "appraisal", "hours", "reopen_count",
                   "closed_by", "closed_at", "recorded_at")
# Tables in the order their rows may be written (foreign keys first).
TABLES = (("requests", REQUEST_COLUMNS), ("claims", CLAIM_COLUMNS), ("evaluations", EVALUATION_COLUMNS),
          ("request_events", EVENT_COLUMNS), ("request_links", LINK_COLUMNS), ("whistle_calls", CALL_COLUMNS),
          ("deadline_actions", ACTION_COLUMNS), ("hours_entries", HOURS_COLUMNS), ("point_entries", POINT_COLUMNS),
          ("outcomes", OUTCOME_COLUMNS))
# The still-open requests made on purpose at the end, one per state that is not terminal.
TAIL = ("submitted", "community", "street", "open_task", "claimed", "verifying", "resolved")


class Cut(Exception):
    """The next act would come after ``now``: the request's history stops where it is."""


@dataclass(frozen=True)
class Cat:
    id: int
    code: str
    top: str
    urgency: Urgency
    deadline_class: DeadlineClass
    route: str
    weight: float


class Claim:
    __slots__ = CLAIM_COLUMNS

    def __init__(self, id: int, request_id: int, member_id: int, round: int, claimed_at: datetime):
        self.id, self.request_id, self.member_id, self.round = id, request_id, member_id, round
        self.status, self.claimed_at, self.result, self.hours = "active", claimed_at, "", None
        self.reported_at = self.appraisal = self.ended_at = None
        self.send_back_count = 0


class Call:
    __slots__ = CALL_COLUMNS

    def __init__(self, id: int, request_id: int, department_id: int, called_by_id: int, called_at: datetime,
                 report_by: datetime):
        self.id, self.request_id, self.department_id, self.called_by_id = id, request_id, department_id, called_by_id
        self.note, self.called_at, self.report_by, self.response = "", called_at, report_by, ""
        self.responded_at = self.recorded_by_id = self.closed_at = None


class Req:
    """A request row being simulated, with what its life needs to remember. Every column starts as
    None (class attributes), so a new request sets only what it has."""

    cat: Cat
    place: CommunityInfo
    words: tuple[str, str]

    @property
    def round(self) -> int:
        return self.reopen_count + 1


for _name in REQUEST_COLUMNS + ("handler", "verdict", "tally", "closed_by", "live"):
    setattr(Req, _name, None)


class WorkDays:
    """:class:`deadlines.WorkCalendar` with its working-day arithmetic remembered by date: the same
    answers, without walking the calendar day by day for every request."""

    def __init__(self, calendar: deadlines.WorkCalendar, start: datetime, end: datetime):
        self.calendar = calendar
        self.tz = calendar.tz
        self._days: dict[tuple[date, int], date] = {}
        # A zone whose offset does not change around the simulated months (no summer time there):
        # the same wall time some days later is the same number of whole days later.
        offsets = {(start + timedelta(days=d)).astimezone(self.tz).utcoffset()
                   for d in range(-40, (end - start).days + 60)}
        self.offset = offsets.pop() if len(offsets) == 1 else None

    def _day(self, local_day: date, days: int, start: datetime) -> date:
        key = (local_day, days)
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = self.calendar.add_working_days(start, days).astimezone(self.tz).date()
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        if self.offset is not None and start.tzinfo is UTC:
            local_day = (start + self.offset).date()
            return start + timedelta(days=(self._day(local_day, days, start) - local_day).days)
        local = start.astimezone(self.tz)
        day = self._day(local.date(), days, start)
        wall = datetime.combine(day, local.time().replace(tzinfo=None))
        return wall.replace(tzinfo=self.tz).astimezone(start.tzinfo)

    def add(self, start: datetime, window: timedelta | int) -> datetime:
        return start + window if isinstance(window, timedelta) else self.add_working_days(start, window)


_request_row = attrgetter(*REQUEST_COLUMNS)


def _json(value) -> RawJson:
    return RawJson(json.dumps(value))


EMPTY = _json({})
ROUTE_DATA = {route: _json({"route": route}) for route in ("community", "open_task", "street")}


def _claim_data(claim_id: int, member_id: int) -> RawJson:
    return RawJson(f'{{"claim_id": {claim_id}, "member_id": {member_id}}}')
_claim_row = attrgetter(*CLAIM_COLUMNS)
_call_row = attrgetter(*CALL_COLUMNS)


class Recent:
    """A request a later duplicate may be merged into, while it is open."""

    __slots__ = ("id", "submitted_at", "ends", "category_id", "reporter_id", "linked")

    def __init__(self, id: int, submitted_at: datetime, ends: datetime, category_id: int, reporter_id: int | None):
        self.id, self.submitted_at, self.ends = id, submitted_at, ends
        self.category_id, self.reporter_id = category_id, reporter_id
        self.linked: set[int] = set()


@dataclass(frozen=True)
class Rules:
    """What every partition's lives need besides their part of the city (sent to worker processes)."""

    seed: int
    categories: list[Cat]
    timezone: str
    claim_window_hours: int
    zone_offer_minutes: int
    default_claim_limit: int
    evaluation_window_days: int
    calendar: deadlines.WorkCalendar
    policies: dict[str, tuple[int, PolicyRules]]
    first_ids: dict[str, int]
    now: datetime

    @classmethod
    def of(cls, settings: Settings, **kw) -> Rules:
        return cls(timezone=settings.timezone, claim_window_hours=settings.claim_window_hours,
                   zone_offer_minutes=settings.zone_offer_minutes, default_claim_limit=settings.default_claim_limit,
                   evaluation_window_days=settings.evaluation_window_days, **kw)


class Lives:
    """The lives of one partition's requests, from its own random stream."""

    def __init__(self, rules: Rules, part: Partition):
        rng = random.Random(f"{rules.seed}/{part.index}")
        city, now = part.city, rules.now
        self.part = part
        self.rng, self.city, self.settings, self.now = rng, city, rules, now
        self.calendar = WorkDays(rules.calendar, now - timedelta(days=400), now)
        self.random = rng.random
        self.policies = rules.policies
        self.tz = ZoneInfo(rules.timezone)
        # Strided ids: partition i of n uses first + i, first + i + n, ...
        self.ids = {table: itertools.count(first + part.index, part.count) for table, first in rules.first_ids.items()}
        self.rows: dict[str, list[tuple]] = {table: [] for table, _columns in TABLES}
        self.statuses: dict[str, int] = defaultdict(int)
        self.claim_window = timedelta(hours=rules.claim_window_hours)
        self.zone_offer = timedelta(minutes=rules.zone_offer_minutes)
        self.claim_limit = rules.default_claim_limit
        self.categories = rules.categories
        self.cat_cum = _cumulative(c.weight for c in self.categories)
        self.channel_cum = _cumulative(w for _c, w in CHANNELS)
        self.holding: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)  # member -> claim intervals
        self.recent: dict[int, list[Recent]] = defaultdict(list)  # community -> recent requests
        self.prune_before = datetime.min.replace(tzinfo=UTC)
        self._dates: dict[int, dict] = {}
        self.pending = 0
        self._submits: dict[tuple[str, str, int], RawJson] = {}
        self._router_data: dict[tuple[str, str], RawJson] = {}
        self._events = self.rows["request_events"]
        self._event_ids = self.ids["request_events"]

    # --- ids and rows ------------------------------------------------------------------------

    def _id(self, table: str) -> int:
        return next(self.ids[table])

    def _submit_data(self, channel: str, category: str, community_id: int) -> RawJson:
        key = (channel, category, community_id)
        data = self._submits.get(key)
        if data is None:
            data = self._submits[key] = _json({"channel": channel, "category": category,
                                               "community_id": community_id, "photo_ids": []})
        return data

    def _choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def take_rows(self) -> list[tuple[str, tuple[str, ...], list[tuple]]]:
        batch = [(table, columns, self.rows[table]) for table, columns in TABLES]
        self.rows = {table: [] for table, _columns in TABLES}
        self._events = self.rows["request_events"]
        self.pending = 0
        return batch

    def _dated(self, at: datetime) -> dict:
        """The local date and periods of an instant. Remembered by quarter hour: time zone offsets
        and their changes fall on quarter hours, so one quarter hour has one local date."""
        key = int(at.timestamp()) // 900
        found = self._dates.get(key)
        if found is None:
            day = at.astimezone(self.tz).date()
            found = self._dates[key] = {"local_date": day, "period_month": period_month(day),
                                        "period_19": period_19(day)}
        return found

    # --- drawing -----------------------------------------------------------------------------

    def _spread(self, median_seconds: float, sigma: float) -> timedelta:
        return timedelta(seconds=median_seconds * math.exp(sigma * self.rng.gauss(0.0, 1.0)))

    def _jitter(self) -> timedelta:
        """How long after a deadline the sweep that acts on it runs (it sweeps every minute)."""
        return timedelta(seconds=self.rng.uniform(0.5, 60.0))

    def _pick(self, cumulative: list[float]) -> int:
        return bisect(cumulative, self.rng.random() * cumulative[-1])

    # --- a new request -----------------------------------------------------------------------

    def run(self, batch: int) -> Iterator[list[tuple[str, tuple[str, ...], list[tuple]]]]:
        """Simulate the partition's requests, yielding the rows of every ``batch`` requests."""
        part, communities, tails = self.part, self.city.communities, self.part.tails
        for micros, request_id, community in zip(part.micros, part.request_ids, part.communities, strict=True):
            self.request(EPOCH + timedelta(microseconds=micros), request_id, communities[community],
                         tails.get(request_id))
            if self.pending >= batch:
                yield self.take_rows()
        if self.pending:
            yield self.take_rows()

    def request(self, at: datetime, request_id: int, community: CommunityInfo, tail: str | None = None) -> None:
        rng = self.rng
        self.prune_before = at - timedelta(days=3)
        if tail is None:
            cat = self.categories[self._pick(self.cat_cum)]
            channel = CHANNELS[self._pick(self.channel_cum)][0]
        else:
            route = {"street": "street", "open_task": "open_task", "claimed": "open_task",
                     "verifying": "open_task"}.get(tail, "community")
            cat = rng.choice([c for c in self.categories if c.route == route and c.urgency == Urgency.normal])
            channel = "report"
        building_id, grid_id, address = self._choice(community.buildings)
        r = Req()
        r.words = self._choice(WORDS[cat.top])
        r.id = request_id
        r.status, r.channel, r.category_id = "submitted", channel, cat.id
        r.street_id, r.community_id, r.grid_id, r.building_id = community.street_id, community.id, grid_id, building_id
        r.address, r.description = address, f"{address}：{r.words[0]}"
        r.contact_name = r.contact_phone = r.contact_email = r.media_url = r.result = ""
        r.attributes = EMPTY
        r.reopen_count, r.supervision, r.version = 0, "normal", 1
        r.submitted_at = r.updated_at = at
        if channel == "report":
            r.reporter_id = r.collector_id = self._choice(community.residents)
        elif channel == "inspection":
            r.collector_id = self._choice(community.staff)
        elif channel == "visit":
            r.collector_id = self.city.member_account[self._choice(community.members)]
            r.contact_name, r.contact_phone = "居民", f"139{rng.randrange(10**8):08d}"
        else:
            r.collector_id = self.city.client_account
            r.contact_phone = f"138{rng.randrange(10**8):08d}"
        deadlines.set_intake_deadlines(r, self.calendar, cat.urgency, cat.deadline_class, at)
        r.cat, r.place = cat, community
        r.claims, r.calls, r.actions = [], [], set()
        r.visits = r.street_visits = 0
        self._event(r, "submit", None, "submitted", r.collector_id, COLLECTOR_ROLE[channel], "",
                    self._submit_data(channel, cat.code, community.id), at)
        try:
            if tail is None:
                self._life(r)
            else:
                self._tail(r, tail)
        except Cut:
            pass
        self._finish(r)

    def _life(self, r: Req) -> None:
        t = r.submitted_at
        while True:
            status = r.status
            if status == "submitted":
                t = self._router(r, t)
            elif status == "community":
                t = self._community(r, t)
            elif status == "street":
                t = self._street(r, t)
            elif status == "open_task":
                t = self._open_task(r, t)
            elif status == "resolved":
                t = self._resolved(r, t)
            else:
                return

    def _tail(self, r: Req, state: str) -> None:
        """A scripted short life that stops in ``state`` (the requests came in hours ago)."""
        if state == "submitted":
            return
        t = self._router(r, r.submitted_at)
        if state in ("community", "street", "open_task"):
            return
        if state == "resolved":
            t += timedelta(hours=2)
            self._resolve(r, t, self._choice(r.place.staff), "staff")
            return
        claim_at = t + timedelta(hours=1)
        member = self._claimer(r, claim_at, INF)
        if member is None:
            return
        self._claim(r, claim_at, member)
        if state == "verifying":
            self._report(r, claim_at + timedelta(hours=3))

    # --- the rows every move writes ----------------------------------------------------------

    def _at(self, t: datetime) -> None:
        if t > self.now:
            raise Cut

    def _event(self, r: Req, trigger: str, src: str | None, dest: str, actor: int | None, role: str, note: str,
               data: RawJson, t: datetime) -> None:
        self._events.append((next(self._event_ids), r.id, trigger, src, dest, actor, role, note, data, t))

    def _move(self, r: Req, trigger: str, t: datetime, actor: int | None, role: str, note: str, data: RawJson) -> None:
        """The lifecycle move and what ``handling.fire`` does around every trigger."""
        src = r.status
        dest = MOVES[(trigger, src)]  # a KeyError here is a move the lifecycle does not allow: a bug
        r.status = dest
        if trigger == "publish_task":
            covering = r.place.covering.get(r.building_id)
            r.zone_offer_until = t + self.zone_offer if covering and self.zone_offer else None
        if src == "street" and dest != "street":
            for call in r.calls:  # calls of this escalation end with it
                if call.responded_at is None and call.closed_at is None:
                    call.closed_at = t
        if dest != "open_task":
            r.claim_by = r.claim_remind_at = None
        if r.responded_at is None and role in HUMAN:
            r.responded_at = t
        self._event(r, trigger, src, dest, actor, role, note, data, t)
        r.updated_at = t
        r.version += 1

    def _same(self, r: Req, trigger: str, t: datetime, actor: int, role: str, note: str, data: RawJson) -> None:
        """An act that leaves the status as it is (whistle, department response, supervision)."""
        self._event(r, trigger, r.status, r.status, actor, role, note, data, t)
        r.updated_at = t

    def _points(self, member_id: int, reason: str, r: Req, source_key: str, t: datetime) -> None:
        dated = self._dated(t)
        version, rules = self.policies[dated["period_month"]]
        points = rules.point_value(reason)
        if points == 0:
            return
        self.rows["point_entries"].append((
            self._id("point_entries"), member_id, r.id, reason, points, version, source_key, r.street_id,
            r.community_id, dated["local_date"], dated["period_month"], dated["period_19"], t))

    def _action(self, r: Req, action: str, due: datetime, t: datetime) -> None:
        r.actions.add((action, due))
        self.rows["deadline_actions"].append((self._id("deadline_actions"), r.id, action, due, t))

    # --- routing and escalation --------------------------------------------------------------

    def _route(self, r: Req, t: datetime, route: str, actor: int | None, role: str, note: str,
               data: RawJson) -> None:
        self._at(t)
        r.route = route
        if route == "open_task":
            deadlines.set_claim_deadline(r, t, self.claim_window)
            if r.published_at is None:
                r.published_at = t
        self._move(r, ROUTE_TRIGGER[route], t, actor, role, note, data)

    def _router(self, r: Req, t: datetime) -> datetime:
        """The routing actor, seconds after intake or a reopen: the category's default route, or the
        street office after the second reopen."""
        t = t + timedelta(seconds=self.rng.uniform(1.0, 30.0))
        if r.reopen_count >= 2:
            route, rule = "street", "second_reopen"
        else:
            route, rule = r.cat.route, f"category_default:{r.cat.code}"
        key = (route, rule)
        data = self._router_data.get(key)
        if data is None:
            data = self._router_data[key] = _json({"route": route, "rule": rule, "rule_id": None})
        self._route(r, t, route, None, "router", "", data)
        return t

    def _sweep_escalation(self, r: Req, since: datetime, before: datetime):
        """(when, which, due) if the sweeper escalates the request, which has waited where it is
        since ``since``, before ``before``: for a respond deadline with no response yet, or the
        round's resolve deadline, not escalated for already. The sweep that acts is the first one
        after the deadline, or the first one after ``since`` for a deadline that passed while the
        sweeper could not escalate (the task was claimed, the street office had it). With both
        deadlines passed, the sweeper looks at the respond deadline first."""
        passed = []
        if r.responded_at is None and r.respond_by is not None and ("escalate_respond", r.respond_by) not in r.actions:
            passed.append((max(r.respond_by, since), 0, "respond", r.respond_by))
        if r.resolve_by is not None and ("escalate_resolve", r.resolve_by) not in r.actions:
            passed.append((max(r.resolve_by, since), 1, "resolve", r.resolve_by))
        if not passed:
            return None
        start, _order, which, due = min(passed)
        at = start + self._jitter()
        return (at, which, due) if at < before else None

    def _sweeper_escalates(self, r: Req, at: datetime, which: str, due: datetime) -> datetime:
        self._at(at)
        self._action(r, f"escalate_{which}", due, at)
        self._route(r, at, "street", None, "sweeper", f"{which} deadline passed", ROUTE_DATA["street"])
        return at

    # --- community staff ---------------------------------------------------------------------

    def _reaction(self, r: Req) -> timedelta:
        spread = self._spread(REACTION[r.cat.urgency], 0.8)
        return spread * 8 if self.rng.random() < 0.02 else spread  # now and then a request is neglected

    def _community(self, r: Req, t: datetime) -> datetime:
        rng = self.rng
        r.visits += 1
        staff = self._choice(r.place.staff)
        at = t + self._reaction(r)
        early = self._sweep_escalation(r, t, at)
        if early is not None:
            return self._sweeper_escalates(r, *early)
        first = r.visits == 1
        u = rng.random()
        if first and r.reopen_count == 0 and u < 0.03:
            self._at(at)
            r.closed_at = at
            self._move(r, "reject", at, staff, "staff", self._choice(REJECT_REASONS), EMPTY)
            return at
        if first and r.reopen_count == 0 and u < 0.05:
            target = self._merge_target(r, at)
            if target is not None:
                self._merge(r, at, staff, target)
                return at
        if first and u < 0.10:
            self._route(r, at, "open_task", staff, "staff", "", ROUTE_DATA["open_task"])
            return at
        if first and u < 0.14:
            self._route(r, at, "street", staff, "staff", "", ROUTE_DATA["street"])
            return at
        self._resolve(r, at, staff, "staff")
        return at

    def _merge_target(self, r: Req, at: datetime) -> Recent | None:
        """The most recent open request of the community, of the same kind if there is one."""
        candidates = [x for x in self.recent[r.community_id] if x.submitted_at < at < x.ends]
        same = [x for x in candidates if x.category_id == r.category_id]
        pool = same or candidates
        return pool[-1] if pool else None

    def _merge(self, r: Req, at: datetime, staff: int, target: Recent) -> None:
        self._at(at)
        r.merged_into_id = target.id
        r.closed_at = at
        linked = []
        if r.reporter_id is not None and r.reporter_id != target.reporter_id:
            if r.reporter_id not in target.linked:
                target.linked.add(r.reporter_id)
                self.rows["request_links"].append((self._id("request_links"), target.id, r.reporter_id, r.id, at))
            linked.append(r.reporter_id)
        self._move(r, "merge", at, staff, "staff", "", _json({"duplicate_of": target.id, "linked_residents": linked}))

    def _resolve(self, r: Req, t: datetime, actor: int, role: str) -> None:
        self._at(t)
        r.result = r.words[1]
        self._resolved_now(r, t)
        r.handler = actor
        self._move(r, "resolve", t, actor, role, "", EMPTY)

    def _resolved_now(self, r: Req, t: datetime) -> None:
        r.resolved_at = t
        deadlines.set_evaluation_deadline(r, self.calendar, t, self.settings.evaluation_window_days)

    # --- the street office -------------------------------------------------------------------

    def _street(self, r: Req, t: datetime) -> datetime:
        rng = self.rng
        r.street_visits += 1
        street = self.city.streets[r.street_id]
        officer = self._choice(street.officers)
        first_act = t + self._reaction(r)
        if r.street_visits == 1 and r.reopen_count < 2 and rng.random() < 0.2:
            self._at(first_act)
            r.route = "community"
            self._move(r, "return_to_community", first_act, officer, "street_officer", rng.choice(RETURN_REASONS),
                       ROUTE_DATA["community"])
            return first_act
        done = max(first_act, t + self._spread(RESOLVING[r.cat.deadline_class] * 1.2, 0.7))
        acts: list[tuple[datetime, int, str, object]] = []
        if rng.random() < 0.6 and first_act < done:  # departments called in early: the office's response
            acts.append((first_act, 0, "whistle", None))
        u = rng.random()
        if u < 0.05:
            acts.append((t + (done - t) * rng.uniform(0.3, 0.9), 2, "supervise", "red" if u < 0.008 else "yellow"))
        acts.sort(key=lambda a: (a[0], a[1]))
        while acts:
            at, _order, kind, arg = acts.pop(0)
            self._at(at)
            if kind == "whistle":
                for response in self._whistle(r, at, officer):
                    if response[0] < done:
                        acts.append(response)
                acts.sort(key=lambda a: (a[0], a[1]))
            elif kind == "response":
                call = arg
                call.responded_at, call.response, call.recorded_by_id = at, rng.choice(DEPARTMENT_ANSWERS), officer
                self._same(r, "department_response", at, officer, "street_officer", call.response,
                           RawJson(f'{{"call_id": {call.id}, "department_id": {call.department_id}}}'))
            else:
                self._supervise(r, at, officer, "street_officer", arg)
        self._resolve(r, done, officer, "street_officer")
        return done

    def _whistle(self, r: Req, at: datetime, officer: int) -> list:
        rng = self.rng
        street = self.city.streets[r.street_id]
        departments = [self._choice(street.departments)]
        if self.random() < 0.33 and len(street.departments) > 1:  # two departments now and then
            other = self._choice(street.departments)
            while other == departments[0]:
                other = self._choice(street.departments)
            departments = sorted((departments[0], other))
        hours = self._choice((24, 48, 72))
        report_by = at + timedelta(hours=hours)
        calls = [Call(self._id("whistle_calls"), r.id, d, officer, at, report_by) for d in departments]
        r.calls.extend(calls)
        if r.responded_at is None:  # calling departments in is the street office acting on it
            r.responded_at = at
        self._same(r, "whistle", at, officer, "street_officer", "",
                   _json({"department_ids": departments, "report_by": report_by.isoformat(),
                          "call_ids": [c.id for c in calls]}))
        return [(at + timedelta(hours=hours * rng.uniform(0.1, 1.3)), 1, "response", c) for c in calls
                if rng.random() < 0.85]

    def _supervise(self, r: Req, at: datetime, actor: int, role: str, level: str) -> None:
        previous = r.supervision
        r.supervision = level
        self._same(r, "supervise", at, actor, role, SUPERVISE_REASONS[level],
                   RawJson(f'{{"level": "{level}", "previous_level": "{previous}"}}'))

    # --- the task board ----------------------------------------------------------------------

    def _open_task(self, r: Req, t: datetime) -> datetime:
        rng = self.rng
        claim_at = INF if rng.random() < 0.05 else t + self._spread(2 * HOUR, 1.0)
        staff_act, staff_at = None, INF
        u = rng.random()
        if u < 0.025:
            staff_act, staff_at = ("withdraw" if u < 0.015 else "escalate"), t + timedelta(hours=rng.uniform(1, 8))
        withdraw_at = r.claim_by + self._jitter()
        if claim_at < min(staff_at, withdraw_at) and self._sweep_escalation(r, t, claim_at) is None:
            if self._claim_episode(r, claim_at):
                return r.updated_at
        first = min(staff_at, withdraw_at)
        early = self._sweep_escalation(r, t, first)
        if early is not None:
            return self._sweeper_escalates(r, *early)
        if staff_at < withdraw_at:
            staff = self._choice(r.place.staff)
            if staff_act == "withdraw":
                self._at(staff_at)
                r.route = "community"
                self._move(r, "withdraw", staff_at, staff, "staff", "", ROUTE_DATA["community"])
            else:
                self._route(r, staff_at, "street", staff, "staff", "", ROUTE_DATA["street"])
            return staff_at
        self._at(withdraw_at)  # nobody claimed it in time: back to community staff
        r.route = "community"
        self._move(r, "withdraw", withdraw_at, None, "sweeper", "", ROUTE_DATA["community"])
        return withdraw_at

    def _claimer(self, r: Req, start: datetime, end: datetime) -> int | None:
        """A member who may claim the task at ``start`` and holds it until ``end``: registered with
        the community, in the zone while the task is offered to the zone first, and under the claim
        limit all along (so no other claim of theirs goes over it either)."""
        rng = self.rng
        covering = r.place.covering.get(r.building_id)
        offered = covering and r.zone_offer_until is not None and start < r.zone_offer_until
        pool = covering if offered or (covering and rng.random() < 0.5) else r.place.members
        if end > self.now:
            end = INF
        for _try in range(6):
            member = self._choice(pool)
            held = self.holding[member]
            if held:
                held[:] = [h for h in held if h[1] > self.prune_before]
            if all(sum(1 for s, e in held if s <= p < e) < self.claim_limit
                   for p in [start, *(s for s, _e in held if start < s < end)]):
                held.append((start, end))
                return member
        return None

    def _claim_episode(self, r: Req, tc: datetime) -> bool:
        """A member claims the task at ``tc`` and either gives it back or reports results until staff
        verify one; False (and nothing written) when no member can take it."""
        rng = self.rng
        plan: list[tuple[datetime, str, object]] = []
        if rng.random() < 0.07:
            plan.append((tc + self._spread(4 * HOUR, 1.0), "release", None))
        else:
            t, sent = tc, 0
            while True:
                t = t + max(timedelta(minutes=10), self._spread((18 if sent == 0 else 6) * HOUR, 0.8))
                hours = Decimal(str(round(min(12.0, max(0.5, 2.0 * math.exp(0.6 * rng.gauss(0, 1)))), 1)))
                plan.append((t, "report", hours))
                t = t + self._spread(3 * HOUR, 0.9)
                if sent < 2 and rng.random() < (0.08 if sent == 0 else 0.03):
                    plan.append((t, "send_back", None))
                    sent += 1
                    continue
                plan.append((t, "verify", draw(rng, APPRAISALS)))
                break
        u = rng.random()
        if u < 0.015:  # the community secretary marks the member's task for supervision
            level = "red" if u < 0.005 else "yellow"
            plan.insert(0, (tc + (plan[0][0] - tc) * rng.uniform(0.2, 0.8), "supervise", level))
        self._at(tc)
        member = self._claimer(r, tc, plan[-1][0])
        if member is None:
            return False
        self._claim(r, tc, member)
        held_since = tc
        for at, kind, arg in plan:
            if kind in ("report", "release"):
                self._overdue(r, held_since, at)
            if kind == "supervise":
                self._at(at)
                self._supervise(r, at, r.place.secretary, "secretary", arg)
            elif kind == "release":
                self._release(r, at)
            elif kind == "report":
                self._report(r, at, arg)
            elif kind == "send_back":
                self._at(at)
                claim = r.live
                claim.status = "active"
                claim.send_back_count += 1
                self._points(claim.member_id, "sent_back", r, f"sent_back:{claim.id}:{claim.send_back_count}", at)
                self._move(r, "send_back", at, rng.choice(r.place.staff), "staff", rng.choice(SEND_BACK_REASONS),
                           _claim_data(claim.id, claim.member_id))
                held_since = at
            else:
                self._verify(r, at, arg)
        return True

    def _overdue(self, r: Req, held_since: datetime, until: datetime) -> None:
        """The sweeper's overdue deduction, once per resolve deadline, if it passes while the member
        holds the task (status claimed)."""
        due = r.resolve_by
        if due is None or not held_since <= due < until or ("overdue_claim", due) in r.actions:
            return
        at = due + self._jitter()
        if at >= until:
            return
        self._at(at)
        self._action(r, "overdue_claim", due, at)
        self._points(r.live.member_id, "overdue", r, f"overdue:{r.live.id}:{r.round}", at)

    def _claim(self, r: Req, t: datetime, member: int) -> None:
        self._at(t)
        claim = Claim(self._id("claims"), r.id, member, r.round, t)
        r.claims.append(claim)
        r.live = claim
        self._move(r, "claim", t, self.city.member_account[member], "member", "",
                   _claim_data(claim.id, member))

    def _release(self, r: Req, t: datetime) -> None:
        self._at(t)
        claim = r.live
        claim.status, claim.ended_at = "released", t
        self._points(claim.member_id, "released", r, f"released:{claim.id}", t)
        deadlines.set_claim_deadline(r, t, self.claim_window)
        r.live = None
        self._move(r, "release", t, self.city.member_account[claim.member_id], "member", "",
                   _claim_data(claim.id, claim.member_id))

    def _report(self, r: Req, t: datetime, hours: Decimal = Decimal("2.0")) -> None:
        self._at(t)
        claim = r.live
        claim.status, claim.result, claim.hours, claim.reported_at = \
            "reported", r.words[1], hours, t
        self._move(r, "report_result", t, self.city.member_account[claim.member_id], "member", "",
                   RawJson(f'{{"claim_id": {claim.id}, "hours": "{hours}", "photo_ids": []}}'))

    def _verify(self, r: Req, t: datetime, appraisal: int) -> None:
        self._at(t)
        staff = self._choice(r.place.staff)
        claim = r.live
        claim.status, claim.appraisal, claim.ended_at = "verified", appraisal, t
        dated = self._dated(t)
        self.rows["hours_entries"].append((
            self._id("hours_entries"), claim.member_id, r.id, claim.id, claim.round, r.street_id, r.community_id,
            claim.hours, appraisal, dated["local_date"], dated["period_month"], dated["period_19"], t))
        self._points(claim.member_id, "task_verified", r, f"verified:{claim.id}", t)
        r.result = claim.result
        self._resolved_now(r, t)
        r.live = None
        r.handler = staff
        self._move(r, "verify", t, staff, "staff", "", RawJson(
            f'{{"claim_id": {claim.id}, "member_id": {claim.member_id}, "appraisal": {appraisal}}}'))

    # --- evaluation --------------------------------------------------------------------------

    def _resolved(self, r: Req, t: datetime) -> datetime:
        rng = self.rng
        if r.reporter_id is not None:
            evaluator, role = r.reporter_id, "resident"
            at = t + self._spread(8 * HOUR, 1.2) if rng.random() < 0.85 else INF
        else:
            evaluator, role = r.place.secretary, "secretary"
            at = t + self._spread(48 * HOUR, 0.8) if rng.random() < 0.5 else INF
        if at >= r.evaluate_by:  # the window passes with no evaluation: the sweeper closes it
            at = r.evaluate_by + self._jitter()
            self._at(at)
            self._close(r, at, "expire")
            self._move(r, "expire", at, None, "sweeper", "", EMPTY)
            return at
        self._at(at)
        content = 0.9
        if r.resolved_at > r.resolve_by:
            content -= 0.15
        verified = self._verified_of_round(r)
        if verified is not None and verified.appraisal <= 2:
            content -= 0.25
        if role == "secretary":
            content = max(content, 0.95)
        if r.reopen_count >= 3:
            content = 1.0
        elif r.reopen_count:
            content += 0.04
        if rng.random() < content:
            satisfaction, solved = ("satisfied" if rng.random() < 0.8 else "basically_satisfied"), True
            comment = self._choice(SATISFIED_COMMENTS)
        else:
            satisfaction, solved = draw(rng, ((("unsatisfied", False), .5), (("unsatisfied", True), .3),
                                               (("basically_satisfied", False), .2)))
            comment = self._choice(UNSATISFIED_COMMENTS)
        evaluation_id = self._id("evaluations")
        self.rows["evaluations"].append((evaluation_id, r.id, r.round, evaluator, role, satisfaction, solved, comment,
                                         True, at))
        data = RawJson(f'{{"evaluation_id": {evaluation_id}, "satisfaction": "{satisfaction}", '
                       f'"solved": {"true" if solved else "false"}, "round": {r.round}}}')
        n, n_solved, n_satisfied, n_basically = r.tally or (0, 0, 0, 0)
        r.tally = (n + 1, n_solved + solved, n_satisfied + (satisfaction == "satisfied"),
                   n_basically + (satisfaction == "basically_satisfied"))
        if solved and satisfaction != "unsatisfied":
            if satisfaction == "satisfied" and verified is not None:
                self._points(verified.member_id, "resident_satisfied", r, f"satisfied:{r.id}:{r.round}", at)
            r.verdict = (satisfaction, solved)
            self._close(r, at, "evaluate")
            self._move(r, "evaluate", at, evaluator, role, comment, data)
            return at
        r.reopen_count += 1
        r.resolved_at = None
        deadlines.clear_evaluation_deadline(r)
        r.route = None
        deadlines.set_intake_deadlines(r, self.calendar, r.cat.urgency, r.cat.deadline_class, at)
        r.visits = r.street_visits = 0
        self._move(r, "reopen", at, evaluator, role, comment, data)
        return at

    def _verified_of_round(self, r: Req) -> Claim | None:
        for claim in reversed(r.claims):
            if claim.round == r.round and claim.status == "verified":
                return claim
        return None

    def _close(self, r: Req, at: datetime, how: str) -> None:
        r.closed_at = at
        r.closed_by = how
        if r.channel == "visit":  # 访: the visit bonus is earned when the problem is closed
            member = self._member_of_account(r.collector_id)
            self._points(member, "visit_collected", r, f"visit:{r.id}", at)

    def _member_of_account(self, account_id: int) -> int:
        found = getattr(self, "_account_member", None)
        if found is None:
            found = self._account_member = {a: m for m, a in self.city.member_account.items()}
        return found[account_id]

    # --- the end of a life -------------------------------------------------------------------

    def _finish(self, r: Req) -> None:
        rows = self.rows
        rows["requests"].append(_request_row(r))
        if r.claims:
            rows["claims"].extend(_claim_row(c) for c in r.claims)
        if r.calls:
            rows["whistle_calls"].extend(_call_row(c) for c in r.calls)
        self.statuses[r.status] += 1
        self.pending += 1
        if r.status == "closed":
            self._outcome(r)
        ends = r.closed_at if r.status in ("closed", "rejected", "merged") else INF
        recent = self.recent[r.community_id]
        recent.append(Recent(r.id, r.submitted_at, ends, r.category_id, r.reporter_id))
        if len(recent) > 60:
            del recent[:20]

    def _outcome(self, r: Req) -> None:
        """What :func:`workflow.outcomes.record_outcome` writes when the outcome actor runs."""
        verified = [c for c in r.claims if c.status == "verified"]
        last = verified[-1] if verified else None
        dated = self._dated(r.closed_at)
        satisfaction, solved = r.verdict if r.verdict else (None, None)
        self.rows["outcomes"].append((
            self._id("outcomes"), r.id, dated["period_month"], dated["period_19"], r.street_id, r.community_id,
            r.grid_id, r.building_id, r.category_id, r.channel, r.route, r.handler,
            last.member_id if last else None,
            r.responded_at is not None and r.responded_at <= r.first_respond_by,
            r.resolved_at is not None and r.resolved_at <= r.first_resolve_by,
            r.verdict is not None, solved, satisfaction, *(r.tally or (0, 0, 0, 0)),
            last.appraisal if last else None,
            sum((c.hours for c in verified), Decimal("0.0")) if verified else None,
            r.reopen_count, r.closed_by, r.closed_at,
            r.closed_at + timedelta(seconds=self.rng.uniform(0.2, 3.0))))


def _cumulative(weights) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def draw(rng: random.Random, options):
    """One value of ``options``, (value, weight) pairs whose weights add up to 1, drawn by ``rng``."""
    u, total = rng.random(), 0.0
    for value, weight in options:
        total += weight
        if u < total:
            return value
    return options[-1][0]
