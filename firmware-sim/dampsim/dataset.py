"""The fleet generated in-process, without MQTT: readings, placements, weather and the truth.

`generate_dataset(options)` returns one `Dataset`; `iter_datasets(options, batch_homes=...)`
yields one per batch of homes, for estates too big to hold at once (memory grows with
homes x days / reading interval, so 2,000 homes over a winter want hourly readings or batches).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from dampsim.archetypes import ROOM_SLOTS
from dampsim.estate import HomeSpec, iter_homes
from dampsim.export import provisioning_export
from dampsim.firmware import Readings
from dampsim.fleet import HomeBatch
from dampsim.ground_truth import Truth, truth_of_batch
from dampsim.options import SimOptions
from dampsim.simulation import BATCH_HOMES, history_window
from dampsim.weather import outdoor_conditions

DAY_S = 86_400
StrArray = npt.NDArray[np.str_]


@dataclass(frozen=True)
class SensorTable:
    """One row per device, indexed by `Readings.sensor`; the room is where it was installed."""

    sensor_id: StrArray
    uprn: npt.NDArray[np.int64]
    borough_code: StrArray
    room_name: StrArray
    room_kind: StrArray
    payload_format: StrArray
    provisioned: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.sensor_id.size)


@dataclass(frozen=True)
class Outdoor:
    """Hourly outdoor weather per borough: arrays of shape (hours, boroughs)."""

    borough_codes: tuple[str, ...]
    at: npt.NDArray[np.int64]
    temperature_c: npt.NDArray[np.float32]
    humidity_pct: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Dataset:
    start_at: datetime
    end_at: datetime
    seed: int
    sensors: SensorTable
    readings: Readings
    outdoor: Outdoor
    provisioning: dict[str, Any]
    truth: Truth


def sensor_table(homes: list[HomeSpec]) -> SensorTable:
    rows = [
        (s.sensor_id, h.uprn, h.borough_code, *ROOM_SLOTS[s.slot], s.payload_format, s.provisioned)
        for h in homes
        for s in h.sensors
    ]
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    return SensorTable(
        sensor_id=np.array(cols[0], dtype=str),
        uprn=np.array(cols[1], dtype=np.int64),
        borough_code=np.array(cols[2], dtype=str),
        room_name=np.array(cols[3], dtype=str),
        room_kind=np.array(cols[4], dtype=str),
        payload_format=np.array(cols[5], dtype=str),
        provisioned=np.array(cols[6], dtype=bool),
    )


def outdoor_hourly(options: SimOptions, start_s: int, end_s: int) -> Outdoor:
    codes = options.borough_codes()
    hours = np.arange(-(-start_s // 3600) * 3600, end_s, 3600, dtype=np.int64)
    temperature, humidity = outdoor_conditions(options.seed, codes, hours)
    return Outdoor(
        codes,
        hours,
        np.round(temperature, 2).astype(np.float32),
        np.round(humidity, 1).astype(np.float32),
    )


def _window(options: SimOptions) -> tuple[int, int]:
    return history_window(options, time.time() // 60 * 60)


def iter_datasets(options: SimOptions, *, batch_homes: int = BATCH_HOMES) -> Iterator[Dataset]:
    """The dataset of each batch of `batch_homes` homes in turn (same values as one pass)."""
    start_s, end_s = _window(options)
    fault_period = (start_s, max(end_s, start_s + 7 * DAY_S))
    outdoor = outdoor_hourly(options, start_s, end_s)
    for first in range(0, options.homes, batch_homes):
        homes = list(iter_homes(options, first, first + batch_homes))
        batch = HomeBatch(homes, options, fault_period, with_truth=True)
        parts = []
        cursor = start_s
        while cursor < end_s:
            cursor = min(cursor + DAY_S, end_s)
            parts.append(batch.advance(cursor))
        readings = Readings.concat(parts)
        yield Dataset(
            start_at=datetime.fromtimestamp(start_s, UTC),
            end_at=datetime.fromtimestamp(end_s, UTC),
            seed=options.seed,
            sensors=sensor_table(homes),
            readings=readings.select(np.lexsort((readings.recorded_at, readings.sensor))),
            outdoor=outdoor,
            provisioning=provisioning_export(options, now_s=end_s, homes=iter(homes)),
            truth=truth_of_batch(batch, fault_period),
        )


def generate_dataset(options: SimOptions) -> Dataset:
    """The whole estate's dataset in memory; see `iter_datasets` for big estates."""
    parts = list(iter_datasets(options))
    if len(parts) == 1:
        return parts[0]
    if not parts:
        start_s, end_s = _window(options)
        return Dataset(
            datetime.fromtimestamp(start_s, UTC),
            datetime.fromtimestamp(end_s, UTC),
            options.seed,
            sensor_table([]),
            Readings.concat([]),
            outdoor_hourly(options, start_s, end_s),
            {"homes": [], "unprovisioned_sensors": []},
            Truth.concat([]),
        )
    offsets = np.cumsum([0] + [len(p.sensors) for p in parts[:-1]]).tolist()
    sensors = SensorTable(
        *(
            np.concatenate([getattr(p.sensors, f) for p in parts])
            for f in SensorTable.__dataclass_fields__
        )
    )
    first = parts[0]
    return Dataset(
        start_at=first.start_at,
        end_at=first.end_at,
        seed=first.seed,
        sensors=sensors,
        readings=Readings.concat([p.readings for p in parts], offsets),
        outdoor=first.outdoor,
        provisioning={
            "homes": [h for p in parts for h in p.provisioning["homes"]],
            "unprovisioned_sensors": [
                s for p in parts for s in p.provisioning["unprovisioned_sensors"]
            ],
        },
        truth=Truth.concat([p.truth for p in parts]),
    )
