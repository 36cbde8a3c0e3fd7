"""Reading what a run needs from the database: rooms with their state, new hourly readings,
outdoor conditions, and the recent daily rows; and writing back state and days.

A reading belongs to the room its sensor was placed in at `recorded_at` (the join on
`sensor_placements` validity). Hours are counted from 1970-01-01 UTC, so the grid does not
depend on the session's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from models.hourly import (
    DAILY_COLUMNS,
    INTEGER_COLUMNS,
    MAX_COLUMNS,
    MIN_COLUMNS,
    SUM_COLUMNS,
    DailyBlock,
    RoomState,
)
from models.mould_index import MouldState
from models.psychro import FloatArray

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

ROOMS = """
    SELECT r.room_id, r.uprn, r.name, r.kind, h.borough_code, h.archetype,
           h.temperature_factor, s.scored_to, s.mould_index, s.dry_h,
           s.last_temperature_c, s.last_humidity_pct,
           s.fault_kind, s.fault_since, s.fault_evidence, s.fault_sensor_ids,
           (SELECT array_agg(DISTINCT p.sensor_id ORDER BY p.sensor_id)
              FROM sensor_placements p
             WHERE p.room_id = r.room_id AND p.valid_from < %(now)s
               AND (p.valid_to IS NULL OR p.valid_to > %(window_start)s)) AS sensor_ids
    FROM rooms r
    JOIN homes h ON h.uprn = r.uprn
    LEFT JOIN room_model_states s ON s.room_id = r.room_id
    WHERE (%(borough)s::text IS NULL OR h.borough_code = %(borough)s::text)
      AND EXISTS (SELECT 1 FROM sensor_placements p
                  WHERE p.room_id = r.room_id AND p.valid_from < %(now)s)
    ORDER BY r.uprn, r.room_id
"""

# Hourly means of the readings each room has had since its watermark.
HOURLY_READINGS = """
    SELECT w.room_id,
           floor(extract(epoch FROM r.recorded_at) / 3600)::bigint AS hour,
           avg(r.temperature_c)::float8, avg(r.humidity_pct)::float8, count(*),
           (max(r.temperature_c) - min(r.temperature_c))::float8,
           (max(r.humidity_pct) - min(r.humidity_pct))::float8
    FROM unnest(%(room_ids)s::bigint[], %(scored_from)s::timestamptz[]) AS w(room_id, scored_from)
    JOIN sensor_placements p ON p.room_id = w.room_id
    JOIN readings r ON r.sensor_id = p.sensor_id
         AND r.recorded_at >= p.valid_from
         AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
         AND r.recorded_at >= w.scored_from
    WHERE r.recorded_at >= %(since)s AND r.recorded_at < %(until)s
    GROUP BY 1, 2
"""

HOURLY_OUTDOOR = """
    SELECT borough_code, floor(extract(epoch FROM recorded_at) / 3600)::bigint AS hour,
           avg(temperature_c)::float8, avg(humidity_pct)::float8
    FROM outdoor_conditions
    WHERE borough_code = ANY(%(boroughs)s) AND recorded_at >= %(since)s
      AND recorded_at < %(until)s
    GROUP BY 1, 2
"""

DAILY_WINDOW = sql.SQL("""
    SELECT room_id, (day - DATE '1970-01-01') AS day_number, {columns}
    FROM room_daily_conditions
    WHERE room_id = ANY(%(room_ids)s) AND day >= %(first_day)s AND day <= %(last_day)s
""")

STAGE_DAILY = """
    CREATE TEMP TABLE IF NOT EXISTS dw_staged_daily (LIKE room_daily_conditions)
"""
MERGE_DAILY = sql.SQL("""
    INSERT INTO room_daily_conditions AS d SELECT * FROM dw_staged_daily
    ON CONFLICT (room_id, day) DO UPDATE SET {assignments}
""")

STAGE_STATES = """
    CREATE TEMP TABLE IF NOT EXISTS dw_staged_states (LIKE room_model_states)
"""
# A fault stays with the room until its sensors change; NULLs clear it.
UPDATE_FAULTS = """
    UPDATE room_model_states s SET
        fault_kind = f.kind, fault_since = f.since, fault_evidence = f.evidence,
        fault_sensor_ids = f.sensor_ids
    FROM (SELECT * FROM jsonb_to_recordset(%(faults)s::jsonb) AS x(
            room_id bigint, kind text, since timestamptz, evidence jsonb, sensor_ids text[])
         ) f
    WHERE s.room_id = f.room_id
"""

MERGE_STATES = """
    INSERT INTO room_model_states AS s SELECT * FROM dw_staged_states
    ON CONFLICT (room_id) DO UPDATE SET
        scored_to = EXCLUDED.scored_to, mould_index = EXCLUDED.mould_index,
        dry_h = EXCLUDED.dry_h, last_temperature_c = EXCLUDED.last_temperature_c,
        last_humidity_pct = EXCLUDED.last_humidity_pct,
        model_version = EXCLUDED.model_version, updated_at = EXCLUDED.updated_at
"""


@dataclass(frozen=True, slots=True)
class Room:
    room_id: int
    uprn: int
    name: str
    kind: str
    borough_code: str
    archetype: str
    temperature_factor: float | None
    scored_to: dt.datetime | None
    mould_index: float | None
    dry_h: float | None
    last_temperature_c: float | None
    last_humidity_pct: float | None
    fault_kind: str | None
    fault_since: dt.datetime | None
    fault_evidence: dict[str, float] | None
    fault_sensor_ids: list[str] | None
    sensor_ids: list[str] | None


def epoch_hour(at: dt.datetime) -> int:
    return int((at - EPOCH).total_seconds() // 3600)


def hour_at(hour: int) -> dt.datetime:
    return EPOCH + dt.timedelta(hours=hour)


def list_rooms(
    conn: psycopg.Connection[Any],
    *,
    now: dt.datetime,
    window_start: dt.datetime,
    borough: str | None,
) -> list[Room]:
    """Rooms that have (or had) a sensor placed, with their carried state, by home."""
    with conn.cursor() as cur:
        cur.execute(ROOMS, {"now": now, "window_start": window_start, "borough": borough})
        return [Room(*row) for row in cur.fetchall()]


def carried_state(rooms: list[Room]) -> RoomState:
    def column(values: list[float | None], default: float) -> FloatArray:
        return np.array([default if v is None else v for v in values], dtype=np.float64)

    return RoomState(
        MouldState(
            column([r.mould_index for r in rooms], 0.0), column([r.dry_h for r in rooms], 0.0)
        ),
        column([r.last_temperature_c for r in rooms], np.nan),
        column([r.last_humidity_pct for r in rooms], np.nan),
    )


def hourly_readings(
    conn: psycopg.Connection[Any],
    rooms: list[Room],
    *,
    since: dt.datetime,
    until: dt.datetime,
) -> npt.NDArray[np.float64]:
    """Rows (room_id, hour, temperature, humidity, readings, t range, rh range) as an array."""
    with conn.cursor() as cur:
        cur.execute(
            HOURLY_READINGS,
            {
                "room_ids": [r.room_id for r in rooms],
                "scored_from": [max(r.scored_to or since, since) for r in rooms],
                "since": since,
                "until": until,
            },
        )
        rows = cur.fetchall()
    return np.array(rows, dtype=np.float64).reshape(-1, 7)


def hourly_outdoor(
    conn: psycopg.Connection[Any], boroughs: list[str], *, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, int, float, float]]:
    with conn.cursor() as cur:
        cur.execute(HOURLY_OUTDOOR, {"boroughs": boroughs, "since": since, "until": until})
        return [(str(b), int(h), float(t), float(rh)) for b, h, t, rh in cur.fetchall()]


def daily_window(
    conn: psycopg.Connection[Any], room_ids: list[int], *, first_day: int, last_day: int
) -> dict[str, FloatArray]:
    """Daily columns for the rooms (in the order given) over [first_day, last_day]."""
    query = DAILY_WINDOW.format(columns=sql.SQL(", ").join(map(sql.Identifier, DAILY_COLUMNS)))
    days = last_day - first_day + 1
    out = {c: np.full((len(room_ids), days), np.nan) for c in DAILY_COLUMNS}
    position = {room_id: i for i, room_id in enumerate(room_ids)}
    with conn.cursor() as cur:
        cur.execute(
            query,
            {
                "room_ids": room_ids,
                "first_day": (EPOCH + dt.timedelta(days=first_day)).date(),
                "last_day": (EPOCH + dt.timedelta(days=last_day)).date(),
            },
        )
        for room_id, day_number, *values in cur.fetchall():
            i, j = position[room_id], int(day_number) - first_day
            for name, value in zip(DAILY_COLUMNS, values, strict=True):
                out[name][i, j] = np.nan if value is None else value
    return out


# Two runs fill disjoint hours of a day, so the hour counts add element by element.
MERGE_HOUR_READINGS = """
    hour_readings = ARRAY(
        SELECT a + b
        FROM unnest(d.hour_readings, EXCLUDED.hour_readings) WITH ORDINALITY AS u(a, b, i)
        ORDER BY i)
"""


def _merge_expression(column: str) -> sql.Composable:
    ident = sql.Identifier(column)
    if column in SUM_COLUMNS:
        return sql.SQL("{c} = d.{c} + EXCLUDED.{c}").format(c=ident)
    if column in MIN_COLUMNS:
        return sql.SQL("{c} = least(d.{c}, EXCLUDED.{c})").format(c=ident)
    if column in MAX_COLUMNS:
        return sql.SQL("{c} = greatest(d.{c}, EXCLUDED.{c})").format(c=ident)
    return sql.SQL("{c} = coalesce(EXCLUDED.{c}, d.{c})").format(c=ident)


def write_days(conn: psycopg.Connection[Any], room_ids: list[int], daily: DailyBlock) -> int:
    """Add a block's days to `room_daily_conditions` (sums add, extremes compare)."""
    conn.execute(STAGE_DAILY)
    conn.execute("TRUNCATE dw_staged_daily")
    rows_i, days_j = np.nonzero(daily.present)
    names = sql.SQL(", ").join(
        map(sql.Identifier, ("room_id", "day", *DAILY_COLUMNS, "hour_readings"))
    )
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY dw_staged_daily ({}) FROM STDIN").format(names)) as copy:
            for i, j in zip(rows_i.tolist(), days_j.tolist(), strict=True):
                day = (EPOCH + dt.timedelta(days=daily.first_day + j)).date()
                values: list[object] = [room_ids[i], day]
                for name in DAILY_COLUMNS:
                    v = float(daily.columns[name][i, j])
                    if not np.isfinite(v):
                        values.append(None)
                    elif name in INTEGER_COLUMNS:
                        values.append(round(v))
                    else:
                        values.append(v)
                values.append(daily.hour_readings[i, j].tolist())
                copy.write_row(values)
        assignments = sql.SQL(", ").join(
            [*(_merge_expression(c) for c in DAILY_COLUMNS), sql.SQL(MERGE_HOUR_READINGS)]
        )
        cur.execute(MERGE_DAILY.format(assignments=assignments))
    return len(rows_i)


def write_states(
    conn: psycopg.Connection[Any],
    rows: list[tuple[int, dt.datetime, float, float, float | None, float | None]],
    *,
    model_version: str,
    now: dt.datetime,
) -> None:
    """Upsert (room_id, scored_to, M, dry_h, last T, last RH) per room."""
    conn.execute(STAGE_STATES)
    conn.execute("TRUNCATE dw_staged_states")
    with conn.cursor() as cur:
        with cur.copy(
            "COPY dw_staged_states (room_id, scored_to, mould_index, dry_h, last_temperature_c,"
            " last_humidity_pct, model_version, updated_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row((*row, model_version, now))
        cur.execute(MERGE_STATES)


def write_faults(
    conn: psycopg.Connection[Any],
    rows: list[tuple[int, str | None, dt.datetime | None, dict[str, float] | None, list[str]]],
) -> None:
    """Set or clear each room's latched fault (room_id, kind, since, evidence, sensor_ids)."""
    if not rows:
        return
    payload = [
        {
            "room_id": room_id,
            "kind": kind,
            "since": None if since is None else since.isoformat(),
            "evidence": evidence,
            "sensor_ids": sensor_ids,
        }
        for room_id, kind, since, evidence, sensor_ids in rows
    ]
    conn.execute(UPDATE_FAULTS, {"faults": Jsonb(payload)})
