"""Cayenne LPP bytes (myDevices, "Cayenne Low Power Payload"), raw on `dw/v1/lpp/{sensor_id}`.

Each value is `channel | type | big-endian value`: temperature 0x67 (0.1 C, int16), relative
humidity 0x68 (0.5 %, uint8), analog input 0x02 (0.01, int16) carrying battery percent, and,
from devices with a real-time clock, Unix time 0x85 (uint32 seconds, the extended type of the
widely used ElectronicCats CayenneLPP library). Devices without a clock are stamped on arrival,
so they only ever send a reading the moment they take it.
"""

from __future__ import annotations

from dampsim.formats.device import Device, Row

TEMPERATURE = 0x67
HUMIDITY = 0x68
ANALOG_INPUT = 0x02
UNIX_TIME = 0x85


def topic(prefix: str, device: Device) -> str:
    return f"{prefix}dw/v1/lpp/{device.sensor_id}"


def has_clock(device: Device) -> bool:
    """Half the LPP devices carry a real-time clock (fixed per device)."""
    return device.key % 2 == 0


def lpp_bytes(row: Row, *, with_time: bool) -> bytes:
    out = bytearray()
    out += bytes((1, TEMPERATURE)) + round(row.temperature_c * 10).to_bytes(2, "big", signed=True)
    out += bytes((2, HUMIDITY)) + round(row.humidity_pct * 2).to_bytes(1, "big")
    if row.battery_pct is not None:
        out += bytes((3, ANALOG_INPUT)) + round(row.battery_pct * 100).to_bytes(
            2, "big", signed=True
        )
    if with_time:
        out += bytes((4, UNIX_TIME)) + row.recorded_at.to_bytes(4, "big")
    return bytes(out)


def carries_time(device: Device) -> bool:
    return has_clock(device)


def encode(device: Device, rows: list[Row]) -> bytes:
    (row,) = rows
    return lpp_bytes(row, with_time=has_clock(device))
