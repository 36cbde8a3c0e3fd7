"""Readings written the way ingest writes them, and a fleet's worth of them to write.

`write_batch` is the product's write path: COPY a batch into a temporary staging table, make the
months it touches exist (a no-op on TimescaleDB), then `INSERT ... ON CONFLICT DO NOTHING`, so
a redelivered reading is stored once and the first stored value wins. `build_fleet_readings`
makes a deterministic few weeks of readings with everything that happens in the field:
in-batch redeliveries, a backlog that arrives late, conflicting redeliveries, a sensor gap,
firmware clock jitter, and a span that crosses months and a year.
"""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]

CREATE_STAGING = """
    CREATE TEMPORARY TABLE staged_readings (
        sensor_id     text NOT NULL,
        recorded_at   timestamptz NOT NULL,
        temperature_c real NOT NULL,
        humidity_pct  real NOT NULL,
        battery_pct   real
    ) ON COMMIT DROP
"""
COPY_STAGED = """
    COPY staged_readings (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct)
    FROM STDIN
"""
ENSURE_PARTITIONS = "SELECT dw_ensure_readings_partitions(%s::timestamptz[])"
INSERT_STAGED = """
    INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct)
    SELECT sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct FROM staged_readings
    ON CONFLICT (sensor_id, recorded_at) DO NOTHING
"""

FLEET_START_AT = datetime(2025, 11, 24, tzinfo=UTC)
FLEET_END_AT = datetime(2026, 1, 6, tzinfo=UTC)
READING_INTERVAL = timedelta(minutes=20)
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class Reading:
    sensor_id: str
    recorded_at: datetime
    temperature_c: float
    humidity_pct: float
    battery_pct: float | None

    @property
    def key(self) -> tuple[str, datetime]:
        return (self.sensor_id, self.recorded_at)

    def as_row(self) -> tuple[str, datetime, float, float, float | None]:
        return (
            self.sensor_id,
            self.recorded_at,
            self.temperature_c,
            self.humidity_pct,
            self.battery_pct,
        )


@dataclass(frozen=True, slots=True)
class FleetReadings:
    """What arrives, in arrival order, and what must end up stored."""

    on_time_batches: list[list[Reading]]
    late_batches: list[list[Reading]]
    stored: dict[tuple[str, datetime], Reading]


def as_real(value: float) -> float:
    """The single-precision value a `real` column holds, and aggregates, for `value`."""
    packed: float = struct.unpack("f", struct.pack("f", value))[0]
    return packed


def write_batch(conn: Conn, readings: Sequence[Reading]) -> int:
    """Write one batch as ingest does, in its own transaction; return how many rows were new.

    `conn` must be idle (autocommit, or between transactions): the staging table is dropped when
    the batch's transaction commits, which a savepoint inside an open transaction would not do.
    """
    months = sorted(
        {datetime(r.recorded_at.year, r.recorded_at.month, 1, tzinfo=UTC) for r in readings}
    )
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(CREATE_STAGING)
        with cur.copy(COPY_STAGED) as copy:
            for reading in readings:
                copy.write_row(reading.as_row())
        cur.execute(ENSURE_PARTITIONS, (months,))
        cur.execute(INSERT_STAGED)
        return cur.rowcount


def write_batches(conn: Conn, batches: Iterable[Sequence[Reading]]) -> list[int]:
    """Write batches in order; return the new rows of each."""
    return [write_batch(conn, batch) for batch in batches]


def _in_batches(readings: list[Reading]) -> list[list[Reading]]:
    return [readings[i : i + BATCH_SIZE] for i in range(0, len(readings), BATCH_SIZE)]


def _sensor_readings(rng: random.Random, sensor_id: str, index: int) -> list[Reading]:
    """A bedroom's winter: a daily cycle, a slow battery drain, a firmware clock that wanders."""
    readings: list[Reading] = []
    at = FLEET_START_AT
    battery_pct = 100.0 - 7.0 * index
    # The third sensor was unplugged for two days in December.
    gap = (datetime(2025, 12, 10, tzinfo=UTC), datetime(2025, 12, 12, 6, tzinfo=UTC))
    while at < FLEET_END_AT:
        if not (index == 2 and gap[0] <= at < gap[1]):
            hour = at.hour + at.minute / 60
            daily = math.sin((hour - 9) / 24 * 2 * math.pi)
            jitter = timedelta(seconds=rng.randrange(0, 50))
            readings.append(
                Reading(
                    sensor_id=sensor_id,
                    recorded_at=at + jitter,
                    temperature_c=round(17.5 + index + 2.5 * daily + rng.uniform(-0.4, 0.4), 1),
                    humidity_pct=round(68.0 - 6.0 * daily + rng.uniform(-2.0, 2.0), 1),
                    # The last sensor's firmware does not report its battery.
                    battery_pct=None if index == 3 else round(battery_pct, 1),
                )
            )
            battery_pct = max(0.0, battery_pct - 0.002)
        at += READING_INTERVAL
    return readings


def build_fleet_readings(sensor_ids: Sequence[str], seed: int = 20251124) -> FleetReadings:
    """Readings of a few sensors over six weeks, split into how they arrive."""
    rng = random.Random(seed)
    every = [r for i, s in enumerate(sensor_ids) for r in _sensor_readings(rng, s, i)]
    every.sort(key=lambda r: (r.recorded_at, r.sensor_id))
    # The second sensor's gateway was offline for its first week: that week arrives late, as a
    # backlog, after the fleet has moved on (and after old chunks may have been compressed).
    backlog_until = FLEET_START_AT + timedelta(days=7)
    late = [
        r
        for i, r in enumerate(every)
        if (r.sensor_id == sensor_ids[1] and r.recorded_at < backlog_until) or i % 37 == 0
    ]
    late_keys = {r.key for r in late}
    on_time = [r for r in every if r.key not in late_keys]

    # QoS 1 redelivers: every 50th reading comes twice in the same batch, unchanged.
    on_time_arrivals: list[Reading] = []
    for i, reading in enumerate(on_time):
        on_time_arrivals.append(reading)
        if i % 50 == 0:
            on_time_arrivals.append(reading)

    # A late batch also repeats some stored readings with other values (a gateway replaying a
    # corrupted buffer): the value stored first must stay.
    conflicting = [
        replace(r, temperature_c=r.temperature_c + 5.0, humidity_pct=99.0) for r in on_time[::97]
    ]
    late_arrivals = late + conflicting + late[::10]
    rng.shuffle(late_arrivals)

    stored = {r.key: r for r in every}
    return FleetReadings(
        on_time_batches=_in_batches(on_time_arrivals),
        late_batches=_in_batches(late_arrivals),
        stored=stored,
    )
