"""Public reference data: the category taxonomy, communities with their grids and buildings."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from workflow.errors import NotFound
from workflow.i18n import _
from workflow.repository import places
from workflow.volunteers import repository as volunteers_repo

from .. import schemas as s
from ..context import Ctx, get_ctx

router = APIRouter(tags=["reference"])


class GridOut(BaseModel):
    id: int
    name: str


class BuildingOut(BaseModel):
    id: int
    name: str
    grid_id: int | None
    address: str


class CommunityOut(BaseModel):
    id: int
    code: str
    name: str
    street_id: int
    street_name: str


class CommunityDetailOut(CommunityOut):
    grids: list[GridOut]
    buildings: list[BuildingOut]


@router.get("/categories", response_model=list[s.CategoryOut])
def categories(ctx: Ctx = Depends(get_ctx)):
    """Every category in use, top levels first, each leaf with its urgency class and default route.
    Requests are filed under a leaf (a category with a parent)."""
    with ctx.transaction(auth=False) as tx:
        allowed = volunteers_repo.volunteer_categories(tx.session)
        return [s.category_out(c, parent, ctx.locale, c.id in allowed) for c, parent in places.categories(tx.session)]


@router.get("/communities", response_model=list[CommunityOut])
def communities(ctx: Ctx = Depends(get_ctx)):
    """Every community and its street office."""
    with ctx.transaction(auth=False) as tx:
        return [CommunityOut(id=c.id, code=c.code, name=c.name, street_id=st.id, street_name=st.name)
                for c, st in places.communities(tx.session)]


@router.get("/communities/{community_id}", response_model=CommunityDetailOut, responses={404: {"model": s.ErrorOut}})
def community(community_id: s.CommunityId, ctx: Ctx = Depends(get_ctx)):
    """One community with its grids and buildings, to pick a location from."""
    with ctx.transaction(auth=False) as tx:
        c = places.community(tx.session, community_id)
        if c is None:
            raise NotFound(_("Community {id} does not exist.", id=community_id), code="community_not_found")
        street = places.street(tx.session, c.street_id)
        return CommunityDetailOut(
            id=c.id, code=c.code, name=c.name, street_id=street.id, street_name=street.name,
            grids=[GridOut(id=g.id, name=g.name) for g in places.grids(tx.session, c.id)],
            buildings=[BuildingOut(id=b.id, name=b.name, grid_id=b.grid_id, address=b.address)
                       for b in places.buildings(tx.session, c.id)],
        )
