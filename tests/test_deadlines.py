"""Deadlines on the working-day calendar seeded with the 2026 public holidays."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflow import deadlines
from workflow.commands.intake import Submission, submit
from workflow.db import unit_of_work

CST = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture
def calendar(runtime):
    with unit_of_work(runtime.sessions) as session:
        return deadlines.load_calendar(session, "Asia/Shanghai")


@pytest.mark.parametrize(("start", "days", "expected"), [
    (at(2026, 11, 20), 1, at(2026, 11, 23)),   # Friday → Monday, over a plain weekend
    (at(2026, 11, 18), 3, at(2026, 11, 23)),   # Wednesday + 3 → Monday
    (at(2026, 9, 30), 1, at(2026, 10, 8)),     # National Day: 1–7 October off
    (at(2026, 10, 9), 1, at(2026, 10, 10)),    # Friday → Saturday 10 October, a make-up working day
    (at(2026, 9, 19), 1, at(2026, 9, 20)),     # Saturday → Sunday 20 September, a make-up working day
    (at(2026, 2, 13), 1, at(2026, 2, 14)),     # Friday → Saturday 14 February, worked before Spring Festival
    (at(2026, 2, 14), 1, at(2026, 2, 24)),     # Spring Festival: 15–23 February off
    (at(2026, 9, 30), 7, at(2026, 10, 15)),    # 8, 9, 10 (Sat, worked), 12, 13, 14, 15 October
])
def test_working_days(calendar, start, days, expected):
    assert calendar.add_working_days(start, days) == expected


def test_weekends_and_listed_days(calendar):
    assert not calendar.is_working_day(at(2026, 11, 21).date())  # Saturday
    assert not calendar.is_working_day(at(2026, 10, 5).date())   # National Day holiday on a Monday
    assert calendar.is_working_day(at(2026, 10, 10).date())      # Saturday worked
    assert calendar.is_working_day(at(2026, 11, 23).date())      # an ordinary Monday


@pytest.mark.parametrize(("category", "respond", "resolve"), [
    ("property.elevator", timedelta(hours=1), at(2026, 9, 30, 11)),          # emergency, feedback in 2 h
    ("disputes.noise", timedelta(hours=2), at(2026, 10, 1, 9)),              # urgent, feedback in 24 h
    ("sanitation.corridor_clutter", timedelta(hours=24), at(2026, 10, 15)),  # normal, 7 working days
    ("services.employment", timedelta(hours=24), at(2026, 10, 27)),          # complex, 15 working days
])
def test_a_submission_gets_its_deadlines_and_reminder_points(runtime, world, category, respond, resolve):
    start = at(2026, 9, 30)
    with unit_of_work(runtime.sessions) as session:
        request = submit(session, world.actors["resident_a"], Submission(
            channel="report", category=category, description="测试", community_id=world.ids["community_A"],
        ), now=start)
        assert request.respond_by == start + respond
        assert request.resolve_by == resolve
        assert request.respond_remind_at == start + respond * 0.8
        assert request.resolve_remind_at == start + (resolve - start) * 0.8
