"""Helpers of the ingest tests: ingest in a thread, a QoS 1 publisher, waiting, counting."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from ingest.service import run_ingest
from ingest.settings import IngestSettings
from tests.conftest import REPO_ROOT, Broker

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
        # Mosquitto grants 20 in flight by default (its CONNACK says so); respect it.
        self.client.max_inflight_messages_set(20)
        self.client.max_queued_messages_set(0)
        connected = threading.Event()
        self.client.on_connect = lambda *_args: connected.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        # Publishing before CONNACK races paho's queue against the handshake: wait for it.
        if not connected.wait(10):
            raise AssertionError(f"publisher could not connect to {broker.url}")
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


def native_stream(
    sensor_prefix: str, count: int, *, sensors: int = 200, start: datetime | None = None
) -> Iterator[tuple[bytes, bytes]]:
    """`count` native readings (topic without prefix, payload), each (sensor, instant) unique."""
    start = start or datetime.now(UTC) - timedelta(hours=6)
    for i in range(count):
        at = (start + timedelta(milliseconds=i)).isoformat()
        yield (
            f"dw/v1/readings/{sensor_prefix}{i % sensors}".encode(),
            (
                f'{{"recorded_at":"{at}","temperature_c":{15 + i % 100 / 10},'
                f'"humidity_pct":{40 + i % 50},"battery_pct":90}}'
            ).encode(),
        )


def with_prefix(
    prefix: str, messages: Iterator[tuple[bytes, bytes]]
) -> Iterator[tuple[bytes, bytes]]:
    raw = prefix.encode()
    for topic, payload in messages:
        yield raw + topic, payload


def stored_exactly_once(url: str, sensor_prefix: str, expected: int) -> tuple[int, int]:
    """(rows, distinct (sensor, instant)) of this test's readings."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (sensor_id, recorded_at)) FROM readings"
            " WHERE sensor_id LIKE %s",
            (sensor_prefix + "%",),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


class IngestProcess:
    """`python -m dampwatch ingest` as a child process, so a test can kill -9 it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._subscribed = threading.Event()

    def start(self, timeout_s: float = 20.0) -> IngestProcess:
        self._subscribed.clear()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dampwatch", "ingest"],
            env=self.env,
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        self._reader.start()
        if not self._subscribed.wait(timeout_s):
            self.stop()
            raise AssertionError("ingest did not subscribe:\n" + "".join(self.lines[-30:]))
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        try:
            for line in process.stderr:
                self.lines.append(line)
                if "subscribed" in line:
                    self._subscribed.set()
        finally:
            process.stderr.close()

    def kill(self) -> None:
        """SIGKILL: no flush, no ack, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._reader.join(10)

    def stop(self) -> int:
        """SIGTERM, as Kubernetes does; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        return self.process.returncode


@contextlib.contextmanager
def tiny_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path`, to fill up; skips the test where mount is denied."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        # Lazily: a file still open in it (a failed test's spool) must not keep it mounted.
        subprocess.run(["umount", "-l", str(path)], check=False)
