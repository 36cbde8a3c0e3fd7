"""A fast QoS 1 publisher speaking MQTT 3.1.1 on a raw socket, for fault tests and benchmarks.

paho publishes a few thousand messages a second from Python; the benchmark needs a publisher
that is never the bottleneck. This one pre-encodes PUBLISH packets, pipelines them up to a
window of unacknowledged ones, and reads PUBACKs in bulk. After a broken connection it
reconnects (clean session) and publishes again whatever the broker had not acknowledged, so a
broker restart loses nothing on the publishing side (duplicates are the subscriber's to drop).
"""

from __future__ import annotations

import multiprocessing as mp
import select
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

CONNECT_TIMEOUT_S = 10.0


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def connect_packet(client_id: str, keepalive_s: int = 60) -> bytes:
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02" + keepalive_s.to_bytes(2, "big") + len(cid).to_bytes(2, "big")
    body += cid
    return b"\x10" + _remaining_length(len(body)) + body


def publish_packet(topic: bytes, payload: bytes, mid: int) -> bytes:
    body_len = 2 + len(topic) + 2 + len(payload)
    return (
        b"\x32"
        + _remaining_length(body_len)
        + len(topic).to_bytes(2, "big")
        + topic
        + mid.to_bytes(2, "big")
        + payload
    )


@dataclass
class PublishStats:
    published: int = 0
    acked: int = 0
    reconnects: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0
    send_times: dict[int, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.acked / max(1e-9, self.finished_at - self.started_at)


class RawPublisher:
    """Publish (topic, payload) pairs at QoS 1 as fast as the broker acknowledges them."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        window: int = 2000,
        reconnect_timeout_s: float = 60.0,
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.window = window
        self.reconnect_timeout_s = reconnect_timeout_s
        self.stats = PublishStats()
        self._sock: socket.socket | None = None

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + self.reconnect_timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_S)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(connect_packet(self.client_id))
                connack = b""
                while len(connack) < 4:
                    chunk = sock.recv(4 - len(connack))
                    if not chunk:
                        raise ConnectionError("broker closed the connection before CONNACK")
                    connack += chunk
                if connack[0] != 0x20 or connack[3] != 0:
                    raise ConnectionError(f"broker refused: {connack.hex()}")
                sock.setblocking(False)
                return sock
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def publish_all(
        self,
        messages: Iterable[tuple[bytes, bytes]],
        *,
        rate_per_s: float | None = None,
        on_sent: Callable[[int], None] | None = None,
    ) -> PublishStats:
        """Publish everything; return once every message is acknowledged by the broker."""
        stats = self.stats
        source = iter(messages)
        unacked: dict[int, bytes] = {}
        next_mid = 1
        out = bytearray()
        inbuf = b""
        exhausted = False
        sock = self._connect()
        stats.started_at = time.monotonic()
        while not exhausted or unacked or out:
            # Fill the window.
            budget = self.window - len(unacked)
            if rate_per_s is not None:
                due = int((time.monotonic() - stats.started_at) * rate_per_s) - stats.published
                budget = min(budget, due)
            while budget > 0 and not exhausted and len(out) < 1 << 20:
                try:
                    topic, payload = next(source)
                except StopIteration:
                    exhausted = True
                    break
                while next_mid in unacked:
                    next_mid = next_mid % 65535 + 1
                packet = publish_packet(topic, payload, next_mid)
                unacked[next_mid] = packet
                out += packet
                stats.published += 1
                if on_sent is not None:
                    on_sent(next_mid)
                next_mid = next_mid % 65535 + 1
                budget -= 1
            try:
                wlist = [sock] if out else []
                readable, writable, _ = select.select([sock], wlist, [], 0.05)
                if writable:
                    sent = sock.send(out)
                    del out[:sent]
                if readable:
                    chunk = sock.recv(1 << 18)
                    if not chunk:
                        raise ConnectionError("broker closed the connection")
                    inbuf += chunk
                    usable = len(inbuf) - len(inbuf) % 4
                    for i in range(0, usable, 4):
                        if inbuf[i] == 0x40:
                            mid = int.from_bytes(inbuf[i + 2 : i + 4], "big")
                            if unacked.pop(mid, None) is not None:
                                stats.acked += 1
                    inbuf = inbuf[usable:]
            except (OSError, ConnectionError):
                # Broker gone: reconnect and publish again everything not yet acknowledged.
                sock.close()
                stats.reconnects += 1
                inbuf = b""
                sock = self._connect()
                out = bytearray(b"".join(unacked.values()))
        stats.finished_at = time.monotonic()
        sock.sendall(b"\xe0\x00")  # DISCONNECT
        sock.close()
        return stats


def _utf8(value: bytes) -> bytes:
    return len(value).to_bytes(2, "big") + value


def publish_once_v5(host: str, port: int, topic: bytes, payload: bytes, *, client_id: str) -> None:
    """One MQTT 5 QoS 1 PUBLISH carrying properties (expiry, content type, a user property).

    Written by hand: paho's publisher, with properties, now and then gets its connection
    dropped by Mosquitto 2.0.11 ("out of memory"); a single well-formed packet never does.
    """
    body = b"\x00\x04MQTT\x05\x02\x00\x3c\x00" + _utf8(client_id.encode())
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as sock:
        sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        if sock.recv(64)[:1] != b"\x20":
            raise ConnectionError("no CONNACK")
        # MQTT 5.0, 3.3.2.3: 0x02 message expiry interval, 0x03 content type, 0x26 user property.
        properties = (
            b"\x02"
            + (600).to_bytes(4, "big")
            + b"\x03"
            + _utf8(b"application/json")
            + b"\x26"
            + _utf8(b"firmware")
            + _utf8(b"1.2.3")
        )
        body = (
            _utf8(topic)
            + (1).to_bytes(2, "big")
            + _remaining_length(len(properties))
            + properties
            + payload
        )
        sock.sendall(b"\x32" + _remaining_length(len(body)) + body)
        if sock.recv(64)[:1] != b"\x40":
            raise ConnectionError("no PUBACK")
        sock.sendall(b"\xe0\x00")


def stamped_readings(
    topic_prefix: str, run: str, worker: int, count: int, sensors: int
) -> Iterator[tuple[bytes, bytes]]:
    """Native readings of sensors `{run}-{n}`, each stamped with the moment it is published."""
    prefix = f"{topic_prefix}dw/v1/readings/{run}-".encode()
    for i in range(count):
        at = datetime.now(UTC).isoformat()
        yield (
            prefix + str((worker * count + i) % sensors).encode(),
            (
                f'{{"recorded_at":"{at}","temperature_c":{18 + i % 40 / 10},'
                f'"humidity_pct":{55 + i % 30},"battery_pct":87}}'
            ).encode(),
        )


def _publish_job(job: tuple[int, str, str, int, int, int, float | None]) -> dict[str, float]:
    port, topic_prefix, run, worker, count, sensors, rate = job
    publisher = RawPublisher("127.0.0.1", port, client_id=f"pub-{run}-{worker}", window=5000)
    cpu_started = time.process_time()
    stats = publisher.publish_all(
        stamped_readings(topic_prefix, run, worker, count, sensors), rate_per_s=rate
    )
    return {
        "started_at": stats.started_at,
        "finished_at": stats.finished_at,
        "acked": stats.acked,
        "cpu_s": time.process_time() - cpu_started,
    }


class PublisherProcesses:
    """`processes` publishers in their own processes, sharing `count` readings and `rate`."""

    def __init__(
        self,
        port: int,
        *,
        topic_prefix: str,
        run: str,
        count: int,
        sensors: int,
        processes: int,
        rate_per_s: float | None = None,
    ) -> None:
        per = count // processes
        self.count = per * processes
        rate = None if rate_per_s is None else rate_per_s / processes
        jobs = [(port, topic_prefix, run, w, per, sensors, rate) for w in range(processes)]
        self._pool = mp.get_context("spawn").Pool(processes)
        self._result = self._pool.map_async(_publish_job, jobs)

    def ready(self) -> bool:
        return self._result.ready()

    def wait(self, timeout_s: float) -> None:
        self._result.wait(timeout_s)

    def join(self, timeout_s: float = 600.0) -> list[dict[str, float]]:
        """Each publisher's start, finish (time.monotonic), messages acked and CPU seconds."""
        try:
            return self._result.get(timeout_s)
        finally:
            self._pool.close()
            self._pool.join()
