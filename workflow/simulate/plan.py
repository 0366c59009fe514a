"""When each request arrives, where, and with which id: drawn once, up front, in time order.

Requests get ids in the order they arrive, over the whole city. The city is cut into partitions by
street (communities, members and merges never cross a street), and each partition's lives are
simulated from its own random stream with its own strided ids, so the rows are the same however
many processes simulate them.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .city import City

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_PARTITIONS = 8
HOUR_WEIGHTS = (1, .5, .3, .3, .4, .8, 2, 4, 6, 7, 7, 6.5, 5, 6, 6.5, 6.5, 6, 5.5, 5, 4.5, 4, 3, 2, 1.5)


@dataclass
class Partition:
    """One partition's share of the arrivals: instants (µs since 1970, UTC), request ids, the index
    of the community (in ``city.communities``) and, for the tail, the state to stop in."""

    index: int
    count: int  # partitions in all: the stride of this partition's ids
    city: City
    micros: array = field(default_factory=lambda: array("q"))
    request_ids: array = field(default_factory=lambda: array("q"))
    communities: array = field(default_factory=lambda: array("l"))
    tails: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.request_ids)


def partitions_for(streets: int) -> int:
    return min(streets, MAX_PARTITIONS)


def arrivals(rng: random.Random, start: datetime, now: datetime, total: int, timezone: str) -> Iterator[int]:
    """``total`` instants in [start, now), in order, as µs since 1970: more by day than by night,
    fewer at weekends."""
    tz = ZoneInfo(timezone)
    hour = 3_600_000_000
    begin, end = _micros(start), _micros(now)
    slots: list[tuple[int, int, float]] = []
    t = start.replace(minute=0, second=0, microsecond=0)
    day_factor: dict = {}
    while t < now:
        local = t.astimezone(tz)
        day = local.date()
        if day not in day_factor:
            day_factor[day] = (0.75 if day.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.15)
        lo, hi = max(_micros(t), begin), min(_micros(t) + hour, end)
        slots.append((lo, hi, HOUR_WEIGHTS[local.hour] * day_factor[day] * (hi - lo) / hour))
        t += timedelta(hours=1)
    cumulative = []
    running = 0.0
    for _lo, _hi, w in slots:
        running += w
        cumulative.append(running)
    random_ = rng.random
    points = sorted([random_() * running for _ in range(total)])
    index, last = 0, len(slots) - 1
    for point in points:
        while index < last and cumulative[index] <= point:
            index += 1
        lo, hi, w = slots[index]
        fraction = (point - (cumulative[index] - w)) / w if w else 0.0
        yield lo + min(int((hi - lo) * fraction), hi - lo - 1)


def _micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def plan(rng: random.Random, city: City, start: datetime, now: datetime, total: int, timezone: str,
         first_request_id: int, tail: list[tuple[datetime, str]]) -> list[Partition]:
    """Split the arrivals over partitions of streets, with ids in arrival order over the city. The
    ``tail`` requests (instant, state) come in among the others, at their instants."""
    count = partitions_for(len(city.streets))
    street_order = {street_id: i for i, street_id in enumerate(sorted(city.streets))}
    part_of = [street_order[c.street_id] % count for c in city.communities]
    local_index: dict[int, int] = {}
    subsets: list[list[int]] = [[] for _ in range(count)]
    for i in range(len(city.communities)):
        local_index[i] = len(subsets[part_of[i]])
        subsets[part_of[i]].append(i)
    parts = [Partition(p, count, city.subset(subsets[p])) for p in range(count)]
    cumulative = []
    running = 0.0
    for c in city.communities:
        running += c.weight
        cumulative.append(running)
    pending = sorted(((_micros(at), state) for at, state in tail), reverse=True)
    request_id = first_request_id

    def add(micros: int, state: str | None) -> None:
        nonlocal request_id
        i = bisect(cumulative, rng.random() * running)
        part = parts[part_of[i]]
        part.micros.append(micros)
        part.request_ids.append(request_id)
        part.communities.append(local_index[i])
        if state is not None:
            part.tails[request_id] = state
        request_id += 1

    for at in arrivals(rng, start, now, total, timezone):
        while pending and pending[-1][0] <= at:
            add(*pending.pop())
        add(at, None)
    while pending:
        add(*pending.pop())
    return parts
