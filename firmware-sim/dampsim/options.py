"""What a simulation run is asked to do: one frozen value, the same for every entry point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# ONS GSS codes of the 33 London local authorities (32 boroughs and the City of London).
BOROUGH_CODES: tuple[str, ...] = tuple(f"E09{n:06d}" for n in range(1, 34))

PAYLOAD_FORMATS: tuple[str, ...] = ("native", "senml", "tts", "chirpstack", "lpp")
FAULT_KINDS: tuple[str, ...] = (
    "stuck",
    "drift",
    "heat_source",
    "moisture_source",
    "moved",
    "unprovisioned",
)
MODES: tuple[str, ...] = ("live", "backfill", "load")

Mode = Literal["live", "backfill", "load"]


@dataclass(frozen=True, slots=True)
class SimOptions:
    """A simulated fleet and how to run it; the same seed gives the same fleet and readings.

    `end_at` pins the end of the history (default: the wall clock when the run starts), so that
    `generate_dataset` is reproducible to the byte; `reading_interval_s` overrides the firmware's
    5-15 min reporting (an hourly sample is enough for model evaluation and is 6x smaller).
    """

    homes: int = 200
    boroughs: int | Sequence[str] = 20
    seed: int = 1
    history_days: float = 21.0
    speed: float = 3600.0
    mode: Mode = "live"
    rate_per_s: float = 1000.0
    duration_s: float | None = None
    formats: str = "native"
    fault_fraction: float = 0.05
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    mould_fraction: float = 0.06
    firmware_quirks: bool = True
    topic_prefix: str = ""
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_protocol: str = "5"
    end_at: datetime | None = None
    reading_interval_s: float | None = None
    client_id: str = field(default="")

    def __post_init__(self) -> None:
        if self.homes < 0:
            raise ValueError("homes must be >= 0")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if self.formats not in ("native", "mixed", *PAYLOAD_FORMATS):
            raise ValueError(f"formats must be 'mixed' or one of {', '.join(PAYLOAD_FORMATS)}")
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown))}")
        if not 0.0 <= self.fault_fraction <= 1.0 or not 0.0 <= self.mould_fraction <= 1.0:
            raise ValueError("fault_fraction and mould_fraction are shares between 0 and 1")
        if self.end_at is not None and self.end_at.tzinfo is None:
            raise ValueError("end_at must carry a UTC offset")
        if self.speed < 1.0:
            raise ValueError("speed is simulated seconds per real second, at least 1")
        if self.history_days < 0:
            raise ValueError("history_days must be >= 0")
        self.borough_codes()  # validates the list early

    def borough_codes(self) -> tuple[str, ...]:
        """The boroughs the homes are spread over, in order."""
        if isinstance(self.boroughs, int):
            if not 1 <= self.boroughs <= len(BOROUGH_CODES):
                raise ValueError(f"boroughs must be between 1 and {len(BOROUGH_CODES)}")
            return BOROUGH_CODES[: self.boroughs]
        codes = tuple(self.boroughs)
        bad = [c for c in codes if c not in BOROUGH_CODES]
        if bad or not codes:
            raise ValueError(f"not London borough codes: {', '.join(bad) or '(none given)'}")
        return codes
