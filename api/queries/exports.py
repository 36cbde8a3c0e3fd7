"""CSV exports of one borough's data: readings (streamed with COPY) and alerts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

# Each reading under the home and room its sensor was in when it was taken, in UTC.
READINGS_COPY = sql.SQL(
    """
    COPY (
        SELECT rm.uprn, p.room_id, rm.name AS room_name, r.sensor_id,
               to_char(r.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                   AS recorded_at,
               r.temperature_c, r.humidity_pct, r.battery_pct
        FROM homes h
        JOIN rooms rm ON rm.uprn = h.uprn
        JOIN sensor_placements p ON p.room_id = rm.room_id
        JOIN readings r ON r.sensor_id = p.sensor_id
                       AND r.recorded_at >= p.valid_from
                       AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
        WHERE h.borough_code = {borough}
          AND r.recorded_at >= {start} AND r.recorded_at < {end}
        ORDER BY rm.uprn, p.room_id, r.recorded_at
    ) TO STDOUT WITH (FORMAT csv, HEADER)
    """
)

ALERTS = """
    SELECT a.alert_id, a.uprn, h.address, h.postcode, a.room_id, a.sensor_id, a.kind,
           a.severity, a.status, a.title, a.raised_at, a.acknowledged_at, a.acknowledged_by,
           a.cleared_at, a.clear_reason
    FROM alerts a LEFT JOIN homes h ON h.uprn = a.uprn
    WHERE a.borough_code = %s AND a.raised_at >= %s AND a.raised_at < %s
    ORDER BY a.alert_id
"""
ALERT_HEADER = [
    "alert_id", "uprn", "address", "postcode", "room_id", "sensor_id", "kind", "severity",
    "status", "title", "raised_at", "acknowledged_at", "acknowledged_by", "cleared_at",
    "clear_reason",
]  # fmt: skip


def stream_readings_csv(
    pool: ConnectionPool, *, borough: str, start: datetime, end: datetime
) -> Iterator[bytes]:
    """CSV bytes as PostgreSQL produces them: memory stays flat for a borough's full history."""
    query = READINGS_COPY.format(
        borough=sql.Literal(borough), start=sql.Literal(start), end=sql.Literal(end)
    )
    with pool.connection() as conn, conn.cursor() as cur, cur.copy(query) as copy:
        for block in copy:
            yield bytes(block)


def alerts_csv(
    conn: psycopg.Connection[Any], *, borough: str, start: datetime, end: datetime
) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ALERT_HEADER)
    for row in conn.execute(ALERTS, (borough, start, end)):
        writer.writerow(_cell(v) for v in row)
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A cell starting like a formula runs as one in spreadsheets (OWASP "CSV Injection").
        return "'" + value
    return "" if value is None else value
