"""Risk assessments as rows: writing a run's results and reading the latest per home.

`Assessment` mirrors `risk_assessments` column for column, so no mapping code is needed. The
alerts and API layers read assessments only through `latest_for_homes`.

`details` (jsonb) carries the numbers behind the score, for rooms:
    {"room_name", "room_kind", "sensor_ids", "features": {...}, "causes": [...],
     "cause_drops_pct": {...}, "trend_surface_humidity_pct_per_week", "faults": [
         {"sensor_id", "kind", "evidence"}], "temperature_factor", "outdoor_source", ...}
and for homes: {"rooms": [{"room_id", "room_name", "score", "band"}], "worst_room_id",
"faults": [...], "rooms_at_risk"}.

Retention (`thin_assessments`): the job writes a row per room and per home every run, so the
table would grow by tens of gigabytes a winter. Assessments of the last `keep_days` whole UTC
days are all kept. Of older days a subject (a room, or a home as a whole) keeps its last
assessment of each day, and the first and last assessment of every run of equal band, listed
faults and model version: the rows where something changed. Deleting rows strictly inside
such a run moves no run's ends, so the rows kept are the same whichever rows are already gone;
the alert rules, which read the newest row, the ends of band runs and of listed faults
(alerts.home_conditions, alerts.sensor_conditions), see what they saw before, and the risk
history of an old day reads as a daily point plus every change.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Assessment:
    """One row of `risk_assessments`: a room (room_id set) or a whole home (room_id None)."""

    assessment_id: int | None
    assessed_at: dt.datetime
    uprn: int
    room_id: int | None
    window_start: dt.datetime
    window_end: dt.datetime
    score: int
    band: str
    mould_index: float | None
    days_to_m1: float | None
    days_to_m3: float | None
    cause: str
    explanation: str
    coverage: float
    model_version: str
    details: dict[str, Any]


COLUMNS = tuple(f.name for f in fields(Assessment) if f.name != "assessment_id")

LATEST_FOR_HOMES = """
    SELECT DISTINCT ON (a.uprn) a.*
    FROM risk_assessments a
    JOIN homes h ON h.uprn = a.uprn
    WHERE a.room_id IS NULL
      AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s::text)
    ORDER BY a.uprn, a.assessed_at DESC, a.assessment_id DESC
"""

LATEST_FOR_ROOMS = """
    SELECT DISTINCT ON (a.room_id) a.*
    FROM risk_assessments a
    WHERE a.uprn = %(uprn)s AND a.room_id IS NOT NULL
    ORDER BY a.room_id, a.assessed_at DESC, a.assessment_id DESC
"""

CREATE_STAGED = """
    CREATE TEMP TABLE IF NOT EXISTS dw_staged_assessments AS
        SELECT {columns} FROM risk_assessments WITH NO DATA
"""

# A second run at the same instant finds its rows already there and adds none: safe to repeat.
INSERT_STAGED = """
    INSERT INTO risk_assessments ({columns})
    SELECT {columns} FROM dw_staged_assessments s
    WHERE NOT EXISTS (
        SELECT 1 FROM risk_assessments a
        WHERE a.uprn = s.uprn AND a.room_id IS NOT DISTINCT FROM s.room_id
          AND a.assessed_at = s.assessed_at AND a.model_version = s.model_version
    )
"""


def latest_for_homes(
    conn: psycopg.Connection[Any], *, borough: str | None = None
) -> list[Assessment]:
    """The newest home-level assessment of every home (of one borough, if given), by UPRN."""
    with conn.cursor(row_factory=class_row(Assessment)) as cur:
        cur.execute(LATEST_FOR_HOMES, {"borough": borough})
        return cur.fetchall()


def latest_for_rooms(conn: psycopg.Connection[Any], *, uprn: int) -> list[Assessment]:
    """The newest assessment of each room of one home, by room_id."""
    with conn.cursor(row_factory=class_row(Assessment)) as cur:
        cur.execute(LATEST_FOR_ROOMS, {"uprn": uprn})
        return cur.fetchall()


def write_assessments(conn: psycopg.Connection[Any], assessments: Iterable[Assessment]) -> int:
    """Insert assessments not already stored for the same instant; returns how many."""
    column_list = ", ".join(COLUMNS)
    conn.execute(CREATE_STAGED.format(columns=column_list))
    conn.execute("TRUNCATE dw_staged_assessments")
    with conn.cursor() as cur:
        with cur.copy(f"COPY dw_staged_assessments ({column_list}) FROM STDIN") as copy:
            for a in assessments:
                row = astuple(a)[1:]
                copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in row])
        cur.execute(INSERT_STAGED.format(columns=column_list))
        return cur.rowcount


# Advisory-lock namespace of retention (an arbitrary constant): one pass per borough at a time.
RETENTION_LOCK_NAMESPACE = 0x44570001
# Homes whose rows one transaction thins, one UTC day at a time: at a run every 15 minutes that
# is about 250 x 5 subjects x 96 rows, so no transaction holds many locks or much WAL.
RETENTION_BATCH_HOMES = 250
# Days one call thins at most per borough, so a backlog (the first run on a full table) is
# worked off over several scoring runs instead of holding one up.
RETENTION_DAYS_PER_CALL = 2

# Where each borough's thinning has got to (migration 0043): every day before it is done.
SELECT_THINNED_BEFORE = """
    SELECT coalesce(
        (SELECT thinned_before FROM assessment_retention WHERE borough_code = %(borough)s),
        (SELECT min((f.assessed_at AT TIME ZONE 'UTC')::date)
           FROM homes h
           CROSS JOIN LATERAL (SELECT a.assessed_at FROM risk_assessments a
                               WHERE a.uprn = h.uprn ORDER BY a.assessed_at LIMIT 1) f
          WHERE h.borough_code = %(borough)s))
"""
SAVE_THINNED_BEFORE = """
    INSERT INTO assessment_retention (borough_code, thinned_before)
    VALUES (%(borough)s, %(day)s)
    ON CONFLICT (borough_code) DO UPDATE
        SET thinned_before = greatest(assessment_retention.thinned_before, EXCLUDED.thinned_before)
"""
SELECT_BOROUGH_HOMES = "SELECT uprn FROM homes WHERE borough_code = %(borough)s ORDER BY uprn"

# One UTC day of some homes' rows, read with the day before it: a subject's last row of that
# day is never deleted, so it is the day's first row's previous row whatever else has gone (a
# subject with no row the day before keeps its first row of the day). A row is deleted when
# its previous and next rows (the next within its own day, so a day's last row stays) have the
# same band, listed faults (sensor and kind) and model version as it has.
THIN_DAY = """
    WITH keyed AS (
        SELECT a.assessment_id, a.uprn, a.room_id, a.assessed_at,
               jsonb_build_array(a.band, a.model_version, (
                   SELECT jsonb_agg(jsonb_build_array(f ->> 'sensor_id', f ->> 'kind')
                                    ORDER BY f ->> 'sensor_id', f ->> 'kind')
                   FROM jsonb_array_elements(CASE jsonb_typeof(a.details -> 'faults')
                                             WHEN 'array' THEN a.details -> 'faults'
                                             ELSE '[]' END) f)) AS run_key
        FROM risk_assessments a
        WHERE a.uprn = ANY(%(uprns)s)
          AND a.assessed_at >= %(day_before)s AND a.assessed_at < %(day_after)s
    ),
    placed AS (
        SELECT k.assessment_id, k.assessed_at,
               k.run_key IS NOT DISTINCT FROM lag(k.run_key) OVER subject AS same_as_before,
               k.run_key IS NOT DISTINCT FROM lead(k.run_key) OVER subject AS same_as_after
        FROM keyed k
        WINDOW subject AS (PARTITION BY k.uprn, k.room_id ORDER BY k.assessed_at, k.assessment_id)
    )
    DELETE FROM risk_assessments d
    USING placed p
    WHERE d.assessment_id = p.assessment_id AND p.assessed_at >= %(day_start)s
      AND p.same_as_before AND p.same_as_after
"""


def thin_assessments(
    conn: psycopg.Connection[Any],
    *,
    now: dt.datetime,
    keep_days: int,
    borough: str | None = None,
    batch_homes: int = RETENTION_BATCH_HOMES,
    max_days: int = RETENTION_DAYS_PER_CALL,
) -> int:
    """Thin assessments older than `keep_days` whole UTC days (see the module docstring), at
    most `max_days` days per borough; returns how many rows were deleted.

    Runs in short transactions of its own, so `conn` must be in autocommit mode. A borough
    another process is thinning is skipped. Scoring may run meanwhile: it writes rows at its
    `now`, and a day is thinned only once it is `keep_days` old.
    """
    if not conn.autocommit:
        raise ValueError("thin_assessments() commits batch by batch: pass an autocommit connection")
    if keep_days < 1:
        raise ValueError("keep_days must be at least 1")
    cutoff = now.astimezone(dt.UTC).date() - dt.timedelta(days=keep_days)
    if borough is None:
        boroughs = [r[0] for r in conn.execute("SELECT gss_code FROM boroughs ORDER BY gss_code")]
    else:
        boroughs = [borough]
    return sum(
        _thin_borough(conn, code, cutoff=cutoff, batch_homes=batch_homes, max_days=max_days)
        for code in boroughs
    )


def _thin_borough(
    conn: psycopg.Connection[Any],
    borough: str,
    *,
    cutoff: dt.date,
    batch_homes: int,
    max_days: int,
) -> int:
    lock = (RETENTION_LOCK_NAMESPACE, borough)
    row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", lock).fetchone()
    if row is None or not row[0]:
        logger.info("assessment retention: borough %s is being thinned elsewhere", borough)
        return 0
    try:
        found = conn.execute(SELECT_THINNED_BEFORE, {"borough": borough}).fetchone()
        first: dt.date | None = None if found is None else found[0]
        if first is None or first >= cutoff:
            return 0
        uprns = [r[0] for r in conn.execute(SELECT_BOROUGH_HOMES, {"borough": borough})]
        deleted = 0
        day = first
        while day < min(cutoff, first + dt.timedelta(days=max_days)):
            start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
            bounds = {
                "day_before": start - dt.timedelta(days=1),
                "day_start": start,
                "day_after": start + dt.timedelta(days=1),
            }
            for i in range(0, len(uprns), batch_homes):
                with conn.transaction():
                    cur = conn.execute(THIN_DAY, {"uprns": uprns[i : i + batch_homes], **bounds})
                    deleted += cur.rowcount
            day += dt.timedelta(days=1)
            conn.execute(SAVE_THINNED_BEFORE, {"borough": borough, "day": day})
        logger.info(
            "assessment retention: borough %s thinned before %s, %d rows deleted",
            borough,
            day,
            deleted,
        )
        return deleted
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", lock)
