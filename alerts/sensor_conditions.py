"""Sensor-level conditions: offline, battery low, faulty, and heard but never placed.

A sensor's alert belongs to the borough it was provisioned for, or else to the borough of the
home it is placed in. A sensor with neither (heard on the broker, never provisioned) has nobody
to tell in a borough: no alert is raised for it, and `unassigned_sensors` lists it for the
administrators who provision sensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row, dict_row

from alerts.observation import Observation
from alerts.policy import AlertPolicy

# Every sensor with a borough (its own or its current home's), with its current placement.
SELECT_SENSOR_STATE = """
    SELECT s.sensor_id, coalesce(s.borough_code, h.borough_code) AS borough_code,
           ro.uprn, p.room_id, ro.name AS room_name, p.valid_from AS placed_from,
           s.first_seen_at, s.last_seen_at, s.battery_pct, s.created_at
    FROM sensors s
    LEFT JOIN sensor_placements p ON p.sensor_id = s.sensor_id
     AND p.valid_from <= %(now)s AND (p.valid_to IS NULL OR p.valid_to > %(now)s)
    LEFT JOIN rooms ro ON ro.room_id = p.room_id
    LEFT JOIN homes h ON h.uprn = ro.uprn
    WHERE coalesce(s.borough_code, h.borough_code) IS NOT NULL
      AND (%(borough)s::text IS NULL OR coalesce(s.borough_code, h.borough_code) = %(borough)s)
"""
SELECT_UNASSIGNED = """
    SELECT s.sensor_id, s.payload_format, s.model, s.first_seen_at, s.last_seen_at
    FROM sensors s
    WHERE s.borough_code IS NULL
      AND NOT EXISTS (SELECT 1 FROM sensor_placements p
                      WHERE p.sensor_id = s.sensor_id AND p.valid_from <= %(now)s
                        AND (p.valid_to IS NULL OR p.valid_to > %(now)s))
    ORDER BY s.first_seen_at NULLS LAST, s.sensor_id
"""
# The faults listed by each home's latest home-level assessment. The scoring job writes them
# as details->'faults': [{"sensor_id": ..., "kind": ..., ...}, ...]. The latest row is one
# index probe per home: only its details are read, not the lookback's.
SELECT_LATEST_FAULTS = """
    SELECT h.uprn, h.borough_code, l.assessment_id, l.assessed_at, f.fault
    FROM homes h
    CROSS JOIN LATERAL (
        SELECT ra.assessment_id, ra.assessed_at, ra.details
        FROM risk_assessments ra
        WHERE ra.uprn = h.uprn AND ra.room_id IS NULL AND ra.assessed_at <= %(now)s
          AND ra.assessed_at > %(now)s - %(lookback)s
        ORDER BY ra.assessed_at DESC, ra.assessment_id DESC
        LIMIT 1
    ) l
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE WHEN jsonb_typeof(l.details -> 'faults') = 'array' THEN l.details -> 'faults'
             ELSE '[]'::jsonb END) AS f(fault)
    WHERE f.fault ->> 'sensor_id' IS NOT NULL
      AND (%(borough)s::text IS NULL OR h.borough_code = %(borough)s)
"""
# When a sensor stopped being listed as faulty: the first home-level assessment after the last
# one that listed it (NULL while the latest still lists it).
SELECT_FAULT_GONE_SINCE = """
    SELECT min(ra.assessed_at) FROM risk_assessments ra
    WHERE ra.uprn = %(uprn)s AND ra.room_id IS NULL AND ra.assessed_at <= %(now)s
      AND ra.assessed_at > coalesce(
          (SELECT max(x.assessed_at) FROM risk_assessments x
            WHERE x.uprn = %(uprn)s AND x.room_id IS NULL AND x.assessed_at <= %(now)s
              AND x.details -> 'faults' @> jsonb_build_array(
                  jsonb_build_object('sensor_id', %(sensor_id)s::text))),
          '-infinity')
"""


@dataclass(frozen=True, slots=True)
class UnassignedSensor:
    """A sensor heard on the broker with no borough and no placement: for administrators."""

    sensor_id: str
    payload_format: str | None
    model: str | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None


def unassigned_sensors(conn: psycopg.Connection[Any], *, now: datetime) -> list[UnassignedSensor]:
    """Sensors no borough can be told about, oldest first, for provisioning."""
    with conn.cursor(row_factory=class_row(UnassignedSensor)) as cur:
        return cur.execute(SELECT_UNASSIGNED, {"now": now}).fetchall()


def sensor_observations(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    policy: AlertPolicy,
    borough: str | None = None,
) -> list[Observation]:
    """Offline, battery and unplaced observations for every sensor with a borough."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(SELECT_SENSOR_STATE, {"now": now, "borough": borough}).fetchall()
    observations: list[Observation] = []
    for row in rows:
        for obs in (
            _offline(row, now, policy),
            _battery(row, now, policy),
            _unplaced(row, now),
        ):
            if obs is not None:
                observations.append(obs)
    return observations


def _where(row: dict[str, Any]) -> str:
    return f" in {row['room_name']}" if row["room_name"] else ""


def _observation(row: dict[str, Any], **fields: Any) -> Observation:
    return Observation(
        borough_code=row["borough_code"],
        uprn=row["uprn"],
        room_id=row["room_id"],
        sensor_id=row["sensor_id"],
        **fields,
    )


def _offline(row: dict[str, Any], now: datetime, policy: AlertPolicy) -> Observation | None:
    last_seen: datetime | None = row["last_seen_at"]
    if last_seen is None:
        return None
    evidence = {"last_seen_at": last_seen.isoformat(), "placed": row["room_id"] is not None}
    if row["room_id"] is None:
        # A sensor taken out of its home no longer tells anyone about that home.
        return _observation(
            row,
            kind="sensor_offline",
            state="safe",
            since=last_seen,
            severity="info",
            title="The sensor is no longer placed in a home",
            explanation="The sensor has been removed from the home it was monitoring.",
            evidence=evidence,
        )
    if now - last_seen >= policy.offline_after:
        hours = (now - last_seen).total_seconds() / 3600
        return _observation(
            row,
            kind="sensor_offline",
            state="risk",
            since=last_seen + policy.offline_after,
            severity="amber",
            title="A sensor has stopped reporting",
            explanation=(
                f"Nothing has been heard from sensor {row['sensor_id']}{_where(row)} for "
                f"{hours:.0f} hours (last at {last_seen:%Y-%m-%d %H:%M} UTC). Until it "
                "reports again this room's risk cannot be followed."
            ),
            evidence=evidence,
        )
    if now - last_seen <= policy.online_within:
        return _observation(
            row,
            kind="sensor_offline",
            state="safe",
            since=last_seen,
            severity="info",
            title="The sensor is reporting again",
            explanation=f"Sensor reported again at {last_seen:%Y-%m-%d %H:%M} UTC.",
            evidence=evidence,
        )
    return None


def _battery(row: dict[str, Any], now: datetime, policy: AlertPolicy) -> Observation | None:
    battery_pct: float | None = row["battery_pct"]
    if battery_pct is None:
        return None
    evidence = {"battery_pct": battery_pct, "last_seen_at": _iso(row["last_seen_at"])}
    if battery_pct <= policy.battery_low_pct:
        return _observation(
            row,
            kind="battery_low",
            state="risk",
            since=now,
            severity="red" if battery_pct <= policy.battery_red_pct else "amber",
            title="A sensor's battery is running low",
            explanation=(
                f"Sensor {row['sensor_id']}{_where(row)} reports {battery_pct:.0f}% battery: "
                "replace the battery before the sensor stops reporting."
            ),
            evidence=evidence,
        )
    if battery_pct >= policy.battery_ok_pct:
        return _observation(
            row,
            kind="battery_low",
            state="safe",
            since=now,
            severity="info",
            title="The sensor's battery is fine again",
            explanation=f"The sensor now reports {battery_pct:.0f}% battery.",
            evidence=evidence,
        )
    return None


def _unplaced(row: dict[str, Any], now: datetime) -> Observation | None:
    if row["room_id"] is not None:
        return _observation(
            row,
            kind="unplaced_sensor",
            state="safe",
            since=row["placed_from"],
            severity="info",
            title="The sensor has been placed",
            explanation=f"The sensor was placed{_where(row)} from {row['placed_from']:%Y-%m-%d}.",
            evidence={"placed_from": row["placed_from"].isoformat()},
        )
    if row["last_seen_at"] is None:
        return None  # provisioned but never heard: nothing is arriving unplaced
    heard_since: datetime = row["first_seen_at"] or row["created_at"]
    return _observation(
        row,
        kind="unplaced_sensor",
        state="risk",
        since=heard_since,
        severity="info",
        title="A sensor is reporting but is not placed in any room",
        explanation=(
            f"Sensor {row['sensor_id']} has been reporting since "
            f"{heard_since:%Y-%m-%d %H:%M} UTC but is not recorded in any room, so its "
            "readings are kept but cannot count towards any home's risk. Record where it is."
        ),
        evidence={
            "first_seen_at": _iso(row["first_seen_at"]),
            "last_seen_at": _iso(row["last_seen_at"]),
        },
    )


def fault_observations(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    policy: AlertPolicy,
    open_fault_subjects: list[tuple[int, str, str]],
    borough: str | None = None,
) -> list[Observation]:
    """Faults listed by each home's latest assessment, and the clearing of faults no longer
    listed; `open_fault_subjects` are (uprn, sensor_id, borough_code) of open fault alerts."""
    params = {"now": now, "lookback": policy.assessment_lookback, "borough": borough}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(SELECT_LATEST_FAULTS, params).fetchall()
    observations: list[Observation] = []
    listed: set[tuple[int, str]] = set()
    for row in rows:
        fault: dict[str, Any] = row["fault"]
        sensor_id = str(fault["sensor_id"])
        if (row["uprn"], sensor_id) in listed:
            continue
        listed.add((row["uprn"], sensor_id))
        what = str(fault.get("kind") or "unusual readings").replace("_", " ")
        observations.append(
            Observation(
                kind="sensor_fault",
                borough_code=row["borough_code"],
                uprn=row["uprn"],
                sensor_id=sensor_id,
                state="risk",
                since=row["assessed_at"],
                severity="amber",
                title="A sensor looks faulty",
                explanation=str(
                    fault.get("explanation")
                    or f"Sensor {sensor_id} looks faulty ({what}): its readings are left out "
                    "of the home's risk until someone checks it."
                ),
                evidence={
                    "assessment_id": row["assessment_id"],
                    "assessed_at": row["assessed_at"].isoformat(),
                    "fault": fault,
                },
            )
        )
    for uprn, sensor_id, borough_code in open_fault_subjects:
        if (uprn, sensor_id) in listed:
            continue
        gone = conn.execute(
            SELECT_FAULT_GONE_SINCE, {"uprn": uprn, "now": now, "sensor_id": sensor_id}
        ).fetchone()
        if gone is None or gone[0] is None:
            continue
        observations.append(
            Observation(
                kind="sensor_fault",
                borough_code=borough_code,
                uprn=uprn,
                sensor_id=sensor_id,
                state="safe",
                since=gone[0],
                severity="info",
                title="The sensor no longer looks faulty",
                explanation=(
                    f"No risk assessment since {gone[0]:%Y-%m-%d %H:%M} UTC has found a fault "
                    f"with sensor {sensor_id}."
                ),
                evidence={"fault_gone_since": gone[0].isoformat()},
            )
        )
    return observations


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
