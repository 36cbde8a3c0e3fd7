"""Ingest settings: read from DAMP_* variables, with identities that never collide."""

from __future__ import annotations

import pytest

from ingest.decoders import make_router
from ingest.settings import DEFAULT_TOPICS, IngestSettings


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """DAMP_INGEST_* variables, including the topic map as JSON, reach the settings."""
    monkeypatch.setenv("DAMP_INGEST_BATCH_SIZE", "1234")
    monkeypatch.setenv("DAMP_INGEST_TOPICS", '{"native": "site/{sensor_id}/reading"}')
    settings = IngestSettings.load()
    assert settings.ingest_batch_size == 1234
    router = make_router(settings.ingest_topics)
    assert router.topic_filters == ["site/+/reading"]
    assert router.route("site/s-1/reading")[1] == {"sensor_id": "s-1"}


def test_client_id_is_stable_and_differs_per_topic_prefix() -> None:
    """Two instances on one broker with different prefixes never share a session or spool."""
    production = IngestSettings()
    demo = IngestSettings(mqtt_topic_prefix="demo/")
    again = IngestSettings(mqtt_topic_prefix="demo/")
    assert production.client_id().startswith("dampwatch-ingest-")
    assert demo.client_id() != production.client_id()
    assert demo.client_id() == again.client_id()
    assert demo.spool_path() != production.spool_path()
    assert IngestSettings(ingest_client_id="ingest-0").client_id() == "ingest-0"


def test_unknown_formats_in_the_topic_map_are_refused() -> None:
    """A typo in DAMP_INGEST_TOPICS fails at start, not silently."""
    with pytest.raises(ValueError, match="no decoder"):
        make_router({**DEFAULT_TOPICS, "natve": "x/{sensor_id}"})
