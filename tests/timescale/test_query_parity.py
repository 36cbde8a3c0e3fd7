"""The same readings, written the same way, answer every query alike on both storage paths.

One fleet's readings arrive (in-batch redeliveries, a late backlog, conflicting replays, six
weeks across two month ends and a new year) at a TimescaleDB database and at a plain
PostgreSQL one. On TimescaleDB, chunks older than mid-December are compressed before the late
batches arrive, as the compression policy would have done in production. Each query must give
the same rows on both, and the rows the readings imply.

Averages are compared exactly: `real` values carry 24-bit mantissas, so summing a few dozen of
them in double precision is exact in any order, and both servers then divide the same sum.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from readings_batches import FleetReadings, Reading, as_real, build_fleet_readings, write_batches

from store.migrate import timescaledb_enabled

pytestmark = [pytest.mark.timescale, pytest.mark.postgres]

Conn = psycopg.Connection[Any]
Row = tuple[Any, ...]

COMPRESSED_BEFORE_AT = datetime(2025, 12, 15, tzinfo=UTC)
RANGE_START_AT = datetime(2025, 12, 28, 18, tzinfo=UTC)
RANGE_END_AT = datetime(2026, 1, 2, 6, tzinfo=UTC)

COMPRESS_OLD_CHUNKS = """
    SELECT compress_chunk(chunk) FROM show_chunks('readings', older_than => %s) AS chunk
"""
COUNT_COMPRESSED_CHUNKS = """
    SELECT count(*) FROM timescaledb_information.chunks
    WHERE hypertable_name = 'readings' AND is_compressed
"""
SELECT_COUNT = "SELECT count(*) FROM readings WHERE sensor_id = ANY(%s)"
SELECT_MONTHLY_COUNTS = """
    SELECT sensor_id, date_trunc('month', recorded_at) AS month, count(*)
    FROM readings WHERE sensor_id = ANY(%s)
    GROUP BY sensor_id, month ORDER BY sensor_id, month
"""
SELECT_HOURLY_AVERAGES = """
    SELECT sensor_id, date_trunc('hour', recorded_at) AS hour,
           avg(temperature_c), avg(humidity_pct), count(*)
    FROM readings WHERE sensor_id = ANY(%s)
    GROUP BY sensor_id, hour ORDER BY sensor_id, hour
"""
SELECT_LATEST = """
    SELECT DISTINCT ON (sensor_id)
           sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct
    FROM readings WHERE sensor_id = ANY(%s)
    ORDER BY sensor_id, recorded_at DESC
"""
SELECT_RANGE = """
    SELECT sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct
    FROM readings
    WHERE sensor_id = ANY(%s) AND recorded_at >= %s AND recorded_at < %s
    ORDER BY sensor_id, recorded_at
"""


@dataclass(frozen=True, slots=True)
class WrittenFleet:
    readings: FleetReadings
    sensor_ids: list[str]
    plain_url: str
    timescale_url: str
    plain_new_rows: list[int]
    timescale_new_rows: list[int]

    def query(self, url: str, query: str, *params: object) -> list[Row]:
        with psycopg.connect(url) as conn:
            # date_trunc on timestamptz cuts in the session's zone: pin it on both servers.
            conn.execute("SET TIME ZONE 'UTC'")
            return conn.execute(query, (self.sensor_ids, *params)).fetchall()

    def on_both(self, query: str, *params: object) -> tuple[list[Row], list[Row]]:
        return (
            self.query(self.plain_url, query, *params),
            self.query(self.timescale_url, query, *params),
        )


def _write(conn: Conn, fleet: FleetReadings, *, compress_old_chunks: bool) -> list[int]:
    new_rows = write_batches(conn, fleet.on_time_batches)
    if compress_old_chunks:
        with conn.transaction():
            compressed = conn.execute(COMPRESS_OLD_CHUNKS, (COMPRESSED_BEFORE_AT,)).fetchall()
        assert len(compressed) >= 3
    return new_rows + write_batches(conn, fleet.late_batches)


@pytest.fixture(scope="module")
def written(timescale_database_url: str, database_url: str) -> WrittenFleet:
    """The fleet's readings, written to a TimescaleDB and to a plain PostgreSQL database."""
    with psycopg.connect(database_url) as plain:
        if timescaledb_enabled(plain):
            pytest.skip(
                "DAMP_TEST_DATABASE_URL points at TimescaleDB: parity needs plain PostgreSQL"
            )
    sensor_ids = [f"ts-{uuid.uuid4().hex[:8]}-{n}" for n in range(4)]
    fleet = build_fleet_readings(sensor_ids)
    with psycopg.connect(database_url, autocommit=True) as plain:
        plain_new_rows = _write(plain, fleet, compress_old_chunks=False)
    with psycopg.connect(timescale_database_url, autocommit=True) as timescale:
        timescale_new_rows = _write(timescale, fleet, compress_old_chunks=True)
    return WrittenFleet(
        readings=fleet,
        sensor_ids=sensor_ids,
        plain_url=database_url,
        timescale_url=timescale_database_url,
        plain_new_rows=plain_new_rows,
        timescale_new_rows=timescale_new_rows,
    )


def _stored(written: WrittenFleet) -> Iterator[Reading]:
    return iter(sorted(written.readings.stored.values(), key=lambda r: r.key))


def _month_of(at: datetime) -> datetime:
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def _hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def test_each_batch_stores_the_same_number_of_new_rows(written: WrittenFleet) -> None:
    """Both paths report the same new rows per batch, and every reading is stored once."""
    assert written.plain_new_rows == written.timescale_new_rows
    assert sum(written.timescale_new_rows) == len(written.readings.stored)


def test_counts_match_per_sensor_and_month(written: WrittenFleet) -> None:
    """Total and per-sensor monthly counts agree on both paths and with the readings sent."""
    plain, timescale = written.on_both(SELECT_COUNT)
    assert plain == timescale == [(len(written.readings.stored),)]
    expected: dict[tuple[str, datetime], int] = defaultdict(int)
    for reading in _stored(written):
        expected[(reading.sensor_id, _month_of(reading.recorded_at))] += 1
    plain, timescale = written.on_both(SELECT_MONTHLY_COUNTS)
    assert plain == timescale == [(*key, n) for key, n in sorted(expected.items())]
    assert len(plain) == 4 * 3  # four sensors over November, December and January


def test_hourly_averages_match(written: WrittenFleet) -> None:
    """Per-sensor hourly averages agree exactly on both paths and with the readings sent."""
    hours: dict[tuple[str, datetime], list[Reading]] = defaultdict(list)
    for reading in _stored(written):
        hours[(reading.sensor_id, _hour_of(reading.recorded_at))].append(reading)
    expected = [
        (
            *key,
            _mean([as_real(r.temperature_c) for r in group]),
            _mean([as_real(r.humidity_pct) for r in group]),
            len(group),
        )
        for key, group in sorted(hours.items())
    ]
    plain, timescale = written.on_both(SELECT_HOURLY_AVERAGES)
    assert plain == timescale
    assert plain == expected


def test_latest_reading_per_sensor_matches(written: WrittenFleet) -> None:
    """The newest reading of each sensor is the same row on both paths."""
    latest: dict[str, Reading] = {}
    for reading in _stored(written):
        latest[reading.sensor_id] = reading
    plain, timescale = written.on_both(SELECT_LATEST)
    assert plain == timescale
    assert plain == [r.as_row() for _, r in sorted(latest.items())]


def test_time_range_across_the_new_year_matches(written: WrittenFleet) -> None:
    """A range spanning a month end, a year end and chunk edges returns identical rows."""
    expected = [
        r.as_row() for r in _stored(written) if RANGE_START_AT <= r.recorded_at < RANGE_END_AT
    ]
    plain, timescale = written.on_both(SELECT_RANGE, RANGE_START_AT, RANGE_END_AT)
    assert plain == timescale
    assert plain == expected
    assert {row[1].month for row in plain} == {12, 1}


def test_late_backlog_into_compressed_chunks_reads_back_unchanged(written: WrittenFleet) -> None:
    """Late readings and conflicting replays into compressed chunks read back as first stored."""
    with psycopg.connect(written.timescale_url) as conn:
        compressed = conn.execute(COUNT_COMPRESSED_CHUNKS).fetchone()
    assert compressed is not None
    assert compressed[0] >= 3
    backlog_end_at = datetime(2025, 12, 1, tzinfo=UTC)
    plain, timescale = written.on_both(
        SELECT_RANGE, datetime(2025, 11, 24, tzinfo=UTC), backlog_end_at
    )
    assert plain == timescale
    assert plain == [r.as_row() for r in _stored(written) if r.recorded_at < backlog_end_at]
