"""Contract test: a mixed-vendor fleet through the broker and the real ingest into PostgreSQL.

Every format the simulator emits is accepted, and what is stored equals what the sensors
measured (the values a native payload would carry), reading for reading.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
import pytest
from dampsim import SimOptions, generate_dataset, run_simulation

from tests.conftest import Broker

harness = pytest.importorskip("tests.ingest.harness")
settings_module = pytest.importorskip("ingest.settings")

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres, pytest.mark.e2e]


def test_every_format_is_stored_with_the_measured_values(
    database_url: str, broker: Broker, topic_prefix: str, tmp_path: Path
) -> None:
    """Ingest stores each reading of every format once, with the sensor's measured values."""
    end = datetime.now(UTC).replace(microsecond=0)
    options = SimOptions(
        homes=40,
        boroughs=10,
        seed=int(uuid.uuid4().int % 1_000_000),
        history_days=0.5,
        end_at=end,
        reading_interval_s=3600.0,
        formats="mixed",
        mode="backfill",
        topic_prefix=topic_prefix,
        mqtt_url=broker.url,
        mqtt_protocol=broker.protocol,
    )
    expected = generate_dataset(options)
    settings = settings_module.IngestSettings(
        database_url=database_url,
        mqtt_url=broker.url,
        mqtt_protocol=broker.protocol,
        mqtt_topic_prefix=topic_prefix,
        ingest_client_id=f"sim-test-{uuid.uuid4().hex[:8]}",
        ingest_spool_dir=tmp_path / "spool",
        ingest_metrics_port=0,
        ingest_session_expiry_s=120,
        ingest_flush_interval_s=0.05,
    )
    ids = sorted(set(expected.sensors.sensor_id.tolist()))
    with harness.running_ingest(settings), psycopg.connect(database_url) as conn:
        report = run_simulation(options)

        def stored() -> int:
            row = conn.execute(
                "SELECT count(*) FROM readings WHERE sensor_id = ANY(%s)", (ids,)
            ).fetchone()
            conn.commit()
            return int(row[0]) if row else 0

        harness.wait_until(lambda: stored() >= report.readings, timeout_s=30)
        rows = conn.execute(
            "SELECT sensor_id, extract(epoch FROM recorded_at)::bigint, temperature_c,"
            " humidity_pct, battery_pct FROM readings WHERE sensor_id = ANY(%s)",
            (ids,),
        ).fetchall()
    assert report.readings == len(rows)
    r = expected.readings
    measured = {
        (str(expected.sensors.sensor_id[s]), int(t)): (float(tc), float(h), float(b))
        for s, t, tc, h, b in zip(
            r.sensor, r.recorded_at, r.temperature_c, r.humidity_pct, r.battery_pct, strict=True
        )
    }
    formats = dict(
        zip(
            expected.sensors.sensor_id.tolist(),
            expected.sensors.payload_format.tolist(),
            strict=True,
        )
    )
    seen = set()
    for sensor_id, at, temperature, humidity, battery in rows:
        want = measured[(sensor_id, at)]
        got = (temperature, humidity, battery)
        assert np.allclose(got, want, atol=1e-4), (formats[sensor_id], got, want)
        seen.add(formats[sensor_id])
    assert seen == {"native", "senml", "tts", "chirpstack", "lpp"}
    # Not stored: history of LPP devices without a clock (they cannot date it), and readings
    # of devices still offline when the backfill ended.
    assert len(rows) + report.skipped_untimestamped + report.waiting_offline == len(measured)
