"""Alert rules: raise and clear alerts from the risk model's assessments and sensor state.

`evaluate_alerts` runs right after each scoring run, in the caller's transaction. For every
subject (a home, or a sensor) and alert kind it compares what the rules observe now with the
alert already open, if any:

- no open alert, and a risk that has lasted the kind's minimum duration: raise one, keeping the
  evidence that raised it;
- an open alert, and a risk now more severe: escalate it (never de-escalate: the evidence of the
  worst point is what the landlord must act on);
- an open alert, and safe conditions that have lasted the kind's clearing duration: clear it with
  the reason.

Conditions in between (inside a hysteresis band, or unknown for lack of data) change nothing, so
one episode raises one alert. Every raise, escalation and clearance is written to `audit_log` in
the same transaction. A transaction-scoped advisory lock makes concurrent evaluations (one per
scoring shard) take turns instead of racing for the same alert.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from alerts.borough_settings import get_borough_settings
from alerts.cases import CaseExistsError, list_cases, open_case
from alerts.home_conditions import cold_home_observations, damp_observations
from alerts.observation import Observation
from alerts.policy import DEFAULT_POLICY, AlertPolicy
from alerts.records import (
    Alert,
    NewAlert,
    clear_alert,
    escalate_alert,
    insert_alert,
    open_alerts,
    subject_key,
)
from alerts.sensor_conditions import fault_observations, sensor_observations, unassigned_sensors
from alerts.severity import SEVERITY_RANK

logger = logging.getLogger(__name__)

EVALUATION_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"dampwatch:alert-rules").digest()[:8], "big", signed=True
)


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """What one evaluation changed, by alert kind."""

    raised: dict[str, int] = field(default_factory=dict)
    escalated: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    open_total: int = 0
    cases_opened: int = 0
    # Sensors heard with no borough and no placement: listed for administrators, not alerted.
    unassigned_sensors: int = 0
    raised_alert_ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        def fmt(counts: dict[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"

        return (
            f"raised [{fmt(self.raised)}], escalated [{fmt(self.escalated)}], "
            f"cleared [{fmt(self.cleared)}], {self.open_total} open, "
            f"{self.cases_opened} cases opened, "
            f"{self.unassigned_sensors} unassigned sensors"
        )


def evaluate_alerts(
    conn: psycopg.Connection[Any],
    *,
    now: datetime,
    borough: str | None = None,
    policy: AlertPolicy = DEFAULT_POLICY,
) -> AlertSummary:
    """Raise, escalate and clear alerts as of `now`; the caller commits."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (EVALUATION_LOCK_KEY,))
    current = {alert.subject_key: alert for alert in open_alerts(conn)}
    open_faults = [
        (a.uprn, a.sensor_id, a.borough_code)
        for a in current.values()
        if a.kind == "sensor_fault" and a.uprn is not None and a.sensor_id is not None
    ]
    observations = [
        *damp_observations(conn, now=now, policy=policy, borough=borough),
        *cold_home_observations(conn, now=now, policy=policy, borough=borough),
        *sensor_observations(conn, now=now, policy=policy, borough=borough),
        *fault_observations(
            conn, now=now, policy=policy, open_fault_subjects=open_faults, borough=borough
        ),
    ]

    raised: Counter[str] = Counter()
    escalated: Counter[str] = Counter()
    cleared: Counter[str] = Counter()
    raised_ids: list[int] = []
    turned_red: list[Alert] = []
    for obs in observations:
        key = subject_key(obs.kind, obs.uprn, obs.sensor_id)
        alert = current.get(key)
        if alert is None:
            new = _raise_if_due(conn, obs, policy=policy, now=now)
            if new is not None:
                current[key] = new
                raised[obs.kind] += 1
                raised_ids.append(new.alert_id)
                if new.severity == "red":
                    turned_red.append(new)
        elif obs.state == "risk":
            if SEVERITY_RANK[obs.severity] > SEVERITY_RANK[alert.severity]:
                current[key] = escalate_alert(
                    conn,
                    alert,
                    severity=obs.severity,
                    title=obs.title,
                    explanation=obs.explanation,
                    evidence=obs.evidence,
                    now=now,
                )
                escalated[obs.kind] += 1
                if obs.severity == "red":
                    turned_red.append(current[key])
        elif now - obs.since >= policy.clear_after(obs.kind):
            clear_alert(conn, alert, reason=obs.explanation, evidence=obs.evidence, now=now)
            del current[key]
            cleared[obs.kind] += 1

    cases_opened = sum(_auto_open_case(conn, alert, now=now) for alert in turned_red)
    summary = AlertSummary(
        raised=dict(raised),
        escalated=dict(escalated),
        cleared=dict(cleared),
        open_total=len(current),
        raised_alert_ids=tuple(raised_ids),
        cases_opened=cases_opened,
        unassigned_sensors=len(unassigned_sensors(conn, now=now)),
    )
    if raised or escalated or cleared:
        logger.info("alerts evaluated at %s: %s", now.isoformat(), summary)
    return summary


def _raise_if_due(
    conn: psycopg.Connection[Any], obs: Observation, *, policy: AlertPolicy, now: datetime
) -> Alert | None:
    if obs.state != "risk" or now - obs.since < policy.raise_after(obs.kind):
        return None
    new = NewAlert(
        kind=obs.kind,
        severity=obs.severity,
        borough_code=obs.borough_code,
        uprn=obs.uprn,
        room_id=obs.room_id,
        sensor_id=obs.sensor_id,
        title=obs.title,
        explanation=obs.explanation,
        evidence=obs.evidence,
    )
    return insert_alert(conn, new, now=now)


AUTO_CASE_ACTOR = "dampwatch:auto-case"


def _auto_open_case(conn: psycopg.Connection[Any], alert: Alert, *, now: datetime) -> bool:
    """Open a significant-hazard case for a red damp alert, where the borough asked for it and
    the home has no open case already; the landlord is taken to be aware from `now`."""
    if alert.kind != "damp_mould" or alert.uprn is None:
        return False
    if not get_borough_settings(conn, borough_code=alert.borough_code).auto_open_case_on_red:
        return False
    if list_cases(conn, borough=alert.borough_code, uprn=alert.uprn, status="open", limit=1):
        return False
    try:
        open_case(
            conn,
            uprn=alert.uprn,
            borough_code=alert.borough_code,
            hazard="significant",
            aware_at=now,
            opened_by=AUTO_CASE_ACTOR,
            alert_id=alert.alert_id,
            source="environmental_sensor",
            description=f"{alert.title}. {alert.explanation}",
        )
    except CaseExistsError:
        return False
    return True
