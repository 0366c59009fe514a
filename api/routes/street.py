"""The street office: its queue, whistle calls to departments (吹哨报到), supervision marks (督办)."""

from __future__ import annotations

from fastapi import APIRouter

from .. import schemas as s

router = APIRouter(tags=["street office"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})
