"""Hourly rollups of readings (`readings_hourly`), kept up to date incrementally.

`refresh_hourly(conn, *, now)` folds in every reading received since the last refresh: it finds
the (sensor, UTC hour) pairs those readings fall in, however old (a gateway's late backlog lands
in hours long past), and recomputes each of those hours from `readings`. A rollup row therefore
always equals a GROUP BY over its hour, whatever order or how often its readings came, and
running a refresh again changes nothing. It runs in the caller's transaction; concurrent
refreshes take turns on a transaction-level advisory lock.

Receive times are stamped by ingest's clock, and a batch commits a little after it was received,
so each refresh re-reads `OVERLAP` before its previous watermark. A batch spooled while ingest
could not reach the database keeps its original receive time: a spool replay recorded in
`ingest_spool_replays` since the last refresh widens that refresh to `REPLAY_LOOKBACK` before
the replay. `rebuild_hourly` recomputes a range of hours outright, for anything older.

Every day a refresh or rebuild wrote an hour of is then packed again into
`readings_hourly_days` (one row per sensor and UTC day, an array of its 24 hours per column), in
the same transaction: the layout readers of long spans use (0042_readings_hourly_days.sql).

Readers take hours before `hourly_complete_before(conn)` from the rollup and later ones from
`readings`, so the newest hour is never stale. Why a plain table rather than a TimescaleDB
continuous aggregate: see 0041_readings_hourly.sql.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

logger = logging.getLogger(__name__)

# Receive-time skew and commit lag a refresh tolerates: a reading committed longer than this
# after its receive time (other than by a spool replay) waits for a rebuild.
OVERLAP = timedelta(minutes=15)
# How far before a spool replay a refresh looks for the readings it brought: an ingest outage
# longer than this needs rebuild_hourly over the outage.
REPLAY_LOOKBACK = timedelta(days=7)

LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"dampwatch:readings_hourly").digest()[:8], "big", signed=True
)
LOCK = "SELECT pg_advisory_xact_lock(%s)"

NEVER = datetime.min.replace(tzinfo=UTC)
FOREVER = datetime.max.replace(tzinfo=UTC)

# The aggregates of one (sensor, hour) group of readings `r`, in readings_hourly's column order.
# Sums are taken in double precision: exact for an hour of `real` values.
SELECT_AGGREGATES = """
    count(*)::integer,
    sum(r.temperature_c::float8), min(r.temperature_c), max(r.temperature_c),
    sum(r.humidity_pct::float8), min(r.humidity_pct), max(r.humidity_pct),
    (array_agg(r.battery_pct ORDER BY r.recorded_at DESC)
        FILTER (WHERE r.battery_pct IS NOT NULL))[1]
"""
INSERT_INTO = """
    INSERT INTO readings_hourly AS h (
        sensor_id, hour, n, temperature_sum_c, temperature_min_c, temperature_max_c,
        humidity_sum_pct, humidity_min_pct, humidity_max_pct, last_battery_pct)
"""
# The values of a rollup row (an hour's, or a day's hours' in readings_hourly_days).
VALUE_COLUMNS = (
    "n",
    "temperature_sum_c",
    "temperature_min_c",
    "temperature_max_c",
    "humidity_sum_pct",
    "humidity_min_pct",
    "humidity_max_pct",
    "last_battery_pct",
)
SET_VALUES = ", ".join(f"{c} = EXCLUDED.{c}" for c in VALUE_COLUMNS)
# An hour that came out as it was is left alone, so a second refresh writes nothing.
ON_CONFLICT = f"""
    ON CONFLICT (sensor_id, hour) DO UPDATE SET {SET_VALUES}
    WHERE (h.n, h.temperature_sum_c, h.temperature_min_c, h.temperature_max_c,
           h.humidity_sum_pct, h.humidity_min_pct, h.humidity_max_pct, h.last_battery_pct)
          IS DISTINCT FROM
          (EXCLUDED.n, EXCLUDED.temperature_sum_c, EXCLUDED.temperature_min_c,
           EXCLUDED.temperature_max_c, EXCLUDED.humidity_sum_pct, EXCLUDED.humidity_min_pct,
           EXCLUDED.humidity_max_pct, EXCLUDED.last_battery_pct)
"""

# The days whose hours a statement of this transaction wrote or removed, to be packed again.
CREATE_TOUCHED_DAYS = """
    CREATE TEMP TABLE IF NOT EXISTS dw_rollup_touched_days (sensor_id text, day timestamptz)
    ON COMMIT DELETE ROWS
"""


def _noting_days(statement: str) -> str:
    """`statement` (writing readings_hourly rows, RETURNING their sensor_id and hour), its
    days noted in dw_rollup_touched_days; the result is one row: how many hours it wrote."""
    return f"""
        WITH written AS ({statement}),
        noted AS (
            INSERT INTO dw_rollup_touched_days
            SELECT DISTINCT sensor_id, date_trunc('day', hour, 'UTC') FROM written
        )
        SELECT count(*) FROM written
    """


# Every hour a reading received after %(since)s falls in, recomputed from all its readings.
UPSERT_RECEIVED_SINCE = f"""
    {INSERT_INTO}
    SELECT t.sensor_id, t.hour, {SELECT_AGGREGATES}
    FROM (
        SELECT DISTINCT sensor_id, date_trunc('hour', recorded_at, 'UTC') AS hour
        FROM readings
        WHERE received_at > %(since)s
    ) t
    JOIN readings r ON r.sensor_id = t.sensor_id
                   AND r.recorded_at >= t.hour
                   AND r.recorded_at < t.hour + interval '1 hour'
    GROUP BY t.sensor_id, t.hour
    {ON_CONFLICT}
    RETURNING h.sensor_id, h.hour
"""
# Every hour in [%(start)s, %(end)s) (on hour boundaries), in one pass over its readings.
UPSERT_RECORDED_BETWEEN = f"""
    {INSERT_INTO}
    SELECT r.sensor_id, date_trunc('hour', r.recorded_at, 'UTC'), {SELECT_AGGREGATES}
    FROM readings r
    WHERE r.recorded_at >= %(start)s AND r.recorded_at < %(end)s
    GROUP BY 1, 2
    {ON_CONFLICT}
    RETURNING h.sensor_id, h.hour
"""
DELETE_EMPTY_HOURS = """
    DELETE FROM readings_hourly h
    WHERE h.hour >= %(start)s AND h.hour < %(end)s
      AND NOT EXISTS (
          SELECT 1 FROM readings r
          WHERE r.sensor_id = h.sensor_id
            AND r.recorded_at >= h.hour AND r.recorded_at < h.hour + interval '1 hour')
    RETURNING h.sensor_id, h.hour
"""
NOTE_EVERY_DAY = """
    INSERT INTO dw_rollup_touched_days
    SELECT DISTINCT sensor_id, date_trunc('day', hour, 'UTC') FROM readings_hourly
"""
# Each touched day's 24 hours from readings_hourly, in hour order; an hour without a row is
# n = 0, sums 0, extremes and battery NaN. Days left with no hour at all are removed.
PACK_TOUCHED_DAYS = f"""
    INSERT INTO readings_hourly_days AS d (
        sensor_id, day, n, temperature_sum_c, temperature_min_c, temperature_max_c,
        humidity_sum_pct, humidity_min_pct, humidity_max_pct, last_battery_pct)
    SELECT t.sensor_id, t.day,
           array_agg(coalesce(h.n, 0) ORDER BY g.i),
           array_agg(coalesce(h.temperature_sum_c, 0) ORDER BY g.i),
           array_agg(coalesce(h.temperature_min_c, 'NaN') ORDER BY g.i),
           array_agg(coalesce(h.temperature_max_c, 'NaN') ORDER BY g.i),
           array_agg(coalesce(h.humidity_sum_pct, 0) ORDER BY g.i),
           array_agg(coalesce(h.humidity_min_pct, 'NaN') ORDER BY g.i),
           array_agg(coalesce(h.humidity_max_pct, 'NaN') ORDER BY g.i),
           array_agg(coalesce(h.last_battery_pct, 'NaN') ORDER BY g.i)
    FROM (SELECT DISTINCT sensor_id, day FROM dw_rollup_touched_days) t
    CROSS JOIN generate_series(0, 23) AS g (i)
    LEFT JOIN readings_hourly h ON h.sensor_id = t.sensor_id
                               AND h.hour = t.day + g.i * interval '1 hour'
    GROUP BY t.sensor_id, t.day
    HAVING count(h.hour) > 0
    ON CONFLICT (sensor_id, day) DO UPDATE SET {SET_VALUES}
"""
DELETE_EMPTY_DAYS = """
    DELETE FROM readings_hourly_days d
    USING (SELECT DISTINCT sensor_id, day FROM dw_rollup_touched_days) t
    WHERE d.sensor_id = t.sensor_id AND d.day = t.day
      AND NOT EXISTS (
          SELECT 1 FROM readings_hourly h
          WHERE h.sensor_id = d.sensor_id
            AND h.hour >= d.day AND h.hour < d.day + interval '24 hours')
"""

# The database's clock bounds the watermark: a caller's `now` ahead of it must not skip readings.
SELECT_STATE = """
    SELECT least(%(now)s::timestamptz, statement_timestamp()),
           s.watermark, s.replays_seen_at, s.replays_recent
    FROM (SELECT 1) AS one LEFT JOIN readings_hourly_state s ON true
"""
# Replays not yet folded in: after the last one seen, less the overlap for replays still
# committing then; those of the overlap already folded in are listed by segment id.
SELECT_NEW_REPLAYS = """
    SELECT min(replayed_at), max(replayed_at), coalesce(array_agg(segment_id), '{}')
    FROM ingest_spool_replays
    WHERE replayed_at > %(seen_at)s - %(overlap)s AND NOT segment_id = ANY (%(recent)s)
"""
SELECT_RECENT_REPLAYS = """
    SELECT coalesce(array_agg(segment_id), '{}') FROM ingest_spool_replays
    WHERE replayed_at > %(seen_at)s - %(overlap)s
      AND (segment_id = ANY (%(recent)s) OR segment_id = ANY (%(new)s))
"""
SELECT_REPLAYS_AFTER = """
    SELECT coalesce(array_agg(segment_id), '{}') FROM ingest_spool_replays
    WHERE replayed_at > %(seen_at)s - %(overlap)s
"""
SAVE_STATE = """
    INSERT INTO readings_hourly_state (singleton, watermark, complete_before, replays_seen_at,
                                       replays_recent, refreshed_at)
    VALUES (true, %(watermark)s, date_trunc('hour', %(watermark)s - %(overlap)s, 'UTC'),
            %(seen_at)s, %(recent)s, %(now)s)
    ON CONFLICT (singleton) DO UPDATE SET
        watermark = EXCLUDED.watermark,
        complete_before = EXCLUDED.complete_before,
        replays_seen_at = EXCLUDED.replays_seen_at,
        replays_recent = EXCLUDED.replays_recent,
        refreshed_at = EXCLUDED.refreshed_at
"""
SELECT_COMPLETE_BEFORE = "SELECT max(complete_before) FROM readings_hourly_state"


def refresh_hourly(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    overlap: timedelta = OVERLAP,
    replay_lookback: timedelta = REPLAY_LOOKBACK,
) -> int:
    """Fold readings received since the last refresh into readings_hourly; return rows written.

    The first refresh of a database aggregates every reading it holds.
    """
    conn.execute(LOCK, (LOCK_KEY,))
    conn.execute(CREATE_TOUCHED_DAYS)
    state = conn.execute(SELECT_STATE, {"now": now}).fetchone()
    if state is None:  # the LEFT JOIN always returns its one row
        raise psycopg.DataError("readings_hourly_state query returned no row")
    watermark, previous, seen_at, recent = state
    # Replays are read before the readings, so every replay listed as folded in committed
    # before the statement that folds its readings in.
    if previous is None:
        seen_at = watermark
        recent = _one(conn, SELECT_REPLAYS_AFTER, {"seen_at": seen_at, "overlap": overlap})
        written = _upsert_between(conn, start=NEVER, end=FOREVER)
        # Every day, not only those whose hours changed: the days may never have been packed
        # (a database migrated from before 0042_readings_hourly_days.sql).
        conn.execute(NOTE_EVERY_DAY)
        logger.info("hourly rollups built: %d sensor-hours", written)
    else:
        since = previous - overlap
        replayed = conn.execute(
            SELECT_NEW_REPLAYS, {"seen_at": seen_at, "overlap": overlap, "recent": recent}
        ).fetchone()
        first_replay, last_replay, new = replayed if replayed else (None, None, [])
        if first_replay is not None:
            since = min(since, first_replay - replay_lookback)
            seen_at = max(seen_at, last_replay)
            logger.info(
                "hourly rollups: %d spool replays since the last refresh, re-reading from %s",
                len(new),
                since.isoformat(),
            )
        recent = _one(
            conn,
            SELECT_RECENT_REPLAYS,
            {"seen_at": seen_at, "overlap": overlap, "recent": recent, "new": new},
        )
        written = _count(conn, _noting_days(UPSERT_RECEIVED_SINCE), {"since": since})
        logger.info(
            "hourly rollups: %d sensor-hours written for readings received since %s",
            written,
            since.isoformat(),
        )
    _pack_touched_days(conn)
    conn.execute(
        SAVE_STATE,
        {
            "watermark": watermark,
            "overlap": overlap,
            "seen_at": seen_at,
            "recent": recent,
            "now": now,
        },
    )
    return written


def rebuild_hourly(conn: psycopg.Connection[Any], *, start: datetime, end: datetime) -> int:
    """Recompute every hour overlapping [start, end) from readings; return rows written or
    removed. For what a refresh cannot see: a restore, an import, a long ingest outage."""
    first = _floor_hour(start)
    last = _floor_hour(end)
    if last < end:
        last += timedelta(hours=1)
    conn.execute(LOCK, (LOCK_KEY,))
    conn.execute(CREATE_TOUCHED_DAYS)
    removed = _count(conn, _noting_days(DELETE_EMPTY_HOURS), {"start": first, "end": last})
    written = _upsert_between(conn, start=first, end=last)
    _pack_touched_days(conn)
    return removed + written


def hourly_complete_before(conn: psycopg.Connection[Any]) -> datetime:
    """Hours before this are in readings_hourly; read later ones from readings (NEVER before
    the first refresh)."""
    row = conn.execute(SELECT_COMPLETE_BEFORE).fetchone()
    value = row[0] if row else None
    return value if isinstance(value, datetime) else NEVER


def _upsert_between(conn: psycopg.Connection[Any], *, start: datetime, end: datetime) -> int:
    return _count(conn, _noting_days(UPSERT_RECORDED_BETWEEN), {"start": start, "end": end})


def _pack_touched_days(conn: psycopg.Connection[Any]) -> None:
    conn.execute(PACK_TOUCHED_DAYS)
    conn.execute(DELETE_EMPTY_DAYS)
    conn.execute("DELETE FROM dw_rollup_touched_days")


def _count(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> int:
    row = conn.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def _one(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> list[str]:
    row = conn.execute(query, params).fetchone()
    return list(row[0]) if row and row[0] else []


def _floor_hour(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a rollup range needs times with a time zone")
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
