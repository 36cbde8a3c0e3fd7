"""ChirpStack v4 uplink events on `application/{application_id}/device/{dev_eui}/event/up`.

The JSON encoding of ChirpStack's `UplinkEvent` (ChirpStack docs, "Event types", `up`). The
sensor id is `deviceInfo.devEui` in lower-case hex, which must equal the topic's DevEUI. Values
come from `object` when the device profile has a codec (names as in payload_fields.py), else
from `data` read as Cayenne LPP. The reading is stamped with the event's `time`.

The `chirpstack-api` package would parse the Protobuf encoding too, but it brings gRPC with it;
the MQTT integration sends JSON by default, which msgspec reads directly.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from ingest.decoders.lpp import reading_from_lpp
from ingest.decoders.payload_fields import values_from_object
from ingest.decoders.result import Decoded, Limits, PayloadError, make_reading

NAME = "chirpstack"

# A DevEUI is an EUI-64: 16 hex digits (LoRaWAN 1.0.4, 6.1.1.1).
DEV_EUI_RE = re.compile(r"[0-9a-f]{16}")


class DeviceInfo(msgspec.Struct):
    devEui: str  # noqa: N815 - ChirpStack's JSON name


class UplinkEvent(msgspec.Struct):
    deviceInfo: DeviceInfo  # noqa: N815
    time: datetime | None = None
    data: str | None = None
    object: dict[str, Any] | None = None


_decoder = msgspec.json.Decoder(UplinkEvent)


def decode(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
    try:
        event = _decoder.decode(payload)
    except msgspec.ValidationError as err:
        raise PayloadError("schema", str(err)) from err
    except msgspec.DecodeError as err:
        raise PayloadError("malformed", str(err)) from err
    sensor_id = event.deviceInfo.devEui.lower()
    if DEV_EUI_RE.fullmatch(sensor_id) is None:
        raise PayloadError("bad_sensor_id", f"devEui {sensor_id[:40]!r} is not 16 hex digits")
    if sensor_id != fields["dev_eui"].lower():
        raise PayloadError(
            "topic_mismatch",
            f"deviceInfo.devEui {sensor_id!r} differs from the topic's {fields['dev_eui'][:40]!r}",
        )
    recorded_at = event.time or now
    values = values_from_object(event.object or {})
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
    if event.data:
        try:
            data = base64.b64decode(event.data, validate=True)
        except (binascii.Error, ValueError) as err:
            raise PayloadError("schema", "data is not base64") from err
        lpp = reading_from_lpp(sensor_id, data, recorded_at=recorded_at, now=now, limits=limits)
        return Decoded(NAME, lpp.readings)
    raise PayloadError(
        "no_readings", "uplink event has no temperature and humidity in object, and no data"
    )
