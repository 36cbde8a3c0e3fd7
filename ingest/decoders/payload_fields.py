"""Temperature, humidity and battery out of a network server's decoded-payload object.

The Things Stack (`decoded_payload`) and ChirpStack (`object`) hand over whatever the device's
payload formatter returned, so the names vary by vendor. Read, in order:

- Dampwatch's own names: `temperature_c`, `humidity_pct`, `battery_pct`;
- common plain names: `temperature`, `humidity`, `relative_humidity`, `battery`;
- The Things Stack's Cayenne LPP formatter: `temperature_<ch>`, `relative_humidity_<ch>`,
  `analog_in_<ch>` (lowest channel first);
- ChirpStack's Cayenne LPP codec: `temperatureSensor`, `humiditySensor`, `analogInput`, each an
  object of channel -> value.

A value must be a JSON number (booleans are refused). Nothing here guesses units: temperatures
are Celsius and humidities percent, as in every formatter above.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ingest.decoders.result import PayloadError

TEMPERATURE_KEYS = ("temperature_c", "temperature", "temp")
HUMIDITY_KEYS = ("humidity_pct", "humidity", "relative_humidity", "relativeHumidity")
BATTERY_KEYS = ("battery_pct", "battery", "batteryLevel")


@dataclass(frozen=True, slots=True)
class ObjectValues:
    temperature_c: float | None
    humidity_pct: float | None
    battery_pct: float | None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError("schema", f"{name} is not a number: {str(value)[:40]!r}")
    number = float(value)
    if not math.isfinite(number):
        raise PayloadError("schema", f"{name} is not finite")
    return number


def _pick(obj: Mapping[str, Any], keys: tuple[str, ...], lpp_prefix: str, lpp_map: str) -> Any:
    for key in keys:
        if key in obj and obj[key] is not None:
            return _number(obj[key], key)
    channels = sorted(
        (key for key in obj if key.startswith(lpp_prefix) and key[len(lpp_prefix) :].isdigit()),
        key=lambda key: int(key[len(lpp_prefix) :]),
    )
    if channels:
        return _number(obj[channels[0]], channels[0])
    by_channel = obj.get(lpp_map)
    if isinstance(by_channel, Mapping) and by_channel:
        first = min(by_channel, key=lambda ch: (not str(ch).isdigit(), str(ch).zfill(8)))
        return _number(by_channel[first], f"{lpp_map}.{first}")
    return None


def values_from_object(obj: Mapping[str, Any]) -> ObjectValues:
    return ObjectValues(
        temperature_c=_pick(obj, TEMPERATURE_KEYS, "temperature_", "temperatureSensor"),
        humidity_pct=_pick(obj, HUMIDITY_KEYS, "relative_humidity_", "humiditySensor"),
        battery_pct=_pick(obj, BATTERY_KEYS, "analog_in_", "analogInput"),
    )
