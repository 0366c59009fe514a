"""Where requests happen: street office › community › grid › building."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Street(Base):
    """街道: a street office, the level above communities."""

    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Community(Base):
    """社区: a residents' community under one street office."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Grid(Base):
    """网格: a grid worker's patch inside a community."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Building(Base):
    """楼栋: a building, optionally inside a grid."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    # Where the building stands (WGS 84), so a report given as coordinates finds its building.
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
