"""What the schema itself guarantees: idempotent readings, partitions, placements, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from store.migrate import timescaledb_enabled

pytestmark = pytest.mark.postgres

Conn = psycopg.Connection[Any]

INSERT_READING = """
    INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (sensor_id, recorded_at) DO NOTHING
"""


def _sensor() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def test_redelivered_reading_is_stored_once(conn: Conn) -> None:
    """The (sensor_id, recorded_at) key makes a second insert of one reading a no-op."""
    sensor = _sensor()
    at = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", ([at],))
    conn.execute(INSERT_READING, (sensor, at, 18.5, 71.0))
    conn.execute(INSERT_READING, (sensor, at, 18.5, 71.0))
    row = conn.execute("SELECT count(*) FROM readings WHERE sensor_id = %s", (sensor,)).fetchone()
    assert row == (1,)


def test_partitions_are_created_for_each_month_a_batch_touches(conn: Conn) -> None:
    """On plain PostgreSQL a batch spanning a new year gets one partition per month."""
    if timescaledb_enabled(conn):
        pytest.skip("TimescaleDB creates its own chunks; covered by the timescale tests")
    months = [datetime(2019, 12, 31, 23, 0, tzinfo=UTC), datetime(2020, 1, 1, 1, 0, tzinfo=UTC)]
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    names = {
        str(r[0])
        for r in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'readings'::regclass"
        )
    }
    assert {"readings_201912", "readings_202001"} <= names
    sensor = _sensor()
    for at in months:
        conn.execute(INSERT_READING, (sensor, at, 20.0, 50.0))
    rows = conn.execute(
        "SELECT tableoid::regclass::text FROM readings WHERE sensor_id = %s ORDER BY recorded_at",
        (sensor,),
    ).fetchall()
    assert [r[0] for r in rows] == ["readings_201912", "readings_202001"]


def test_partition_boundaries_are_utc_months_whatever_the_session_zone(conn: Conn) -> None:
    """A session in another time zone still gets partitions cut at UTC midnight."""
    if timescaledb_enabled(conn):
        pytest.skip("TimescaleDB creates its own chunks")
    conn.execute("SET TIME ZONE 'America/New_York'")
    at = datetime(2018, 3, 31, 23, 30, tzinfo=UTC)
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", ([at],))
    sensor = _sensor()
    conn.execute(INSERT_READING, (sensor, at, 20.0, 50.0))
    row = conn.execute(
        "SELECT tableoid::regclass::text FROM readings WHERE sensor_id = %s", (sensor,)
    ).fetchone()
    assert row == ("readings_201803",)


def test_reading_outside_any_partition_is_refused_not_lost_silently(conn: Conn) -> None:
    """Without its partition an insert fails loudly, so writers must ensure partitions first."""
    if timescaledb_enabled(conn):
        pytest.skip("TimescaleDB creates its own chunks")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(INSERT_READING, (_sensor(), datetime(2001, 6, 1, tzinfo=UTC), 20.0, 50.0))
    conn.rollback()


def test_audit_log_refuses_update_delete_and_truncate(conn: Conn) -> None:
    """The audit log is append-only in the database itself."""
    conn.execute(
        "INSERT INTO audit_log (actor, action, subject_type, subject_id) "
        "VALUES ('test', 'viewed', 'home', '1')"
    )
    conn.commit()
    for statement in (
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(statement)
        conn.rollback()
    row = conn.execute("SELECT count(*) FROM audit_log WHERE actor = 'test'").fetchone()
    assert row is not None
    assert row[0] >= 1


def _home_with_rooms(conn: Conn, uprn: int) -> tuple[int, int]:
    conn.execute("INSERT INTO homes (uprn, borough_code) VALUES (%s, 'E09000009')", (uprn,))
    ids = [
        int(r[0])
        for r in conn.execute(
            "INSERT INTO rooms (uprn, name, kind) VALUES (%s, 'Bedroom', 'bedroom'), "
            "(%s, 'Kitchen', 'kitchen') RETURNING room_id",
            (uprn, uprn),
        )
    ]
    return ids[0], ids[1]


def test_overlapping_placements_of_one_sensor_are_refused(conn: Conn) -> None:
    """A sensor is in one room at a time; back-to-back placements are fine."""
    uprn = 900_000_000_000 + int(uuid.uuid4().int % 99_999_999)
    bedroom, kitchen = _home_with_rooms(conn, uprn)
    sensor = _sensor()
    conn.execute("INSERT INTO sensors (sensor_id) VALUES (%s)", (sensor,))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    conn.execute(
        "INSERT INTO sensor_placements (sensor_id, room_id, valid_from, valid_to) "
        "VALUES (%s, %s, %s, %s)",
        (sensor, bedroom, t0, t0 + timedelta(days=10)),
    )
    conn.execute(
        "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES (%s, %s, %s)",
        (sensor, kitchen, t0 + timedelta(days=10)),
    )
    with pytest.raises(psycopg.errors.ExclusionViolation):
        conn.execute(
            "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) VALUES (%s, %s, %s)",
            (sensor, bedroom, t0 + timedelta(days=20)),
        )
    conn.rollback()


def test_one_open_alert_per_home_and_kind(conn: Conn) -> None:
    """A second open damp alert for the same home is refused; after clearing, a new one opens."""
    uprn = 910_000_000_000 + int(uuid.uuid4().int % 99_999_999)
    conn.execute("INSERT INTO homes (uprn, borough_code) VALUES (%s, 'E09000009')", (uprn,))
    insert = (
        "INSERT INTO alerts (borough_code, uprn, kind, severity, title, explanation) "
        "VALUES ('E09000009', %s, 'damp_mould', 'amber', 't', 'e') RETURNING alert_id"
    )
    first = conn.execute(insert, (uprn,)).fetchone()
    assert first is not None
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(insert, (uprn,))
    conn.execute(
        "UPDATE alerts SET status = 'cleared', cleared_at = now() WHERE alert_id = %s",
        (first[0],),
    )
    assert conn.execute(insert, (uprn,)).fetchone() is not None
    conn.rollback()
