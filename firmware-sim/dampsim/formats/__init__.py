"""Payload formats the simulated devices speak; one module per format.

Each module has `topic(prefix, device) -> str` and `encode(device, rows) -> bytes`. Backlog
formats (native JSON, SenML) take up to `MAX_ROWS_PER_MESSAGE` rows per message; LoRaWAN
uplinks and raw LPP carry one reading each. Raw LPP carries no time: the receiver stamps it on
arrival (unless the device has a clock), so it is only ever sent the moment it is measured.
"""

from __future__ import annotations

from typing import Protocol

from dampsim.formats import chirpstack, lpp, native, senml, tts
from dampsim.formats.device import Device, Row

BACKLOG_FORMATS = ("native", "senml")
# How many readings one backlog message may carry (about 200 kB of native JSON).
MAX_ROWS_PER_MESSAGE = 2000


class Encoder(Protocol):
    def topic(self, prefix: str, device: Device) -> str: ...

    def encode(self, device: Device, rows: list[Row]) -> bytes: ...

    def carries_time(self, device: Device) -> bool: ...


def encoder_for(payload_format: str) -> Encoder:
    return ENCODERS[payload_format]


ENCODERS: dict[str, Encoder] = {
    "native": native,
    "senml": senml,
    "tts": tts,
    "chirpstack": chirpstack,
    "lpp": lpp,
}

__all__ = ["BACKLOG_FORMATS", "MAX_ROWS_PER_MESSAGE", "Device", "Row", "encoder_for"]
