"""Late readings: folding a reading into hours a room has already integrated.

A reading can reach the database long after its hour was scored: a sensor's backlog after an
outage, an ingest spool replayed when the database came back, a history sent all at once (the
demo). Each run looks for them by receive time, as `store.rollups` does for the hourly rollup:
readings received since its scope's mark less `OVERLAP` (receive-time skew and commit lag),
widened to `REPLAY_LOOKBACK` before an ingest spool replay (a spooled batch keeps its original
receive time), that fall in hours a room has already integrated. Seen again within the overlap,
a reading the last run already took must not count as late: the day rows keep how many readings
each hour held when it was integrated, and a (room, hour) is late only when it holds a different
number now. So a room with no late reading costs this module one count per hour touched by its
newly received readings, and nothing else.

A room with late readings is rewound: its day rows from the day of its earliest late hour on are
deleted, its state is set back to the end of the day before (the snapshot that day's row keeps:
M, the dry-period timer and the last hourly means), and the run integrates it forward from there
with every reading now stored. The result is what one run over all the readings, in their final
order, gives. A room whose day row lacks the snapshot (written before migration 0022) is
integrated again from the start of the history window, once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from models.source import EPOCH, Room, hour_at
from store.rollups import NEVER, OVERLAP, REPLAY_LOOKBACK

logger = logging.getLogger(__name__)

# A run over every borough keeps its own mark; a borough's shard keeps one per borough.
ALL_BOROUGHS = "*"

# The database's clock, not the run's `now` (which may be a simulated instant), is the receive-time
# mark: readings committed after this statement were received after it, less the commit lag.
SELECT_MARK = """
    SELECT statement_timestamp(), m.received_to, m.replays_seen_at, m.replays_recent
    FROM (SELECT 1) AS one LEFT JOIN scoring_marks m ON m.scope = %(scope)s
"""
# Replays not yet looked at: after the last one seen, less the overlap for replays still
# committing then; those of the overlap already looked at are listed by segment id.
SELECT_NEW_REPLAYS = """
    SELECT min(replayed_at), max(replayed_at), coalesce(array_agg(segment_id), '{}')
    FROM ingest_spool_replays
    WHERE replayed_at > %(seen_at)s - %(overlap)s AND NOT segment_id = ANY (%(recent)s)
"""
SELECT_RECENT_REPLAYS = """
    SELECT coalesce(array_agg(segment_id), '{}') FROM ingest_spool_replays
    WHERE replayed_at > %(seen_at)s - %(overlap)s
"""
SAVE_MARK = """
    INSERT INTO scoring_marks (scope, received_to, replays_seen_at, replays_recent, updated_at)
    VALUES (%(scope)s, %(received_to)s, %(seen_at)s, %(recent)s, statement_timestamp())
    ON CONFLICT (scope) DO UPDATE SET
        received_to = EXCLUDED.received_to, replays_seen_at = EXCLUDED.replays_seen_at,
        replays_recent = EXCLUDED.replays_recent, updated_at = EXCLUDED.updated_at
"""

# Per room, the earliest hour it has integrated that now holds a different number of readings,
# among the hours touched by readings received since %(received_since)s. The placement join is
# the one models.source.HOURLY_READINGS integrates with, so both count the same readings.
LATE_HOURS = """
    WITH touched AS (
        SELECT DISTINCT p.room_id,
               floor(extract(epoch FROM r.recorded_at) / 3600)::bigint AS hour
        FROM readings r
        JOIN sensor_placements p ON p.sensor_id = r.sensor_id
             AND r.recorded_at >= p.valid_from
             AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
        JOIN room_model_states s ON s.room_id = p.room_id AND r.recorded_at < s.scored_to
        JOIN rooms ro ON ro.room_id = p.room_id
        JOIN homes h ON h.uprn = ro.uprn
        WHERE r.received_at > %(received_since)s
          AND r.recorded_at >= %(since)s AND r.recorded_at < %(until)s
          AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s::text)
    ),
    counted AS (
        SELECT t.room_id, t.hour, n.readings
        FROM touched t
        -- LATERAL: one index range per touched hour, never a scan of every reading.
        CROSS JOIN LATERAL (
            SELECT count(*) AS readings
            FROM sensor_placements p
            JOIN readings r ON r.sensor_id = p.sensor_id
                 AND r.recorded_at >= p.valid_from
                 AND (p.valid_to IS NULL OR r.recorded_at < p.valid_to)
                 AND r.recorded_at >= to_timestamp(t.hour * 3600)
                 AND r.recorded_at < to_timestamp((t.hour + 1) * 3600)
            WHERE p.room_id = t.room_id
        ) n
    )
    -- The count integrated: 0 without a day row; -1 (never equal) for a row from before the
    -- hour counts were kept. A subquery per touched hour, so the day rows are probed by key.
    SELECT c.room_id, min(c.hour)
    FROM counted c
    WHERE c.readings <> coalesce(
        (SELECT coalesce(d.hour_readings[mod(c.hour, 24) + 1], -1)
         FROM room_daily_conditions d
         WHERE d.room_id = c.room_id AND d.day = DATE '1970-01-01' + (c.hour / 24)::integer),
        0)
    GROUP BY c.room_id
"""

# Each room's last day row before its rewind day: the state at the end of that day.
SELECT_SNAPSHOTS = """
    SELECT w.room_id, s.day, s.mould_index, s.dry_h, s.last_temperature_c, s.last_humidity_pct
    FROM unnest(%(room_ids)s::bigint[], %(days)s::date[]) AS w(room_id, day)
    LEFT JOIN LATERAL (
        SELECT d.day, d.mould_index, d.dry_h, d.last_temperature_c, d.last_humidity_pct
        FROM room_daily_conditions d
        WHERE d.room_id = w.room_id AND d.day < w.day
        ORDER BY d.day DESC
        LIMIT 1
    ) s ON true
"""
DELETE_DAYS_FROM = """
    DELETE FROM room_daily_conditions d
    USING unnest(%(room_ids)s::bigint[], %(days)s::date[]) AS w(room_id, day)
    WHERE d.room_id = w.room_id AND d.day >= w.day
"""


@dataclass(frozen=True, slots=True)
class ReceiveMark:
    """How far one scope's runs have looked for late readings (a row of `scoring_marks`)."""

    scope: str
    received_to: dt.datetime
    replays_seen_at: dt.datetime
    replays_recent: list[str]


@dataclass(frozen=True, slots=True)
class LateReadings:
    """What a run found: each room's earliest late hour, and the mark to save once it is done."""

    first_hour: dict[int, int]  # room_id -> hours since 1970-01-01 UTC
    mark: ReceiveMark


def find_late_readings(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    since: dt.datetime,
    until: dt.datetime,
    overlap: dt.timedelta = OVERLAP,
    replay_lookback: dt.timedelta = REPLAY_LOOKBACK,
) -> LateReadings:
    """Rooms (of one borough, if given) with readings in [since, until) not yet integrated in
    hours they have integrated. Call before integrating; save the mark after."""
    scope = ALL_BOROUGHS if borough is None else borough
    row = conn.execute(SELECT_MARK, {"scope": scope}).fetchone()
    if row is None:  # the LEFT JOIN always returns its one row
        raise psycopg.DataError("scoring_marks query returned no row")
    clock, received_to, seen_at, recent = row
    if received_to is None:
        # The scope's first run looks at everything; its replays so far are folded in with it.
        received_since = NEVER
        seen_at = clock
        recent = _segments(conn, SELECT_RECENT_REPLAYS, {"seen_at": clock, "overlap": overlap})
    else:
        received_since = received_to - overlap
        replays = conn.execute(
            SELECT_NEW_REPLAYS, {"seen_at": seen_at, "overlap": overlap, "recent": recent}
        ).fetchone()
        first_replay, last_replay, new = replays if replays else (None, None, [])
        if first_replay is not None:
            received_since = min(received_since, first_replay - replay_lookback)
            seen_at = max(seen_at, last_replay)
            logger.info(
                "%d ingest spool replays since the last run: looking for late readings"
                " received since %s",
                len(new),
                received_since.isoformat(),
            )
        recent = [
            s
            for s in _segments(
                conn, SELECT_RECENT_REPLAYS, {"seen_at": seen_at, "overlap": overlap}
            )
            if s in set(recent) | set(new)
        ]
    with conn.cursor() as cur:
        cur.execute(
            LATE_HOURS,
            {
                "received_since": received_since,
                "since": since,
                "until": until,
                "borough": borough,
            },
        )
        first_hour = {int(room_id): int(hour) for room_id, hour in cur.fetchall()}
    if first_hour:
        logger.info(
            "late readings in %d rooms (received since %s); they are integrated again from"
            " the day before",
            len(first_hour),
            received_since.isoformat(),
        )
    return LateReadings(first_hour, ReceiveMark(scope, clock, seen_at, list(recent)))


def save_mark(conn: psycopg.Connection[Any], mark: ReceiveMark) -> None:
    """Record that the run's late readings are folded in (in the run's transaction)."""
    conn.execute(
        SAVE_MARK,
        {
            "scope": mark.scope,
            "received_to": mark.received_to,
            "seen_at": mark.replays_seen_at,
            "recent": mark.replays_recent,
        },
    )


def rewind_rooms(
    conn: psycopg.Connection[Any],
    rooms: list[Room],
    first_hour: dict[int, int],
    *,
    since: dt.datetime,
) -> tuple[list[Room], int]:
    """Set rooms with late readings back to the end of the day before their earliest late hour.

    Deletes their day rows from that day on and returns the rooms (in the order given) with the
    carried state of the snapshot, and how many were rewound. `since` (midnight UTC) is the
    start of the history window, where a room without a snapshot starts again.
    """
    late = [r for r in rooms if r.room_id in first_hour and r.scored_to is not None]
    if not late:
        return rooms, 0
    days = [_day(first_hour[r.room_id] // 24) for r in late]
    with conn.cursor() as cur:
        cur.execute(SELECT_SNAPSHOTS, {"room_ids": [r.room_id for r in late], "days": days})
        snapshots = {int(row[0]): row[1:] for row in cur.fetchall()}
    start_day = since.date()
    replaced: dict[int, Room] = {}
    delete_from: list[dt.date] = []
    for room, day in zip(late, days, strict=True):
        snap_day, mould, dry_h, last_t, last_rh = snapshots[room.room_id]
        if snap_day is not None and dry_h is None:
            # A day row from before migration 0022 has no snapshot: start again from scratch.
            replaced[room.room_id] = dataclasses.replace(
                room,
                scored_to=None,
                mould_index=None,
                dry_h=None,
                last_temperature_c=None,
                last_humidity_pct=None,
            )
            delete_from.append(start_day)
            continue
        # No day row before: the room had integrated nothing before that day.
        replaced[room.room_id] = dataclasses.replace(
            room,
            scored_to=hour_at((day - EPOCH.date()).days * 24),
            mould_index=mould,
            dry_h=dry_h,
            last_temperature_c=last_t,
            last_humidity_pct=last_rh,
        )
        delete_from.append(day)
    conn.execute(DELETE_DAYS_FROM, {"room_ids": [r.room_id for r in late], "days": delete_from})
    return [replaced.get(r.room_id, r) for r in rooms], len(late)


def _day(day_number: int) -> dt.date:
    return (EPOCH + dt.timedelta(days=day_number)).date()


def _segments(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> list[str]:
    row = conn.execute(query, params).fetchone()
    return list(row[0]) if row and row[0] else []
