"""Home-level conditions: damp-and-mould risk from the risk model, and a cold home.

Risk assessments are read here with SQL rather than through `models`, because the rules need
the history of each home's bands (when the current run of amber-or-red began), not only the
latest row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from alerts.observation import Observation
from alerts.policy import AlertPolicy

# For every home with a recent home-level (room_id NULL) assessment whose band is known: the
# latest assessment, its state (risk = amber or red, safe = green), and when the current
# unbroken run of that state began. Only homes at risk or with an open alert are returned.
SELECT_DAMP_STATE = """
    WITH assessed AS (
        SELECT ra.*, h.borough_code,
               CASE WHEN ra.band = 'green' THEN 'safe' ELSE 'risk' END AS state
        FROM risk_assessments ra
        JOIN homes h ON h.uprn = ra.uprn
        WHERE ra.room_id IS NULL
          AND ra.band IN ('green', 'amber', 'red')
          AND ra.assessed_at <= %(now)s
          AND ra.assessed_at > %(now)s - %(lookback)s
          AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
    ),
    latest AS (
        SELECT DISTINCT ON (uprn) * FROM assessed
        ORDER BY uprn, assessed_at DESC, assessment_id DESC
    ),
    last_other AS (
        SELECT l.uprn, max(a.assessed_at) AS other_at
        FROM latest l JOIN assessed a ON a.uprn = l.uprn AND a.state <> l.state
        GROUP BY l.uprn
    )
    SELECT l.assessment_id, l.assessed_at, l.uprn, l.borough_code, l.window_start,
           l.window_end, l.score, l.band, l.mould_index, l.days_to_m1, l.days_to_m3, l.cause,
           l.explanation, l.coverage, l.model_version, l.state,
           (SELECT min(a.assessed_at) FROM assessed a
             WHERE a.uprn = l.uprn AND a.state = l.state
               AND a.assessed_at > coalesce(o.other_at, '-infinity')) AS since
    FROM latest l
    LEFT JOIN last_other o ON o.uprn = l.uprn
    WHERE l.state = 'risk'
       OR EXISTS (SELECT 1 FROM alerts al
                  WHERE al.kind = 'damp_mould' AND al.uprn = l.uprn AND al.status <> 'cleared')
"""

DAMP_TITLES = {
    "amber": "Conditions for mould growth are building up",
    "red": "Mould growth is likely: conditions have favoured it for some time",
}


def damp_observations(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    policy: AlertPolicy,
    borough: str | None = None,
) -> list[Observation]:
    """One observation per home at risk or with an open damp-and-mould alert."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            SELECT_DAMP_STATE,
            {"now": now, "lookback": policy.assessment_lookback, "borough": borough},
        ).fetchall()
    return [_damp_observation(row) for row in rows]


def _damp_observation(row: dict[str, Any]) -> Observation:
    evidence = {
        "assessment_id": row["assessment_id"],
        "assessed_at": row["assessed_at"].isoformat(),
        "window_start": row["window_start"].isoformat(),
        "window_end": row["window_end"].isoformat(),
        "score": row["score"],
        "band": row["band"],
        "mould_index": row["mould_index"],
        "days_to_m1": row["days_to_m1"],
        "days_to_m3": row["days_to_m3"],
        "cause": row["cause"],
        "explanation": row["explanation"],
        "coverage": row["coverage"],
        "model_version": row["model_version"],
        "state_since": row["since"].isoformat(),
    }
    if row["state"] == "risk":
        return Observation(
            kind="damp_mould",
            borough_code=row["borough_code"],
            uprn=row["uprn"],
            sensor_id=None,
            state="risk",
            since=row["since"],
            severity=row["band"],
            title=DAMP_TITLES[row["band"]],
            explanation=row["explanation"],
            evidence=evidence,
        )
    return Observation(
        kind="damp_mould",
        borough_code=row["borough_code"],
        uprn=row["uprn"],
        sensor_id=None,
        state="safe",
        since=row["since"],
        severity="info",
        title="Damp and mould risk has returned to low",
        explanation=(
            f"Every home-level risk assessment since {row['since']:%Y-%m-%d %H:%M} UTC has been "
            f"green (latest score {row['score']})."
        ),
        evidence=evidence,
    )
