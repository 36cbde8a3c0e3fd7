"""A home's readings, raw or by hour, each in the room its sensor was in when it was taken.

Hourly values carry what the charts need: mean temperature and humidity, the dew point of that
air, and the coldest surface's estimated temperature and relative humidity,
θsi = θe + f (θi - θe) (BS EN ISO 13788:2012, eq. 9 rearranged), with the hour's outdoor
temperature of the home's borough and the home's temperature factor f.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.errors import InvalidRequestError
from api.pagination import decode_cursor, encode_cursor
from models.psychro import dew_point_c, relative_humidity_pct, vapour_pressure_pa

# The design value of BS EN ISO 13788's temperature factor used where a home has none: 0.75 is
# the minimum f_Rsi that UK guidance (BRE IP 1/06) asks of new thermal bridges.
DEFAULT_TEMPERATURE_FACTOR = 0.75

# A reading belongs to room p.room_id if it was taken while the sensor was placed there.
RAW_READINGS = """
    SELECT p.room_id, r.sensor_id, r.recorded_at, r.temperature_c, r.humidity_pct,
           r.battery_pct
    FROM rooms rm
    JOIN sensor_placements p ON p.room_id = rm.room_id
    JOIN readings r ON r.sensor_id = p.sensor_id
                   AND r.recorded_at >= p.valid_from
                   AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
    WHERE rm.uprn = %(uprn)s
      AND (%(room_id)s::bigint IS NULL OR rm.room_id = %(room_id)s)
      AND r.recorded_at >= %(start)s AND r.recorded_at < %(end)s
      AND (r.recorded_at, r.sensor_id) > (%(after_at)s, %(after_sensor)s)
    ORDER BY r.recorded_at, r.sensor_id
    LIMIT %(limit)s
"""

# Hours are cut in the caller's time zone, so a half-hour-offset zone gets its own hours.
HOURLY_READINGS = """
    WITH hours AS (
        SELECT p.room_id, date_trunc('hour', r.recorded_at, %(tz)s) AS hour_start,
               avg(r.temperature_c)::float8 AS temperature_c,
               avg(r.humidity_pct)::float8 AS humidity_pct,
               min(r.temperature_c)::float8 AS temperature_min_c,
               max(r.humidity_pct)::float8 AS humidity_max_pct,
               count(*) AS readings
        FROM rooms rm
        JOIN sensor_placements p ON p.room_id = rm.room_id
        JOIN readings r ON r.sensor_id = p.sensor_id
                       AND r.recorded_at >= p.valid_from
                       AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
        WHERE rm.uprn = %(uprn)s
          AND (%(room_id)s::bigint IS NULL OR rm.room_id = %(room_id)s)
          AND r.recorded_at >= %(start)s AND r.recorded_at < %(end)s
        GROUP BY 1, 2
    )
    SELECT hours.*,
           (SELECT avg(o.temperature_c) FROM outdoor_conditions o
             WHERE o.borough_code = %(borough_code)s
               AND o.recorded_at >= hours.hour_start
               AND o.recorded_at < hours.hour_start + interval '1 hour') AS outdoor_temperature_c
    FROM hours
    WHERE (hours.hour_start, hours.room_id) > (%(after_at)s, %(after_room)s)
    ORDER BY hours.hour_start, hours.room_id
    LIMIT %(limit)s
"""

HOME_FACTS = "SELECT borough_code, temperature_factor FROM homes WHERE uprn = %s"


class Reading(BaseModel):
    room_id: int
    sensor_id: str
    recorded_at: datetime = Field(description="When the sensor took it, in the caller's zone.")
    temperature_c: float = Field(examples=[17.4])
    humidity_pct: float = Field(examples=[71.0])
    battery_pct: float | None


class HourlyReading(BaseModel):
    room_id: int
    hour_start: datetime = Field(description="Start of the hour, in the caller's zone.")
    temperature_c: float = Field(description="Mean air temperature.")
    humidity_pct: float = Field(description="Mean relative humidity.")
    temperature_min_c: float
    humidity_max_pct: float
    dew_point_c: float | None = Field(description="Dew point of the hour's mean air.")
    outdoor_temperature_c: float | None = Field(description="The borough's, where known.")
    surface_temperature_c: float | None = Field(
        description="Estimated coldest-surface temperature θsi; null without outdoor data."
    )
    surface_humidity_pct: float | None = Field(
        description="Relative humidity at the coldest surface (capped at 100)."
    )
    readings: int = Field(description="Readings averaged into this hour.")


class ReadingPage(BaseModel):
    time_zone: str
    items: list[Reading]
    next_cursor: str | None


class HourlyPage(BaseModel):
    time_zone: str
    temperature_factor: float = Field(description="f used for the surface estimate.")
    items: list[HourlyReading]
    next_cursor: str | None


EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def raw_readings(
    conn: psycopg.Connection[Any],
    *,
    uprn: int,
    room_id: int | None,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    limit: int,
    cursor: str | None,
) -> ReadingPage:
    after_at, after_sensor = EPOCH, ""
    if cursor is not None:
        at_text, after_sensor = decode_cursor(cursor, size=2)
        after_at = _parse_time(at_text)
    params = {
        "uprn": uprn,
        "room_id": room_id,
        "start": start,
        "end": end,
        "after_at": after_at,
        "after_sensor": after_sensor,
        "limit": limit + 1,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(RAW_READINGS, params).fetchall()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1]["recorded_at"].isoformat(), rows[-1]["sensor_id"]])
    for row in rows:
        row["recorded_at"] = row["recorded_at"].astimezone(zone)
    return ReadingPage(
        time_zone=str(zone.key),
        items=[Reading.model_validate(r) for r in rows],
        next_cursor=next_cursor,
    )


def hourly_readings(
    conn: psycopg.Connection[Any],
    *,
    uprn: int,
    room_id: int | None,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    limit: int,
    cursor: str | None,
) -> HourlyPage:
    facts = conn.execute(HOME_FACTS, (uprn,)).fetchone()
    if facts is None:
        raise LookupError(uprn)
    borough_code, factor = facts[0], facts[1] or DEFAULT_TEMPERATURE_FACTOR
    after_at, after_room = EPOCH, 0
    if cursor is not None:
        at_text, room_text = decode_cursor(cursor, size=2)
        after_at = _parse_time(at_text)
        if not room_text.isdigit() or len(room_text) > 18:
            raise InvalidRequestError("the cursor is not one this API returned")
        after_room = int(room_text)
    params = {
        "uprn": uprn,
        "room_id": room_id,
        "start": start,
        "end": end,
        "tz": zone.key,
        "borough_code": borough_code,
        "after_at": after_at,
        "after_room": after_room,
        "limit": limit + 1,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(HOURLY_READINGS, params).fetchall()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1]["hour_start"].isoformat(), rows[-1]["room_id"]])
    _add_derived(rows, float(factor))
    for row in rows:
        row["hour_start"] = row["hour_start"].astimezone(zone)
    return HourlyPage(
        time_zone=str(zone.key),
        temperature_factor=float(factor),
        items=[HourlyReading.model_validate(r) for r in rows],
        next_cursor=next_cursor,
    )


def _add_derived(rows: list[dict[str, Any]], factor: float) -> None:
    """Dew point, surface temperature and surface RH for every hour, vectorised."""
    if not rows:
        return
    indoor_c = np.array([r["temperature_c"] for r in rows], dtype=np.float64)
    humidity = np.array([r["humidity_pct"] for r in rows], dtype=np.float64)
    outdoor_c = np.array(
        [
            np.nan if r["outdoor_temperature_c"] is None else r["outdoor_temperature_c"]
            for r in rows
        ],
        dtype=np.float64,
    )
    dew = dew_point_c(indoor_c, humidity)
    surface_c = outdoor_c + factor * (indoor_c - outdoor_c)
    surface_rh = relative_humidity_pct(surface_c, vapour_pressure_pa(indoor_c, humidity))
    for row, d, s, rh in zip(rows, dew, surface_c, surface_rh, strict=True):
        row["dew_point_c"] = _finite(d)
        row["surface_temperature_c"] = _finite(s)
        row["surface_humidity_pct"] = _finite(rh)
        if row["outdoor_temperature_c"] is not None:
            row["outdoor_temperature_c"] = float(row["outdoor_temperature_c"])


def _finite(value: np.float64) -> float | None:
    return round(float(value), 2) if np.isfinite(value) else None


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidRequestError("the cursor is not one this API returned") from err
    if parsed.tzinfo is None:
        raise InvalidRequestError("the cursor is not one this API returned")
    return parsed
