"""The thin slice: native readings through the broker into the database, acked after commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.ingest.harness import (
    Publisher,
    SettingsFactory,
    count_readings,
    running_ingest,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


def native(recorded_at: datetime, temperature_c: float = 19.5, humidity_pct: float = 62.0) -> bytes:
    return json.dumps(
        {
            "recorded_at": recorded_at.isoformat(),
            "temperature_c": temperature_c,
            "humidity_pct": humidity_pct,
            "battery_pct": 90,
        }
    ).encode()


def test_published_readings_are_stored_and_bad_ones_rejected(
    ingest_settings: SettingsFactory,
    publisher: Publisher,
    topic_prefix: str,
    database_url: str,
) -> None:
    """Every good reading lands in readings; a malformed one lands in rejected_messages."""
    sensor = f"slice-{topic_prefix.split('/')[1]}"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with running_ingest(ingest_settings()):
        for i in range(500):
            publisher.publish(
                f"{topic_prefix}dw/v1/readings/{sensor}", native(start + timedelta(seconds=i))
            )
        publisher.publish(f"{topic_prefix}dw/v1/readings/{sensor}", b"{not json")
        publisher.wait()
        wait_until(lambda: count_readings(database_url, sensor) == 500, timeout_s=20)
        with psycopg.connect(database_url) as conn:
            wait_until(
                lambda: (
                    conn.execute(
                        "SELECT count(*) FROM rejected_messages WHERE topic LIKE %s",
                        (topic_prefix + "%",),
                    ).fetchone()
                    == (1,)
                ),
                timeout_s=10,
            )
            row = conn.execute(
                "SELECT payload, decoder, reason FROM rejected_messages WHERE topic LIKE %s",
                (topic_prefix + "%",),
            ).fetchone()
            sensor_row = conn.execute(
                "SELECT borough_code, last_recorded_at, battery_pct FROM sensors"
                " WHERE sensor_id = %s",
                (sensor,),
            ).fetchone()
    assert row == (b"{not json", "native", "malformed")
    assert sensor_row == (None, start + timedelta(seconds=499), 90.0)
