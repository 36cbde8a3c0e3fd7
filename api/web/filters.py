"""Jinja filters: times in the officer's zone and projections in words."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment


def install_filters(env: Environment, time_zone: str) -> None:
    zone = ZoneInfo(time_zone)

    def local(value: datetime | None) -> str:
        if value is None:
            return "—"
        return value.astimezone(zone).strftime("%-d %b %Y %H:%M")

    def days(value: float | None) -> str:
        if value is None:
            return "not expected"
        if value < 1:
            return "within a day"
        return f"in about {round(value)} days"

    def deadline(clock: Any) -> str:
        """Day-counted clocks end with their due day: say so rather than show midnight."""
        local_due = clock.due_at.astimezone(zone)
        if local_due.time() == time(0) and local_due.date() != clock.due_date:
            return "by the end of " + str(clock.due_date.strftime("%a %-d %b %Y"))
        return "by " + local(clock.due_at)

    env.filters["local"] = local
    env.filters["deadline"] = deadline
    env.filters["days"] = days
