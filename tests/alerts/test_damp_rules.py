"""Damp-and-mould alerts from home-level risk assessments: raise once, escalate, clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alert_factories import Conn, add_assessment, add_home

from alerts.audit import list_audit
from alerts.records import acknowledge_alert, list_alerts
from alerts.rules import evaluate_alerts

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _alerts(conn: Conn, uprn: int) -> list[tuple[str, str, str]]:
    return [
        (a.kind, a.severity, a.status)
        for a in list_alerts(conn, borough=None, uprn=uprn, include_cleared=True)
    ]


def test_amber_assessment_raises_one_alert_with_evidence_and_audit(db: Conn) -> None:
    """An amber home raises one damp alert that keeps the assessment's numbers and is audited."""
    uprn = add_home(db)
    assessment_id = add_assessment(db, uprn=uprn, assessed_at=T0, band="amber", score=57)
    summary = evaluate_alerts(db, now=T0 + HOUR)
    assert summary.raised == {"damp_mould": 1}
    [alert] = list_alerts(db, borough="E09000012", uprn=uprn)
    assert (alert.kind, alert.severity, alert.status) == ("damp_mould", "amber", "open")
    assert alert.evidence["assessment_id"] == assessment_id
    assert alert.evidence["score"] == 57
    assert alert.explanation == "Humid air meets a cold wall in the bedroom."
    [entry] = list_audit(db, subject_type="alert", subject_id=alert.alert_id)
    assert entry.action == "alert.raised"
    assert entry.detail["evidence"]["score"] == 57


def test_flapping_band_within_one_episode_raises_no_second_alert(db: Conn) -> None:
    """Amber, green for a day, amber again: still one alert, because clearing needs two days."""
    uprn = add_home(db)
    bands = ["amber", "amber", "green", "green", "amber", "red", "green", "amber"]
    for i, band in enumerate(bands):
        at = T0 + i * 6 * HOUR
        add_assessment(db, uprn=uprn, assessed_at=at, band=band)
        evaluate_alerts(db, now=at + timedelta(minutes=5))
    assert _alerts(db, uprn) == [("damp_mould", "red", "open")]
    raised = [e for e in list_audit(db, subject_type="alert") if e.action == "alert.raised"]
    assert len(raised) == 1


def test_alert_escalates_from_amber_to_red_and_is_audited(db: Conn) -> None:
    """A home that worsens to red has its alert escalated (and reopened if acknowledged)."""
    uprn = add_home(db)
    add_assessment(db, uprn=uprn, assessed_at=T0, band="amber")
    evaluate_alerts(db, now=T0)
    [amber] = list_alerts(db, borough=None, uprn=uprn)
    acknowledge_alert(db, alert_id=amber.alert_id, actor="officer", now=T0)
    add_assessment(db, uprn=uprn, assessed_at=T0 + HOUR, band="red", score=90)
    summary = evaluate_alerts(db, now=T0 + HOUR)
    assert summary.escalated == {"damp_mould": 1}
    [alert] = list_alerts(db, borough=None, uprn=uprn)
    assert (alert.severity, alert.status) == ("red", "open")  # back in the inbox
    assert alert.evidence["escalation"]["score"] == 90
    actions = [e.action for e in list_audit(db, subject_type="alert", subject_id=alert.alert_id)]
    assert actions == ["alert.raised", "alert.acknowledged", "alert.escalated"]


def test_alert_clears_after_two_days_of_green_with_the_reason(db: Conn) -> None:
    """Green assessments for 48 hours clear the alert, and the reason and audit say so."""
    uprn = add_home(db)
    add_assessment(db, uprn=uprn, assessed_at=T0, band="red")
    evaluate_alerts(db, now=T0)
    green_from = T0 + 6 * HOUR
    for i in range(0, 48, 6):
        add_assessment(db, uprn=uprn, assessed_at=green_from + i * HOUR, band="green")
    assert evaluate_alerts(db, now=green_from + 47 * HOUR).cleared == {}
    summary = evaluate_alerts(db, now=green_from + 48 * HOUR)
    assert summary.cleared == {"damp_mould": 1}
    [alert] = list_alerts(db, borough=None, uprn=uprn, include_cleared=True)
    assert alert.status == "cleared"
    assert alert.cleared_at == green_from + 48 * HOUR
    assert alert.clear_reason is not None
    assert "2026-01-05 12:00 UTC" in alert.clear_reason
    actions = [e.action for e in list_audit(db, subject_type="alert", subject_id=alert.alert_id)]
    assert actions == ["alert.raised", "alert.cleared"]


def test_a_new_episode_after_clearing_raises_a_new_alert(db: Conn) -> None:
    """Once cleared, a later return to amber is a new episode and raises a new alert."""
    uprn = add_home(db)
    add_assessment(db, uprn=uprn, assessed_at=T0, band="amber")
    evaluate_alerts(db, now=T0)
    add_assessment(db, uprn=uprn, assessed_at=T0 + HOUR, band="green")
    evaluate_alerts(db, now=T0 + 50 * HOUR)
    add_assessment(db, uprn=uprn, assessed_at=T0 + 60 * HOUR, band="amber")
    evaluate_alerts(db, now=T0 + 60 * HOUR)
    assert _alerts(db, uprn) == [
        ("damp_mould", "amber", "open"),
        ("damp_mould", "amber", "cleared"),
    ]


def test_unknown_band_neither_raises_nor_clears(db: Conn) -> None:
    """Assessments without enough data leave an open alert open and raise nothing new."""
    quiet, alerted = add_home(db), add_home(db)
    add_assessment(db, uprn=quiet, assessed_at=T0, band="unknown")
    add_assessment(db, uprn=alerted, assessed_at=T0, band="amber")
    evaluate_alerts(db, now=T0)
    for i in range(1, 10):
        add_assessment(db, uprn=alerted, assessed_at=T0 + i * 12 * HOUR, band="unknown")
    evaluate_alerts(db, now=T0 + 120 * HOUR)
    assert _alerts(db, quiet) == []
    assert _alerts(db, alerted) == [("damp_mould", "amber", "open")]


def test_room_level_assessments_do_not_raise_home_alerts(db: Conn) -> None:
    """Only the home-level row (room_id NULL) drives the home's damp alert."""
    uprn = add_home(db)
    room_id = db.execute("SELECT room_id FROM rooms WHERE uprn = %s", (uprn,)).fetchone()
    assert room_id is not None
    assessment_id = add_assessment(db, uprn=uprn, assessed_at=T0, band="red")
    db.execute(
        "UPDATE risk_assessments SET room_id = %s WHERE assessment_id = %s",
        (room_id[0], assessment_id),
    )
    assert evaluate_alerts(db, now=T0).raised == {}
