"""Risk as the scoring job left it in risk_assessments: latest per home or room, and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

# The latest home-level (room_id NULL) assessment of home `h`, as one jsonb value (NULL when the
# home was never scored) that validates as RiskOut: `(SELECT ... ) AS risk` in a select list.
LATEST_HOME_RISK = """
    (SELECT to_jsonb(lr) FROM (
    SELECT r.assessed_at, r.score, r.band, r.mould_index, r.days_to_m1, r.days_to_m3,
           r.cause, r.explanation, r.coverage, r.model_version
    FROM risk_assessments r
    WHERE r.uprn = h.uprn AND r.room_id IS NULL
    ORDER BY r.assessed_at DESC
    LIMIT 1) lr)
"""

RISK_HISTORY = """
    SELECT r.assessed_at, r.room_id, r.score, r.band, r.mould_index, r.days_to_m1,
           r.days_to_m3, r.cause, r.explanation, r.coverage, r.model_version
    FROM risk_assessments r JOIN homes h USING (uprn)
    WHERE r.uprn = %(uprn)s AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
      AND r.room_id IS NOT DISTINCT FROM %(room_id)s::bigint
      AND r.assessed_at >= %(start)s AND r.assessed_at < %(end)s
    ORDER BY r.assessed_at
"""


class RiskOut(BaseModel):
    """A risk assessment: score 0-100, band, mould index and how soon mould is expected."""

    assessed_at: datetime
    score: int = Field(ge=0, le=100, examples=[72])
    band: str = Field(examples=["red"], description="green, amber, red or unknown.")
    mould_index: float | None = Field(
        description="VTT mould index M on the coldest surface (0 none, 1 microscopic, "
        "3 visible, 6 heavy).",
        examples=[0.8],
    )
    days_to_m1: float | None = Field(
        description="Days until M >= 1 at recent conditions; null if not expected."
    )
    days_to_m3: float | None = Field(
        description="Days until M >= 3 (visible mould) at recent conditions; null if not expected."
    )
    cause: str = Field(
        description="moisture, under_heating, cold_fabric, mixed, none or unknown.",
        examples=["cold_fabric"],
    )
    explanation: str = Field(description="Plain words an officer can repeat to a tenant.")
    coverage: float = Field(ge=0, le=1, description="Share of the window with readings.")
    model_version: str


class RiskPoint(RiskOut):
    room_id: int | None = Field(description="The room; null for the home as a whole.")


def risk_history(
    conn: psycopg.Connection[Any],
    *,
    uprn: int,
    borough: str | None,
    room_id: int | None,
    start: datetime,
    end: datetime,
) -> list[RiskPoint]:
    params = {"uprn": uprn, "borough": borough, "room_id": room_id, "start": start, "end": end}
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(RISK_HISTORY, params)
        return [RiskPoint.model_validate(row) for row in cur.fetchall()]


# The same for room `rm`.
LATEST_ROOM_RISK = """
    (SELECT to_jsonb(lr) FROM (
    SELECT r.assessed_at, r.score, r.band, r.mould_index, r.days_to_m1, r.days_to_m3,
           r.cause, r.explanation, r.coverage, r.model_version
    FROM risk_assessments r
    WHERE r.room_id = rm.room_id
    ORDER BY r.assessed_at DESC
    LIMIT 1) lr)
"""
