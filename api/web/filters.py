"""Jinja filters: times in the officer's zone and projections in words."""

from __future__ import annotations

from datetime import datetime
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

    env.filters["local"] = local
    env.filters["days"] = days
