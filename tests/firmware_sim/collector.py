"""A subscriber that keeps every message under a topic prefix, for the publishing tests."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from tests.conftest import Broker


class Collector:
    """Subscribes to `prefix#` at QoS 1 and records (topic, payload, arrival time)."""

    def __init__(self, broker: Broker, prefix: str) -> None:
        self.messages: list[tuple[str, bytes, float]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"collect-{uuid.uuid4().hex[:10]}",
            protocol=MQTTProtocolVersion.MQTTv5
            if broker.protocol == "5"
            else MQTTProtocolVersion.MQTTv311,
        )
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(f"{prefix}#", qos=1)
        if not self._subscribed.wait(10):
            raise TimeoutError("no SUBACK")

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), time.time()))

    def wait_for(self, count: int, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
