"""What a decoder makes of a message, and the checks every reading passes whatever its format.

Exceptions, drawn once:

    ValueError
      PayloadError   a message (or one reading in it) that can never become a reading; it is kept
                     in rejected_messages with its raw bytes, `reason` and `detail`, then acked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Physical ranges of the sensors Dampwatch accepts: the operating range of common indoor
# temperature/humidity sensors (e.g. Sensirion SHT4x: -40..125 C, 0..100 %RH; LoRaWAN room
# sensors are specified -40..85 C), so anything outside is a fault, not weather.
TEMPERATURE_MIN_C = -40.0
TEMPERATURE_MAX_C = 85.0
HUMIDITY_MIN_PCT = 0.0
HUMIDITY_MAX_PCT = 100.0
BATTERY_MIN_PCT = 0.0
BATTERY_MAX_PCT = 100.0

# sensors.sensor_id is text of 1..128 characters (0001_initial.sql); restrict it further to the
# characters device ids and EUIs are made of, so ids are safe in URLs, logs and CSV.
SENSOR_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# ONS GSS codes: a letter for the nation, then eight digits (E09000001 is the City of London).
GSS_CODE_RE = re.compile(r"[ENSW][0-9]{8}")


class PayloadError(ValueError):
    """A message that can never become a reading: kept in rejected_messages, then acked."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Reading:
    sensor_id: str
    recorded_at: datetime
    temperature_c: float
    humidity_pct: float
    battery_pct: float | None = None


@dataclass(frozen=True, slots=True)
class OutdoorReading:
    borough_code: str
    recorded_at: datetime
    temperature_c: float
    humidity_pct: float


@dataclass(frozen=True, slots=True)
class Decoded:
    """The readings of one message; `rejections` lists entries of it that were refused."""

    decoder: str
    readings: tuple[Reading, ...] = ()
    outdoor: tuple[OutdoorReading, ...] = ()
    rejections: tuple[PayloadError, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Limits:
    """What a reading's timestamp may be, relative to when the message arrived."""

    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=400)


DEFAULT_LIMITS = Limits()


def check_sensor_id(sensor_id: str) -> str:
    if SENSOR_ID_RE.fullmatch(sensor_id) is None:
        raise PayloadError("bad_sensor_id", f"{sensor_id[:140]!r} is not a valid sensor id")
    return sensor_id


def check_borough_code(code: str) -> str:
    if GSS_CODE_RE.fullmatch(code) is None:
        raise PayloadError("bad_borough_code", f"{code[:40]!r} is not a GSS code")
    return code


def check_time(recorded_at: datetime, *, now: datetime, limits: Limits, where: str = "") -> None:
    if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
        raise PayloadError("naive_timestamp", f"{where}recorded_at has no UTC offset")
    if recorded_at > now + limits.max_future:
        raise PayloadError(
            "future_timestamp", f"{where}recorded_at {recorded_at.isoformat()} is in the future"
        )
    if recorded_at < now - limits.max_age:
        raise PayloadError("too_old", f"{where}recorded_at {recorded_at.isoformat()} is too old")


def check_range(name: str, value: float, low: float, high: float, where: str = "") -> float:
    # Written so that NaN, which compares false with everything, is refused too.
    if not (low <= value <= high):
        raise PayloadError("out_of_range", f"{where}{name} {value!r} outside {low:g}..{high:g}")
    return value


def make_reading(
    sensor_id: str,
    recorded_at: datetime,
    temperature_c: float,
    humidity_pct: float,
    battery_pct: float | None,
    *,
    now: datetime,
    limits: Limits,
    where: str = "",
) -> Reading:
    """A validated reading, or PayloadError saying which check failed."""
    check_time(recorded_at, now=now, limits=limits, where=where)
    check_range("temperature_c", temperature_c, TEMPERATURE_MIN_C, TEMPERATURE_MAX_C, where)
    check_range("humidity_pct", humidity_pct, HUMIDITY_MIN_PCT, HUMIDITY_MAX_PCT, where)
    if battery_pct is not None:
        check_range("battery_pct", battery_pct, BATTERY_MIN_PCT, BATTERY_MAX_PCT, where)
    return Reading(sensor_id, recorded_at, temperature_c, humidity_pct, battery_pct)


def make_outdoor(
    borough_code: str,
    recorded_at: datetime,
    temperature_c: float,
    humidity_pct: float,
    *,
    now: datetime,
    limits: Limits,
    where: str = "",
) -> OutdoorReading:
    check_time(recorded_at, now=now, limits=limits, where=where)
    check_range("temperature_c", temperature_c, TEMPERATURE_MIN_C, TEMPERATURE_MAX_C, where)
    check_range("humidity_pct", humidity_pct, HUMIDITY_MIN_PCT, HUMIDITY_MAX_PCT, where)
    return OutdoorReading(borough_code, recorded_at, temperature_c, humidity_pct)


def collect(
    decoder: str,
    readings: list[Reading],
    outdoor: list[OutdoorReading],
    rejections: list[PayloadError],
) -> Decoded:
    """One message's result: if nothing in it was usable, the message itself is refused."""
    if not readings and not outdoor:
        if rejections:
            first = rejections[0]
            if len(rejections) == 1:
                raise first
            raise PayloadError(
                first.reason, f"{first.detail} (and {len(rejections) - 1} more entries refused)"
            )
        raise PayloadError("no_readings", "the message holds no temperature and humidity reading")
    return Decoded(decoder, tuple(readings), tuple(outdoor), tuple(rejections))
