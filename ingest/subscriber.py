"""The MQTT side of ingest: paho-mqtt 2.x driven by our own loop, acking by hand.

paho's stock loop costs about 34 us a message on this kind of machine: it issues at least
three recv() calls per packet (type byte, each length byte, body), handles one packet per
select(), and sends each PUBACK in its own send(). Two changes, both behind one seam, remove
that cost without touching paho's protocol handling:

- `BufferedSocket` wraps the socket paho creates: reads take 256 KiB at a time and paho's small
  recv() calls are served from memory; writes are gathered and leave in one send() per loop
  turn, so a committed batch's PUBACKs cost one system call.
- `Subscriber.poll()` uses paho's public external-loop API (`loop_read`, `loop_write`,
  `loop_misc`) and keeps reading while the buffer holds bytes, instead of one select() per
  packet.

The seam is `Client._create_socket`, a private method of paho 2.x: the version is pinned
below 3 in pyproject.toml and tests/ingest/test_subscriber.py checks that the wrapper is in
place, so an upgrade that moves it fails a test rather than silently slowing ingest down.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest import metrics

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

    from ingest.settings import IngestSettings

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 256 * 1024
# Keep reading from the buffer for at most this many packets per turn, so acks and keepalives
# are never starved by a broker that has a long queue for us.
MAX_PACKETS_PER_TURN = 5000

OnMessage = Callable[[str, bytes, int, int, int], None]
"""`(topic, payload, mid, qos, generation)`, called on the loop's thread."""


class BufferedSocket:
    """paho's socket, read in large chunks and written once per loop turn."""

    def __init__(self, sock: SocketLike) -> None:
        self._sock = sock
        self._in = b""
        self._pos = 0
        self._out = bytearray()

    def recv(self, bufsize: int) -> bytes:
        if self._pos >= len(self._in):
            data = self._sock.recv(READ_CHUNK_BYTES)
            if not data:
                return b""
            self._in = data
            self._pos = 0
        chunk = self._in[self._pos : self._pos + bufsize]
        self._pos += len(chunk)
        return chunk

    def pending(self) -> int:
        """Bytes already read from the kernel and not yet handed to paho."""
        buffered = len(self._in) - self._pos
        inner = getattr(self._sock, "pending", None)
        return buffered + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray) -> int:
        self._out += data
        return len(data)

    def wants_flush(self) -> bool:
        return bool(self._out)

    def flush(self) -> None:
        """Send what paho queued; what the kernel will not take now waits for the next turn."""
        while self._out:
            try:
                sent = self._sock.send(self._out)
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                return
            except OSError as err:
                # Let paho find the broken connection on its next read, where it handles it.
                logger.warning("broker connection broke while sending: %s", err)
                self._out.clear()
                self._shutdown()
                return
            del self._out[:sent]

    def _shutdown(self) -> None:
        shutdown = getattr(self._sock, "shutdown", None)
        if shutdown is not None:
            try:
                shutdown(socket.SHUT_RDWR)
            except OSError:
                logger.debug("shutdown of a broken socket failed", exc_info=True)

    def close(self) -> None:
        # paho closes right after queueing DISCONNECT: give it a moment to leave.
        deadline = time.monotonic() + 1.0
        while self._out and time.monotonic() < deadline:
            self.flush()
            if self._out:
                select.select([], [self._sock], [], 0.05)
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Client(mqtt.Client):
    def _create_socket(self) -> SocketLike:
        return BufferedSocket(super()._create_socket())


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
        self._subscribed = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

        url = urlsplit(settings.require_mqtt_url())
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.ingest_client_id,
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
        self._client = client

    # -- connection ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    def ensure_connected(self) -> None:
        """Start a connection attempt if none is up and the backoff delay has passed."""
        if self._client.socket() is not None:
            return
        now = time.monotonic()
        if now < self._next_attempt_at:
            return
        self._next_attempt_at = now + self._backoff_s
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
            self._settings.ingest_client_id,
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
        self._subscribed = False
        if reason_code.is_failure:
            logger.warning("disconnected from broker: %s", reason_code)
        else:
            logger.info("disconnected from broker")

    def _handle_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
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
        buffered = read and isinstance(sock, BufferedSocket) and sock.pending() > 0
        if not buffered:
            rlist: list[Any] = [self._wake_r, sock] if read else [self._wake_r]
            wants_write = self._client.want_write() or (
                isinstance(sock, BufferedSocket) and sock.wants_flush()
            )
            try:
                readable, _, _ = select.select(rlist, [sock] if wants_write else [], [], timeout_s)
            except (OSError, ValueError):
                readable = []
            if self._wake_r in readable:
                self._drain_wake()
            buffered = read and sock in readable
        if buffered:
            for _ in range(MAX_PACKETS_PER_TURN):
                rc = self._client.loop_read()
                sock = self._client.socket()
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or sock is None:
                    break
                if not (isinstance(sock, BufferedSocket) and sock.pending() > 0):
                    break
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
        ack = self._client.ack
        for mid, qos in tokens:
            ack(mid, qos)
        self._flush()
        return len(tokens)

    def _flush(self) -> None:
        sock = self._client.socket()
        if sock is None:
            return
        if self._client.want_write():
            self._client.loop_write()
        if isinstance(sock, BufferedSocket):
            sock.flush()

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
