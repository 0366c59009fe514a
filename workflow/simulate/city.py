"""Building the city: streets, communities, grids, buildings, home units, accounts, members with
their registrations and zones, departments, and the Open311 client of the city's hotline."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..commands.clients import KEY_PREFIX, NO_LOGIN
from .bulk import BulkWriter
from .shape import (
    CLIENT_NAME,
    COMMUNITY_WORDS,
    DEPARTMENTS,
    DISTRICTS,
    GIVEN,
    ORGANISATIONS,
    STREET_NAMES,
    SURNAMES,
    CityShape,
)

# Where the city stands (WGS 84); streets sit 0.02° apart, buildings about 100 m apart.
ORIGIN = (39.90, 116.30)


@dataclass
class CommunityInfo:
    id: int
    street_id: int
    name: str
    weight: float  # population
    buildings: list[tuple[int, int, str]] = field(default_factory=list)  # (id, grid id, address)
    staff: list[int] = field(default_factory=list)  # account ids
    secretary: int = 0
    residents: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)  # member ids registered here
    # Members whose zone covers each building (its own zone or its grid's).
    covering: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class StreetInfo:
    id: int
    officers: list[int] = field(default_factory=list)
    departments: list[int] = field(default_factory=list)


@dataclass
class City:
    streets: dict[int, StreetInfo]
    communities: list[CommunityInfo]
    member_account: dict[int, int]  # member id -> account id
    client_account: int
    admin: int

    def subset(self, indices: list[int]) -> City:
        """The part of the city made of these communities (by index) and their streets."""
        communities = [self.communities[i] for i in indices]
        members = {m for c in communities for m in c.members}
        return City({c.street_id: self.streets[c.street_id] for c in communities}, communities,
                    {m: a for m, a in self.member_account.items() if m in members}, self.client_account, self.admin)


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def _cycle_name(words: list[str], i: int, suffix: str) -> str:
    base = words[i % len(words)]
    round_ = i // len(words)
    return f"{base}{'' if round_ == 0 else round_ + 1}{suffix}"


ACCOUNT_COLUMNS = ("id", "username", "password_hash", "display_name", "phone", "role", "street_id",
                   "community_id", "is_active", "created_at")


def build(rng: random.Random, shape: CityShape, out: BulkWriter, password_hash: str, start: datetime) -> City:
    """Write the city's rows and return what the request generator needs to know about it."""
    since = start - timedelta(days=400)  # accounts and registrations predate the simulated months
    street_id, community_id, grid_id, building_id = (out.next_id(t) for t in
                                                      ("streets", "communities", "grids", "buildings"))
    account_id, member_id, unit_id = out.next_id("accounts"), out.next_id("members"), out.next_id("units")
    registration_id, zone_id = out.next_id("registrations"), out.next_id("responsibility_zones")
    department_id = out.next_id("departments")
    streets, communities, grids, buildings, accounts, departments = [], [], [], [], [], []
    street_infos: dict[int, StreetInfo] = {}
    community_infos: list[CommunityInfo] = []

    def account(username: str, role: str, *, street: int | None = None, community: int | None = None,
                phone: str | None = None, name: str | None = None, pw: str = password_hash) -> int:
        nonlocal account_id
        accounts.append((account_id, username, pw, name or _name(rng), phone, role, street, community, True,
                         since + timedelta(seconds=rng.uniform(0, 300 * 86400))))
        account_id += 1
        return account_id - 1

    admin = account("admin", "admin", name="系统管理员")
    for s in range(shape.streets):
        code = f"S{s + 1:03d}"
        streets.append((street_id, code, _cycle_name(STREET_NAMES, s, "街道")))
        info = StreetInfo(street_id)
        street_infos[street_id] = info
        info.officers = [account(f"{code.lower()}.officer{k + 1}", "street_officer", street=street_id)
                         for k in range(shape.officers_per_street)]
        account(f"{code.lower()}.secretary", "secretary", street=street_id)
        for name in DEPARTMENTS[:shape.departments_per_street]:
            departments.append((department_id, street_id, name, True))
            info.departments.append(department_id)
            department_id += 1
        lat0, lon0 = ORIGIN[0] - 0.02 * (s // 10), ORIGIN[1] + 0.02 * (s % 10)
        for c in range(shape.communities_per_street):
            ccode = f"{code}C{c + 1:02d}"
            name = _cycle_name(COMMUNITY_WORDS, s * shape.communities_per_street + c, "社区")
            communities.append((community_id, street_id, ccode, name))
            population = rng.triangular(3000, 40000, 8000)
            info_c = CommunityInfo(community_id, street_id, name, population)
            number = 0
            for g in range(shape.grids_per_community):
                grids.append((grid_id, community_id, f"第{g + 1}网格"))
                for _b in range(shape.buildings_per_grid):
                    number += 1
                    address = f"{name}{number}号楼"
                    lat = round(lat0 - 0.002 * (c // 4) - 0.0009 * (number // 8), 6)
                    lon = round(lon0 + 0.004 * (c % 4) + 0.0009 * (number % 8), 6)
                    buildings.append((building_id, community_id, grid_id, f"{number}号楼", address, lat, lon))
                    info_c.buildings.append((building_id, grid_id, address))
                    building_id += 1
                grid_id += 1
            lower = ccode.lower()
            info_c.staff = [account(f"{lower}.staff{k + 1}", "staff", community=community_id)
                            for k in range(shape.staff_per_community)]
            info_c.secretary = account(f"{lower}.secretary", "secretary", community=community_id)
            community_infos.append(info_c)
            community_id += 1
        street_id += 1
    out.write("streets", ("id", "code", "name"), streets)
    out.write("communities", ("id", "street_id", "code", "name"), communities)
    out.write("grids", ("id", "community_id", "name"), grids)
    out.write("buildings", ("id", "community_id", "grid_id", "name", "address", "latitude", "longitude"), buildings)

    mean_population = sum(c.weight for c in community_infos) / len(community_infos)
    # Residents who report: accounts in proportion to the community's population.
    for info_c in community_infos:
        share = info_c.weight / mean_population
        lower = communities[info_c.id - communities[0][0]][2].lower()
        info_c.residents = [account(f"{lower}.r{k + 1:05d}", "resident", community=info_c.id,
                                    phone=f"13{(account_id * 7919) % 10**9:09d}")
                            for k in range(max(20, round(shape.residents_per_community * share)))]

    # Members: 20 to 500 a community, by population; one in ten also registers with a neighbour.
    quotas = [max(20, min(500, round(shape.members_per_community * c.weight / mean_population)))
              for c in community_infos]
    total_members = sum(quotas)
    n_units = max(3, -(-total_members // shape.members_per_unit))
    units = []
    for u in range(n_units):
        name = f"{DISTRICTS[u % len(DISTRICTS)]}{ORGANISATIONS[(u // len(DISTRICTS)) % len(ORGANISATIONS)]}"
        if u >= len(DISTRICTS) * len(ORGANISATIONS):
            name += f"第{u // (len(DISTRICTS) * len(ORGANISATIONS)) + 1}支部"
        units.append((unit_id + u, name, ""))
    out.write("units", ("id", "name", "contact"), units)
    members, registrations, zones = [], [], []
    member_account: dict[int, int] = {}
    by_street: dict[int, list[CommunityInfo]] = {}
    for info_c in community_infos:
        by_street.setdefault(info_c.street_id, []).append(info_c)
    n = 0
    for info_c, quota in zip(community_infos, quotas, strict=True):
        for _k in range(quota):
            n += 1
            acc = account(f"m{n:06d}", "member")
            members.append((member_id, acc, "party", unit_id + rng.randrange(n_units), None))
            member_account[member_id] = acc
            registered = since + timedelta(seconds=rng.uniform(0, 390 * 86400))
            homes = [info_c]
            neighbours = [c for c in by_street[info_c.street_id] if c is not info_c]
            if neighbours and rng.random() < 0.1:
                homes.append(rng.choice(neighbours))
            for home in homes:
                registrations.append((registration_id, member_id, home.id, "active", registered, None))
                registration_id += 1
                home.members.append(member_id)
            if rng.random() < 0.35:  # 责任区: a building or a grid of the home community
                b_id, g_id, _address = rng.choice(info_c.buildings)
                on_building = rng.random() < 0.6
                zones.append((zone_id, member_id, info_c.id, None if on_building else g_id,
                              b_id if on_building else None, registered + timedelta(days=rng.uniform(1, 30))))
                zone_id += 1
                for bid, gid, _a in info_c.buildings:
                    if (bid == b_id) if on_building else (gid == g_id):
                        info_c.covering.setdefault(bid, []).append(member_id)
            member_id += 1

    client_key = KEY_PREFIX + f"{rng.getrandbits(128):032x}"
    client_account = account(f"open311-{rng.getrandbits(24):06x}", "client", name=CLIENT_NAME, pw=NO_LOGIN)
    out.write("accounts", ACCOUNT_COLUMNS, accounts)
    out.write("members", ("id", "account_id", "kind", "unit_id", "claim_limit"), members)
    out.write("registrations", ("id", "member_id", "community_id", "status", "registered_at", "ended_at"),
              registrations)
    out.write("responsibility_zones", ("id", "member_id", "community_id", "grid_id", "building_id", "created_at"),
              zones)
    out.write("departments", ("id", "street_id", "name", "active"), departments)
    out.write("open311_clients", ("id", "account_id", "name", "key_hash", "key_prefix", "created_by", "created_at",
                                  "last_used_at", "revoked_at"),
              [(out.next_id("open311_clients"), client_account, CLIENT_NAME,
                hashlib.sha256(client_key.encode()).hexdigest(), client_key[:10], None, since, None, None)])
    for info in street_infos.values():
        info.officers.sort()
    return City(street_infos, community_infos, member_account, client_account, admin)
