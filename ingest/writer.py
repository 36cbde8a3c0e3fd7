"""Write a prepared batch in one transaction: readings, sensors, outdoor rows, rejections.

Readings go by binary COPY into a session-local staging table, then into `readings` with
`ON CONFLICT DO NOTHING`, so a redelivered message is stored once and the statement count per
batch stays constant whatever its size. Sensors are touched once per batch, not per message.
The caller acks the batch's messages only after this function's transaction has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from ingest.batch import PreparedBatch, Rejected

logger = logging.getLogger(__name__)

# Session-local, so replicas never see each other's rows; emptied at every commit.
CREATE_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS staged_readings (
        sensor_id      text NOT NULL,
        recorded_at    timestamptz NOT NULL,
        temperature_c  real NOT NULL,
        humidity_pct   real NOT NULL,
        battery_pct    real,
        received_epoch double precision NOT NULL,
        payload_format text NOT NULL
    ) ON COMMIT DELETE ROWS
"""

COPY_STAGED = """
    COPY staged_readings (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct,
                          received_epoch, payload_format)
    FROM STDIN (FORMAT BINARY)
"""
STAGED_TYPES = ["text", "timestamptz", "float4", "float4", "float4", "float8", "text"]

# dw_ensure_readings_partitions() truncates each timestamp to its UTC month itself, so the
# batch's distinct months are computed here, in the server, without a pass in Python.
ENSURE_PARTITIONS = """
    SELECT dw_ensure_readings_partitions(ARRAY(
        SELECT DISTINCT date_trunc('month', recorded_at, 'UTC') FROM staged_readings))
"""

INSERT_STAGED = """
    INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct,
                          received_at)
    SELECT sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct,
           to_timestamp(received_epoch)
    FROM staged_readings
    ON CONFLICT (sensor_id, recorded_at) DO NOTHING
"""

# Unknown sensors are created unplaced (no placement, no borough) so they can be provisioned.
# Rows are locked in sensor_id order, so two replicas touching the same sensors cannot deadlock.
TOUCH_SENSORS = """
    INSERT INTO sensors AS s (sensor_id, payload_format, first_seen_at, last_seen_at,
                              last_recorded_at, battery_pct)
    SELECT sensor_id, payload_format, to_timestamp(seen_epoch), to_timestamp(seen_epoch),
           recorded_at, battery_pct
    FROM (
        SELECT DISTINCT ON (sensor_id) sensor_id, payload_format, recorded_at, battery_pct,
               max(received_epoch) OVER (PARTITION BY sensor_id) AS seen_epoch
        FROM staged_readings
        ORDER BY sensor_id, recorded_at DESC
    ) latest
    ORDER BY sensor_id
    ON CONFLICT (sensor_id) DO UPDATE SET
        payload_format = EXCLUDED.payload_format,
        first_seen_at = COALESCE(s.first_seen_at, EXCLUDED.first_seen_at),
        last_seen_at = GREATEST(s.last_seen_at, EXCLUDED.last_seen_at),
        last_recorded_at = GREATEST(s.last_recorded_at, EXCLUDED.last_recorded_at),
        battery_pct = CASE
            WHEN s.last_recorded_at IS NULL OR EXCLUDED.last_recorded_at >= s.last_recorded_at
            THEN COALESCE(EXCLUDED.battery_pct, s.battery_pct)
            ELSE s.battery_pct
        END
"""

KNOWN_BOROUGHS = "SELECT gss_code FROM boroughs WHERE gss_code = ANY(%s)"

UPSERT_OUTDOOR = """
    INSERT INTO outdoor_conditions (borough_code, recorded_at, temperature_c, humidity_pct, source)
    VALUES (%s, %s, %s, %s, 'mqtt')
    ON CONFLICT (borough_code, recorded_at) DO UPDATE SET
        temperature_c = EXCLUDED.temperature_c,
        humidity_pct = EXCLUDED.humidity_pct,
        source = EXCLUDED.source
"""

COPY_REJECTED = """
    COPY rejected_messages (received_at, topic, payload, decoder, reason, detail)
    FROM STDIN (FORMAT BINARY)
"""
REJECTED_TYPES = ["timestamptz", "text", "bytea", "text", "text", "text"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    stored: int
    duplicates: int
    rejected: list[Rejected]
    outdoor: int


def prepare_connection(conn: psycopg.Connection[Any]) -> None:
    """Create the session's staging table (once per connection)."""
    with conn.transaction():
        conn.execute(CREATE_STAGING)


def write_batch(conn: psycopg.Connection[Any], batch: PreparedBatch) -> BatchResult:
    """Write `batch` inside the caller's transaction; return what was stored and refused."""
    stored = 0
    rejected = list(batch.rejected)
    with conn.cursor() as cur:
        if batch.readings:
            with cur.copy(COPY_STAGED) as copy:
                copy.set_types(STAGED_TYPES)
                write_row = copy.write_row
                for row in batch.readings:
                    write_row(row)
            # One round trip for the three statements: fewer waits, and fewer chances for the
            # MQTT thread to hold the GIL while this thread's result is ready.
            with conn.pipeline():
                conn.execute(ENSURE_PARTITIONS)
                inserted = conn.execute(INSERT_STAGED)
                conn.execute(TOUCH_SENSORS)
            stored = inserted.rowcount
        outdoor = 0
        if batch.outdoor:
            codes = sorted({row[0] for row in batch.outdoor})
            cur.execute(KNOWN_BOROUGHS, (codes,))
            known = {code for (code,) in cur.fetchall()}
            unknown_sources: dict[int, Rejected] = {}
            params = []
            for code, recorded_at, temperature_c, humidity_pct, source in batch.outdoor:
                if code in known:
                    params.append((code, recorded_at, temperature_c, humidity_pct))
                else:
                    unknown_sources[id(source)] = source._replace(
                        reason="unknown_borough", detail=f"no borough with GSS code {code}"
                    )
            if params:
                cur.executemany(UPSERT_OUTDOOR, params)
                outdoor = len(params)
            rejected.extend(unknown_sources.values())
        if rejected:
            with cur.copy(COPY_REJECTED) as copy:
                copy.set_types(REJECTED_TYPES)
                for r in rejected:
                    copy.write_row(
                        (
                            datetime.fromtimestamp(r.received_at, UTC),
                            _text(r.topic),
                            r.payload,
                            r.decoder,
                            r.reason,
                            _text(r.detail),
                        )
                    )
    return BatchResult(
        stored=stored,
        duplicates=len(batch.readings) - stored,
        rejected=rejected,
        outdoor=outdoor,
    )


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a topic or detail carrying one must still be kept.
    return value.replace("\x00", "\\x00") if "\x00" in value else value
