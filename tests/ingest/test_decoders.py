"""Decoders on real-shaped messages, including the examples of each format's documentation."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.decoders import Decoded, PayloadError, Reading, decode
from ingest.decoders.lpp import parse_lpp

NOW = datetime(2025, 1, 14, 8, 0, tzinfo=UTC)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def only_reading(decoded: Decoded) -> Reading:
    assert len(decoded.readings) == 1
    return decoded.readings[0]


# -- native -------------------------------------------------------------------------------


def test_native_single_reading_is_decoded_with_its_offset() -> None:
    """The product's own JSON: one reading, local offset kept as the same instant."""
    payload = dumps(
        {
            "recorded_at": "2025-01-14T07:30:00+01:00",
            "temperature_c": 17.4,
            "humidity_pct": 71.5,
            "battery_pct": 88,
        }
    )
    reading = only_reading(decode("dw/v1/readings/s-1", payload, now=NOW))
    assert reading == Reading("s-1", datetime(2025, 1, 14, 6, 30, tzinfo=UTC), 17.4, 71.5, 88.0)


def test_native_backlog_keeps_good_entries_and_names_the_bad_one() -> None:
    """A backlog with one impossible entry stores the rest and says which entry was refused."""
    entries = [
        {"recorded_at": f"2025-01-13T{h:02d}:00:00Z", "temperature_c": 18.0, "humidity_pct": 60}
        for h in range(5)
    ]
    entries[2]["temperature_c"] = 127.0
    decoded = decode("dw/v1/readings/s-2", dumps({"readings": entries}), now=NOW)
    assert [r.recorded_at.hour for r in decoded.readings] == [0, 1, 3, 4]
    assert [e.reason for e in decoded.rejections] == ["out_of_range"]
    assert "readings[2]" in decoded.rejections[0].detail


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "malformed"),
        (b"[1, 2]", "schema"),
        (
            b'{"recorded_at": "2025-01-14T07:00:00Z", "temperature_c": "warm", "humidity_pct": 5}',
            "schema",
        ),
        (b'{"recorded_at": "2025-01-14T07:00:00Z", "humidity_pct": 50}', "schema"),
        (
            b'{"recorded_at": "2025-01-14T07:00:00", "temperature_c": 20, "humidity_pct": 50}',
            "naive_timestamp",
        ),
        (
            b'{"recorded_at": "2025-01-14T08:10:00Z", "temperature_c": 20, "humidity_pct": 50}',
            "future_timestamp",
        ),
        (
            b'{"recorded_at": "2020-01-14T08:00:00Z", "temperature_c": 20, "humidity_pct": 50}',
            "too_old",
        ),
        (
            b'{"recorded_at": "2025-01-14T07:00:00Z", "temperature_c": -41, "humidity_pct": 50}',
            "out_of_range",
        ),
        (
            b'{"recorded_at": "2025-01-14T07:00:00Z", "temperature_c": 20, "humidity_pct": 100.5}',
            "out_of_range",
        ),
        (
            b'{"recorded_at": "2025-01-14T07:00:00Z", "temperature_c": 20, "humidity_pct": 50,'
            b' "battery_pct": 120}',
            "out_of_range",
        ),
        (b'{"readings": []}', "no_readings"),
    ],
)
def test_native_refusals_carry_a_precise_reason(payload: bytes, reason: str) -> None:
    """Each way a native message can be wrong has its own reason code."""
    with pytest.raises(PayloadError) as caught:
        decode("dw/v1/readings/s-3", payload, now=NOW)
    assert caught.value.reason == reason


def test_late_reading_within_the_age_limit_is_accepted() -> None:
    """A sensor that was offline for a month sends its backlog: it is kept."""
    late = NOW - timedelta(days=30)
    payload = dumps({"recorded_at": late.isoformat(), "temperature_c": 15, "humidity_pct": 80})
    assert only_reading(decode("dw/v1/readings/s-4", payload, now=NOW)).recorded_at == late


def test_reading_a_little_ahead_of_the_clock_is_accepted() -> None:
    """Sensor clocks drift: two minutes ahead is within the five-minute allowance."""
    ahead = NOW + timedelta(minutes=2)
    payload = dumps({"recorded_at": ahead.isoformat(), "temperature_c": 15, "humidity_pct": 80})
    assert only_reading(decode("dw/v1/readings/s-5", payload, now=NOW)).recorded_at == ahead


@pytest.mark.parametrize("topic", ["dw/v1/readings/bad id", "dw/v1/readings/-x", "dw/v2/x/y"])
def test_bad_sensor_ids_and_unknown_topics_are_refused(topic: str) -> None:
    """Sensor ids are restricted to safe characters; topics nobody decodes are refused."""
    payload = dumps({"recorded_at": NOW.isoformat(), "temperature_c": 15, "humidity_pct": 80})
    with pytest.raises(PayloadError) as caught:
        decode(topic, payload, now=NOW)
    assert caught.value.reason in ("bad_sensor_id", "unknown_topic")


# -- outdoor ------------------------------------------------------------------------------


def test_outdoor_weather_is_decoded_per_borough() -> None:
    """`dw/v1/outdoor/{gss}` gives outdoor readings, not indoor ones."""
    payload = dumps(
        {"recorded_at": "2025-01-14T07:00:00Z", "temperature_c": 3.5, "humidity_pct": 91}
    )
    decoded = decode("dw/v1/outdoor/E09000007", payload, now=NOW)
    assert decoded.readings == ()
    assert [(o.borough_code, o.temperature_c) for o in decoded.outdoor] == [("E09000007", 3.5)]
    with pytest.raises(PayloadError) as caught:
        decode("dw/v1/outdoor/camden", payload, now=NOW)
    assert caught.value.reason == "bad_borough_code"


# -- SenML (RFC 8428) ---------------------------------------------------------------------

# RFC 8428, section 5.1.1 (single datapoint) and 5.1.3 (multiple measurements).
RFC8428_SINGLE = b'[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]'
RFC8428_MULTIPLE_MEASUREMENTS = b"""[
  {"bn":"urn:dev:ow:10e2073a01080063","bt":1.320067464e+09,"bu":"%RH","v":20},
  {"u":"lon","v":24.30621},{"u":"lat","v":60.07965},
  {"t":60,"v":20.3},{"u":"lon","t":60,"v":24.30622},{"u":"lat","t":60,"v":60.07965},
  {"t":120,"v":20.7},{"u":"lon","t":120,"v":24.30623},{"u":"lat","t":120,"v":60.07966},
  {"u":"%EL","t":150,"v":98},
  {"t":180,"v":21.2},{"u":"lon","t":180,"v":24.30628},{"u":"lat","t":180,"v":60.07967}
]"""


def test_rfc8428_single_datapoint_lacks_humidity_and_says_so() -> None:
    """RFC 8428 5.1.1: a temperature alone, at 'now' (no time given), is not a reading."""
    with pytest.raises(PayloadError) as caught:
        decode("dw/v1/senml/s-6", RFC8428_SINGLE, now=NOW)
    assert caught.value.reason == "no_readings"
    assert "no %RH record" in caught.value.detail


def test_rfc8428_multiple_measurements_resolve_base_time_and_unit() -> None:
    """RFC 8428 5.1.3: humidity every minute from bt, no temperature: four refusals named."""
    now = datetime(2011, 10, 31, 13, 30, tzinfo=UTC)
    with pytest.raises(PayloadError) as caught:
        decode("dw/v1/senml/s-7", RFC8428_MULTIPLE_MEASUREMENTS, now=now)
    assert caught.value.reason == "no_readings"
    assert "t=1320067464.000: no Cel" in caught.value.detail
    assert "3 more" in caught.value.detail


def test_senml_pack_with_base_fields_relative_times_and_battery() -> None:
    """Base name/time/unit, two instants, and a battery record at its own time."""
    pack = [
        {
            "bn": "urn:dev:mac:0024befffe804ff1:",
            "bt": 1736838000,
            "bu": "Cel",
            "bver": 10,
            "n": "temp",
            "v": 18.5,
        },
        {"n": "hum", "u": "%RH", "v": 64},
        {"n": "temp", "t": 900, "v": 18.25},
        {"n": "hum", "u": "%RH", "t": 900, "v": 65.5},
        {"n": "bat", "u": "%EL", "t": 901, "v": 77},
        {"n": "label", "vs": "kitchen"},
    ]
    decoded = decode("dw/v1/senml/s-8", dumps(pack), now=NOW)
    start = datetime.fromtimestamp(1736838000, UTC)
    assert decoded.readings == (
        Reading("s-8", start, 18.5, 64.0, None),
        Reading("s-8", start + timedelta(seconds=900), 18.25, 65.5, 77.0),
    )


def test_senml_relative_time_counts_back_from_now() -> None:
    """A resolved time below 2**28 is relative to the receive time (RFC 8428 4.5.3)."""
    pack = [{"n": "t", "u": "Cel", "v": 20.5, "t": -60}, {"n": "h", "u": "%RH", "v": 50, "t": -60}]
    reading = only_reading(decode("dw/v1/senml/s-9", dumps(pack), now=NOW))
    assert reading.recorded_at == NOW - timedelta(seconds=60)


def test_senml_must_understand_fields_and_newer_versions_are_refused() -> None:
    """RFC 8428 4.4: unknown fields ending in '_' and versions above 10 are refused."""
    for pack in (
        [{"u": "Cel", "v": 20, "foo_": 1}, {"u": "%RH", "v": 50}],
        [{"bver": 11, "u": "Cel", "v": 20}, {"u": "%RH", "v": 50}],
    ):
        with pytest.raises(PayloadError) as caught:
            decode("dw/v1/senml/s-10", dumps(pack), now=NOW)
        assert caught.value.reason == "schema"


# -- Cayenne LPP --------------------------------------------------------------------------


def test_lpp_documentation_examples_parse() -> None:
    """myDevices' LPP examples: two temperatures (27.2, 25.5), -4.1 C, and a GPS fix skipped."""
    assert parse_lpp(bytes.fromhex("03670110056700FF")).temperature_c == 27.2
    assert parse_lpp(bytes.fromhex("0167FFD7")).temperature_c == -4.1
    gps = parse_lpp(bytes.fromhex("018806765FF2960A0003E8"))
    assert gps.temperature_c is None
    assert gps.humidity_pct is None


def test_lpp_reading_takes_temperature_humidity_battery_and_receive_time() -> None:
    """0x67, 0x68 and 0x02 on their channels; no Unix time, so the receive time stamps it."""
    payload = bytes.fromhex("016700C802688C03022260")
    reading = only_reading(decode("dw/v1/lpp/s-11", payload, now=NOW))
    assert reading == Reading("s-11", NOW, 20.0, 70.0, 88.0)


def test_lpp_unix_time_stamps_the_reading() -> None:
    """Type 0x85 carries the measurement time, which then wins over the receive time."""
    at = NOW - timedelta(minutes=15)
    payload = bytes.fromhex("016700C802688C") + bytes([4, 0x85]) + int(at.timestamp()).to_bytes(4)
    assert only_reading(decode("dw/v1/lpp/s-12", payload, now=NOW)).recorded_at == at


@pytest.mark.parametrize("hex_payload", ["", "01", "0167", "016700", "01FF0000"])
def test_lpp_truncated_or_unknown_types_are_refused(hex_payload: str) -> None:
    """Cut-short values and unknown types make the rest unreadable: refused as bad_lpp."""
    with pytest.raises(PayloadError) as caught:
        decode("dw/v1/lpp/s-13", bytes.fromhex(hex_payload), now=NOW)
    assert caught.value.reason == "bad_lpp"


# -- The Things Stack v3 ------------------------------------------------------------------

# The Things Stack documentation, "Data Formats", uplink message example (verbatim values).
TTS_DOC_UPLINK: dict[str, Any] = {
    "end_device_ids": {
        "device_id": "dev1",
        "application_ids": {"application_id": "app1"},
        "dev_eui": "0004A30B001C0530",
        "join_eui": "800000000000000C",
        "dev_addr": "00BCB929",
    },
    "correlation_ids": ["as:up:01E0WZGT6Y7657CPFPE5WEYDSQ"],
    "received_at": "2020-02-12T15:15:46.014773143Z",
    "uplink_message": {
        "session_key_id": "AXA50tHUGUucuzS/bCGMNw==",
        "f_cnt": 1,
        "frm_payload": "gkHe",
        "decoded_payload": {"temperature": 1.0, "luminosity": 0.64},
        "rx_metadata": [{"gateway_ids": {"gateway_id": "gtw1"}, "rssi": -35, "snr": 5}],
        "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}}},
        "consumed_airtime": "0.056576s",
        "received_at": "2020-02-12T15:15:45.789585559Z",
    },
}
TTS_TOPIC = "v3/app1@ttn/devices/dev1/up"
TTS_NOW = datetime(2020, 2, 12, 15, 16, tzinfo=UTC)


def test_tts_documentation_example_is_refused_for_want_of_humidity() -> None:
    """The docs' example has temperature and luminosity only: refused, and the reason says why."""
    with pytest.raises(PayloadError) as caught:
        decode(TTS_TOPIC, dumps(TTS_DOC_UPLINK), now=TTS_NOW)
    assert caught.value.reason == "no_readings"
    assert "temperature or humidity" in caught.value.detail


def test_tts_decoded_payload_gives_a_reading_at_the_network_receive_time() -> None:
    """With humidity in decoded_payload: sensor dev1, stamped with uplink_message.received_at."""
    message = json.loads(json.dumps(TTS_DOC_UPLINK))
    message["uplink_message"]["decoded_payload"]["humidity"] = 55.0
    reading = only_reading(decode(TTS_TOPIC, dumps(message), now=TTS_NOW))
    assert reading == Reading(
        "dev1", datetime(2020, 2, 12, 15, 15, 45, 789586, tzinfo=UTC), 1.0, 55.0, None
    )


def test_tts_lpp_formatter_and_frm_payload_fallback() -> None:
    """TTS's LPP formatter names, and raw LPP in frm_payload when nothing was decoded."""
    message = json.loads(json.dumps(TTS_DOC_UPLINK))
    uplink = message["uplink_message"]
    uplink["decoded_payload"] = {
        "temperature_1": 21.5,
        "relative_humidity_2": 48.5,
        "analog_in_3": 91.0,
    }
    assert only_reading(decode(TTS_TOPIC, dumps(message), now=TTS_NOW)).battery_pct == 91.0
    del uplink["decoded_payload"]
    uplink["frm_payload"] = base64.b64encode(bytes.fromhex("016700D7026861")).decode()
    reading = only_reading(decode(TTS_TOPIC, dumps(message), now=TTS_NOW))
    assert (reading.temperature_c, reading.humidity_pct) == (21.5, 48.5)


def test_tts_normalized_payload_is_preferred() -> None:
    """TTS's normalized payload (air.temperature, air.relativeHumidity) wins."""
    message = json.loads(json.dumps(TTS_DOC_UPLINK))
    message["uplink_message"]["normalized_payload"] = [
        {"air": {"temperature": 19.0, "relativeHumidity": 61.0}}
    ]
    reading = only_reading(decode(TTS_TOPIC, dumps(message), now=TTS_NOW))
    assert (reading.temperature_c, reading.humidity_pct) == (19.0, 61.0)


def test_tts_device_must_match_the_topic() -> None:
    """A message whose device id differs from its topic's is refused, not misfiled."""
    with pytest.raises(PayloadError) as caught:
        decode("v3/app1@ttn/devices/dev2/up", dumps(TTS_DOC_UPLINK), now=TTS_NOW)
    assert caught.value.reason == "topic_mismatch"


# -- ChirpStack v4 ------------------------------------------------------------------------

# ChirpStack documentation, "Event types", `up` JSON example (verbatim values, rxInfo trimmed).
CHIRPSTACK_DOC_UP: dict[str, Any] = {
    "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
    "time": "2022-07-18T09:34:15.775023242+00:00",
    "deviceInfo": {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "ChirpStack",
        "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
        "applicationName": "Test application",
        "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
        "deviceProfileName": "Test device-profile",
        "deviceName": "Test device",
        "devEui": "0101010101010101",
        "tags": {"key": "value"},
    },
    "devAddr": "00189440",
    "dr": 1,
    "fPort": 1,
    "data": "qg==",
    "rxInfo": [{"gatewayId": "0016c001f153a14c", "rssi": -36, "snr": 10.5}],
    "txInfo": {"frequency": 867100000},
}
CS_TOPIC = "application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up"
CS_NOW = datetime(2022, 7, 18, 9, 35, tzinfo=UTC)


def test_chirpstack_documentation_example_data_is_not_lpp() -> None:
    """The docs' example carries one byte (0xaa) and no object: refused as unreadable LPP."""
    with pytest.raises(PayloadError) as caught:
        decode(CS_TOPIC, dumps(CHIRPSTACK_DOC_UP), now=CS_NOW)
    assert caught.value.reason == "bad_lpp"


def test_chirpstack_codec_object_gives_a_reading_at_the_event_time() -> None:
    """ChirpStack's LPP codec shape (channel maps, as in its docs) under `object`."""
    event = json.loads(json.dumps(CHIRPSTACK_DOC_UP))
    event["object"] = {"temperatureSensor": {"1": 25}, "humiditySensor": {"1": 32}}
    reading = only_reading(decode(CS_TOPIC, dumps(event), now=CS_NOW))
    assert reading == Reading(
        "0101010101010101", datetime(2022, 7, 18, 9, 34, 15, 775023, tzinfo=UTC), 25.0, 32.0
    )


def test_chirpstack_dev_eui_is_lower_cased_and_checked_against_the_topic() -> None:
    """Upper-case DevEUIs become lower-case ids; a topic for another device is refused."""
    event = json.loads(json.dumps(CHIRPSTACK_DOC_UP))
    event["deviceInfo"]["devEui"] = "A84041000181B6C3"
    event["data"] = base64.b64encode(bytes.fromhex("016700D7026861")).decode()
    topic = "application/app/device/a84041000181b6c3/event/up"
    assert only_reading(decode(topic, dumps(event), now=CS_NOW)).sensor_id == "a84041000181b6c3"
    with pytest.raises(PayloadError) as caught:
        decode(CS_TOPIC, dumps(event), now=CS_NOW)
    assert caught.value.reason == "topic_mismatch"


# -- one reading, every format -------------------------------------------------------------


def test_every_format_yields_the_same_reading() -> None:
    """The same measurement sent in each format decodes to equal values."""
    at = datetime(2025, 1, 14, 7, 45, tzinfo=UTC)
    lpp = (
        bytes.fromhex("016700B902688703021F40") + bytes([4, 0x85]) + int(at.timestamp()).to_bytes(4)
    )
    sid = "70b3d57ed0001234"
    messages = {
        f"dw/v1/readings/{sid}": dumps(
            {
                "recorded_at": at.isoformat(),
                "temperature_c": 18.5,
                "humidity_pct": 67.5,
                "battery_pct": 80,
            }
        ),
        f"dw/v1/senml/{sid}": dumps(
            [
                {
                    "bn": f"urn:dev:eui64:{sid}:",
                    "bt": at.timestamp(),
                    "n": "t",
                    "u": "Cel",
                    "v": 18.5,
                },
                {"n": "h", "u": "%RH", "v": 67.5},
                {"n": "b", "u": "%EL", "v": 80},
            ]
        ),
        f"dw/v1/lpp/{sid}": lpp,
        f"v3/dampwatch@ttn/devices/{sid}/up": dumps(
            {
                "end_device_ids": {"device_id": sid},
                "uplink_message": {
                    "received_at": at.isoformat(),
                    "frm_payload": base64.b64encode(lpp[:-6]).decode(),
                },
            }
        ),
        f"application/a1/device/{sid}/event/up": dumps(
            {
                "deviceInfo": {"devEui": sid.upper()},
                "time": at.isoformat(),
                "object": {"temperature_c": 18.5, "humidity_pct": 67.5, "battery_pct": 80},
            }
        ),
    }
    readings = {
        topic: only_reading(decode(topic, payload, now=NOW)) for topic, payload in messages.items()
    }
    assert set(readings.values()) == {Reading(sid, at, 18.5, 67.5, 80.0)}
