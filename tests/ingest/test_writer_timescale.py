"""Ingest's writer on TimescaleDB: the same SQL, the same outcome as on plain PostgreSQL.

Runs where `DAMP_TEST_TIMESCALE_URL` names a server with timescaledb preloaded; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ingest.batch import Inbound, prepare_batch
from ingest.decoders import DEFAULT_LIMITS, DEFAULT_ROUTER
from ingest.writer import prepare_connection, write_batch
from store.migrate import migrate

pytestmark = [pytest.mark.postgres, pytest.mark.timescale]


@pytest.fixture(scope="module")
def timescale_url() -> Iterator[str]:
    """A migrated database of this module's own on the TimescaleDB server."""
    admin = os.environ.get("DAMP_TEST_TIMESCALE_URL")
    if not admin:
        pytest.skip("TimescaleDB not configured: set DAMP_TEST_TIMESCALE_URL")
    name = f"dampwatch_ingest_ts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(admin, dbname=name)
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_batches_land_in_the_hypertable_once_with_sensors_and_rejections(
    timescale_url: str,
) -> None:
    """Duplicates stored once, months apart in one batch, unknown sensor created, junk kept."""
    sensor = f"ts-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC).replace(microsecond=0)

    def native(at: datetime) -> Inbound:
        body = {"recorded_at": at.isoformat(), "temperature_c": 18.5, "humidity_pct": 70}
        return Inbound(f"dw/v1/readings/{sensor}", json.dumps(body).encode(), time.time())

    messages = [native(now - timedelta(days=d)) for d in (0, 1, 40, 90)]
    junk = Inbound(f"dw/v1/readings/{sensor}", b"\xff", time.time())
    batch = prepare_batch(
        [*messages, junk], prefix="", router=DEFAULT_ROUTER, limits=DEFAULT_LIMITS
    )
    with psycopg.connect(timescale_url, autocommit=True) as conn:
        prepare_connection(conn)
        with conn.transaction():
            first = write_batch(conn, batch)
        with conn.transaction():
            again = write_batch(conn, batch)
        kind = conn.execute(
            "SELECT count(*) FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'readings'"
        ).fetchone()
        rows: Any = conn.execute(
            "SELECT count(*) FROM readings WHERE sensor_id = %s", (sensor,)
        ).fetchone()
        placed: Any = conn.execute(
            "SELECT borough_code, last_recorded_at FROM sensors WHERE sensor_id = %s", (sensor,)
        ).fetchone()
    assert kind == (1,)
    assert (first.stored, again.stored, again.duplicates) == (4, 0, 4)
    assert [r.reason for r in first.rejected] == ["malformed"]
    assert rows == (4,)
    assert placed == (None, now)
