"""The home page's three charts for one room: temperatures, humidities, and the mould index.

The charts read the hourly rollup (api.queries.hourly) in buckets of one hour or more, so a
chart never has more than about CHART_POINTS points: hourly for a week or a month, three-hourly
for 90 days, which is more than a 760-pixel chart can show anyway.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from markupsafe import Markup

from api.queries.homes import HomeDetail, RoomOut
from api.queries.hourly import FloatArray, hourly_series
from api.queries.risk import risk_history
from api.web.charts import Chart, Series, Threshold, render

# VTT model: mould can start growing above about 80 % RH at the surface (Hukka & Viitanen 1999).
SURFACE_RH_CRITICAL_PCT = 80.0
# Mould index levels officers care about (Hukka & Viitanen 1999, Table 1): 1 microscopic growth
# starts, 3 growth visible to the naked eye.
M_MICROSCOPIC = 1.0
M_VISIBLE = 3.0
PROJECTION_HORIZON = timedelta(days=60)
CHART_POINTS = 800
MAX_BUCKETS = 10_000  # one page is enough for any window the page offers


def home_charts(
    conn: psycopg.Connection[Any],
    home: HomeDetail,
    room: RoomOut,
    *,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> list[tuple[str, Markup]]:
    hours_in_window = (end - start) / timedelta(hours=1)
    series = hourly_series(
        conn,
        uprn=home.uprn,
        borough=None,
        room_id=room.room_id,
        start=start,
        end=end,
        zone=zone,
        limit=MAX_BUCKETS,
        cursor=None,
        bucket_hours=max(1, math.ceil(hours_in_window / CHART_POINTS)),
    )
    starts = series.starts()
    values = series.rooms[0].values if series.rooms else {}

    def points(name: str) -> list[tuple[datetime, float | None]]:
        return _points(starts, values.get(name))

    temperature = Chart(
        chart_id="chart-temperature",
        title=f"{room.name}: temperatures (°C)",
        unit=" °C",
        start=start,
        end=end,
        zone=zone,
        series=[
            Series("Air", "#a4161a", points("temperature_c")),
            Series(
                "Coldest surface (estimated)",
                "#1d4f91",
                points("surface_temperature_c"),
                dash="6 3",
            ),
            Series("Dew point", "#00703c", points("dew_point_c"), "2 2"),
            Series(
                "Outdoors",
                "#505a5f",
                _points(starts, series.outdoor_temperature_c),
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
            Series("Air", "#1d4f91", points("humidity_pct")),
            Series(
                "At the coldest surface (estimated)",
                "#a4161a",
                points("surface_humidity_pct"),
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


def _points(
    starts: list[datetime], values: FloatArray | None
) -> list[tuple[datetime, float | None]]:
    if values is None:
        return []
    return [
        (at, None if math.isnan(v) else round(v, 2))
        for at, v in zip(starts, np.asarray(values).tolist(), strict=True)
    ]
