"""Cayenne Low Power Payload (LPP) bytes, on `dw/v1/lpp/{sensor_id}` and inside LoRaWAN uplinks.

A payload is a run of `channel (1 byte) | type (1 byte) | value (size of the type)`. Dampwatch
reads type 0x67 temperature (0.1 C, signed), 0x68 relative humidity (0.5 %, unsigned), 0x02
analog input (0.01, signed) as battery percent, and 0x85 Unix time when the device sends one;
every other known type is skipped by its size, and an unknown type makes the payload unreadable
(its size, and so everything after it, is unknown).

Written here rather than taken from a package: the Python LPP packages on PyPI (pycayennelpp,
cayennelpp) have not been released since 2021 and 2018, and the format is a twenty-line table.

Without a Unix time in the payload the reading is stamped with the message's receive time, so a
message the broker redelivers after a crash can be stored a second time, a few seconds apart:
firmware that wants exactly-once storage sends type 0x85 (or uses a format with a timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ingest.decoders.result import Decoded, Limits, PayloadError, check_sensor_id, make_reading

NAME = "lpp"

TEMPERATURE = 0x67
HUMIDITY = 0x68
ANALOG_INPUT = 0x02
UNIX_TIME = 0x85

# Value sizes in bytes by type. myDevices, "Cayenne Low Power Payload", data types table
# (IPSO object id - 3200); the extended types (voltage ... switch) as defined by the widely used
# ElectronicCats CayenneLPP Arduino library.
TYPE_SIZES: dict[int, int] = {
    0x00: 1,  # digital input
    0x01: 1,  # digital output
    0x02: 2,  # analog input, 0.01 signed
    0x03: 2,  # analog output, 0.01 signed
    0x64: 4,  # generic sensor
    0x65: 2,  # illuminance, 1 lux unsigned
    0x66: 1,  # presence
    0x67: 2,  # temperature, 0.1 C signed
    0x68: 1,  # relative humidity, 0.5 % unsigned
    0x71: 6,  # accelerometer, 0.001 G signed per axis
    0x73: 2,  # barometer, 0.1 hPa unsigned
    0x74: 2,  # voltage, 0.01 V
    0x75: 2,  # current, 0.001 A
    0x76: 4,  # frequency, 1 Hz
    0x78: 1,  # percentage
    0x79: 2,  # altitude, 1 m signed
    0x7D: 2,  # concentration, 1 ppm
    0x80: 2,  # power, 1 W
    0x82: 4,  # distance, 0.001 m
    0x83: 4,  # energy, 0.001 kWh
    0x84: 2,  # direction, 1 degree
    0x85: 4,  # Unix time, seconds, unsigned
    0x86: 6,  # gyrometer, 0.01 deg/s signed per axis
    0x87: 3,  # colour, RGB
    0x88: 9,  # GPS: latitude, longitude 0.0001 deg, altitude 0.01 m, 3 bytes each, signed
    0x8E: 1,  # switch
}


@dataclass(frozen=True, slots=True)
class LppValues:
    """The first value of each type Dampwatch reads, by position in the payload."""

    temperature_c: float | None = None
    humidity_pct: float | None = None
    battery_pct: float | None = None
    unix_time_s: int | None = None


def parse_lpp(data: bytes) -> LppValues:
    """Walk the payload; PayloadError('bad_lpp') if it is cut short or holds an unknown type."""
    if not data:
        raise PayloadError("bad_lpp", "empty LPP payload")
    found: dict[int, int] = {}
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise PayloadError("bad_lpp", f"LPP payload ends inside the header at byte {pos}")
        kind = data[pos + 1]
        size = TYPE_SIZES.get(kind)
        if size is None:
            raise PayloadError("bad_lpp", f"unknown LPP type 0x{kind:02x} at byte {pos}")
        start = pos + 2
        end = start + size
        if end > len(data):
            raise PayloadError("bad_lpp", f"LPP value of type 0x{kind:02x} cut short at byte {pos}")
        if kind in (TEMPERATURE, HUMIDITY, ANALOG_INPUT, UNIX_TIME) and kind not in found:
            found[kind] = int.from_bytes(
                data[start:end], "big", signed=kind in (TEMPERATURE, ANALOG_INPUT)
            )
        pos = end
    return LppValues(
        temperature_c=found[TEMPERATURE] / 10 if TEMPERATURE in found else None,
        humidity_pct=found[HUMIDITY] / 2 if HUMIDITY in found else None,
        battery_pct=found[ANALOG_INPUT] / 100 if ANALOG_INPUT in found else None,
        unix_time_s=found.get(UNIX_TIME),
    )


def reading_from_lpp(
    sensor_id: str, data: bytes, *, recorded_at: datetime, now: datetime, limits: Limits
) -> Decoded:
    """A reading from LPP bytes; `recorded_at` is used when the payload carries no Unix time."""
    values = parse_lpp(data)
    if values.temperature_c is None or values.humidity_pct is None:
        missing = "temperature (0x67)" if values.temperature_c is None else "humidity (0x68)"
        raise PayloadError("no_readings", f"LPP payload has no {missing}")
    if values.unix_time_s is not None:
        recorded_at = datetime.fromtimestamp(values.unix_time_s, UTC)
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


def decode(fields: Mapping[str, str], payload: bytes, *, now: datetime, limits: Limits) -> Decoded:
    sensor_id = check_sensor_id(fields["sensor_id"])
    return reading_from_lpp(sensor_id, payload, recorded_at=now, now=now, limits=limits)
