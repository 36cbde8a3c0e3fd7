"""Dampwatch's own JSON on `dw/v1/readings/{sensor_id}`: one reading, or a `readings` backlog.

    {"recorded_at": "2025-01-14T07:30:00+00:00", "temperature_c": 17.4, "humidity_pct": 71.5,
     "battery_pct": 88}
    {"readings": [{"recorded_at": ..., "temperature_c": ..., "humidity_pct": ...}, ...]}

msgspec parses and type-checks in one pass (about half a microsecond a message); the range and
time checks are shared with every other format.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from ingest.decoders.result import (
    Decoded,
    Limits,
    PayloadError,
    Reading,
    check_sensor_id,
    collect,
    make_reading,
)

NAME = "native"


class Entry(msgspec.Struct):
    recorded_at: datetime
    temperature_c: float
    humidity_pct: float
    battery_pct: float | None = None


class Message(msgspec.Struct):
    recorded_at: datetime | None = None
    temperature_c: float | None = None
    humidity_pct: float | None = None
    battery_pct: float | None = None
    readings: list[Entry] | None = None


_decoder = msgspec.json.Decoder(Message)


def parse_message(payload: bytes) -> list[Entry]:
    """The entries of a native (or outdoor) message, type-checked but not yet range-checked."""
    try:
        message = _decoder.decode(payload)
    except msgspec.ValidationError as err:
        raise PayloadError("schema", str(err)) from err
    except msgspec.DecodeError as err:
        raise PayloadError("malformed", str(err)) from err
    if message.readings is not None:
        if not message.readings:
            raise PayloadError("no_readings", "`readings` is empty")
        return message.readings
    if message.recorded_at is None or message.temperature_c is None or message.humidity_pct is None:
        raise PayloadError(
            "schema", "need recorded_at, temperature_c and humidity_pct, or a readings list"
        )
    return [
        Entry(message.recorded_at, message.temperature_c, message.humidity_pct, message.battery_pct)
    ]


def decode(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
    sensor_id = check_sensor_id(fields["sensor_id"])
    entries = parse_message(payload)
    if len(entries) == 1:
        # The common case, one reading a message: no lists to build.
        e = entries[0]
        reading = make_reading(
            sensor_id,
            e.recorded_at,
            e.temperature_c,
            e.humidity_pct,
            e.battery_pct,
            now=now,
            limits=limits,
        )
        return Decoded(NAME, (reading,))
    readings: list[Reading] = []
    rejections: list[PayloadError] = []
    for i, e in enumerate(entries):
        try:
            readings.append(
                make_reading(
                    sensor_id,
                    e.recorded_at,
                    e.temperature_c,
                    e.humidity_pct,
                    e.battery_pct,
                    now=now,
                    limits=limits,
                    where=f"readings[{i}]: ",
                )
            )
        except PayloadError as err:
            rejections.append(err)
    return collect(NAME, readings, [], rejections)
