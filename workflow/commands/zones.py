"""责任区: community staff give registered members a grid or a building to look after. New tasks in a
zone are offered to its members first, and they are told."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor, is_registered
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Building, Grid, Member, ResponsibilityZone, Role, utcnow
from ..repository import zones as repo

AUDITED = ("id", "community_id", "grid_id", "building_id")


def _staff_of(actor: Actor) -> int:
    if actor.role != Role.staff or actor.community_id is None:
        raise Forbidden(_("Only community staff assign responsibility zones."), code="role_not_allowed")
    return actor.community_id


def assign(session: Session, actor: Actor, member_id: int, *, grid_id: int | None = None,
           building_id: int | None = None) -> ResponsibilityZone:
    community_id = _staff_of(actor)
    if session.get(Member, member_id) is None or not is_registered(session, member_id, community_id):
        raise NotFound(_("No member {id} is registered with your community.", id=member_id), code="member_not_found")
    if (grid_id is None) == (building_id is None):
        raise InvalidInput(_("A zone is one grid or one building."), code="zone_shape")
    place = session.get(Grid, grid_id) if grid_id is not None else session.get(Building, building_id)
    if place is None or place.community_id != community_id:
        raise InvalidInput(_("That grid or building is not in your community."), code="invalid_location")
    if any(z.grid_id == grid_id and z.building_id == building_id for z in repo.zones_of(session, member_id)):
        raise Conflict(_("The member already looks after that place."), code="zone_exists")
    zone = ResponsibilityZone(member_id=member_id, community_id=community_id, grid_id=grid_id,
                              building_id=building_id)
    session.add(zone)
    session.flush()
    audit.record(session, actor, "zone.assign", f"member:{member_id}", utcnow(),
                 {"after": audit.snapshot(zone, AUDITED)})
    return zone


def remove(session: Session, actor: Actor, member_id: int, zone_id: int) -> None:
    community_id = _staff_of(actor)
    zone = session.get(ResponsibilityZone, zone_id)
    if zone is None or zone.member_id != member_id or zone.community_id != community_id:
        raise NotFound(_("Zone {id} does not exist.", id=zone_id), code="zone_not_found")
    before = audit.snapshot(zone, AUDITED)
    session.delete(zone)
    session.flush()
    audit.record(session, actor, "zone.remove", f"member:{member_id}", utcnow(), {"before": before})


def community_members(session: Session, actor: Actor):
    """Staff: the members registered with their community, each with their zones there."""
    community_id = _staff_of(actor)
    return [(member, account, [z for z in repo.zones_of(session, member.id) if z.community_id == community_id])
            for member, account in repo.members_of(session, community_id)]
