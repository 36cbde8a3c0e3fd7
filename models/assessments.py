"""Risk assessments as rows: writing a run's results and reading the latest per home.

`Assessment` mirrors `risk_assessments` column for column, so no mapping code is needed. The
alerts and API layers read assessments only through `latest_for_homes`.

`details` (jsonb) carries the numbers behind the score, for rooms:
    {"room_name", "room_kind", "sensor_ids", "features": {...}, "causes": [...],
     "cause_drops_pct": {...}, "trend_surface_humidity_pct_per_week", "faults": [
         {"sensor_id", "kind", "evidence"}], "temperature_factor", "outdoor_source", ...}
and for homes: {"rooms": [{"room_id", "room_name", "score", "band"}], "worst_room_id",
"faults": [...], "rooms_at_risk"}.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb


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
