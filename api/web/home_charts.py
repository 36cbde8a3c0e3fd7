"""The home page's three charts for one room: temperatures, humidities, and the mould index."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from markupsafe import Markup

from api.queries.homes import HomeDetail, RoomOut
from api.queries.readings import hourly_readings
from api.queries.risk import risk_history
from api.web.charts import Chart, Series, Threshold, render

# VTT model: mould can start growing above about 80 % RH at the surface (Hukka & Viitanen 1999).
SURFACE_RH_CRITICAL_PCT = 80.0
# Mould index levels officers care about (Hukka & Viitanen 1999, Table 1): 1 microscopic growth
# starts, 3 growth visible to the naked eye.
M_MICROSCOPIC = 1.0
M_VISIBLE = 3.0
PROJECTION_HORIZON = timedelta(days=60)
MAX_HOURS = 24 * 91 * 6  # 91 days of up to six rooms: one page is enough for any window


def home_charts(
    conn: psycopg.Connection[Any],
    home: HomeDetail,
    room: RoomOut,
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> list[tuple[str, Markup]]:
    hours = hourly_readings(
        conn,
        uprn=home.uprn,
        room_id=room.room_id,
        start=start,
        end=end,
        zone=zone,
        limit=MAX_HOURS,
        cursor=None,
    ).items
    temperature = Chart(
        chart_id="chart-temperature",
        title=f"{room.name}: temperatures (°C)",
        unit=" °C",
        start=start,
        end=end,
        zone=zone,
        series=[
            Series("Air", "#a4161a", [(h.hour_start, h.temperature_c) for h in hours]),
            Series(
                "Coldest surface (estimated)",
                "#1d4f91",
                [(h.hour_start, h.surface_temperature_c) for h in hours],
                dash="6 3",
            ),
            Series("Dew point", "#00703c", [(h.hour_start, h.dew_point_c) for h in hours], "2 2"),
            Series(
                "Outdoors",
                "#505a5f",
                [(h.hour_start, h.outdoor_temperature_c) for h in hours],
                dash="8 2 2 2",
            ),
        ],
    )
    humidity = Chart(
        chart_id="chart-humidity",
        title=f"{room.name}: relative humidity (%)",
        unit=" %",
        start=start,
        end=end,
        zone=zone,
        series=[
            Series("Air", "#1d4f91", [(h.hour_start, h.humidity_pct) for h in hours]),
            Series(
                "At the coldest surface (estimated)",
                "#a4161a",
                [(h.hour_start, h.surface_humidity_pct) for h in hours],
                dash="6 3",
            ),
        ],
        thresholds=[Threshold("mould can grow above 80 %", SURFACE_RH_CRITICAL_PCT)],
        y_floor=40.0,
        y_ceiling=100.0,
    )
    history = risk_history(
        conn, uprn=home.uprn, borough=None, room_id=room.room_id, start=start, end=end
    )
    measured = [(p.assessed_at, p.mould_index) for p in history]
    projected: list[tuple[datetime, float | None]] = []
    chart_end = end
    latest = history[-1] if history else None
    if latest is not None and latest.mould_index is not None:
        projected.append((latest.assessed_at, latest.mould_index))
        for days, level in ((latest.days_to_m1, M_MICROSCOPIC), (latest.days_to_m3, M_VISIBLE)):
            if days is not None and latest.mould_index < level:
                at = latest.assessed_at + timedelta(days=days)
                if at - end <= PROJECTION_HORIZON:
                    projected.append((at, level))
                    chart_end = max(chart_end, at)
    mould = Chart(
        chart_id="chart-mould",
        title=f"{room.name}: mould index, measured and projected",
        unit="",
        start=start,
        end=chart_end,
        zone=zone,
        series=[
            Series("Mould index", "#8a4b00", measured, continuous=True),
            Series("Projection at recent conditions", "#8a4b00", projected, "5 4", continuous=True),
        ],
        thresholds=[
            Threshold("1: microscopic growth", M_MICROSCOPIC),
            Threshold("3: visible mould", M_VISIBLE),
        ],
        y_floor=0.0,
        y_ceiling=M_VISIBLE + 0.5,
    )
    return [
        ("Temperatures", render(temperature)),
        ("Humidity", render(humidity)),
        ("Mould index", render(mould)),
    ]
