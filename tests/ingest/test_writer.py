"""The batch writer on a real PostgreSQL: idempotence, sensors, outdoor rows, rejections."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ingest.batch import Inbound, PreparedBatch, prepare_batch
from ingest.decoders import DEFAULT_LIMITS, DEFAULT_ROUTER
from ingest.writer import BatchResult, prepare_connection, write_batch

pytestmark = pytest.mark.postgres

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection with the session's staging table, as the writer uses it."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        prepare_connection(connection)
        yield connection


@pytest.fixture
def sensor() -> str:
    """A sensor id of this test's own."""
    return f"w-{uuid.uuid4().hex[:10]}"


def native(
    sensor_id: str, at: datetime, temperature_c: float = 20.0, battery: float = 90
) -> Inbound:
    payload = {
        "recorded_at": at.isoformat(),
        "temperature_c": temperature_c,
        "humidity_pct": 55,
        "battery_pct": battery,
    }
    return Inbound(f"dw/v1/readings/{sensor_id}", json.dumps(payload).encode(), NOW.timestamp())


def prepared(messages: list[Inbound]) -> PreparedBatch:
    return prepare_batch(messages, prefix="", router=DEFAULT_ROUTER, limits=DEFAULT_LIMITS)


def commit(conn: psycopg.Connection[Any], messages: list[Inbound]) -> BatchResult:
    with conn.transaction():
        return write_batch(conn, prepared(messages))


def test_redelivered_readings_are_stored_once(db: psycopg.Connection[Any], sensor: str) -> None:
    """The same batch written twice, and a repeat within one batch, leave one row per instant."""
    messages = [native(sensor, NOW - timedelta(minutes=i)) for i in range(10)]
    first = commit(db, [*messages, messages[0]])
    second = commit(db, messages)
    assert (first.stored, first.duplicates) == (10, 1)
    assert (second.stored, second.duplicates) == (0, 10)
    row = db.execute("SELECT count(*) FROM readings WHERE sensor_id = %s", (sensor,)).fetchone()
    assert row == (10,)


def test_unknown_sensor_appears_unplaced_with_its_latest_state(
    db: psycopg.Connection[Any], sensor: str
) -> None:
    """A new sensor is created with no borough; last_recorded_at and battery follow the newest."""
    commit(
        db,
        [
            native(sensor, NOW - timedelta(hours=2), battery=80),
            native(sensor, NOW - timedelta(hours=1), battery=75),
        ],
    )
    commit(db, [native(sensor, NOW - timedelta(hours=3), battery=99)])  # a late backlog entry
    row = db.execute(
        "SELECT borough_code, payload_format, last_recorded_at, battery_pct,"
        " last_seen_at IS NOT NULL,"
        " NOT EXISTS (SELECT 1 FROM sensor_placements p WHERE p.sensor_id = s.sensor_id)"
        " FROM sensors s WHERE sensor_id = %s",
        (sensor,),
    ).fetchone()
    assert row == (None, "native", NOW - timedelta(hours=1), 75.0, True, True)


def test_readings_months_ago_get_their_partition(db: psycopg.Connection[Any], sensor: str) -> None:
    """A backlog from an earlier month lands in that month's partition (plain PostgreSQL)."""
    old = (NOW - timedelta(days=200)).replace(day=15)
    result = commit(db, [native(sensor, old)])
    assert result.stored == 1
    row = db.execute(
        "SELECT tableoid::regclass::text FROM readings WHERE sensor_id = %s", (sensor,)
    ).fetchone()
    assert row is not None
    assert row[0] in ("readings", f"readings_{old:%Y%m}") or row[0].startswith("_timescaledb")


def test_rejections_keep_topic_raw_bytes_decoder_and_reason(
    db: psycopg.Connection[Any], sensor: str
) -> None:
    """A refused message is a row with everything needed to understand it later."""
    bad = Inbound(f"dw/v1/readings/{sensor}", b"\x00\xffnot json", NOW.timestamp())
    result = commit(db, [bad, native(sensor, NOW)])
    assert result.stored == 1
    row = db.execute(
        "SELECT payload, decoder, reason, detail <> '' FROM rejected_messages WHERE topic = %s",
        (bad.topic,),
    ).fetchone()
    assert row == (b"\x00\xffnot json", "native", "malformed", True)


def test_nul_in_a_topic_is_kept_readably(db: psycopg.Connection[Any]) -> None:
    """PostgreSQL text cannot hold NUL: such a topic is escaped, not lost."""
    marker = uuid.uuid4().hex
    result = commit(db, [Inbound(f"x/{marker}\x00y", b"{}", NOW.timestamp())])
    assert [r.reason for r in result.rejected] == ["unknown_topic"]
    row = db.execute(
        "SELECT topic FROM rejected_messages WHERE topic LIKE %s", (f"x/{marker}%",)
    ).fetchone()
    assert row == (f"x/{marker}\\x00y",)


def test_outdoor_rows_upsert_and_unknown_boroughs_are_refused(db: psycopg.Connection[Any]) -> None:
    """Outdoor weather upserts by borough and instant; an unknown GSS code is a rejection."""
    at = (NOW - timedelta(days=3)).replace(minute=0, second=0) + timedelta(
        seconds=uuid.uuid4().int % 3600
    )

    def outdoor(code: str, temperature_c: float) -> Inbound:
        body = {"recorded_at": at.isoformat(), "temperature_c": temperature_c, "humidity_pct": 90}
        return Inbound(f"dw/v1/outdoor/{code}", json.dumps(body).encode(), NOW.timestamp())

    first = commit(db, [outdoor("E09000007", 4.0), outdoor("E09999999", 4.0)])
    second = commit(db, [outdoor("E09000007", 4.5)])
    assert (first.outdoor, [r.reason for r in first.rejected]) == (1, ["unknown_borough"])
    assert second.outdoor == 1
    row = db.execute(
        "SELECT temperature_c, source FROM outdoor_conditions"
        " WHERE borough_code = 'E09000007' AND recorded_at = %s",
        (at,),
    ).fetchone()
    assert row == (4.5, "mqtt")
