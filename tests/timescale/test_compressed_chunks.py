"""Late readings still land, once, in a chunk the compression policy has already compressed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from readings_batches import Reading, write_batch

pytestmark = [pytest.mark.timescale, pytest.mark.postgres]

Conn = psycopg.Connection[Any]

WEEK_START_AT = datetime(2025, 6, 2, tzinfo=UTC)
LATE_AT = datetime(2025, 6, 3, 0, 30, tzinfo=UTC)

COMPRESS_CHUNK_AT = """
    SELECT compress_chunk(format('%%I.%%I', chunk_schema, chunk_name)::regclass)
    FROM timescaledb_information.chunks
    WHERE hypertable_name = 'readings' AND range_start <= %(at)s AND %(at)s < range_end
"""
SELECT_CHUNK_COMPRESSED_AT = """
    SELECT is_compressed FROM timescaledb_information.chunks
    WHERE hypertable_name = 'readings' AND range_start <= %(at)s AND %(at)s < range_end
"""
SELECT_SENSOR_READINGS = """
    SELECT recorded_at, temperature_c, humidity_pct, battery_pct
    FROM readings WHERE sensor_id = %s ORDER BY recorded_at
"""


@pytest.fixture
def ts_fresh_conn(fresh_timescale_database_url: str) -> Iterator[Conn]:
    """An autocommit connection to an empty TimescaleDB database of this test's own."""
    with psycopg.connect(fresh_timescale_database_url, autocommit=True) as connection:
        yield connection


def _hourly_week(sensor_id: str) -> list[Reading]:
    return [
        Reading(sensor_id, WEEK_START_AT + timedelta(hours=h), 19.5, 72.5, 88.0)
        for h in range(7 * 24)
    ]


def test_late_reading_into_compressed_chunk_is_stored_once(ts_fresh_conn: Conn) -> None:
    """A late reading and a replayed one, written twice into a compressed chunk, add one row."""
    sensor = f"ts-{uuid.uuid4().hex[:10]}"
    week = _hourly_week(sensor)
    assert write_batch(ts_fresh_conn, week) == len(week)
    with ts_fresh_conn.transaction():
        compressed = ts_fresh_conn.execute(COMPRESS_CHUNK_AT, {"at": LATE_AT}).fetchall()
    assert len(compressed) == 1
    assert ts_fresh_conn.execute(SELECT_CHUNK_COMPRESSED_AT, {"at": LATE_AT}).fetchall() == [
        (True,)
    ]

    late = Reading(sensor, LATE_AT, 21.3, 64.7, 87.0)
    replayed = Reading(sensor, LATE_AT + timedelta(minutes=30), 30.0, 99.0, None)
    batch = [late, replayed, late]
    assert write_batch(ts_fresh_conn, batch) == 1
    assert write_batch(ts_fresh_conn, batch) == 0

    rows = ts_fresh_conn.execute(SELECT_SENSOR_READINGS, (sensor,)).fetchall()
    assert len(rows) == len(week) + 1
    stored = {row[0]: row[1:] for row in rows}
    assert stored[LATE_AT] == (21.3, 64.7, 87.0)
    assert stored[replayed.recorded_at] == (19.5, 72.5, 88.0)
    assert [row[0] for row in rows].count(LATE_AT) == 1
