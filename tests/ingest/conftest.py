"""Fixtures of the ingest tests: settings of the test's own, and a publisher."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.settings import IngestSettings
from tests.conftest import Broker
from tests.ingest.harness import Publisher, SettingsFactory


@pytest.fixture
def ingest_settings(
    database_url: str, broker: Broker, topic_prefix: str, tmp_path: Path
) -> SettingsFactory:
    """Settings for an ingest of this test's own: its prefix, client id and spool."""
    client_id = f"ingest-test-{uuid.uuid4().hex[:10]}"

    def make(**overrides: Any) -> IngestSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "mqtt_url": broker.url,
            "mqtt_protocol": broker.protocol,
            "mqtt_topic_prefix": topic_prefix,
            "ingest_client_id": client_id,
            "ingest_spool_dir": tmp_path / "spool",
            "ingest_metrics_port": 0,
            # Tests leave sessions behind on the shared broker: let them expire soon.
            "ingest_session_expiry_s": 120,
            "ingest_flush_interval_s": 0.05,
            "ingest_db_retry_s": 0.2,
            "ingest_reconnect_min_s": 0.1,
            "ingest_reconnect_max_s": 1.0,
        }
        values.update(overrides)
        return IngestSettings(**values)

    return make


@pytest.fixture
def publisher(broker: Broker) -> Iterator[Publisher]:
    pub = Publisher(broker)
    try:
        yield pub
    finally:
        pub.close()
