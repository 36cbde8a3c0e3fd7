"""The sped-up paho client: its private seams exist, and it delivers exactly what was published."""

from __future__ import annotations

import socket
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.paho_client import BufferedSocket, FastClient
from tests.conftest import Broker
from tests.ingest.harness import Publisher
from tests.ingest.rawpub import publish_once_v5


def test_paho_still_has_the_private_methods_ingest_overrides() -> None:
    """An upgrade of paho that renames these must fail here, not slow ingest down silently."""
    seams = (
        "_create_socket",
        "_packet_read",
        "_packet_handle",
        "_msgtime_mutex",
        "_last_msg_out",
        "_manual_ack",
        "_in_packet",
        "_sock",
    )
    for name in seams:
        assert hasattr(mqtt.Client(CallbackAPIVersion.VERSION2), name), name
    assert mqtt.Client._create_socket is not FastClient._create_socket


def test_packets_split_across_reads_are_reassembled() -> None:
    """Half a packet waits in the buffer; the rest completes it; two packets in one read split."""
    left, right = socket.socketpair()
    buffered = BufferedSocket(left)
    packet = b"\x32" + bytes([7]) + b"\x00\x01t\x00\x05hi"
    right.sendall(packet[:4])
    assert buffered.fill()
    assert buffered.take_packet() is None
    right.sendall(packet[4:] + b"\xd0\x00")
    assert buffered.fill()
    assert buffered.take_packet() == (0x32, packet[2:])
    assert buffered.take_packet() == (0xD0, b"")
    assert buffered.take_packet() is None
    left.close()
    right.close()


@pytest.mark.mqtt
def test_fast_path_delivers_topic_payload_and_qos_exactly(
    broker: Broker, topic_prefix: str
) -> None:
    """QoS 0 and 1, MQTT 5 properties skipped, a payload over many segments: all intact."""
    received: list[tuple[str, bytes, int, int]] = []
    v5 = broker.protocol == "5"
    client = FastClient(
        CallbackAPIVersion.VERSION2,
        client_id=f"fast-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        manual_ack=True,
    )
    client.on_publish_received = lambda t, p, m, q: received.append((t, p, m, q))
    client.connect(broker.host, broker.port)
    subscribed: list[bool] = []
    client.on_subscribe = lambda *args: subscribed.append(True)
    client.subscribe(topic_prefix + "#", 1)
    deadline = time.monotonic() + 5
    while not subscribed and time.monotonic() < deadline:
        client.loop(0.05)
    assert isinstance(client.socket(), BufferedSocket)

    big = bytes(range(256)) * 256  # 64 KiB: arrives over several TCP segments
    publisher = Publisher(broker)
    publisher.client.publish(topic_prefix + "b", b"zero", qos=0)
    publisher.client.publish(topic_prefix + "c", big, qos=1)
    publisher.client.publish(topic_prefix + "d", b"", qos=1)
    if v5:
        publish_once_v5(
            broker.host,
            broker.port,
            (topic_prefix + "a/ü").encode(),
            b'{"x":1}',
            client_id=f"props-{uuid.uuid4().hex[:8]}",
        )
    else:
        publisher.client.publish(topic_prefix + "a/ü", b'{"x":1}', qos=1)
    publisher.wait()

    # The embedded amqtt broker raises QoS 0 to the subscription's QoS 1.
    expected = [
        ("a/ü", b'{"x":1}', 1),
        ("b", b"zero", 0 if v5 else 1),
        ("c", big, 1),
        ("d", b"", 1),
    ]
    deadline = time.monotonic() + 10
    while len(received) < len(expected) and time.monotonic() < deadline:
        client.loop(0.05)
    publisher.close()  # only now: amqtt drops deliveries of a publisher that has left
    for _topic, _payload, mid, qos in received:
        if qos:
            client.ack(mid, qos)
    client.loop(0.05)
    client.disconnect()
    got = sorted((t.removeprefix(topic_prefix), p, q) for t, p, _m, q in received)
    assert got == expected
    assert all(m > 0 for _t, _p, m, q in received if q == 1)


def _persistent_client(broker: Broker, client_id: str, received: list[int]) -> FastClient:
    v5 = broker.protocol == "5"
    client = FastClient(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311,
        clean_session=None if v5 else False,
        manual_ack=True,
    )
    client.on_publish_received = lambda _t, _p, mid, _q: received.append(mid)
    if v5:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 60
        properties.ReceiveMaximum = 1000  # Mosquitto's default, without it, is 20 in flight
        client.connect(broker.host, broker.port, clean_start=False, properties=properties)
    else:
        client.connect(broker.host, broker.port)
    return client


def _loop_for(client: FastClient, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.loop(0.05)


@pytest.mark.mqtt
@pytest.mark.parametrize("acked", [True, False])
def test_batch_acks_reach_the_broker(broker: Broker, topic_prefix: str, acked: bool) -> None:
    """After ack_batch the broker redelivers nothing; without it, everything comes back."""
    if not acked and broker.protocol != "5":
        pytest.skip("the embedded amqtt broker does not redeliver unacknowledged messages")
    client_id = f"acks-{uuid.uuid4().hex[:8]}"
    received: list[int] = []
    client = _persistent_client(broker, client_id, received)
    client.subscribe(topic_prefix + "#", 1)
    _loop_for(client, 0.5)
    publisher = Publisher(broker)
    for i in range(50):
        publisher.publish(f"{topic_prefix}m/{i}", b"x")
    publisher.wait()
    deadline = time.monotonic() + 10
    while len(received) < 50 and time.monotonic() < deadline:
        client.loop(0.05)
    publisher.close()
    assert len(received) == 50
    if acked:
        client.ack_batch([(mid, 1) for mid in received])
    _loop_for(client, 0.3)
    client.disconnect()

    redelivered: list[int] = []
    again = _persistent_client(broker, client_id, redelivered)
    _loop_for(again, 1.5)
    again.disconnect()
    assert len(redelivered) == (0 if acked else 50)
