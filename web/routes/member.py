"""Pages of the member side (to be filled)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
