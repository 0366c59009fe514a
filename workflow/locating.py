"""Finding where a report from outside is: which community, grid and building of a street.

Clients that do not know our places (Open311 apps, hotlines) give coordinates, an address as text,
or a building id (the ``address_id`` our Open311 feed shows). In that order of trust:

1. ``address_id``: a building of this street.
2. coordinates: the nearest building with coordinates within :data:`NEAR_METRES`.
3. the address text: a building whose address is part of the text, else a community named in the
   text (and inside it a building named in the text).
4. a street with one community: that community.

A report that none of these places is refused with a clear message rather than parked where no one
works on it: every queue, deadline and rate belongs to a community.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import InvalidInput
from .i18n import _
from .models import Building, Community, Street

NEAR_METRES = 300.0
EARTH_RADIUS = 6_371_000.0


@dataclass(frozen=True)
class Place:
    community: Community
    grid_id: int | None = None
    building_id: int | None = None
    how: str = ""  # address_id, coordinates, address, community_name, only_community


def distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(a)))


def _plain(text: str) -> str:
    """Full-width forms folded, spaces and punctuation dropped, Latin letters lowercased."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\s,，、.。·\-—_#()（）]+", "", text)


def _building_place(session: Session, building: Building, how: str) -> Place:
    return Place(community=session.get(Community, building.community_id), grid_id=building.grid_id,
                 building_id=building.id, how=how)


def locate(session: Session, street: Street, *, latitude: float | None = None, longitude: float | None = None,
           address: str = "", building_id: int | None = None) -> Place:
    communities = list(session.scalars(select(Community).where(Community.street_id == street.id)
                                       .order_by(Community.id)))
    ids = [c.id for c in communities]
    if building_id is not None:
        building = session.get(Building, building_id)
        if building is None or building.community_id not in ids:
            raise InvalidInput(_("address_id {id} is not a building of this jurisdiction.", id=building_id),
                               code="unknown_address_id", details={"field": "address_id"})
        return _building_place(session, building, "address_id")
    buildings = list(session.scalars(select(Building).where(Building.community_id.in_(ids)))) if ids else []
    if latitude is not None and longitude is not None:
        near = [(distance(latitude, longitude, b.latitude, b.longitude), b.id, b) for b in buildings
                if b.latitude is not None and b.longitude is not None]
        near = [n for n in near if n[0] <= NEAR_METRES]
        if near:
            return _building_place(session, min(near)[2], "coordinates")
    text = _plain(address)
    if text:
        by_address = [(len(_plain(b.address)), b.id, b) for b in buildings
                      if len(_plain(b.address)) >= 4 and _plain(b.address) in text]
        if by_address:
            return _building_place(session, max(by_address, key=lambda n: (n[0], -n[1]))[2], "address")
        named = [c for c in communities if _plain(c.name) and _plain(c.name) in text]
        if len(named) > 1:  # 幸福里 and 幸福里二 both match: the longer name is the one meant
            longest = max(len(_plain(c.name)) for c in named)
            named = [c for c in named if len(_plain(c.name)) == longest]
        if len(named) == 1:
            community = named[0]
            inside = [(len(_plain(b.name)), b.id, b) for b in buildings
                      if b.community_id == community.id and _plain(b.name) and _plain(b.name) in text]
            if inside:
                return _building_place(session, max(inside, key=lambda n: (n[0], -n[1]))[2], "address")
            return Place(community=community, how="community_name")
    if len(communities) == 1:
        return Place(community=communities[0], how="only_community")
    if latitude is None and longitude is None and not text:
        raise InvalidInput(_("Say where the problem is: lat and long, address_string or address_id."),
                           code="location_required", details={"field": "address_string"})
    raise InvalidInput(
        _("We could not tell which community of {street} this is in. Name the community in address_string "
          "(one of: {names}), or give address_id.", street=street.name,
          names="、".join(c.name for c in communities)),
        code="location_not_matched", details={"field": "address_string"})
