"""Alerts as officers and borough systems see them: filtered, sorted by urgency, acknowledged.

Urgency: red before amber before info; within a severity, the home at higher risk first; then
the alert waiting longest. Sorting and paging use one key, so pages never skip or repeat.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from api.errors import InvalidRequestError
from api.pagination import Page, decode_cursor, paginate
from api.queries.risk import LATEST_HOME_RISK, RiskOut

ALERT_ROWS = sql.SQL(
    """
    WITH a AS (
        SELECT a.alert_id, a.borough_code, a.uprn, a.room_id, rm.name AS room_name,
               a.sensor_id, a.kind, a.severity, a.status, a.title, a.explanation, a.evidence,
               a.raised_at, a.updated_at, a.acknowledged_at, a.acknowledged_by, a.cleared_at,
               a.clear_reason, h.address, h.postcode,
               {latest_risk} AS risk
        FROM alerts a
        LEFT JOIN homes h ON h.uprn = a.uprn
        LEFT JOIN rooms rm ON rm.room_id = a.room_id
        WHERE ({borough}::text IS NULL OR a.borough_code = {borough})
          AND a.status = ANY({statuses})
          AND ({kind}::text IS NULL OR a.kind = {kind})
          AND ({severity}::text IS NULL OR a.severity = {severity})
          AND ({uprn}::bigint IS NULL OR a.uprn = {uprn})
          AND ({alert_id}::bigint IS NULL OR a.alert_id = {alert_id})
    ), k AS (
        SELECT a.*,
               -CASE a.severity WHEN 'red' THEN 3 WHEN 'amber' THEN 2 ELSE 1 END AS k_severity,
               -coalesce((a.risk ->> 'score')::int, 0) AS k_score
        FROM a
    )
    SELECT * FROM k
    WHERE {after}
    ORDER BY {order}
    LIMIT {limit}
    """
)

SORTS: dict[str, tuple[list[str], list[str], str]] = {
    # name: (key columns, their SQL casts, direction)
    "urgency": (
        ["k_severity", "k_score", "raised_at", "alert_id"],
        ["int", "int", "timestamptz", "bigint"],
        "ASC",
    ),
    "newest": (["raised_at", "alert_id"], ["timestamptz", "bigint"], "DESC"),
    "oldest": (["raised_at", "alert_id"], ["timestamptz", "bigint"], "ASC"),
}


class AlertSort(StrEnum):
    URGENCY = "urgency"
    NEWEST = "newest"
    OLDEST = "oldest"


class AlertStatusFilter(StrEnum):
    ACTIVE = "active"  # open or acknowledged: still needs someone
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    ALL = "all"


STATUSES = {
    AlertStatusFilter.ACTIVE: ["open", "acknowledged"],
    AlertStatusFilter.OPEN: ["open"],
    AlertStatusFilter.ACKNOWLEDGED: ["acknowledged"],
    AlertStatusFilter.CLEARED: ["cleared"],
    AlertStatusFilter.ALL: ["open", "acknowledged", "cleared"],
}


class AlertOut(BaseModel):
    """An alert about a home (damp and mould, cold home) or a sensor (offline, fault, battery)."""

    alert_id: int = Field(examples=[42])
    borough_code: str = Field(examples=["E09000009"])
    uprn: int | None = Field(examples=[100021234567])
    address: str | None
    postcode: str | None
    room_id: int | None
    room_name: str | None = Field(examples=["Bedroom 1"])
    sensor_id: str | None
    kind: str = Field(
        examples=["damp_mould"],
        description="damp_mould, cold_home, sensor_offline, sensor_fault, battery_low or "
        "unplaced_sensor.",
    )
    severity: str = Field(examples=["red"], description="info, amber or red.")
    status: str = Field(examples=["open"], description="open, acknowledged or cleared.")
    title: str
    explanation: str
    evidence: dict[str, Any]
    raised_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    clear_reason: str | None
    risk: RiskOut | None = Field(description="The home's latest risk, for context.")


def list_alerts(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    status: AlertStatusFilter = AlertStatusFilter.ACTIVE,
    kind: str | None = None,
    severity: str | None = None,
    uprn: int | None = None,
    sort: AlertSort = AlertSort.URGENCY,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AlertOut]:
    """One page of a borough's alerts (every borough's for borough=None)."""
    rows = _select(
        conn,
        borough=borough,
        statuses=STATUSES[status],
        kind=kind,
        severity=severity,
        uprn=uprn,
        alert_id=None,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return paginate(rows, limit, SORTS[sort][0], AlertOut)


def get_alert(
    conn: psycopg.Connection[Any], *, alert_id: int, borough: str | None
) -> AlertOut | None:
    rows = _select(
        conn,
        borough=borough,
        statuses=STATUSES[AlertStatusFilter.ALL],
        kind=None,
        severity=None,
        uprn=None,
        alert_id=alert_id,
        sort=AlertSort.NEWEST,
        limit=1,
        cursor=None,
    )
    return AlertOut.model_validate(rows[0]) if rows else None


def _select(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    statuses: list[str],
    kind: str | None,
    severity: str | None,
    uprn: int | None,
    alert_id: int | None,
    sort: AlertSort,
    limit: int,
    cursor: str | None,
) -> list[dict[str, Any]]:
    columns, casts, direction = SORTS[sort]
    after: sql.Composable = sql.SQL("true")
    if cursor is not None:
        values = _parse_key(decode_cursor(cursor, size=len(columns)), casts)
        after = sql.SQL("({}) {} ({})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(">" if direction == "ASC" else "<"),
            sql.SQL(", ").join(
                sql.SQL("{}::{}").format(sql.Literal(v), sql.SQL(t))
                for v, t in zip(values, casts, strict=True)
            ),
        )
    query = ALERT_ROWS.format(
        latest_risk=sql.SQL(LATEST_HOME_RISK),
        borough=sql.Placeholder("borough"),
        statuses=sql.Placeholder("statuses"),
        kind=sql.Placeholder("kind"),
        severity=sql.Placeholder("severity"),
        uprn=sql.Placeholder("uprn"),
        alert_id=sql.Placeholder("alert_id"),
        after=after,
        order=sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(direction)) for c in columns
        ),
        limit=sql.Literal(limit + 1),
    )
    params = {
        "borough": borough,
        "statuses": statuses,
        "kind": kind,
        "severity": severity,
        "uprn": uprn,
        "alert_id": alert_id,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _parse_key(values: list[str], casts: list[str]) -> list[object]:
    """Cursor values typed as the sort key; InvalidRequestError if a cursor was tampered with."""
    parsed: list[object] = []
    try:
        for value, cast in zip(values, casts, strict=True):
            if cast == "timestamptz":
                parsed.append(datetime.fromisoformat(value))
            elif -(2**63) <= int(value) < 2**63:
                parsed.append(int(value))
            else:
                raise ValueError(value)
    except ValueError as err:
        raise InvalidRequestError("the cursor is not one this API returned") from err
    return parsed
