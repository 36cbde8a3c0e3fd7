"""paho-mqtt's client, with its receive path made fit for tens of thousands of messages a second.

Stock paho costs about 34 us a message: it issues at least three recv() calls per packet (type
byte, each length byte, body), handles one packet per select(), and for MQTT 5 builds a
`Properties` object and an `MQTTMessage` for every PUBLISH, then matches the topic against the
per-filter callbacks. Profiled here, the MQTT 5 property objects alone were a third of it.

`FastClient` keeps paho for everything it does well (CONNECT and CONNACK, SUBSCRIBE, keepalive,
PUBACK, DISCONNECT, reconnection state) and replaces two private methods:

- `_create_socket` wraps the socket in `BufferedSocket`: reads take 256 KiB at a time, writes
  are gathered and leave in one send() per loop turn (so a batch's PUBACKs cost one call);
- `_packet_read` parses every complete packet in the buffer in one call. A QoS 0/1 PUBLISH is
  decoded in place (topic, packet id, payload; MQTT 5 properties skipped, since Dampwatch asks
  for none: no topic aliases, no subscription identifiers) and handed to `on_publish_received`.
  Every other packet goes to paho's own `_packet_handle`, exactly as paho would.
- `ack_batch` writes a committed batch's PUBACKs in one go, keeping paho's keepalive clock
  (`_last_msg_out`) as its own `ack()` would.

These are private in paho 2.x, so pyproject pins paho-mqtt below 3 and
tests/ingest/test_paho_client.py checks the seams on the installed version: an upgrade that
moves them fails a test instead of silently slowing ingest down.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.exception import MalformedPacket

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

logger = logging.getLogger(__name__)

READ_CHUNK_BYTES = 256 * 1024
PUBLISH = 0x30
_PUBACK = struct.Struct("!BBH")

OnPublish = Callable[[str, bytes, int, int], None]
"""`(topic, payload, mid, qos)` for each QoS 0 or 1 PUBLISH, on the loop's thread."""


class BufferedSocket:
    """paho's socket, read in large chunks and written once per loop turn."""

    def __init__(self, sock: SocketLike) -> None:
        self._sock = sock
        self._in = b""
        self._pos = 0
        self._out = bytearray()

    # -- reading ---------------------------------------------------------------------------

    def fill(self) -> bool:
        """Read what the kernel has; False when the peer closed. BlockingIOError if nothing."""
        data = self._sock.recv(READ_CHUNK_BYTES)
        if not data:
            return False
        if self._pos < len(self._in):
            self._in = self._in[self._pos :] + data
        else:
            self._in = data
        self._pos = 0
        return True

    def take_packet(self) -> tuple[int, bytes] | None:
        """The next complete packet (first byte, body), or None if only part of it is here."""
        buf = self._in
        pos = self._pos
        end = len(buf)
        if end - pos < 2:
            return None
        length = 0
        multiplier = 1
        i = pos + 1
        while True:
            if i >= end:
                return None
            byte = buf[i]
            length += (byte & 0x7F) * multiplier
            i += 1
            if not byte & 0x80:
                break
            multiplier *= 128
            if multiplier > 128**3:
                raise ValueError("remaining length longer than four bytes")
        if end - i < length:
            return None
        self._pos = i + length
        return buf[pos], buf[i : i + length]

    def recv(self, bufsize: int) -> bytes:
        """paho's own reads (used by the stock path only)."""
        if self._pos >= len(self._in) and not self.fill():
            return b""
        chunk = self._in[self._pos : self._pos + bufsize]
        self._pos += len(chunk)
        return chunk

    def pending(self) -> int:
        """Bytes read but not handed over, plus any inside the SSL object."""
        inner = getattr(self._sock, "pending", None)
        return len(self._in) - self._pos + (inner() if inner is not None else 0)

    # -- writing ---------------------------------------------------------------------------

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
                shutdown = getattr(self._sock, "shutdown", None)
                if shutdown is not None:
                    try:
                        shutdown(socket.SHUT_RDWR)
                    except OSError:
                        logger.debug("shutdown of a broken socket failed", exc_info=True)
                return
            del self._out[:sent]

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


class FastClient(mqtt.Client):
    """A paho Client whose socket is buffered and whose PUBLISH path is short.

    Writes leave at the end of each `loop_write()`, as with stock paho, except inside
    `corked()`, where they gather until the block ends and then leave in one send().
    """

    on_publish_received: OnPublish | None = None
    _corked = False

    def _create_socket(self) -> SocketLike:
        return BufferedSocket(super()._create_socket())

    @contextlib.contextmanager
    def corked(self) -> Iterator[None]:
        """Gather everything queued in the block (e.g. a batch's PUBACKs) into one send()."""
        self._corked = True
        try:
            yield
        finally:
            self._corked = False
            self.loop_write()

    def ack_batch(self, tokens: Sequence[tuple[int, int]]) -> None:
        """PUBACK a committed batch's messages, in the order they arrived, in one send().

        Each PUBACK is the four bytes paho's own `ack()` would queue (MQTT 3.1.1 3.4; in
        MQTT 5.0 3.4.2.1 a success needs no reason code), written straight into the buffer:
        going through paho costs about ten Python calls a message. QoS 2 (never asked for by
        ingest) is left to paho.
        """
        sock = self._sock
        if (
            not self._manual_ack
            or not isinstance(sock, BufferedSocket)
            or any(qos != 1 for _mid, qos in tokens)
        ):
            with self.corked():
                for mid, qos in tokens:
                    self.ack(mid, qos)
            return
        pack = _PUBACK.pack
        sock.send(b"".join([pack(0x40, 2, mid) for mid, _qos in tokens]))
        with self._msgtime_mutex:
            self._last_msg_out = time.monotonic()
        self.loop_write()

    def want_write(self) -> bool:
        sock = self._sock
        return super().want_write() or (isinstance(sock, BufferedSocket) and sock.wants_flush())

    def loop_write(self) -> MQTTErrorCode:
        rc = super().loop_write()
        sock = self._sock
        if not self._corked and isinstance(sock, BufferedSocket):
            sock.flush()
        return rc

    def _packet_read(self) -> MQTTErrorCode:
        sock = self._sock
        if not isinstance(sock, BufferedSocket):
            return super()._packet_read()
        try:
            if not sock.fill():
                return MQTTErrorCode.MQTT_ERR_CONN_LOST
        except (BlockingIOError, ssl.SSLWantReadError):
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except ssl.SSLWantWriteError:
            self._call_socket_register_write()
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            logger.warning("failed to receive from the broker: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        with self._msgtime_mutex:
            self._last_bytes_received = time.monotonic()
        deliver = self.on_publish_received
        v5 = self._protocol == MQTTProtocolVersion.MQTTv5
        while True:
            try:
                packet = sock.take_packet()
            except ValueError as err:
                logger.warning("malformed packet from the broker: %s", err)
                return MQTTErrorCode.MQTT_ERR_PROTOCOL
            if packet is None:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            command, body = packet
            if command & 0xF0 == PUBLISH and command & 0x06 != 0x04 and deliver is not None:
                rc = _deliver_publish(command, body, v5, deliver)
            else:
                rc = self._handle_with_paho(command, body)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._sock is None:
                return rc

    def _handle_with_paho(self, command: int, body: bytes) -> MQTTErrorCode:
        self._in_packet = {
            "command": command,
            "have_remaining": 1,
            "remaining_count": [],
            "remaining_mult": 1,
            "remaining_length": len(body),
            "packet": bytearray(body),
            "to_process": 0,
            "pos": 0,
        }
        try:
            rc = self._packet_handle()
        except MalformedPacket as err:
            logger.warning("malformed packet from the broker: %s", err)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        self._in_packet = {
            "command": 0,
            "have_remaining": 0,
            "remaining_count": [],
            "remaining_mult": 1,
            "remaining_length": 0,
            "packet": bytearray(b""),
            "to_process": 0,
            "pos": 0,
        }
        return rc


def _deliver_publish(command: int, body: bytes, v5: bool, deliver: OnPublish) -> MQTTErrorCode:
    """Decode a QoS 0/1 PUBLISH body (MQTT 3.1.1 3.3.2, MQTT 5.0 3.3.2) and hand it over."""
    qos = (command & 0x06) >> 1
    try:
        pos = 2 + ((body[0] << 8) | body[1])
        raw_topic = body[2:pos]
        mid = 0
        if qos:
            mid = (body[pos] << 8) | body[pos + 1]
            pos += 2
        if v5:
            length = 0
            multiplier = 1
            while True:
                byte = body[pos]
                pos += 1
                length += (byte & 0x7F) * multiplier
                if not byte & 0x80:
                    break
                multiplier *= 128
                if multiplier > 128**3:
                    return MQTTErrorCode.MQTT_ERR_PROTOCOL
            pos += length
    except IndexError:
        logger.warning("malformed PUBLISH from the broker")
        return MQTTErrorCode.MQTT_ERR_PROTOCOL
    if pos > len(body):
        logger.warning("malformed PUBLISH from the broker: properties overrun the packet")
        return MQTTErrorCode.MQTT_ERR_PROTOCOL
    try:
        topic = raw_topic.decode("utf-8")
    except UnicodeDecodeError:
        # MQTT requires UTF-8 topics; keep the message anyway, under a readable name.
        topic = "<invalid UTF-8>" + raw_topic.hex()
    deliver(topic, body[pos:], mid, qos)
    return MQTTErrorCode.MQTT_ERR_SUCCESS
