"""Helpers of the ingest tests: ingest in a thread, a QoS 1 publisher, waiting, counting."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from ingest.service import run_ingest
from ingest.settings import IngestSettings
from tests.conftest import Broker

SettingsFactory = Callable[..., IngestSettings]


@contextlib.contextmanager
def running_ingest(settings: IngestSettings) -> Iterator[threading.Thread]:
    """run_ingest in a thread until the block ends; its exceptions fail the test."""
    stop = threading.Event()
    ready = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_ingest(settings, stop=stop, ready=ready)
        except BaseException as err:
            errors.append(err)

    thread = threading.Thread(target=target, name="ingest-under-test", daemon=True)
    thread.start()
    try:
        wait_until(lambda: ready.is_set() or bool(errors), timeout_s=10)
        if errors:
            raise errors[0]
        yield thread
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive(), "run_ingest did not stop"
    if errors:
        raise errors[0]


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, every_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(every_s)


class Publisher:
    """A paho QoS 1 publisher that waits for every PUBACK."""

    def __init__(self, broker: Broker, *, client_id: str | None = None) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"pub-{uuid.uuid4().hex[:10]}",
            protocol=MQTTProtocolVersion.MQTTv5
            if broker.protocol == "5"
            else MQTTProtocolVersion.MQTTv311,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self._infos: list[mqtt.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: bytes) -> None:
        self._infos.append(self.client.publish(topic, payload, qos=1))

    def wait(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        for info in self._infos:
            info.wait_for_publish(max(0.01, deadline - time.monotonic()))
            assert info.is_published()
        self._infos.clear()

    def close(self) -> None:
        self.wait()
        self.client.disconnect()
        self.client.loop_stop()


def count_readings(url: str, sensor_prefix: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM readings WHERE sensor_id LIKE %s", (sensor_prefix + "%",)
        ).fetchone()
    assert row is not None
    return int(row[0])
