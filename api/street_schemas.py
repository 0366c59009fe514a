"""Request and response bodies of the street office's endpoints (吹哨报到, 督办, its queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

from workflow.commands.street import CallView
from workflow.models import Department

from .schemas import MAX_ID, DbId, RequestOut, Strict

CallId = Annotated[int, Path(ge=1, le=MAX_ID, description="The whistle call's id.")]


# --- input ---------------------------------------------------------------------------------------
# Ranges (hours, levels, required text) are checked by the commands, so that each refusal carries its
# own error code and a caller without the right role hears 403 whatever the body says.

class DepartmentIn(BaseModel):
    model_config = Strict
    name: str = Field(max_length=100, description="For example 城管执法队, 房管所, 派出所.")
    street_id: DbId | None = Field(None, description="Administrators only: the street office it serves.")


class WhistleIn(BaseModel):
    model_config = Strict
    department_ids: list[DbId] = Field(max_length=50, description="Departments of the request's street office.")
    report_within_hours: int = Field(description="Hours each department has to report in, 1 to 720.")
    note: str = Field("", max_length=500, description="What the departments are called in for.")


class DepartmentResponseIn(BaseModel):
    model_config = Strict
    response: str = Field(max_length=2000, description="What the department reported.")


class SupervisionIn(BaseModel):
    model_config = Strict
    level: str = Field(max_length=16, description="normal, yellow or red.")
    reason: str = Field("", max_length=500, description="Required for yellow and red.")


# --- output --------------------------------------------------------------------------------------

class DepartmentOut(BaseModel):
    id: int
    street_id: int
    name: str
    active: bool


class WhistleCallOut(BaseModel):
    id: int
    request_id: int
    department_id: int
    department_name: str
    status: str = Field(description="open, answered, overdue (past report_by and not answered), or closed "
                                    "(the request left the street office before the department reported in).")
    note: str
    called_by_id: int
    called_at: datetime
    report_by: datetime
    responded_at: datetime | None
    response: str
    recorded_by_id: int | None


class StreetQueueOut(RequestOut):
    open_whistles: int = Field(description="Departments called in that have not reported in.")
    overdue_whistles: int = Field(description="Of those, the ones past their report-in deadline.")


def department_out(department: Department) -> DepartmentOut:
    return DepartmentOut(id=department.id, street_id=department.street_id, name=department.name,
                         active=department.active)


def whistle_call_out(view: CallView) -> WhistleCallOut:
    call = view.call
    return WhistleCallOut(
        id=call.id, request_id=call.request_id, department_id=call.department_id,
        department_name=view.department.name, status=view.status, note=call.note, called_by_id=call.called_by_id,
        called_at=call.called_at, report_by=call.report_by, responded_at=call.responded_at, response=call.response,
        recorded_by_id=call.recorded_by_id,
    )
