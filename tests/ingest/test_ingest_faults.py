"""Faults mid-stream: each publishes 20,000 readings at QoS 1 and finds each stored exactly once.

A Mosquitto of the test's own (persistence on, `max_queued_messages` raised as the deployment
docs say) is restarted where a test needs it; the database outage is a proxy being cut.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest import metrics
from tests.ingest.brokers import PrivateMosquitto, mosquitto_available
from tests.ingest.harness import (
    IngestProcess,
    SettingsFactory,
    count_readings,
    native_stream,
    running_ingest,
    stored_exactly_once,
    tiny_filesystem,
    wait_until,
    with_prefix,
)
from tests.ingest.proxy import CuttableProxy
from tests.ingest.rawpub import PublishStats, RawPublisher

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.mqtt,
    pytest.mark.slow,
    pytest.mark.skipif(not mosquitto_available(), reason="needs the mosquitto binary"),
]

READINGS = 20_000
RATE_PER_S = 4_000.0  # slow enough that each fault lands mid-stream
# The issue asks for a minute; 15 s keeps the suite quick and already spools every reading of the
# stream. DAMP_TEST_OUTAGE_S=60 runs the full minute.
OUTAGE_S = float(os.environ.get("DAMP_TEST_OUTAGE_S", "15"))
QUEUE_CONFIG = "max_queued_messages 1000000\nmax_queued_bytes 0\n"


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    """A Mosquitto of this test's own, with the queue limit raised for offline sessions."""
    broker = PrivateMosquitto(tmp_path / "mosquitto", extra_config=QUEUE_CONFIG).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def db_proxy(fresh_database_url: str) -> Iterator[tuple[CuttableProxy, str]]:
    """A cuttable proxy in front of this test's database, and the URL that goes through it."""
    target = conninfo_to_dict(fresh_database_url)
    if str(target.get("host") or "").startswith("/"):
        pytest.skip("the database listens on a Unix socket; the proxy speaks TCP")
    proxy = CuttableProxy(str(target.get("host") or "127.0.0.1"), int(target.get("port") or 5432))
    proxy.start()
    try:
        yield proxy, make_conninfo(fresh_database_url, host="127.0.0.1", port=proxy.port)
    finally:
        proxy.stop()


@pytest.fixture
def sensor_prefix() -> str:
    return f"f{uuid.uuid4().hex[:8]}-"


class Stream:
    """A publisher thread sending this test's readings at a steady rate."""

    def __init__(self, broker: PrivateMosquitto, topic_prefix: str, sensor_prefix: str) -> None:
        self.publisher = RawPublisher(
            "127.0.0.1", broker.port, client_id=f"pub-{uuid.uuid4().hex[:8]}", window=500
        )
        self.errors: list[BaseException] = []
        messages = with_prefix(topic_prefix, native_stream(sensor_prefix, READINGS))
        self.thread = threading.Thread(target=self._run, args=(messages,), daemon=True)

    def _run(self, messages: Iterator[tuple[bytes, bytes]]) -> None:
        try:
            self.publisher.publish_all(messages, rate_per_s=RATE_PER_S)
        except BaseException as err:
            self.errors.append(err)

    def start(self) -> Stream:
        self.thread.start()
        return self

    def join(self, timeout_s: float = 60.0) -> PublishStats:
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "publisher did not finish"
        assert not self.errors, self.errors
        return self.publisher.stats


def _assert_all_stored_once(url: str, sensor_prefix: str) -> None:
    wait_until(lambda: count_readings(url, sensor_prefix) >= READINGS, timeout_s=45, every_s=0.2)
    time.sleep(0.5)  # anything still in flight would now show up as an extra row
    assert stored_exactly_once(url, sensor_prefix, READINGS) == (READINGS, READINGS)


def test_kill_9_of_ingest_mid_stream_loses_and_duplicates_nothing(
    private_broker: PrivateMosquitto,
    fresh_database_url: str,
    service_env: dict[str, str],
    topic_prefix: str,
    sensor_prefix: str,
    tmp_path: Path,
) -> None:
    """SIGKILL while batches are in flight; the restarted process picks up the session."""
    env = dict(
        service_env,
        DAMP_DATABASE_URL=fresh_database_url,
        DAMP_MQTT_URL=private_broker.url,
        DAMP_MQTT_PROTOCOL="5",
        DAMP_INGEST_CLIENT_ID=f"kill9-{uuid.uuid4().hex[:8]}",
        DAMP_INGEST_SPOOL_DIR=str(tmp_path / "spool"),
        DAMP_INGEST_METRICS_PORT="0",
    )
    ingest = IngestProcess(env).start()
    stream = Stream(private_broker, topic_prefix, sensor_prefix).start()
    wait_until(lambda: count_readings(fresh_database_url, sensor_prefix) >= 4000, timeout_s=30)
    ingest.kill()
    killed_at = count_readings(fresh_database_url, sensor_prefix)
    time.sleep(1.0)
    ingest.start()
    stream.join()
    _assert_all_stored_once(fresh_database_url, sensor_prefix)
    assert killed_at < READINGS
    assert ingest.stop() == 0


def test_database_restart_mid_stream_loses_and_duplicates_nothing(
    private_broker: PrivateMosquitto,
    ingest_settings: SettingsFactory,
    fresh_database_url: str,
    db_proxy: tuple[CuttableProxy, str],
    topic_prefix: str,
    sensor_prefix: str,
) -> None:
    """The database link drops for two seconds (a restart): batches spool, then replay."""
    proxy, url = db_proxy
    settings = ingest_settings(database_url=url, mqtt_url=private_broker.url, mqtt_protocol="5")
    try:
        with running_ingest(settings):
            stream = Stream(private_broker, topic_prefix, sensor_prefix).start()
            wait_until(
                lambda: count_readings(fresh_database_url, sensor_prefix) >= 4000, timeout_s=30
            )
            proxy.cut()
            time.sleep(2.0)
            proxy.restore()
            stream.join()
            _assert_all_stored_once(fresh_database_url, sensor_prefix)
    finally:
        proxy.stop()


def test_database_unreachable_for_a_while_spools_then_replays_in_order(
    private_broker: PrivateMosquitto,
    ingest_settings: SettingsFactory,
    fresh_database_url: str,
    db_proxy: tuple[CuttableProxy, str],
    topic_prefix: str,
    sensor_prefix: str,
    tmp_path: Path,
) -> None:
    """A database outage (OUTAGE_S): everything is acked from the spool, then stored in order."""
    proxy, url = db_proxy
    spool_dir = tmp_path / "outage-spool"
    settings = ingest_settings(
        database_url=url,
        mqtt_url=private_broker.url,
        mqtt_protocol="5",
        ingest_spool_dir=spool_dir,
    )
    spooled_before = metrics.SPOOLED._value.get()
    try:
        with running_ingest(settings):
            stream = Stream(private_broker, topic_prefix, sensor_prefix).start()
            wait_until(
                lambda: count_readings(fresh_database_url, sensor_prefix) >= 2000, timeout_s=30
            )
            proxy.cut()
            time.sleep(OUTAGE_S)
            during = count_readings(fresh_database_url, sensor_prefix)
            spool_files = len(list(spool_dir.glob("*.spool")))
            proxy.restore()
            stream.join()
            _assert_all_stored_once(fresh_database_url, sensor_prefix)
            wait_until(lambda: not list(spool_dir.glob("*.spool")), timeout_s=10)
    finally:
        proxy.stop()
    assert during < READINGS
    assert spool_files > 0
    assert metrics.SPOOLED._value.get() - spooled_before > 10_000


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(
    private_broker: PrivateMosquitto,
    ingest_settings: SettingsFactory,
    fresh_database_url: str,
    topic_prefix: str,
    sensor_prefix: str,
) -> None:
    """Mosquitto stops and starts again; the persistent session brings the queue back.

    A direct subscription, as with one replica: Mosquitto 2.0 persists those across its own
    restart, but not shared ($share) ones (see DAMP_INGEST_SHARED_GROUP).
    """
    settings = ingest_settings(
        database_url=fresh_database_url,
        mqtt_url=private_broker.url,
        mqtt_protocol="5",
        ingest_shared_group="",
    )
    with running_ingest(settings):
        stream = Stream(private_broker, topic_prefix, sensor_prefix).start()
        wait_until(lambda: count_readings(fresh_database_url, sensor_prefix) >= 4000, timeout_s=30)
        private_broker.restart(down_s=1.0)
        stats = stream.join()
        _assert_all_stored_once(fresh_database_url, sensor_prefix)
    assert stats.reconnects >= 1


def test_messages_beyond_max_queued_messages_are_dropped_by_the_broker(
    tmp_path: Path,
    ingest_settings: SettingsFactory,
    fresh_database_url: str,
    topic_prefix: str,
    sensor_prefix: str,
) -> None:
    """With Mosquitto's default limit of 1000, an offline ingest loses what exceeds it.

    This is why the deployment sets max_queued_messages high: the broker, not ingest, drops
    these, and no acknowledgement can save them.
    """
    broker = PrivateMosquitto(tmp_path / "limited", extra_config="max_queued_messages 1000\n")
    broker.start()
    try:
        settings = ingest_settings(
            database_url=fresh_database_url, mqtt_url=broker.url, mqtt_protocol="5"
        )
        with running_ingest(settings):
            pass  # creates the persistent session and its subscriptions, then leaves
        published = RawPublisher("127.0.0.1", broker.port, client_id="limit-pub").publish_all(
            with_prefix(topic_prefix, native_stream(sensor_prefix, 3000))
        )
        assert published.acked == 3000
        with running_ingest(settings):
            wait_until(
                lambda: count_readings(fresh_database_url, sensor_prefix) >= 1000, timeout_s=20
            )
            time.sleep(1.0)
            stored = count_readings(fresh_database_url, sensor_prefix)
    finally:
        broker.stop()
    assert stored == 1000
    assert "Outgoing messages are being dropped" in broker.log()


def test_full_spool_disk_keeps_messages_unacked_until_the_database_returns(
    private_broker: PrivateMosquitto,
    ingest_settings: SettingsFactory,
    fresh_database_url: str,
    db_proxy: tuple[CuttableProxy, str],
    topic_prefix: str,
    sensor_prefix: str,
    tmp_path: Path,
) -> None:
    """No database and a full spool disk: nothing is acked or lost; all is stored afterwards."""
    proxy, url = db_proxy
    count = 3000
    with tiny_filesystem(tmp_path / "small", "64k") as small:
        settings = ingest_settings(
            database_url=url,
            mqtt_url=private_broker.url,
            mqtt_protocol="5",
            ingest_spool_dir=small / "spool",
            ingest_batch_size=200,
        )
        errors_before = metrics.SPOOL_ERRORS._value.get()
        proxy.cut()
        with running_ingest(settings):
            published = RawPublisher(
                "127.0.0.1", private_broker.port, client_id=f"full-{uuid.uuid4().hex[:8]}"
            ).publish_all(with_prefix(topic_prefix, native_stream(sensor_prefix, count)))
            wait_until(lambda: metrics.SPOOL_ERRORS._value.get() > errors_before, timeout_s=20)
            assert count_readings(fresh_database_url, sensor_prefix) == 0
            proxy.restore()
            wait_until(
                lambda: count_readings(fresh_database_url, sensor_prefix) >= count, timeout_s=30
            )
            wait_until(lambda: not list((small / "spool").glob("*.spool")), timeout_s=10)
    assert published.acked == count
    assert stored_exactly_once(fresh_database_url, sensor_prefix, count) == (count, count)
