"""Deadline arithmetic per urgency class.

Windows after Beijing's DB11/T 2021-2022: respond within 1 h / 2 h / 24 h, give the resident
feedback within 2 h / 24 h / 7 days / 15 days. Plain calendar time for now; the working-day
calendar replaces ``add_window`` without changing its callers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .models import Urgency

RESPOND = {
    Urgency.emergency: timedelta(hours=1),
    Urgency.urgent: timedelta(hours=2),
    Urgency.normal: timedelta(hours=24),
    Urgency.complex: timedelta(hours=24),
}
RESOLVE = {
    Urgency.emergency: timedelta(hours=2),
    Urgency.urgent: timedelta(hours=24),
    Urgency.normal: timedelta(days=7),
    Urgency.complex: timedelta(days=15),
}


def add_window(start: datetime, window: timedelta) -> datetime:
    return start + window


def respond_by(start: datetime, urgency: Urgency) -> datetime:
    return add_window(start, RESPOND[urgency])


def resolve_by(start: datetime, urgency: Urgency) -> datetime:
    return add_window(start, RESOLVE[urgency])
