"""Administration: the category taxonomy, routing rules and their dry run, the working-day calendar."""

from __future__ import annotations

from fastapi import APIRouter

from .. import schemas as s

router = APIRouter(tags=["administration"], responses={401: {"model": s.ErrorOut}, 403: {"model": s.ErrorOut}})
