"""What a payload encoder is given: the device that sends, and the readings it sends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Device:
    """What a payload needs to know about the device that sends it."""

    sensor_id: str
    payload_format: str
    lpp_encoded: bool
    borough_code: str
    key: int


@dataclass(frozen=True, slots=True)
class Row:
    """One reading as the device measured it."""

    recorded_at: int  # Unix seconds
    temperature_c: float
    humidity_pct: float
    battery_pct: float | None
    counter: int = 0  # the device's uplink frame counter, for LoRaWAN formats
