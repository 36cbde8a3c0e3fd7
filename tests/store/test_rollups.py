"""Hourly rollups equal a GROUP BY over readings, however and whenever the readings arrived.

The expected hours are computed here in Python from the readings the test wrote (first value
wins for a redelivered reading, `real` values rounded to float32 as PostgreSQL stores them), so
the rollup's SQL is checked against an independent reckoning. Each test has a database of its
own: the rollup's watermark is one per database. The TimescaleDB test runs where
DAMP_TEST_TIMESCALE_URL names a server, with a late backlog landing in a compressed chunk.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from store.migrate import migrate, timescaledb_enabled
from store.rollups import NEVER, hourly_complete_before, rebuild_hourly, refresh_hourly

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]
Hour = tuple[Any, ...]

START_AT = datetime(2026, 1, 30, 20, 0, tzinfo=UTC)  # spans a month end
INSERT_READINGS = """
    INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct,
                          received_at)
    VALUES (%s, %s, %s, %s, %s, coalesce(%s, now()))
    ON CONFLICT (sensor_id, recorded_at) DO NOTHING
"""
SELECT_ROLLUP = """
    SELECT sensor_id, hour, n, temperature_sum_c, temperature_min_c, temperature_max_c,
           humidity_sum_pct, humidity_min_pct, humidity_max_pct, last_battery_pct
    FROM readings_hourly ORDER BY sensor_id, hour
"""
SELECT_ROW_VERSIONS = "SELECT sensor_id, hour, xmin::text FROM readings_hourly ORDER BY 1, 2"
# readings_hourly_days unpacked into hour rows of the same shape (NaN battery is NULL there).
SELECT_UNPACKED_DAYS = """
    SELECT d.sensor_id, d.day + (h.i - 1) * interval '1 hour', h.n, h.temperature_sum_c,
           h.temperature_min_c, h.temperature_max_c, h.humidity_sum_pct, h.humidity_min_pct,
           h.humidity_max_pct, nullif(h.last_battery_pct, 'NaN')
    FROM readings_hourly_days d
    CROSS JOIN LATERAL unnest(d.n, d.temperature_sum_c, d.temperature_min_c,
                              d.temperature_max_c, d.humidity_sum_pct, d.humidity_min_pct,
                              d.humidity_max_pct, d.last_battery_pct)
        WITH ORDINALITY AS h (n, temperature_sum_c, temperature_min_c, temperature_max_c,
                              humidity_sum_pct, humidity_min_pct, humidity_max_pct,
                              last_battery_pct, i)
    WHERE h.n > 0
    ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Reading:
    sensor_id: str
    recorded_at: datetime
    temperature_c: float
    humidity_pct: float
    battery_pct: float | None
    received_at: datetime | None = None


class Fleet:
    """The readings a test wrote, and the hours they imply."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, datetime], Reading] = {}

    def write(self, conn: Conn, readings: Iterable[Reading]) -> None:
        batch = list(readings)
        months = sorted({r.recorded_at for r in batch})
        conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
        with conn.cursor() as cur:
            cur.executemany(
                INSERT_READINGS,
                [
                    (
                        r.sensor_id,
                        r.recorded_at,
                        r.temperature_c,
                        r.humidity_pct,
                        r.battery_pct,
                        r.received_at,
                    )
                    for r in batch
                ],
            )
        for r in batch:
            self.stored.setdefault((r.sensor_id, r.recorded_at), r)
        conn.commit()

    def expected_hours(self) -> list[Hour]:
        hours: dict[tuple[str, datetime], list[Reading]] = {}
        for r in self.stored.values():
            hour = r.recorded_at.replace(minute=0, second=0, microsecond=0)
            hours.setdefault((r.sensor_id, hour), []).append(r)
        rows = []
        for (sensor_id, hour), group in sorted(hours.items()):
            temperatures = [_real(r.temperature_c) for r in group]
            humidities = [_real(r.humidity_pct) for r in group]
            with_battery = [r for r in group if r.battery_pct is not None]
            last = max(with_battery, key=lambda r: r.recorded_at) if with_battery else None
            rows.append(
                (
                    sensor_id,
                    hour,
                    len(group),
                    sum(temperatures),
                    _as_loaded(min(temperatures)),
                    _as_loaded(max(temperatures)),
                    sum(humidities),
                    _as_loaded(min(humidities)),
                    _as_loaded(max(humidities)),
                    None if last is None else _as_loaded(_real(last.battery_pct)),
                )
            )
        return rows


def _real(value: float | None) -> float:
    """The value PostgreSQL stores in a `real` column."""
    return float(np.float32(value))


def _as_loaded(value: float) -> float:
    """A `real` as psycopg hands it back: the shortest decimal that names the float32."""
    return float(str(np.float32(value)))


def _readings(
    sensors: list[str], start: datetime, hours: int, step_min: int, seed: int
) -> list[Reading]:
    rng = np.random.default_rng(seed)
    out = []
    for sensor_id in sensors:
        at = start
        while at < start + timedelta(hours=hours):
            battery = None if rng.random() < 0.3 else round(float(rng.uniform(20, 100)), 1)
            out.append(
                Reading(
                    sensor_id,
                    at,
                    round(float(rng.normal(18, 2)), 2),
                    round(float(rng.uniform(40, 95)), 1),
                    battery,
                )
            )
            at += timedelta(minutes=step_min)
    return out


def _rollup(conn: Conn) -> list[Hour]:
    """The rollup's hours, after checking that the days packed from them hold the same."""
    hours = [tuple(row) for row in conn.execute(SELECT_ROLLUP)]
    assert [tuple(row) for row in conn.execute(SELECT_UNPACKED_DAYS)] == hours
    return hours


def _refresh(conn: Conn, now: datetime | None = None) -> int:
    written = refresh_hourly(conn, now=now or datetime.now(UTC))
    conn.commit()
    return written


@pytest.fixture
def fresh(fresh_database_url: str) -> Iterator[Conn]:
    """A connection to an empty migrated database of this test's own."""
    with psycopg.connect(fresh_database_url) as connection:
        yield connection


def _sensors(n: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"roll-{run}-{i}" for i in range(n)]


def test_rollup_equals_group_by_over_readings(fresh: Conn) -> None:
    """Every (sensor, UTC hour) of the readings becomes one row with its exact aggregates."""
    fleet = Fleet()
    fleet.write(fresh, _readings(_sensors(3), START_AT, hours=30, step_min=7, seed=1))
    assert _refresh(fresh) == len(fleet.expected_hours())
    assert _rollup(fresh) == fleet.expected_hours()


def test_late_backlog_and_duplicates_are_folded_into_past_hours(fresh: Conn) -> None:
    """Readings recorded days ago but received now, and redeliveries, leave the rollup exact."""
    fleet = Fleet()
    sensors = _sensors(2)
    fleet.write(fresh, _readings(sensors, START_AT + timedelta(days=3), 6, 10, seed=2))
    _refresh(fresh)
    backlog = _readings(sensors, START_AT, hours=5, step_min=13, seed=3)
    # Interleaved with hours already rolled up: new readings inside hours that have some.
    inside = _readings(sensors, START_AT + timedelta(days=3, minutes=5), 6, 10, seed=4)
    redelivered = [
        Reading(r.sensor_id, r.recorded_at, r.temperature_c + 5, r.humidity_pct, None)
        for r in backlog[::3]
    ]
    fleet.write(fresh, backlog + inside)
    fleet.write(fresh, redelivered)
    assert _refresh(fresh) > 0
    assert _rollup(fresh) == fleet.expected_hours()


def test_first_refresh_packs_days_of_hours_rolled_up_before_days_were_packed(
    fresh: Conn,
) -> None:
    """A database migrated to 0042 has hours but no packed days, and no refresh state: its
    next refresh packs every day, though not one hour changes."""
    fleet = Fleet()
    fleet.write(fresh, _readings(_sensors(2), START_AT, hours=30, step_min=20, seed=14))
    _refresh(fresh)
    fresh.execute("DELETE FROM readings_hourly_days")
    fresh.execute("DELETE FROM readings_hourly_state")  # as the migration does
    fresh.commit()
    assert _refresh(fresh) == 0
    # 30 hours from 20:00 touch three UTC days, for each of two sensors.
    assert fresh.execute("SELECT count(*) FROM readings_hourly_days").fetchone() == (6,)
    assert _rollup(fresh) == fleet.expected_hours()


def test_second_refresh_changes_nothing(fresh: Conn) -> None:
    """A refresh with nothing new writes no row, not even an identical one."""
    fleet = Fleet()
    fleet.write(fresh, _readings(_sensors(2), START_AT, hours=4, step_min=15, seed=5))
    _refresh(fresh)
    before = [tuple(r) for r in fresh.execute(SELECT_ROW_VERSIONS)]
    assert _refresh(fresh) == 0
    assert [tuple(r) for r in fresh.execute(SELECT_ROW_VERSIONS)] == before
    assert _rollup(fresh) == fleet.expected_hours()


def test_reading_committed_after_a_refresh_it_predates_is_folded_in(fresh: Conn) -> None:
    """A batch received just before a refresh but committed after it is within the overlap."""
    fleet = Fleet()
    sensors = _sensors(1)
    fleet.write(fresh, _readings(sensors, START_AT, hours=2, step_min=30, seed=6))
    _refresh(fresh)
    received_at = datetime.now(UTC) - timedelta(minutes=5)
    fleet.write(
        fresh,
        [Reading(sensors[0], START_AT + timedelta(minutes=7), 30.0, 99.0, 5.0, received_at)],
    )
    assert _refresh(fresh) == 1
    assert _rollup(fresh) == fleet.expected_hours()


def test_spool_replay_widens_the_next_refresh(fresh: Conn) -> None:
    """Readings replayed from ingest's spool keep old receive times and are still folded in."""
    fleet = Fleet()
    sensors = _sensors(2)
    fleet.write(fresh, _readings(sensors, START_AT, hours=3, step_min=20, seed=7))
    _refresh(fresh)
    spooled_at = datetime.now(UTC) - timedelta(days=2)
    spooled = [
        Reading(r.sensor_id, r.recorded_at, r.temperature_c, r.humidity_pct, None, spooled_at)
        for r in _readings(sensors, START_AT + timedelta(hours=10), 2, 20, seed=8)
    ]
    fleet.write(fresh, spooled)
    fresh.execute(
        "INSERT INTO ingest_spool_replays (segment_id, messages) VALUES (%s, %s)",
        (uuid.uuid4().hex, len(spooled)),
    )
    fresh.commit()
    assert _refresh(fresh) == len({(r.sensor_id, r.recorded_at.replace(minute=0)) for r in spooled})
    assert _rollup(fresh) == fleet.expected_hours()
    assert _refresh(fresh) == 0


def test_reading_committed_long_after_receipt_waits_for_a_rebuild(fresh: Conn) -> None:
    """Without a replay record a reading older than the overlap is missed until rebuilt."""
    fleet = Fleet()
    sensors = _sensors(1)
    fleet.write(fresh, _readings(sensors, START_AT, hours=2, step_min=30, seed=9))
    _refresh(fresh)
    late = Reading(sensors[0], START_AT + timedelta(hours=5), 21.0, 60.0, None)
    fleet.write(fresh, [late])
    fresh.execute(
        "UPDATE readings SET received_at = now() - interval '1 day' "
        "WHERE sensor_id = %s AND recorded_at = %s",
        (late.sensor_id, late.recorded_at),
    )
    fresh.commit()
    assert _refresh(fresh) == 0
    assert _rollup(fresh) != fleet.expected_hours()
    assert rebuild_hourly(fresh, start=START_AT, end=START_AT + timedelta(hours=6)) == 1
    fresh.commit()
    assert _rollup(fresh) == fleet.expected_hours()


def test_rebuild_removes_hours_whose_readings_are_gone(fresh: Conn) -> None:
    """A rebuilt range holds exactly the hours its readings imply."""
    fleet = Fleet()
    sensors = _sensors(1)
    fleet.write(fresh, _readings(sensors, START_AT, hours=3, step_min=30, seed=10))
    _refresh(fresh)
    gone = START_AT + timedelta(hours=1)
    fresh.execute(
        "DELETE FROM readings WHERE recorded_at >= %s AND recorded_at < %s",
        (gone, gone + timedelta(hours=1)),
    )
    del_keys = [k for k in fleet.stored if gone <= k[1] < gone + timedelta(hours=1)]
    for key in del_keys:
        del fleet.stored[key]
    assert rebuild_hourly(fresh, start=START_AT, end=START_AT + timedelta(minutes=150)) == 1
    fresh.commit()
    assert _rollup(fresh) == fleet.expected_hours()


def test_complete_before_trails_the_watermark_by_the_overlap(fresh: Conn) -> None:
    """Before any refresh readers must use readings; after one, hours before the mark."""
    assert hourly_complete_before(fresh) == NEVER
    refreshed_at = datetime(2026, 2, 3, 10, 20, tzinfo=UTC)
    _refresh(fresh, now=refreshed_at)
    assert hourly_complete_before(fresh) == datetime(2026, 2, 3, 10, 0, tzinfo=UTC)
    _refresh(fresh, now=refreshed_at + timedelta(minutes=30))
    assert hourly_complete_before(fresh) == datetime(2026, 2, 3, 10, 0, tzinfo=UTC)
    _refresh(fresh, now=refreshed_at + timedelta(minutes=60))
    assert hourly_complete_before(fresh) == datetime(2026, 2, 3, 11, 0, tzinfo=UTC)


def test_refresh_needs_no_particular_session_time_zone(fresh: Conn) -> None:
    """Hours are UTC hours even for a session in a half-hour time zone."""
    fresh.execute("SET TIME ZONE 'Asia/Kolkata'")
    fleet = Fleet()
    fleet.write(fresh, _readings(_sensors(1), START_AT, hours=3, step_min=20, seed=11))
    _refresh(fresh)
    assert _rollup(fresh) == fleet.expected_hours()


@pytest.fixture
def timescale_conn() -> Iterator[Conn]:
    """An empty migrated TimescaleDB database, where DAMP_TEST_TIMESCALE_URL names a server."""
    admin_url = os.environ.get("DAMP_TEST_TIMESCALE_URL")
    if not admin_url:
        pytest.skip("TimescaleDB not configured: set DAMP_TEST_TIMESCALE_URL")
    name = f"dampwatch_rollups_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(admin_url, dbname=name)
    try:
        migrate(url)
        with psycopg.connect(url) as connection:
            yield connection
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.timescale
def test_timescaledb_rollup_takes_a_backlog_into_a_compressed_chunk(timescale_conn: Conn) -> None:
    """On a hypertable, a late backlog into a compressed chunk is folded in exactly."""
    assert timescaledb_enabled(timescale_conn)
    fleet = Fleet()
    sensors = _sensors(2)
    fleet.write(timescale_conn, _readings(sensors, START_AT, hours=12, step_min=10, seed=12))
    timescale_conn.execute(
        "SELECT compress_chunk(c) FROM show_chunks('readings', older_than => %s) c",
        (START_AT + timedelta(days=30),),
    )
    timescale_conn.commit()
    _refresh(timescale_conn)
    backlog = _readings(sensors, START_AT + timedelta(minutes=3), hours=4, step_min=10, seed=13)
    fleet.write(timescale_conn, backlog)
    assert _refresh(timescale_conn) > 0
    assert _rollup(timescale_conn) == fleet.expected_hours()
    assert _refresh(timescale_conn) == 0
