"""Cold-home and sensor alerts: offline, battery, fault, unplaced; raised once, then cleared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alert_factories import (
    OTHER_BOROUGH,
    Conn,
    add_assessment,
    add_home,
    add_readings,
    add_sensor,
)

from alerts.records import Alert, list_alerts
from alerts.rules import AlertSummary, evaluate_alerts
from alerts.sensor_conditions import unassigned_sensors
from models.scoring import score_homes

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 1, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _all(conn: Conn, kind: str) -> list[Alert]:
    return list_alerts(conn, borough=None, kind=kind, include_cleared=True)


def _days(db: Conn, sensor: str, *, first_day: int, last_day: int, mean_c: float) -> None:
    """Hourly readings averaging `mean_c` on each whole day from MIDNIGHT + first_day."""
    add_readings(
        db,
        sensor_id=sensor,
        start=MIDNIGHT + first_day * DAY,
        end=MIDNIGHT + (last_day + 1) * DAY,
        temperature_c=mean_c,
        daily_swing_c=1.0,
    )


def _scored(db: Conn, now: datetime) -> AlertSummary:
    """Score, then evaluate, as `dampwatch score` does: the cold-home rule reads the daily
    conditions the scoring run keeps."""
    score_homes(db, now=now)
    return evaluate_alerts(db, now=now)


def test_cold_home_raises_after_three_cold_days_and_clears_after_two_warm(db: Conn) -> None:
    """Three whole days under 16 °C raise one cold-home alert; two at 18 °C or more clear it."""
    uprn = add_home(db)
    sensor = add_sensor(db, uprn=uprn, placed_from=MIDNIGHT - 30 * DAY)
    _days(db, sensor, first_day=0, last_day=2, mean_c=14.5)
    assert _scored(db, MIDNIGHT + 2 * DAY).raised == {}
    assert _scored(db, MIDNIGHT + 2 * DAY + 20 * HOUR).raised == {}  # the third day is not over
    assert _scored(db, MIDNIGHT + 3 * DAY).raised == {"cold_home": 1}
    assert _scored(db, MIDNIGHT + 3 * DAY + HOUR).raised == {}
    _days(db, sensor, first_day=3, last_day=4, mean_c=19)
    assert _scored(db, MIDNIGHT + 4 * DAY).cleared == {}
    assert _scored(db, MIDNIGHT + 5 * DAY).cleared == {"cold_home": 1}
    [alert] = _all(db, "cold_home")
    assert alert.severity == "amber"
    assert alert.evidence["run_days"] == 3
    assert alert.evidence["daily_mean_c"]["2026-01-07"] == 14.5
    assert alert.clear_reason is not None
    assert "18 °C" in alert.clear_reason


def test_a_mild_morning_does_not_break_a_cold_run_before_the_day_has_enough_hours(db: Conn) -> None:
    """Today counts only once it has 12 hours of readings: at 06:00 the run is yesterday's."""
    uprn = add_home(db)
    sensor = add_sensor(db, uprn=uprn, placed_from=MIDNIGHT - 30 * DAY)
    _days(db, sensor, first_day=0, last_day=2, mean_c=13)
    _days(db, sensor, first_day=3, last_day=3, mean_c=17)
    assert _scored(db, MIDNIGHT + 3 * DAY + 6 * HOUR).raised == {"cold_home": 1}
    [alert] = _all(db, "cold_home")
    assert alert.evidence["run_days"] == 3


def test_lukewarm_days_neither_raise_nor_clear_a_cold_home(db: Conn) -> None:
    """Days between 16 and 18 °C sit inside the hysteresis band: the open alert stays open."""
    uprn = add_home(db)
    sensor = add_sensor(db, uprn=uprn, placed_from=MIDNIGHT - 30 * DAY)
    _days(db, sensor, first_day=0, last_day=2, mean_c=11.0)
    _scored(db, MIDNIGHT + 3 * DAY)
    _days(db, sensor, first_day=3, last_day=5, mean_c=17)
    _scored(db, MIDNIGHT + 6 * DAY)
    [alert] = _all(db, "cold_home")
    assert (alert.severity, alert.status) == ("red", "open")


def test_offline_sensor_alert_raised_once_and_cleared_when_heard_again(db: Conn) -> None:
    """Silence beyond six hours raises one offline alert; a fresh report clears it."""
    uprn = add_home(db)
    sensor = add_sensor(db, uprn=uprn, placed_from=T0 - DAY, last_seen_at=T0)
    assert evaluate_alerts(db, now=T0 + 5 * HOUR).raised == {}
    assert evaluate_alerts(db, now=T0 + 7 * HOUR).raised == {"sensor_offline": 1}
    assert evaluate_alerts(db, now=T0 + 30 * HOUR).raised == {}
    db.execute(
        "UPDATE sensors SET last_seen_at = %s WHERE sensor_id = %s", (T0 + 31 * HOUR, sensor)
    )
    assert evaluate_alerts(db, now=T0 + 31 * HOUR).cleared == {"sensor_offline": 1}
    [alert] = _all(db, "sensor_offline")
    assert (alert.sensor_id, alert.uprn, alert.status) == (sensor, uprn, "cleared")


def test_battery_alert_uses_separate_raise_and_clear_levels(db: Conn) -> None:
    """15% raises, 20% keeps it open, 30% (a new battery) clears it; no second alert."""
    uprn = add_home(db)
    sensor = add_sensor(db, uprn=uprn, placed_from=T0 - DAY, last_seen_at=T0, battery_pct=14)
    levels = [(14, "open"), (20, "open"), (13, "open"), (95, "cleared")]
    for i, (pct, status) in enumerate(levels):
        db.execute("UPDATE sensors SET battery_pct = %s WHERE sensor_id = %s", (pct, sensor))
        evaluate_alerts(db, now=T0 + i * HOUR)
        [alert] = _all(db, "battery_low")
        assert alert.status == status


def test_fault_listed_by_the_model_raises_and_clears_a_day_after_it_goes(db: Conn) -> None:
    """A fault in the latest assessment's details raises one alert; a day without it clears."""
    uprn = add_home(db)
    sensor = add_sensor(db, uprn=uprn, placed_from=T0 - DAY, last_seen_at=T0)
    faults = {"faults": [{"sensor_id": sensor, "kind": "stuck_humidity"}]}
    add_assessment(db, uprn=uprn, assessed_at=T0, band="unknown", details=faults)
    add_assessment(db, uprn=uprn, assessed_at=T0 + HOUR, band="unknown", details=faults)
    assert evaluate_alerts(db, now=T0 + HOUR).raised == {"sensor_fault": 1}
    add_assessment(db, uprn=uprn, assessed_at=T0 + 2 * HOUR, band="green")
    add_assessment(db, uprn=uprn, assessed_at=T0 + 20 * HOUR, band="green")
    assert evaluate_alerts(db, now=T0 + 25 * HOUR).cleared == {}
    assert evaluate_alerts(db, now=T0 + 26 * HOUR).cleared == {"sensor_fault": 1}
    [alert] = _all(db, "sensor_fault")
    assert alert.evidence["fault"]["kind"] == "stuck_humidity"
    assert alert.explanation.startswith(f"Sensor {sensor} looks faulty (stuck humidity)")


def test_unplaced_sensor_with_a_borough_alerts_after_a_day_and_clears_once_placed(
    db: Conn,
) -> None:
    """A provisioned but unplaced sensor alerts its borough after a day; placing it clears it."""
    sensor = add_sensor(db, borough_code=OTHER_BOROUGH, first_seen_at=T0, last_seen_at=T0 + 2 * DAY)
    assert evaluate_alerts(db, now=T0 + 23 * HOUR).raised == {}
    assert evaluate_alerts(db, now=T0 + 25 * HOUR).raised == {"unplaced_sensor": 1}
    [alert] = _all(db, "unplaced_sensor")
    assert (alert.borough_code, alert.uprn, alert.severity) == (OTHER_BOROUGH, None, "info")
    uprn = add_home(db, borough_code=OTHER_BOROUGH)
    db.execute(
        "INSERT INTO sensor_placements (sensor_id, room_id, valid_from) "
        "SELECT %s, room_id, %s FROM rooms WHERE uprn = %s",
        (sensor, T0 + 2 * DAY, uprn),
    )
    assert evaluate_alerts(db, now=T0 + 2 * DAY + HOUR).cleared == {"unplaced_sensor": 1}


def test_sensor_with_no_borough_is_listed_for_admins_not_alerted(db: Conn) -> None:
    """A sensor nobody provisioned raises no alert but is counted and listed as unassigned."""
    sensor = add_sensor(db, borough_code=None, first_seen_at=T0, last_seen_at=T0 + 3 * DAY)
    summary = evaluate_alerts(db, now=T0 + 3 * DAY)
    assert summary.raised == {}
    assert summary.unassigned_sensors == 1
    assert [s.sensor_id for s in unassigned_sensors(db, now=T0 + 3 * DAY)] == [sensor]
