"""The thin slice: native readings through the broker into the database, acked after commit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from dampwatch.embedded import free_port
from tests.conftest import Broker
from tests.ingest.harness import (
    IngestProcess,
    Publisher,
    SettingsFactory,
    count_readings,
    native_stream,
    running_ingest,
    stored_exactly_once,
    wait_until,
    with_prefix,
)
from tests.ingest.measure import scrape
from tests.ingest.rawpub import RawPublisher

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


def test_two_replicas_on_a_shared_subscription_split_the_stream(
    service_env: dict[str, str],
    broker: Broker,
    topic_prefix: str,
    database_url: str,
    tmp_path: Path,
) -> None:
    """Two ingest processes in one $share group: each stores a part, together all, once."""
    if broker.protocol != "5":
        pytest.skip("shared subscriptions are an MQTT 5 feature")
    sensor = f"shared-{topic_prefix.split('/')[1]}"
    replicas = []
    for n in (1, 2):
        port = free_port()
        env = dict(
            service_env,
            DAMP_INGEST_SHARED_GROUP=f"g{sensor}",
            DAMP_INGEST_CLIENT_ID=f"{sensor}-{n}",
            DAMP_INGEST_SPOOL_DIR=str(tmp_path / f"spool-{n}"),
            DAMP_INGEST_METRICS_PORT=str(port),
            DAMP_INGEST_METRICS_HOST="127.0.0.1",
            DAMP_INGEST_SESSION_EXPIRY_S="60",
        )
        replicas.append((IngestProcess(env).start(), port))
    try:
        published = RawPublisher(broker.host, broker.port, client_id=f"{sensor}-pub").publish_all(
            with_prefix(topic_prefix, native_stream(sensor, 4000, sensors=40))
        )
        wait_until(lambda: count_readings(database_url, sensor) >= 4000, timeout_s=30)
        stored_by_replica = [
            scrape(port)["dampwatch_ingest_readings_stored_total"] for _, port in replicas
        ]
    finally:
        for process, _ in replicas:
            process.stop()
    assert published.acked == 4000
    assert stored_exactly_once(database_url, sensor, 4000) == (4000, 4000)
    assert sum(stored_by_replica) == 4000
    assert min(stored_by_replica) > 0
