"""Homes, sensors and risk assessments for the alert tests, written as the other parts do."""

from __future__ import annotations

import itertools
import math
import random
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[Any]

BOROUGH = "E09000012"  # Hackney
OTHER_BOROUGH = "E09000022"  # Lambeth

_uprns = itertools.count(random.randrange(10**9, 10**11, 10**6))


def add_home(conn: Conn, *, borough_code: str = BOROUGH, rooms: int = 1) -> int:
    """A home with `rooms` rooms; returns its UPRN."""
    uprn = next(_uprns)
    conn.execute(
        "INSERT INTO homes (uprn, borough_code, address, postcode) VALUES (%s, %s, %s, %s)",
        (uprn, borough_code, f"{uprn % 1000} Test Street", "E8 1AA"),
    )
    for i in range(rooms):
        conn.execute(
            "INSERT INTO rooms (uprn, name, kind) VALUES (%s, %s, 'bedroom')",
            (uprn, f"Bedroom {i + 1}"),
        )
    return uprn


def add_assessment(
    conn: Conn,
    *,
    uprn: int,
    assessed_at: datetime,
    band: str,
    score: int | None = None,
    details: dict[str, Any] | None = None,
    explanation: str = "Humid air meets a cold wall in the bedroom.",
) -> int:
    """A home-level (room_id NULL) risk assessment row, as the scoring job writes it."""
    default_scores = {"green": 10, "amber": 55, "red": 85, "unknown": 0}
    row = conn.execute(
        """
        INSERT INTO risk_assessments (assessed_at, uprn, room_id, window_start, window_end,
            score, band, mould_index, days_to_m1, days_to_m3, cause, explanation, coverage,
            model_version, details)
        VALUES (%s, %s, NULL, %s, %s, %s, %s, 1.2, 10, 40, 'moisture', %s, 0.95, 'test-1', %s)
        RETURNING assessment_id
        """,
        (
            assessed_at,
            uprn,
            assessed_at - timedelta(days=21),
            assessed_at,
            default_scores[band] if score is None else score,
            band,
            explanation,
            Jsonb(details or {}),
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


_sensors = itertools.count(1)


def add_sensor(
    conn: Conn,
    *,
    uprn: int | None = None,
    borough_code: str | None = BOROUGH,
    placed_from: datetime | None = None,
    first_seen_at: datetime | None = None,
    last_seen_at: datetime | None = None,
    battery_pct: float | None = None,
) -> str:
    """A sensor, placed in the home's first room from `placed_from` when `uprn` is given."""
    sensor_id = f"alert-test-{random.randrange(16**8):08x}-{next(_sensors)}"
    conn.execute(
        """
        INSERT INTO sensors (sensor_id, borough_code, first_seen_at, last_seen_at, battery_pct)
        VALUES (%s, %s, %s, %s, %s)
        """,
        (sensor_id, borough_code, first_seen_at, last_seen_at, battery_pct),
    )
    if uprn is not None:
        conn.execute(
            """
            INSERT INTO sensor_placements (sensor_id, room_id, valid_from)
            SELECT %s, min(room_id), %s FROM rooms WHERE uprn = %s
            """,
            (sensor_id, placed_from, uprn),
        )
    return sensor_id


def add_readings(
    conn: Conn,
    *,
    sensor_id: str,
    start: datetime,
    end: datetime,
    temperature_c: float,
    humidity_pct: float = 60.0,
    step: timedelta = timedelta(hours=1),
    daily_swing_c: float = 0.0,
) -> None:
    """Readings every `step` in [start, end), as ingest stores them.

    `daily_swing_c` adds a sine wave over each UTC day (so a whole day's mean is unchanged),
    as a lived-in room has; readings that never move look like a stuck sensor to the model.
    """
    rows = []
    at = start
    while at < end:
        phase = 2 * math.pi * (at.hour + at.minute / 60) / 24
        rows.append(
            (
                sensor_id,
                at,
                temperature_c + daily_swing_c * math.sin(phase),
                humidity_pct - 2 * daily_swing_c * math.sin(phase),
            )
        )
        at += step
    times = [row[1] for row in rows]
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (times,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct) "
            "VALUES (%s, %s, %s, %s)",
            rows,
        )
