"""Sensors of a borough: health, where each is placed, placement history, the unplaced ones."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from alerts.policy import DEFAULT_POLICY
from api.pagination import Page, decode_cursor, paginate

# Health in the order an installer should look at it: the first that applies wins.
SENSOR_ROWS = """
    WITH s AS (
        SELECT s.sensor_id, s.borough_code, s.model, s.payload_format, s.first_seen_at,
               s.last_seen_at, s.last_recorded_at, s.battery_pct,
               p.room_id, rm.name AS room_name, rm.uprn, h.address, p.valid_from AS placed_since,
               (SELECT count(*) FROM alerts a
                 WHERE a.sensor_id = s.sensor_id AND a.status <> 'cleared') AS active_alerts,
               EXISTS (SELECT 1 FROM alerts a WHERE a.sensor_id = s.sensor_id
                        AND a.kind = 'sensor_fault' AND a.status <> 'cleared') AS faulty
        FROM sensors s
        LEFT JOIN sensor_placements p ON p.sensor_id = s.sensor_id AND p.valid_to IS NULL
        LEFT JOIN rooms rm ON rm.room_id = p.room_id
        LEFT JOIN homes h ON h.uprn = rm.uprn
        WHERE (%(borough)s::text IS NULL OR s.borough_code = %(borough)s)
          AND (%(sensor_id)s::text IS NULL OR s.sensor_id = %(sensor_id)s)
          AND (%(uprn)s::bigint IS NULL OR rm.uprn = %(uprn)s)
          AND s.sensor_id > %(after)s
    )
    SELECT *,
           CASE WHEN room_id IS NULL THEN 'unplaced'
                WHEN last_seen_at IS NULL OR last_seen_at < %(offline_before)s THEN 'offline'
                WHEN faulty THEN 'fault'
                WHEN battery_pct < %(battery_low_pct)s THEN 'battery_low'
                ELSE 'ok' END AS health
    FROM s
    WHERE (%(health)s::text IS NULL OR
           CASE WHEN room_id IS NULL THEN 'unplaced'
                WHEN last_seen_at IS NULL OR last_seen_at < %(offline_before)s THEN 'offline'
                WHEN faulty THEN 'fault'
                WHEN battery_pct < %(battery_low_pct)s THEN 'battery_low'
                ELSE 'ok' END = %(health)s)
    ORDER BY sensor_id
    LIMIT %(limit)s
"""

PLACEMENT_HISTORY = """
    SELECT p.placement_id, p.room_id, rm.name AS room_name, rm.uprn, p.valid_from, p.valid_to
    FROM sensor_placements p JOIN rooms rm USING (room_id)
    WHERE p.sensor_id = %s
    ORDER BY p.valid_from
"""


class Health(StrEnum):
    OK = "ok"
    UNPLACED = "unplaced"
    OFFLINE = "offline"
    FAULT = "fault"
    BATTERY_LOW = "battery_low"


class SensorOut(BaseModel):
    sensor_id: str = Field(examples=["a84041000181c0d1"])
    borough_code: str | None
    model: str | None
    payload_format: str | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None = Field(description="Last message heard from it.")
    last_recorded_at: datetime | None
    battery_pct: float | None
    room_id: int | None = Field(description="Where it is now; null if unplaced.")
    room_name: str | None
    uprn: int | None
    address: str | None
    placed_since: datetime | None
    active_alerts: int
    health: Health = Field(
        description="unplaced, offline (silent for 6 h), fault, battery_low or ok."
    )


class Placement(BaseModel):
    placement_id: int
    room_id: int
    room_name: str
    uprn: int
    valid_from: datetime
    valid_to: datetime | None


class SensorDetail(SensorOut):
    placements: list[Placement]


def list_sensors(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    now: datetime,
    health: Health | None = None,
    uprn: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[SensorOut]:
    after = decode_cursor(cursor, size=1)[0] if cursor is not None else ""
    rows = _select(
        conn,
        borough=borough,
        now=now,
        health=health,
        uprn=uprn,
        sensor_id=None,
        after=after,
        limit=limit + 1,
    )
    return paginate(rows, limit, ["sensor_id"], SensorOut)


def get_sensor(
    conn: psycopg.Connection[Any], *, sensor_id: str, borough: str | None, now: datetime
) -> SensorDetail | None:
    rows = _select(
        conn,
        borough=borough,
        now=now,
        health=None,
        uprn=None,
        sensor_id=sensor_id,
        after="",
        limit=1,
    )
    if not rows:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        placements = cur.execute(PLACEMENT_HISTORY, (sensor_id,)).fetchall()
    return SensorDetail.model_validate({**rows[0], "placements": placements})


def _select(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    now: datetime,
    health: Health | None,
    uprn: int | None,
    sensor_id: str | None,
    after: str,
    limit: int,
) -> list[dict[str, Any]]:
    params = {
        "borough": borough,
        "sensor_id": sensor_id,
        "uprn": uprn,
        "after": after,
        "offline_before": now - DEFAULT_POLICY.offline_after,
        "battery_low_pct": DEFAULT_POLICY.battery_low_pct,
        "health": None if health is None else health.value,
        "limit": limit,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(SENSOR_ROWS, params).fetchall()
