"""The Things Stack v3 uplinks on `v3/{application_id}@{tenant_id}/devices/{device_id}/up`.

The message is the JSON uplink of TTS's MQTT server (TTS docs, "Data Formats", uplink
messages). The sensor id is `end_device_ids.device_id`, which must equal the topic's. Values
come, in order of preference, from `uplink_message.normalized_payload` (TTS's normalized
`air.temperature` / `air.relativeHumidity`), from `decoded_payload` (the device's payload
formatter; names as in payload_fields.py), or from `frm_payload` read as Cayenne LPP. The
reading is stamped with `uplink_message.received_at` (when the network server received it),
else the message's `received_at`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from ingest.decoders.lpp import reading_from_lpp
from ingest.decoders.payload_fields import values_from_object
from ingest.decoders.result import Decoded, Limits, PayloadError, check_sensor_id, make_reading

NAME = "tts"


class EndDeviceIds(msgspec.Struct):
    device_id: str
    dev_eui: str | None = None


class UplinkMessage(msgspec.Struct):
    received_at: datetime | None = None
    f_port: int | None = None
    frm_payload: str | None = None
    decoded_payload: dict[str, Any] | None = None
    normalized_payload: list[dict[str, Any]] | None = None


class Uplink(msgspec.Struct):
    end_device_ids: EndDeviceIds
    received_at: datetime | None = None
    uplink_message: UplinkMessage | None = None


_decoder = msgspec.json.Decoder(Uplink)


def _normalized_air(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    for entry in entries:
        air = entry.get("air") if isinstance(entry, dict) else None
        if isinstance(air, dict) and "temperature" in air and "relativeHumidity" in air:
            return air
    return None


def decode(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
    try:
        message = _decoder.decode(payload)
    except msgspec.ValidationError as err:
        raise PayloadError("schema", str(err)) from err
    except msgspec.DecodeError as err:
        raise PayloadError("malformed", str(err)) from err
    sensor_id = check_sensor_id(message.end_device_ids.device_id)
    if sensor_id != fields["device_id"]:
        raise PayloadError(
            "topic_mismatch",
            f"end_device_ids.device_id {sensor_id!r} differs from the topic's "
            f"{fields['device_id'][:64]!r}",
        )
    uplink = message.uplink_message
    if uplink is None:
        raise PayloadError("schema", "no uplink_message")
    recorded_at = uplink.received_at or message.received_at or now

    air = _normalized_air(uplink.normalized_payload or [])
    if air is not None:
        obj = {"temperature": air["temperature"], "humidity": air["relativeHumidity"]}
    else:
        obj = uplink.decoded_payload or {}
    values = values_from_object(obj)
    if values.temperature_c is not None and values.humidity_pct is not None:
        reading = make_reading(
            sensor_id,
            recorded_at,
            values.temperature_c,
            values.humidity_pct,
            values.battery_pct,
            now=now,
            limits=limits,
        )
        return Decoded(NAME, (reading,))
    if uplink.frm_payload:
        try:
            data = base64.b64decode(uplink.frm_payload, validate=True)
        except (binascii.Error, ValueError) as err:
            raise PayloadError("schema", "frm_payload is not base64") from err
        try:
            lpp = reading_from_lpp(sensor_id, data, recorded_at=recorded_at, now=now, limits=limits)
        except PayloadError as err:
            if err.reason != "bad_lpp" or not obj:
                raise
            raise PayloadError(
                "no_readings",
                f"decoded_payload lacks temperature or humidity ({sorted(obj)[:10]}), and "
                f"frm_payload is not Cayenne LPP ({err.detail})",
            ) from err
        return Decoded(NAME, lpp.readings)
    raise PayloadError(
        "no_readings",
        "uplink has no temperature and humidity in normalized_payload or decoded_payload, "
        "and no frm_payload",
    )
