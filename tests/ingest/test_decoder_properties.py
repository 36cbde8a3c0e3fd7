"""Property tests: whatever arrives on whatever topic, the outcome is readings or a refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.batch import Inbound, prepare_batch
from ingest.decoders import DEFAULT_LIMITS, DEFAULT_ROUTER, PayloadError, decode
from ingest.settings import DEFAULT_TOPICS
from ingest.writer import prepare_connection, write_batch

NOW = datetime(2025, 1, 14, 8, 0, tzinfo=UTC)
PREFIX = "prop/"

topic_part = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/+#"),
    min_size=0,
    max_size=20,
)


@st.composite
def topics(draw: st.DrawFn) -> str:
    """A topic of a known pattern with arbitrary placeholders, or any text at all."""
    if draw(st.booleans()):
        return draw(st.text(max_size=60))
    pattern = draw(st.sampled_from(sorted(DEFAULT_TOPICS.values())))
    for name in (
        "sensor_id",
        "borough_code",
        "application_id",
        "tenant_id",
        "device_id",
        "dev_eui",
    ):
        pattern = pattern.replace("{" + name + "}", draw(topic_part))
    return pattern


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "recorded_at",
                    "temperature_c",
                    "humidity_pct",
                    "battery_pct",
                    "readings",
                    "v",
                    "u",
                    "t",
                    "bt",
                    "bn",
                    "bu",
                    "bv",
                    "n",
                    "end_device_ids",
                    "device_id",
                    "uplink_message",
                    "decoded_payload",
                    "frm_payload",
                    "received_at",
                    "deviceInfo",
                    "devEui",
                    "object",
                    "data",
                    "time",
                    "temperature",
                    "humidity",
                    "normalized_payload",
                    "air",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


payloads = st.one_of(st.binary(max_size=300), json_values.map(_json_bytes))


@given(topic=topics(), payload=payloads)
@settings(max_examples=600, deadline=None)
def test_any_bytes_on_any_topic_decode_or_raise_payload_error(topic: str, payload: bytes) -> None:
    """decode() returns readings or raises PayloadError with a reason; nothing else escapes."""
    try:
        decoded = decode(topic, payload, now=NOW)
        outcome = "decoded" if decoded.readings or decoded.outdoor else "empty"
    except PayloadError as err:
        outcome = f"refused: {err.reason}"
    assert outcome == "decoded" or (outcome.startswith("refused: ") and len(outcome) > 9)


@given(messages=st.lists(st.tuples(topics(), payloads), min_size=1, max_size=15))
@settings(max_examples=200, deadline=None)
def test_every_message_of_a_batch_becomes_rows_or_a_rejection(
    messages: list[tuple[str, bytes]],
) -> None:
    """prepare_batch never raises; each message yields readings, or a rejection, or both."""
    inbound = [Inbound(PREFIX + topic, payload, NOW.timestamp()) for topic, payload in messages]
    batch = prepare_batch(inbound, prefix=PREFIX, router=DEFAULT_ROUTER, limits=DEFAULT_LIMITS)
    rejected_topics = [r.topic for r in batch.rejected]
    assert len(rejected_topics) <= len(inbound)
    produced = len(batch.readings) + len(batch.outdoor)
    assert produced + len(batch.rejected) >= len(inbound)
    assert all(r.reason for r in batch.rejected)


@pytest.mark.postgres
@given(messages=st.lists(st.tuples(topics(), payloads), min_size=1, max_size=10))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_arbitrary_batches_write_without_error_and_keep_every_refusal(
    conn: psycopg.Connection[Any], messages: list[tuple[str, bytes]]
) -> None:
    """Through the real writer: no database error, and one rejected_messages row per refusal."""
    inbound = [Inbound(PREFIX + topic, payload, NOW.timestamp()) for topic, payload in messages]
    batch = prepare_batch(inbound, prefix=PREFIX, router=DEFAULT_ROUTER, limits=DEFAULT_LIMITS)
    conn.autocommit = True
    prepare_connection(conn)
    try:
        with conn.transaction(force_rollback=True):
            before = conn.execute("SELECT count(*) FROM rejected_messages").fetchone()
            result = write_batch(conn, batch)
            after = conn.execute("SELECT count(*) FROM rejected_messages").fetchone()
            assert before is not None
            assert after is not None
            assert after[0] - before[0] == len(result.rejected)
            assert result.stored + result.duplicates == len(batch.readings)
    finally:
        conn.autocommit = False
