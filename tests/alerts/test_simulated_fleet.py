"""Alerts on the simulated fleet: the simulator's readings, the risk model's scoring runs, and
the rules after each run, as `dampwatch score` does it."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from alert_factories import Conn
from dampsim.dataset import Dataset, generate_dataset
from dampsim.options import SimOptions

from alerts.audit import list_audit
from alerts.records import list_alerts
from alerts.rules import evaluate_alerts
from models.scoring import score_homes
from store.provision import load_provisioning

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.e2e]

END = datetime(2026, 1, 20, tzinfo=UTC)


def _load(conn: Conn, dataset: Dataset) -> None:
    """Provision the estate and store its readings as ingest would (duplicates once)."""
    load_provisioning(conn, dataset.provisioning, actor="test:simulated-fleet")
    readings = dataset.readings
    keep = ~readings.duplicate
    sensor_ids = dataset.sensors.sensor_id[readings.sensor[keep]]
    months = [dataset.start_at, dataset.start_at + timedelta(days=31), dataset.end_at]
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", (months,))
    rows = zip(
        sensor_ids,
        readings.recorded_at[keep],
        readings.temperature_c[keep],
        readings.humidity_pct[keep],
        strict=True,
    )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY readings (sensor_id, recorded_at, temperature_c, humidity_pct) FROM STDIN"
        ) as copy,
    ):
        seen: set[tuple[str, int]] = set()
        for sensor_id, at, temperature_c, humidity_pct in rows:
            if (str(sensor_id), int(at)) in seen or np.isnan(temperature_c):
                continue
            seen.add((str(sensor_id), int(at)))
            copy.write_row(
                (str(sensor_id), datetime.fromtimestamp(int(at), UTC), temperature_c, humidity_pct)
            )
    conn.commit()


def _warm_days(conn: Conn, sensor_ids: list[str], start: datetime, end: datetime) -> None:
    """Warm, dry hourly readings with a daily swing, as after the heating is fixed."""
    rng = np.random.default_rng(7)
    hours = int((end - start) / timedelta(hours=1))
    conn.execute("SELECT dw_ensure_readings_partitions(%s::timestamptz[])", ([start, end],))
    with conn.cursor() as cur:
        for sensor_id in sensor_ids:
            cur.executemany(
                "INSERT INTO readings (sensor_id, recorded_at, temperature_c, humidity_pct) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (
                        sensor_id,
                        start + timedelta(hours=h),
                        20.5 + np.sin(2 * np.pi * h / 24) + 0.2 * rng.standard_normal(),
                        45.0 + 4 * np.cos(2 * np.pi * h / 24) + rng.standard_normal(),
                    )
                    for h in range(hours)
                ],
            )


def test_simulated_fleet_raises_each_episode_once_and_clears_recovered_homes(own_db: Conn) -> None:
    """Scoring runs every two days then the rules: no subject ever has a second alert raised
    without the first being cleared, re-running changes nothing, and a home warmed up clears."""
    dataset = generate_dataset(
        SimOptions(
            homes=12,
            boroughs=2,
            seed=3,
            history_days=35,
            end_at=END,
            reading_interval_s=3600,
            mould_fraction=0.4,
            fault_fraction=0.1,
        )
    )
    _load(own_db, dataset)
    for day in range(21, 36, 2):
        now = dataset.start_at + timedelta(days=day)
        score_homes(own_db, now=now)
        own_db.commit()
        evaluate_alerts(own_db, now=now)
        own_db.commit()
        again = evaluate_alerts(own_db, now=now)
        assert (again.raised, again.escalated, again.cleared) == ({}, {}, {})

    history: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in list_audit(own_db, subject_type="alert", limit=10_000):
        subject = f"{entry.detail['uprn']}/{entry.detail['sensor_id']}"
        if entry.action in ("alert.raised", "alert.cleared"):
            history[(entry.detail["kind"], subject)].append(entry.action)
    assert history, "the simulated fleet raised no alert at all"
    for actions in history.values():
        # raised, cleared, raised, ...: never two raises without a clearance between them
        assert all(a != b for a, b in itertools.pairwise(actions))
        assert actions[0] == "alert.raised"

    alerts = list_alerts(own_db, borough=None, include_cleared=True, limit=1000)
    damp = [a for a in alerts if a.kind == "damp_mould"]
    assert damp, "no home of a mould-prone fleet reached amber"
    assert all(a.evidence["band"] in ("amber", "red") for a in damp)
    # The heating is fixed in one cold home: two warm days clear its cold-home alert.
    cold = next(a for a in alerts if a.kind == "cold_home" and a.status == "open")
    sensors = [
        str(row[0])
        for row in own_db.execute(
            "SELECT p.sensor_id FROM sensor_placements p JOIN rooms r USING (room_id) "
            "WHERE r.uprn = %s",
            (cold.uprn,),
        ).fetchall()
    ]
    _warm_days(own_db, sensors, END, END + timedelta(days=2))
    score_homes(own_db, now=END + timedelta(days=2))
    evaluate_alerts(own_db, now=END + timedelta(days=2))
    own_db.commit()
    [recovered] = list_alerts(
        own_db, borough=None, uprn=cold.uprn, kind="cold_home", include_cleared=True
    )
    assert recovered.status == "cleared"
    assert recovered.clear_reason is not None
    assert "at least 18 °C on each of the last 2 days" in recovered.clear_reason
