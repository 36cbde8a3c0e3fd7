"""The fleet on a real broker: every message acknowledged, and never a reading from the future."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from dampsim import SimOptions, run_simulation

from tests.conftest import Broker
from tests.firmware_sim.collector import Collector

pytestmark = pytest.mark.mqtt


@pytest.fixture
def collector(broker: Broker, topic_prefix: str) -> Iterator[Collector]:
    listening = Collector(broker, topic_prefix)
    try:
        yield listening
    finally:
        listening.close()


def options(broker: Broker, topic_prefix: str, **overrides: object) -> SimOptions:
    values: dict[str, object] = {
        "homes": 4,
        "boroughs": 2,
        "seed": 41,
        "history_days": 1.0,
        "reading_interval_s": 1800.0,
        "topic_prefix": topic_prefix,
        "mqtt_url": broker.url,
        "mqtt_protocol": broker.protocol,
    }
    values.update(overrides)
    return SimOptions(**values)  # type: ignore[arg-type]


def readings_in(payload: bytes) -> list[dict[str, object]]:
    document = json.loads(payload)
    return list(document["readings"]) if "readings" in document else [document]


def test_backfill_publishes_every_reading_and_the_weather(
    broker: Broker, topic_prefix: str, collector: Collector
) -> None:
    """Backfill's messages all reach a subscriber, carrying exactly the readings it reports."""
    report = run_simulation(options(broker, topic_prefix, mode="backfill"))
    collector.wait_for(report.messages)
    sensor_messages = [m for m in collector.messages if "/readings/" in m[0]]
    outdoor_messages = [m for m in collector.messages if "/outdoor/" in m[0]]
    received = sum(len(readings_in(p)) for _, p, _ in sensor_messages)
    assert len(collector.messages) == report.messages
    assert received == report.readings + report.duplicates
    assert sum(len(readings_in(p)) for _, p, _ in outdoor_messages) == report.outdoor_readings
    assert report.outdoor_readings == 2 * 24
    assert all(t.startswith(f"{topic_prefix}dw/v1/") for t, _, _ in collector.messages)


def test_backfill_sends_thousands_of_readings_per_message(
    broker: Broker, topic_prefix: str, collector: Collector
) -> None:
    """A device's history travels as one backlog message, not one message per reading."""
    report = run_simulation(
        options(
            broker,
            topic_prefix,
            mode="backfill",
            homes=2,
            history_days=14.0,
            reading_interval_s=None,
            firmware_quirks=False,
        )
    )
    collector.wait_for(report.messages)
    sizes = [len(readings_in(p)) for t, p, _ in collector.messages if "/readings/" in t]
    assert max(sizes) == 2000
    assert report.readings / len(sizes) > 1000


def test_live_never_runs_ahead_of_the_wall_clock(
    broker: Broker, topic_prefix: str, collector: Collector
) -> None:
    """Live readings catch up with real time and none is stamped after it arrived."""
    started = datetime.now(UTC)
    report = run_simulation(
        options(broker, topic_prefix, history_days=0.5, speed=100_000.0, duration_s=4.0)
    )
    collector.wait_for(report.messages)
    latest = 0.0
    for topic, payload, arrived in collector.messages:
        for reading in readings_in(payload):
            at = datetime.fromisoformat(str(reading["recorded_at"])).timestamp()
            assert at <= arrived + 1.0, topic
            latest = max(latest, at)
    assert report.sim_clock_end >= started
    assert latest > started.timestamp() - 1800
