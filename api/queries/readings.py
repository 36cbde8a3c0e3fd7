"""A home's raw readings, each in the room its sensor was in when it was taken.

By hour: api/queries/hourly.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.errors import InvalidRequestError
from api.pagination import decode_cursor, encode_cursor

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


class Reading(BaseModel):
    room_id: int
    sensor_id: str
    recorded_at: datetime = Field(description="When the sensor took it, in the caller's zone.")
    temperature_c: float = Field(examples=[17.4])
    humidity_pct: float = Field(examples=[71.0])
    battery_pct: float | None


class ReadingPage(BaseModel):
    time_zone: str
    items: list[Reading]
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


def _parse_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidRequestError("the cursor is not one this API returned") from err
    if parsed.tzinfo is None:
        raise InvalidRequestError("the cursor is not one this API returned")
    return parsed
