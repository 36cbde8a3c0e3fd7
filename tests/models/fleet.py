"""Building homes, rooms, sensors and readings directly in the database for model tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

Conn = psycopg.Connection[Any]


def add_home(
    conn: Conn,
    *,
    uprn: int,
    borough_code: str = "E09000012",
    archetype: str = "unknown",
    temperature_factor: float | None = None,
    rooms: Sequence[tuple[str, str, str]] = (("Bedroom", "bedroom", "s-bed"),),
    placed_from: dt.datetime,
) -> dict[str, int]:
    """A home with rooms (name, kind, sensor_id), each sensor placed from `placed_from`."""
    conn.execute(
        "INSERT INTO homes (uprn, borough_code, archetype, temperature_factor)"
        " VALUES (%s, %s, %s, %s)",
        (uprn, borough_code, archetype, temperature_factor),
    )
    room_ids: dict[str, int] = {}
    for name, kind, sensor_id in rooms:
        row = conn.execute(
            "INSERT INTO rooms (uprn, name, kind) VALUES (%s, %s, %s) RETURNING room_id",
            (uprn, name, kind),
        ).fetchone()
        assert row is not None
        room_ids[name] = int(row[0])
        conn.execute(
            "INSERT INTO sensors (sensor_id, borough_code) VALUES (%s, %s)",
            (sensor_id, borough_code),
        )
        conn.execute(
            "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES (%s, %s, %s)",
            (sensor_id, room_ids[name], placed_from),
        )
    return room_ids


def add_readings(
    conn: Conn,
    sensor_id: str,
    start: dt.datetime,
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
    *,
    interval: dt.timedelta = dt.timedelta(minutes=10),
    received_at: dt.datetime | None = None,
) -> int:
    """Readings every `interval` from `start`; NaN values are left out (a gap).

    `received_at` stamps them as ingest would (default: the transaction's start)."""
    t = np.asarray(temperature_c, dtype=np.float64)
    rh = np.asarray(humidity_pct, dtype=np.float64)
    times = [start + i * interval for i in range(t.size)]
    months = sorted({tm.replace(day=1, hour=0, minute=0, second=0, microsecond=0) for tm in times})
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    conn_now: dt.datetime = row[0]
    written = 0
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY readings (sensor_id, recorded_at, temperature_c, humidity_pct, received_at)"
            " FROM STDIN"
        ) as copy,
    ):
        for tm, a, b in zip(times, t.tolist(), rh.tolist(), strict=True):
            if np.isfinite(a) and np.isfinite(b):
                copy.write_row((sensor_id, tm, a, b, received_at or conn_now))
                written += 1
    return written


def add_outdoor(
    conn: Conn,
    borough_code: str,
    start: dt.datetime,
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
) -> None:
    """Hourly outdoor observations from `start`."""
    t = np.asarray(temperature_c, dtype=np.float64)
    rh = np.asarray(humidity_pct, dtype=np.float64)
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY outdoor_conditions (borough_code, recorded_at, temperature_c, humidity_pct,"
            " source) FROM STDIN"
        ) as copy,
    ):
        for i, (a, b) in enumerate(zip(t.tolist(), rh.tolist(), strict=True)):
            copy.write_row((borough_code, start + dt.timedelta(hours=i), a, b, "test"))
