"""Boroughs, and the figures by borough that regional analysts see: counts, never addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from alerts.policy import DEFAULT_POLICY

BOROUGHS = "SELECT gss_code, name FROM boroughs ORDER BY name"

# One row per borough. Latest home-level band per home via DISTINCT ON over recent assessments.
SUMMARIES = """
    WITH latest AS (
        SELECT DISTINCT ON (r.uprn) r.uprn, r.band, r.days_to_m3
        FROM risk_assessments r
        WHERE r.room_id IS NULL AND r.assessed_at >= %(since)s
        ORDER BY r.uprn, r.assessed_at DESC
    ), homes_by AS (
        SELECT h.borough_code, count(*) AS homes, count(l.uprn) AS homes_scored,
               count(*) FILTER (WHERE l.band = 'red') AS homes_red,
               count(*) FILTER (WHERE l.band = 'amber') AS homes_amber,
               count(*) FILTER (WHERE l.band = 'green') AS homes_green,
               count(*) FILTER (WHERE l.days_to_m3 <= 30) AS homes_mould_within_30_days
        FROM homes h LEFT JOIN latest l USING (uprn)
        GROUP BY h.borough_code
    ), alerts_by AS (
        SELECT borough_code,
               count(*) FILTER (WHERE severity = 'red') AS alerts_red,
               count(*) FILTER (WHERE severity = 'amber') AS alerts_amber,
               count(*) AS alerts_active
        FROM alerts WHERE status <> 'cleared'
        GROUP BY borough_code
    ), sensors_by AS (
        SELECT s.borough_code, count(*) AS sensors,
               count(*) FILTER (WHERE s.last_seen_at IS NULL
                                   OR s.last_seen_at < %(offline_before)s) AS sensors_offline
        FROM sensors s WHERE s.borough_code IS NOT NULL
        GROUP BY s.borough_code
    )
    SELECT b.gss_code, b.name,
           coalesce(h.homes, 0) AS homes, coalesce(h.homes_scored, 0) AS homes_scored,
           coalesce(h.homes_red, 0) AS homes_red, coalesce(h.homes_amber, 0) AS homes_amber,
           coalesce(h.homes_green, 0) AS homes_green,
           coalesce(h.homes_mould_within_30_days, 0) AS homes_mould_within_30_days,
           coalesce(a.alerts_active, 0) AS alerts_active,
           coalesce(a.alerts_red, 0) AS alerts_red, coalesce(a.alerts_amber, 0) AS alerts_amber,
           coalesce(s.sensors, 0) AS sensors, coalesce(s.sensors_offline, 0) AS sensors_offline
    FROM boroughs b
    LEFT JOIN homes_by h ON h.borough_code = b.gss_code
    LEFT JOIN alerts_by a ON a.borough_code = b.gss_code
    LEFT JOIN sensors_by s ON s.borough_code = b.gss_code
    WHERE (%(borough)s::text IS NULL OR b.gss_code = %(borough)s)
    ORDER BY b.name
"""


class BoroughOut(BaseModel):
    gss_code: str = Field(examples=["E09000009"], description="ONS GSS code.")
    name: str = Field(examples=["Ealing"])


class BoroughSummary(BoroughOut):
    """Counts for one borough; no home is named."""

    homes: int
    homes_scored: int = Field(description="Homes with an assessment in the last 30 days.")
    homes_red: int
    homes_amber: int
    homes_green: int
    homes_mould_within_30_days: int = Field(
        description="Homes where visible mould (M >= 3) is projected within 30 days."
    )
    alerts_active: int
    alerts_red: int
    alerts_amber: int
    sensors: int
    sensors_offline: int
    cases_open: int | None = Field(default=None, description="Open Awaab's Law cases.")
    cases_overdue: int | None = Field(
        default=None, description="Open cases with a legal deadline already missed."
    )


def list_boroughs(conn: psycopg.Connection[Any]) -> list[BoroughOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        return [BoroughOut.model_validate(r) for r in cur.execute(BOROUGHS).fetchall()]


def borough_summaries(
    conn: psycopg.Connection[Any], *, borough: str | None, now: datetime
) -> list[BoroughSummary]:
    params = {
        "borough": borough,
        "since": now - DEFAULT_POLICY.assessment_lookback,
        "offline_before": now - DEFAULT_POLICY.offline_after,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(SUMMARIES, params).fetchall()
    return [BoroughSummary.model_validate(r) for r in rows]
