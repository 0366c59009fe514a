"""The demo street's planned collection: households on every building, members paired with them,
grid workers, and six months of visits and weekly rounds, all through the real commands with the
clock they happened at, so coverage has a history to chart and a few households are missed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..access import Actor
from ..models import Building, Grid
from ..scoring.periods import local_date
from . import commands

SEED = 19
MONTHS = 6
DOORS_PER_BUILDING = 8
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
# Tags by door: most households have none; the plan's kinds appear on a few doors of each building.
TAGS_BY_DOOR = {0: ["party_member"], 2: ["needy"], 3: ["empty_nest"], 5: ["party_member", "key"], 6: ["special"]}


def seed(session: Session, timezone: str, now: datetime, *, staff: Sequence[Actor], grids: Sequence[Grid],
         grid_staff: Sequence[Actor], buildings: Sequence[Building], members_by_building: dict[int, list[Actor]]
         ) -> None:
    """``staff``: the community staff of each building's community (by position in ``buildings``'s
    communities, the first staff of that community); ``grid_staff[i]`` works ``grids[i]``."""
    rng = random.Random(SEED)
    zone = ZoneInfo(timezone)
    start = now - timedelta(days=30 * MONTHS + 5)
    desk = {s.community_id: s for s in staff}
    for grid, worker in zip(grids, grid_staff, strict=True):
        commands.assign_grid_worker(session, desk[grid.community_id], grid.id, worker.account_id,
                                    starts_on=local_date(start, timezone), timezone=timezone, now=start)
    households = []
    for b_index, building in enumerate(buildings):
        keeper = desk[building.community_id]
        carers = members_by_building[building.id]
        for d in range(DOORS_PER_BUILDING):
            unit, room = d // 4 + 1, (d % 4 // 2 + 1) * 100 + d % 2 + 1
            name = f"{SURNAMES[(b_index * 7 + d) % len(SURNAMES)]}{'阿姨' if d % 2 else '师傅'}"
            household = commands.create_household(session, keeper, {
                "building_id": building.id, "code": f"{building.id:03d}-{unit}{room}", "door": f"{unit}单元{room}",
                "tags": TAGS_BY_DOOR.get(d, []), "contact_name": name,
                "contact_phone": f"1370000{b_index:02d}{d:02d}"}, timezone=timezone, now=start)
            carer = carers[d % len(carers)]
            commands.pair_member(session, keeper, household.id, carer.member_id,
                                 starts_on=local_date(start, timezone), timezone=timezone, now=start)
            households.append((household, carer, keeper))
        # 党员中心户: the first of the building's members, named when the register was made.
        commands.appoint_center_household(session, keeper, building.id, carers[0].member_id,
                                          starts_on=local_date(start, timezone), timezone=timezone, now=start)

    # Visits: each carer goes about every three weeks, more often to households in need; a few
    # households (every 13th) are forgotten lately, so the missed list has names on it.
    today = local_date(now, timezone)
    for n, (household, carer, keeper) in enumerate(households):
        tags = household.tags
        gap = 12 if {"needy", "empty_nest"} & set(tags) else 20
        day = local_date(start, timezone) + timedelta(days=rng.randint(1, gap))
        forgotten = n % 13 == 4
        while day < today - timedelta(days=45 if forgotten else 0):
            at = datetime.combine(day, time(9 + rng.randint(0, 9), rng.randint(0, 59)), zone)
            visitor = keeper if "key" in tags and rng.random() < 0.7 else carer
            outcome = "need" if rng.random() < 0.08 else "all_well"
            commands.record_visit(session, visitor, household.id, {
                "date": day, "method": rng.choice(["at_home", "at_home", "phone", "met_outside"]),
                "outcome": outcome, "note": "老人腿脚不便，需要帮忙代买药品。" if outcome == "need" else ""},
                timezone=timezone, now=at)
            day += timedelta(days=max(3, gap + rng.randint(-6, 6)))

    # Rounds: each grid's worker goes round once a week, now and then missing one.
    for grid, worker in zip(grids, grid_staff, strict=True):
        in_grid = [b.id for b in buildings if b.grid_id == grid.id]
        day = local_date(start, timezone) + timedelta(days=7)
        while day < today:
            if rng.random() < 0.85:
                at = datetime.combine(day, time(14, 0), zone)
                row, _new = commands.start_round(session, worker, grid.id, timezone=timezone, now=at)
                commands.tick_round(session, worker, row.id, building_ids=in_grid, areas=["小区广场", "地下车库"])
                commands.end_round(session, worker, row.id, note="", now=at + timedelta(hours=1))
            day += timedelta(days=7)
