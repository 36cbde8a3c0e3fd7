"""The MQTT side of ingest: one broker connection, driven by our own loop, acking by hand.

`Subscriber` connects (MQTT 5 persistent session, or 3.1.1 with clean session off), subscribes,
reconnects with exponential backoff, and hands each PUBLISH to the collector; the service acks
batches after they are committed. The client underneath is paho-mqtt's, sped up at two private
seams (see paho_client.py).
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest import metrics
from ingest.paho_client import BufferedSocket, FastClient

if TYPE_CHECKING:
    from ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

CONNACK_TIMEOUT_S = 10.0

OnMessage = Callable[[str, bytes, int, int, int], None]
"""`(topic, payload, mid, qos, generation)`, called on the loop's thread."""


class Subscriber:
    """One broker connection: connect with backoff, subscribe, poll, ack, disconnect.

    All methods run on one thread except `wake()`, which other threads call to cut short the
    wait in `poll()`.
    """

    def __init__(
        self,
        settings: IngestSettings,
        topic_filters: list[str],
        on_message: OnMessage,
        *,
        on_subscribed: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self._on_subscribed = on_subscribed
        self._filters = topic_filters
        self._on_message = on_message
        self._v5 = settings.mqtt_protocol == "5"
        self.generation = 0
        """Incremented at every new connection: acks are only valid on the one they came on."""
        self._backoff_s = settings.ingest_reconnect_min_s
        self._next_attempt_at = 0.0
        self._connack_deadline = 0.0
        self._subscribed = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

        url = urlsplit(settings.require_mqtt_url())
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        client = FastClient(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id(),
            protocol=MQTTProtocolVersion.MQTTv5 if self._v5 else MQTTProtocolVersion.MQTTv311,
            # MQTT 3.1.1 persistent session (clean session 0); MQTT 5 sets clean_start below.
            clean_session=None if self._v5 else False,
            manual_ack=True,
            reconnect_on_failure=False,
        )
        if url.username:
            client.username_pw_set(unquote(url.username), unquote(url.password or "") or None)
        if url.scheme == "mqtts":
            client.tls_set()
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_subscribe = self._handle_subscribe
        client.on_message = self._handle_message
        client.on_publish_received = self._deliver
        self._client = client

    # -- connection ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    def ensure_connected(self) -> None:
        """Start a connection attempt if none is up and the backoff delay has passed."""
        now = time.monotonic()
        if self._client.socket() is not None:
            if self._client.is_connected() or now < self._connack_deadline:
                return
            # A broker that accepted TCP but never answered CONNECT: give up on this attempt.
            logger.warning("no CONNACK from %s:%d; connecting again", self._host, self._port)
            self._client.disconnect()
        if now < self._next_attempt_at:
            return
        self._next_attempt_at = now + self._backoff_s
        self._connack_deadline = now + CONNACK_TIMEOUT_S
        self._backoff_s = min(self._backoff_s * 2, self._settings.ingest_reconnect_max_s)
        try:
            if self._v5:
                properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                properties.SessionExpiryInterval = self._settings.ingest_session_expiry_s
                properties.ReceiveMaximum = self._settings.ingest_receive_maximum
                self._client.connect(
                    self._host,
                    self._port,
                    keepalive=self._settings.ingest_keepalive_s,
                    clean_start=False,
                    properties=properties,
                )
            else:
                self._client.connect(
                    self._host, self._port, keepalive=self._settings.ingest_keepalive_s
                )
        except OSError as err:
            logger.warning(
                "broker %s:%d unreachable (%s); next attempt in %.1f s",
                self._host,
                self._port,
                err,
                self._next_attempt_at - now,
            )
            return
        self._flush()

    def _handle_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            logger.error("broker refused the connection: %s", reason_code)
            metrics.BROKER_CONNECTED.set(0)
            return
        self.generation += 1
        self._backoff_s = self._settings.ingest_reconnect_min_s
        metrics.BROKER_CONNECTED.set(1)
        shared = self._shared_group(properties)
        filters = [f"$share/{shared}/{f}" if shared else f for f in self._filters]
        logger.info(
            "connected to broker %s:%d as %s (MQTT %s, session present: %s); subscribing to %s",
            self._host,
            self._port,
            self._settings.client_id(),
            self._settings.mqtt_protocol,
            flags.session_present,
            ", ".join(filters),
        )
        # Subscribing again with a session present is harmless and covers a broker that lost it.
        client.subscribe([(f, 1) for f in filters])

    def _shared_group(self, properties: Properties | None) -> str:
        group = self._settings.ingest_shared_group
        if not group:
            return ""
        if not self._v5:
            # Shared subscriptions are an MQTT 5 feature (MQTT 5.0, 4.8.2); a 3.1.1 broker may
            # take `$share/...` as a plain topic and deliver nothing.
            logger.warning("MQTT 3.1.1: subscribing without $share; replicas would not share")
            return ""
        # MQTT 5.0, 3.2.2.3.15: absent means available.
        available = getattr(properties, "SharedSubscriptionAvailable", 1)
        if not available:
            logger.warning("broker does not offer shared subscriptions; subscribing directly")
            return ""
        return group

    def _handle_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            logger.error("broker refused subscriptions: %s", ", ".join(failed))
        self._subscribed = not failed
        metrics.SUBSCRIBED.set(1 if self._subscribed else 0)
        if self._subscribed:
            logger.info("subscribed")
            if self._on_subscribed is not None:
                self._on_subscribed()

    def _handle_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        metrics.BROKER_CONNECTED.set(0)
        metrics.SUBSCRIBED.set(0)
        self._subscribed = False
        if reason_code.is_failure:
            logger.warning("disconnected from broker: %s", reason_code)
        else:
            logger.info("disconnected from broker")

    def _deliver(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self._on_message(topic, payload, mid, qos, self.generation)

    def _handle_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        """paho's own path, used only for what the fast path leaves to it (QoS 2)."""
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            # MQTT requires UTF-8 topics; keep the message anyway, under a readable name.
            topic = "<invalid UTF-8>" + msg._topic.hex()
        self._on_message(topic, bytes(msg.payload), msg.mid, msg.qos, self.generation)

    # -- the loop --------------------------------------------------------------------------

    def poll(self, timeout_s: float, *, read: bool = True) -> None:
        """Wait up to `timeout_s` for traffic or a wake(), then read, write and keep alive.

        With `read=False` nothing new is taken from the socket (the writer is behind), but
        acks still leave and keepalives still run.
        """
        sock = self._client.socket()
        if sock is None:
            self._wait(timeout_s)
            return
        rlist: list[Any] = [self._wake_r, sock] if read else [self._wake_r]
        wants_write = self._client.want_write()
        # Bytes already inside an SSL object do not wake select(): do not wait for them.
        pending = read and isinstance(sock, BufferedSocket) and sock.pending() > 0
        try:
            readable, _, _ = select.select(
                rlist, [sock] if wants_write else [], [], 0 if pending else timeout_s
            )
        except (OSError, ValueError):
            readable = []
        if self._wake_r in readable:
            self._drain_wake()
        if read and (pending or sock in readable):
            # One call handles every complete packet the buffer holds (FastClient).
            self._client.loop_read()
        if self._client.socket() is not None:
            self._client.loop_misc()
        self._flush()

    def ack(self, tokens: list[tuple[int, int]], generation: int) -> int:
        """PUBACK the given (mid, qos) of connection `generation`; return how many were sent.

        Acks of an earlier connection are dropped: the broker redelivers those messages and
        the writer stores them once more (idempotently).
        """
        if generation != self.generation or self._client.socket() is None:
            return 0
        self._client.ack_batch(tokens)
        return len(tokens)

    def _flush(self) -> None:
        if self._client.socket() is not None and self._client.want_write():
            self._client.loop_write()

    def wake(self) -> None:
        """Cut short the current poll() (thread-safe)."""
        # BlockingIOError: already woken; OSError: closing.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _wait(self, timeout_s: float) -> None:
        readable, _, _ = select.select([self._wake_r], [], [], timeout_s)
        if readable:
            self._drain_wake()

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def disconnect(self) -> None:
        """Leave cleanly; the session (and anything unacked) stays with the broker."""
        if self._client.socket() is not None:
            self._client.disconnect()
            self._flush()
            deadline = time.monotonic() + 2.0
            while self._client.socket() is not None and time.monotonic() < deadline:
                self._client.loop_write()
                self.poll(0.05, read=False)
        self._wake_r.close()
        self._wake_w.close()
