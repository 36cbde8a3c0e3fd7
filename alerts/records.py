"""Alerts as rows: the dataclass, and the SQL that raises, escalates, clears and reads them.

Every change here is written to `audit_log` in the same transaction as the change itself, so the
evidence can never disagree with the alert it describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from alerts.audit import write_audit
from alerts.outbox import publish

AlertKind = Literal[
    "damp_mould", "cold_home", "sensor_offline", "sensor_fault", "battery_low", "unplaced_sensor"
]
AlertStatus = Literal["open", "acknowledged", "cleared"]

HOME_KINDS: frozenset[str] = frozenset({"damp_mould", "cold_home"})
SENSOR_KINDS: frozenset[str] = frozenset(
    {"sensor_offline", "sensor_fault", "battery_low", "unplaced_sensor"}
)

RULES_ACTOR = "dampwatch:alert-rules"

ALERT_COLUMNS = """
    alert_id, borough_code, uprn, room_id, sensor_id, kind, severity, status, title,
    explanation, evidence, raised_at, updated_at, acknowledged_at, acknowledged_by,
    cleared_at, clear_reason
"""
SELECT_OPEN = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status <> 'cleared' FOR UPDATE"
SELECT_ONE = f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = %s"
SELECT_LIST = f"""
    SELECT {ALERT_COLUMNS} FROM alerts
    WHERE (%(borough)s::text IS NULL OR borough_code = %(borough)s)
      AND (%(uprn)s::bigint IS NULL OR uprn = %(uprn)s)
      AND (%(kind)s::text IS NULL OR kind = %(kind)s)
      AND (%(include_cleared)s OR status <> 'cleared')
    ORDER BY raised_at DESC, alert_id DESC
    LIMIT %(limit)s
"""
INSERT_ALERT = f"""
    INSERT INTO alerts (borough_code, uprn, room_id, sensor_id, kind, severity, title,
                        explanation, evidence, raised_at, updated_at)
    VALUES (%(borough_code)s, %(uprn)s, %(room_id)s, %(sensor_id)s, %(kind)s, %(severity)s,
            %(title)s, %(explanation)s, %(evidence)s, %(now)s, %(now)s)
    ON CONFLICT (kind, coalesce(uprn, 0), coalesce(sensor_id, '')) WHERE status <> 'cleared'
    DO NOTHING
    RETURNING {ALERT_COLUMNS}
"""
ESCALATE_ALERT = f"""
    -- A worse alert is news again: an acknowledged one goes back to the officers' inbox.
    UPDATE alerts SET severity = %(severity)s, title = %(title)s, explanation = %(explanation)s,
                      status = 'open',
                      evidence = evidence || jsonb_build_object('escalation', %(evidence)s),
                      updated_at = %(now)s
    WHERE alert_id = %(alert_id)s
    RETURNING {ALERT_COLUMNS}
"""
CLEAR_ALERT = f"""
    UPDATE alerts SET status = 'cleared', cleared_at = %(now)s, clear_reason = %(reason)s,
                      evidence = evidence || jsonb_build_object('clearance', %(evidence)s),
                      updated_at = %(now)s
    WHERE alert_id = %(alert_id)s AND status <> 'cleared'
    RETURNING {ALERT_COLUMNS}
"""
ACKNOWLEDGE_ALERT = f"""
    UPDATE alerts SET status = 'acknowledged', acknowledged_at = %(now)s,
                      acknowledged_by = %(actor)s, updated_at = %(now)s
    WHERE alert_id = %(alert_id)s AND status = 'open'
    RETURNING {ALERT_COLUMNS}
"""


class AlertNotFoundError(LookupError):
    """No alert has this id (or none that is still open, for changes that need one)."""


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: int
    borough_code: str
    uprn: int | None
    room_id: int | None
    sensor_id: str | None
    kind: str
    severity: str
    status: str
    title: str
    explanation: str
    evidence: dict[str, Any]
    raised_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    cleared_at: datetime | None
    clear_reason: str | None

    @property
    def subject_key(self) -> tuple[str, str]:
        """(kind, subject): a home's UPRN for home kinds, the sensor id for sensor kinds."""
        return subject_key(self.kind, self.uprn, self.sensor_id)


def subject_key(kind: str, uprn: int | None, sensor_id: str | None) -> tuple[str, str]:
    if kind in SENSOR_KINDS:
        return (kind, f"sensor:{sensor_id}")
    return (kind, f"home:{uprn}")


@dataclass(frozen=True, slots=True)
class NewAlert:
    """What a rule decided to raise."""

    kind: str
    severity: str
    borough_code: str
    uprn: int | None
    room_id: int | None
    sensor_id: str | None
    title: str
    explanation: str
    evidence: dict[str, Any]


def open_alerts(conn: psycopg.Connection[Any]) -> list[Alert]:
    """Every alert not yet cleared, locked for this transaction."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(SELECT_OPEN).fetchall()


def get_alert(conn: psycopg.Connection[Any], *, alert_id: int) -> Alert:
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        alert = cur.execute(SELECT_ONE, (alert_id,)).fetchone()
    if alert is None:
        raise AlertNotFoundError(f"no alert {alert_id}")
    return alert


def list_alerts(
    conn: psycopg.Connection[Any],
    *,
    borough: str | None,
    uprn: int | None = None,
    kind: str | None = None,
    include_cleared: bool = False,
    limit: int = 100,
) -> list[Alert]:
    """Alerts newest first; `borough=None` means every borough (callers scope it)."""
    params = {
        "borough": borough,
        "uprn": uprn,
        "kind": kind,
        "include_cleared": include_cleared,
        "limit": limit,
    }
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(SELECT_LIST, params).fetchall()


def insert_alert(
    conn: psycopg.Connection[Any], new: NewAlert, *, now: datetime, actor: str = RULES_ACTOR
) -> Alert | None:
    """Raise an alert and audit it; None when one is already open for this subject and kind."""
    params = {
        "borough_code": new.borough_code,
        "uprn": new.uprn,
        "room_id": new.room_id,
        "sensor_id": new.sensor_id,
        "kind": new.kind,
        "severity": new.severity,
        "title": new.title,
        "explanation": new.explanation,
        "evidence": Jsonb(new.evidence),
        "now": now,
    }
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        alert = cur.execute(INSERT_ALERT, params).fetchone()
    if alert is not None:
        _audit(conn, alert, actor, "alert.raised", {"evidence": new.evidence}, now)
        _publish(conn, alert, "alert.raised", now)
    return alert


def escalate_alert(
    conn: psycopg.Connection[Any],
    alert: Alert,
    *,
    severity: str,
    title: str,
    explanation: str,
    evidence: dict[str, Any],
    now: datetime,
) -> Alert:
    params = {
        "alert_id": alert.alert_id,
        "severity": severity,
        "title": title,
        "explanation": explanation,
        "evidence": Jsonb(evidence),
        "now": now,
    }
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        updated = cur.execute(ESCALATE_ALERT, params).fetchone()
    if updated is None:
        raise AlertNotFoundError(f"no alert {alert.alert_id}")
    detail = {"from": alert.severity, "to": severity, "evidence": evidence}
    _audit(conn, updated, RULES_ACTOR, "alert.escalated", detail, now)
    _publish(conn, updated, "alert.escalated", now)
    return updated


def clear_alert(
    conn: psycopg.Connection[Any],
    alert: Alert,
    *,
    reason: str,
    evidence: dict[str, Any],
    now: datetime,
    actor: str = RULES_ACTOR,
) -> Alert:
    params = {
        "alert_id": alert.alert_id,
        "reason": reason,
        "evidence": Jsonb(evidence),
        "now": now,
    }
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        cleared = cur.execute(CLEAR_ALERT, params).fetchone()
    if cleared is None:
        raise AlertNotFoundError(f"no open alert {alert.alert_id}")
    _audit(conn, cleared, actor, "alert.cleared", {"reason": reason, "evidence": evidence}, now)
    _publish(conn, cleared, "alert.cleared", now)
    return cleared


def acknowledge_alert(
    conn: psycopg.Connection[Any], *, alert_id: int, actor: str, now: datetime
) -> Alert:
    """An officer has seen the alert; it stays until the rules clear it."""
    with conn.cursor(row_factory=class_row(Alert)) as cur:
        alert = cur.execute(
            ACKNOWLEDGE_ALERT, {"alert_id": alert_id, "actor": actor, "now": now}
        ).fetchone()
    if alert is None:
        raise AlertNotFoundError(f"no open alert {alert_id}")
    _audit(conn, alert, actor, "alert.acknowledged", {}, now)
    return alert


def _audit(
    conn: psycopg.Connection[Any],
    alert: Alert,
    actor: str,
    action: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    write_audit(
        conn,
        actor=actor,
        action=action,
        subject_type="alert",
        subject_id=alert.alert_id,
        borough_code=alert.borough_code,
        detail={
            "kind": alert.kind,
            "severity": alert.severity,
            "uprn": alert.uprn,
            "sensor_id": alert.sensor_id,
            "evaluated_at": now.isoformat(),
            **detail,
        },
    )


SELECT_ADDRESS = "SELECT address, postcode FROM homes WHERE uprn = %s"


def alert_payload(conn: psycopg.Connection[Any], alert: Alert) -> dict[str, Any]:
    """An alert as webhooks and e-mails describe it (the home's address from its own borough)."""
    home = None if alert.uprn is None else conn.execute(SELECT_ADDRESS, (alert.uprn,)).fetchone()
    return {
        "alert_id": alert.alert_id,
        "kind": alert.kind,
        "severity": alert.severity,
        "status": alert.status,
        "uprn": alert.uprn,
        "address": None if home is None else home[0],
        "postcode": None if home is None else home[1],
        "room_id": alert.room_id,
        "sensor_id": alert.sensor_id,
        "title": alert.title,
        "explanation": alert.explanation,
        "evidence": alert.evidence,
        "raised_at": alert.raised_at.isoformat(),
        "cleared_at": None if alert.cleared_at is None else alert.cleared_at.isoformat(),
        "clear_reason": alert.clear_reason,
    }


def _publish(conn: psycopg.Connection[Any], alert: Alert, event_type: str, now: datetime) -> None:
    # The escalation count keeps two escalations of one alert apart; raise and clear happen once.
    suffix = f":{alert.severity}" if event_type == "alert.escalated" else ""
    publish(
        conn,
        event_id=f"{event_type}:{alert.alert_id}{suffix}",
        event_type=event_type,
        borough_code=alert.borough_code,
        occurred_at=now,
        data=alert_payload(conn, alert),
        severity=alert.severity,
    )
