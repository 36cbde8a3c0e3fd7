"""What migration 0002 builds where TimescaleDB is present: a compressed hypertable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from store.migrate import migrate, timescaledb_enabled

pytestmark = [pytest.mark.timescale, pytest.mark.postgres]

Conn = psycopg.Connection[Any]

SELECT_HYPERTABLE = """
    SELECT num_dimensions, compression_enabled
    FROM timescaledb_information.hypertables
    WHERE hypertable_schema = 'public' AND hypertable_name = 'readings'
"""
SELECT_DIMENSIONS = """
    SELECT column_name, dimension_type, time_interval
    FROM timescaledb_information.dimensions
    WHERE hypertable_schema = 'public' AND hypertable_name = 'readings'
"""
SELECT_COMPRESSION_SETTINGS = """
    SELECT attname, segmentby_column_index, orderby_column_index, orderby_asc
    FROM timescaledb_information.compression_settings
    WHERE hypertable_schema = 'public' AND hypertable_name = 'readings'
    ORDER BY attname
"""
SELECT_COMPRESSION_POLICY = """
    SELECT config ->> 'compress_after', scheduled
    FROM timescaledb_information.jobs
    WHERE proc_name = 'policy_compression'
      AND hypertable_schema = 'public' AND hypertable_name = 'readings'
"""
INSERT_READING = """
    INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (sensor_id, recorded_at) DO NOTHING
"""


def test_migration_makes_readings_a_hypertable_on_recorded_at(ts_conn: Conn) -> None:
    """`readings` is a hypertable with one time dimension on recorded_at in seven-day chunks."""
    assert timescaledb_enabled(ts_conn)
    assert ts_conn.execute(SELECT_HYPERTABLE).fetchall() == [(1, True)]
    assert ts_conn.execute(SELECT_DIMENSIONS).fetchall() == [
        ("recorded_at", "Time", timedelta(days=7))
    ]


def test_readings_are_compressed_by_sensor_in_time_order(ts_conn: Conn) -> None:
    """Compression segments by sensor_id and orders each segment by recorded_at ascending."""
    assert ts_conn.execute(SELECT_COMPRESSION_SETTINGS).fetchall() == [
        ("recorded_at", None, 1, True),
        ("sensor_id", 1, None, None),
    ]


def test_compression_policy_compresses_chunks_after_thirty_days(ts_conn: Conn) -> None:
    """One scheduled compression policy exists for readings, compressing after 30 days."""
    assert ts_conn.execute(SELECT_COMPRESSION_POLICY).fetchall() == [("30 days", True)]


def test_ensure_partitions_is_a_noop_on_a_hypertable(ts_conn: Conn) -> None:
    """dw_ensure_readings_partitions creates nothing; TimescaleDB makes the chunk on insert."""
    months = [datetime(2031, 2, 10, tzinfo=UTC), datetime(2031, 3, 1, tzinfo=UTC)]
    row = ts_conn.execute(
        "SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,)
    ).fetchone()
    assert row == (0,)
    leftovers = ts_conn.execute(
        "SELECT to_regclass('readings_203102'), to_regclass('readings_203103')"
    ).fetchone()
    assert leftovers == (None, None)
    sensor = f"ts-{uuid.uuid4().hex[:10]}"
    ts_conn.execute(INSERT_READING, (sensor, months[0], 20.0, 50.0))
    home = ts_conn.execute(
        "SELECT tableoid::regclass::text FROM readings WHERE sensor_id = %s", (sensor,)
    ).fetchone()
    assert home is not None
    assert str(home[0]).startswith("_timescaledb_internal._hyper_")
    ts_conn.rollback()


def test_second_migration_on_timescaledb_applies_nothing(timescale_database_url: str) -> None:
    """Migrating an already migrated TimescaleDB database is a no-op, not an error."""
    assert migrate(timescale_database_url) == []
