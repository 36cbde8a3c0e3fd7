"""SenML JSON (RFC 8428) packs on `dw/v1/senml/{sensor_id}`.

A pack is a JSON array of records. Each record is resolved as RFC 8428 section 4.6 says: base
name, time, unit and value carry over from the record that set them, `t` adds to `bt`, `v` to
`bv`, and a resolved time below 2**28 is relative to now (section 4.5.3). Records with unit
`Cel` (or `K`) and `%RH` at the same resolved time make one reading; `%EL` (battery level) joins
the reading at its time, else the pack's latest reading. Other units (position, voltage...) are
ignored. A pack whose version (`bver`) is newer than 10, or that uses a field ending in `_`
(must-understand, section 4.4), is refused as the RFC requires.

The sensor id comes from the topic; record names identify measurements and are not used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from ingest.decoders.result import (
    BATTERY_MAX_PCT,
    BATTERY_MIN_PCT,
    Decoded,
    Limits,
    PayloadError,
    Reading,
    check_range,
    check_sensor_id,
    collect,
    make_reading,
)

NAME = "senml"

SUPPORTED_VERSION = 10  # RFC 8428, section 4.4: the version this specification defines.
RELATIVE_TIME_LIMIT_S = 2**28  # RFC 8428, section 4.5.3.
KELVIN_OFFSET = 273.15
KNOWN_FIELDS = frozenset(
    ("bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut")
)

_decoder = msgspec.json.Decoder(list[dict[str, Any]])


def _number(record: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = record.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError("schema", f"SenML field {key!r} is not a finite number")
    return float(value)


def decode(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
    sensor_id = check_sensor_id(fields["sensor_id"])
    try:
        records = _decoder.decode(payload)
    except msgspec.ValidationError as err:
        raise PayloadError("schema", f"a SenML pack is an array of objects: {err}") from err
    except msgspec.DecodeError as err:
        raise PayloadError("malformed", str(err)) from err
    if not records:
        raise PayloadError("no_readings", "empty SenML pack")

    now_s = now.timestamp()
    base_time = 0.0
    base_unit = ""
    base_value = 0.0
    # resolved time (rounded to the microsecond) -> unit -> value
    by_time: dict[float, dict[str, float]] = {}
    for record in records:
        unknown = [k for k in record if k not in KNOWN_FIELDS]
        if any(k.endswith("_") for k in unknown):
            raise PayloadError("schema", f"SenML must-understand field(s) {unknown} not supported")
        if "bver" in record and _number(record, "bver") > SUPPORTED_VERSION:
            raise PayloadError("schema", f"SenML version {record['bver']} is newer than 10")
        if "bt" in record:
            base_time = _number(record, "bt")
        if "bu" in record:
            if not isinstance(record["bu"], str):
                raise PayloadError("schema", "SenML field 'bu' is not a string")
            base_unit = record["bu"]
        if "bv" in record:
            base_value = _number(record, "bv")
        if "v" not in record:
            continue  # a string, boolean or data value, or base fields only
        unit = record.get("u", base_unit)
        if not isinstance(unit, str):
            raise PayloadError("schema", "SenML field 'u' is not a string")
        time_s = base_time + _number(record, "t")
        if time_s < RELATIVE_TIME_LIMIT_S:
            time_s += now_s
        value = base_value + _number(record, "v")
        if unit == "K":
            unit, value = "Cel", value - KELVIN_OFFSET
        if unit in ("Cel", "%RH", "%EL"):
            by_time.setdefault(round(time_s, 6), {}).setdefault(unit, value)

    readings: list[Reading] = []
    rejections: list[PayloadError] = []
    orphan_battery: float | None = None
    for time_s in sorted(by_time):
        units = by_time[time_s]
        if "Cel" not in units or "%RH" not in units:
            if "Cel" in units or "%RH" in units:
                missing = "%RH" if "Cel" in units else "Cel"
                rejections.append(
                    PayloadError("no_readings", f"t={time_s:.3f}: no {missing} record at this time")
                )
            elif "%EL" in units:
                orphan_battery = units["%EL"]
            continue
        try:
            readings.append(
                make_reading(
                    sensor_id,
                    _datetime(time_s),
                    units["Cel"],
                    units["%RH"],
                    units.get("%EL"),
                    now=now,
                    limits=limits,
                    where=f"t={time_s:.3f}: ",
                )
            )
        except PayloadError as err:
            rejections.append(err)
    if orphan_battery is not None and readings and readings[-1].battery_pct is None:
        check_range("battery_pct", orphan_battery, BATTERY_MIN_PCT, BATTERY_MAX_PCT)
        last = readings[-1]
        readings[-1] = Reading(
            last.sensor_id, last.recorded_at, last.temperature_c, last.humidity_pct, orphan_battery
        )
    return collect(NAME, readings, [], rejections)


def _datetime(time_s: float) -> datetime:
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=time_s)
    except OverflowError as err:
        raise PayloadError("out_of_range", f"SenML time {time_s!r} is not a date") from err
