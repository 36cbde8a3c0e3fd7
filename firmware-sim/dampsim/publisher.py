"""Publishing at QoS 1 with a bounded window of unacknowledged messages.

paho queues without limit when asked to publish faster than the broker acknowledges; a
semaphore of `window` permits, taken before each publish and given back in `on_publish`
(PUBACK), keeps memory bounded and lets `flush()` prove every message was acknowledged.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
import uuid
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = 2000
CONNECT_TIMEOUT_S = 15.0


class PublishError(RuntimeError):
    """The broker refused the connection or did not acknowledge what was published."""


class Publisher:
    """One MQTT connection that publishes at QoS 1 and can wait for every PUBACK."""

    def __init__(
        self, url: str, protocol: str = "5", *, client_id: str = "", window: int = DEFAULT_WINDOW
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise PublishError(f"unsupported MQTT URL scheme {parts.scheme!r}")
        version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"dampsim-{uuid.uuid4().hex[:12]}",
            protocol=version,
        )
        if parts.username:
            self.client.username_pw_set(
                unquote(parts.username), unquote(parts.password) if parts.password else None
            )
        if parts.scheme in ("mqtts", "ssl"):
            self.client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self.client.max_inflight_messages_set(min(window, 65_000))
        self.client.max_queued_messages_set(0)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (8883 if parts.scheme in ("mqtts", "ssl") else 1883)
        self.window = window
        self._permits = threading.BoundedSemaphore(window)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._connected = threading.Event()
        self._connect_error: str | None = None
        self.published = 0
        self.acknowledged = 0
        self.bytes_published = 0
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish

    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._connect_error = str(reason)
        self._connected.set()

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _mid: int,
        _reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        with self._lock:
            self._in_flight -= 1
            self.acknowledged += 1
        self._permits.release()

    def connect(self) -> Publisher:
        try:
            self.client.connect(self.host, self.port, keepalive=60)
        except OSError as err:
            raise PublishError(
                f"cannot reach the broker at {self.host}:{self.port}: {err}"
            ) from err
        self.client.loop_start()
        if not self._connected.wait(CONNECT_TIMEOUT_S):
            self.close()
            raise PublishError(f"no CONNACK from {self.host}:{self.port}")
        if self._connect_error is not None:
            self.close()
            raise PublishError(f"broker refused the connection: {self._connect_error}")
        logger.info("connected to %s:%d", self.host, self.port)
        return self

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish at QoS 1; blocks while `window` messages await their PUBACK."""
        self._permits.acquire()
        with self._lock:
            self._in_flight += 1
        info = self.client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.published += 1
        self.bytes_published += len(payload)

    def flush(self, timeout_s: float = 120.0) -> None:
        """Wait until every message published so far has been acknowledged."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                pending = self._in_flight
            if pending == 0:
                return
            if time.monotonic() > deadline:
                raise PublishError(f"{pending} message(s) not acknowledged within {timeout_s} s")
            time.sleep(0.01)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> Publisher:
        return self.connect()

    def __exit__(self, *_exc: object) -> None:
        self.close()
