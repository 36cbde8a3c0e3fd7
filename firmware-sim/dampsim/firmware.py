"""What a sensor's firmware makes of the room it sits in.

Each device samples on its own clock every 5, 10 or 15 minutes with up to 15 s of jitter; it
measures with a calibration offset within its datasheet accuracy (+/-0.3 C, +/-2 %RH, typical
of SHT3x/SHT4x-class sensors) plus a little read noise, and quantises to 0.1 C and 0.5 %RH (the
resolution Cayenne LPP carries, so every format transports the same values). With
`firmware_quirks` on, devices also:
- drain their battery (2-5 years for most, weeks for a few bad cells) and stop when it is empty;
- go offline for spells of 1-36 h about twice a month; devices that keep a backlog (native
  JSON, SenML) send it on reconnect, LoRaWAN and LPP devices lose those readings;
- let their clock drift between daily resyncs (+/-40 ppm crystals); LoRaWAN devices are stamped
  by the network, which has no drift;
- send about one message in 300 twice.
Faults (per device, when asked for): stuck value, slow RH drift, near a heat source (a
radiator), near a moisture source (kettle, shower), moved to another room without telling
anyone, and devices nobody provisioned.

Every random choice is hashed from (seed, device, reading counter or day), so readings do not
depend on how the run was split into windows or batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dampsim.estate import HomeSpec
from dampsim.psychro import relative_humidity_pct
from dampsim.streams import (
    STREAM_DUPLICATE,
    STREAM_JITTER,
    STREAM_NOISE_RH,
    STREAM_NOISE_T,
    STREAM_OFFLINE,
    STREAM_SENSOR,
    hashed_normal,
    hashed_uniform,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DAY_S = 86_400
MAX_JITTER_S = 15.0
ACCURACY_T_C = 0.3
ACCURACY_RH_PCT = 2.0
NOISE_T_C = 0.05
NOISE_RH_PCT = 0.4
RESOLUTION_T_C = 0.1
RESOLUTION_RH_PCT = 0.5
CLOCK_DRIFT_PPM_SD = 40.0
OFFLINE_START_PER_DAY = 0.06
OFFLINE_MAX_H = 36.0
DUPLICATE_SHARE = 1.0 / 300.0
BACKLOG_FORMATS = ("native", "senml")
FAULT_CODES = {
    None: 0,
    "stuck": 1,
    "drift": 2,
    "heat_source": 3,
    "moisture_source": 4,
    "moved": 5,
    "unprovisioned": 6,
}


@dataclass(frozen=True, slots=True)
class Readings:
    """Readings as measured, one row each, ordered by device then time."""

    sensor: IntArray  # index into the batch's (or dataset's) sensor table
    recorded_at: IntArray  # Unix seconds, as the device (or network) stamped it
    temperature_c: FloatArray
    humidity_pct: FloatArray
    battery_pct: FloatArray
    sent_at: IntArray  # Unix seconds when it leaves the device (later for a backlog)
    duplicate: BoolArray  # sent twice

    def __len__(self) -> int:
        return int(self.sensor.size)

    def select(self, mask: npt.NDArray[np.bool_] | IntArray) -> Readings:
        return Readings(
            self.sensor[mask],
            self.recorded_at[mask],
            self.temperature_c[mask],
            self.humidity_pct[mask],
            self.battery_pct[mask],
            self.sent_at[mask],
            self.duplicate[mask],
        )

    @staticmethod
    def concat(parts: list[Readings], offsets: list[int] | None = None) -> Readings:
        if not parts:
            return empty_readings()
        shifts = offsets or [0] * len(parts)
        return Readings(
            np.concatenate([p.sensor + s for p, s in zip(parts, shifts, strict=True)]),
            np.concatenate([p.recorded_at for p in parts]),
            np.concatenate([p.temperature_c for p in parts]),
            np.concatenate([p.humidity_pct for p in parts]),
            np.concatenate([p.battery_pct for p in parts]),
            np.concatenate([p.sent_at for p in parts]),
            np.concatenate([p.duplicate for p in parts]),
        )


def empty_readings() -> Readings:
    i = np.zeros(0, dtype=np.int64)
    f = np.zeros(0, dtype=np.float64)
    return Readings(i, i.copy(), f, f.copy(), f.copy(), i.copy(), np.zeros(0, dtype=bool))


@dataclass(frozen=True, slots=True)
class GridWindow:
    """Room states on the physics grid, covering the readings' times, shape (steps, home, slot)."""

    times_s: IntArray
    temperature_c: FloatArray
    vapour_g_m3: FloatArray
    heating_fraction: FloatArray
    moisture_fraction: FloatArray


class Firmware:
    """The devices of a batch of homes; `measure` turns room states into readings."""

    def __init__(
        self, homes: list[HomeSpec], seed: int, quirks: bool, period: tuple[int, int]
    ) -> None:
        self.seed = seed
        self.quirks = quirks
        specs = [(i, s) for i, h in enumerate(homes) for s in h.sensors]
        self.specs = [s for _, s in specs]
        self.home = np.array([i for i, _ in specs], dtype=np.int64)
        self.slot = np.array([s.slot for _, s in specs], dtype=np.int64)
        self.key = np.array([s.key for _, s in specs], dtype=np.int64)
        self.interval_s = np.array([s.interval_s for _, s in specs])
        self.phase_s = np.array([s.phase_s for _, s in specs])
        self.battery_start = np.array([s.battery_start_pct for _, s in specs])
        self.drain_per_day = np.array([s.battery_drain_pct_day for _, s in specs])
        self.backlog = np.array([s.payload_format in BACKLOG_FORMATS for _, s in specs])
        self.cal_t = np.clip(
            hashed_normal(seed, STREAM_SENSOR, self.key, 1) * 0.12, -ACCURACY_T_C, ACCURACY_T_C
        )
        self.cal_rh = np.clip(
            hashed_normal(seed, STREAM_SENSOR, self.key, 2) * 0.8, -ACCURACY_RH_PCT, ACCURACY_RH_PCT
        )
        self.drift_ppm = hashed_normal(seed, STREAM_SENSOR, self.key, 3) * CLOCK_DRIFT_PPM_SD
        start, end = period
        self.placed_s = np.full(len(specs), float(start))
        self.fault = np.array([FAULT_CODES[s.fault.kind if s.fault else None] for _, s in specs])
        self.fault_start_s = np.array(
            [start + (s.fault.start_fraction if s.fault else 2.0) * (end - start) for _, s in specs]
        )
        self.fault_magnitude = np.array([s.fault.magnitude if s.fault else 0.0 for _, s in specs])
        self.target_slot = np.array([s.fault.target_slot if s.fault else s.slot for _, s in specs])
        self.stuck_values: dict[int, tuple[float, float]] = {}

    def __len__(self) -> int:
        return len(self.specs)

    def _schedule(self, t0: int, t1: int) -> tuple[IntArray, IntArray, FloatArray]:
        """(device, reading counter, true time) of every sample in [t0, t1)."""
        k_lo = np.ceil((t0 - self.phase_s - MAX_JITTER_S) / self.interval_s).astype(np.int64)
        k_hi = np.floor((t1 - self.phase_s + MAX_JITTER_S) / self.interval_s).astype(np.int64)
        counts = np.maximum(k_hi - k_lo + 1, 0)
        device = np.repeat(np.arange(len(self)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        k = np.repeat(k_lo, counts) + (np.arange(device.size) - starts)
        jitter = (hashed_uniform(self.seed, STREAM_JITTER, self.key[device], k) - 0.5) * 2.0
        true_s = self.phase_s[device] + k * self.interval_s[device] + jitter * MAX_JITTER_S
        keep = (true_s >= t0) & (true_s < t1) & (true_s >= self.placed_s[device])
        return device[keep], k[keep], true_s[keep]

    def battery_at(self, device: IntArray, true_s: FloatArray) -> FloatArray:
        days = (true_s - self.placed_s[device]) / DAY_S
        level = self.battery_start[device] - self.drain_per_day[device] * days
        result: FloatArray = level if self.quirks else np.maximum(level, 5.0)
        return result

    def measure(self, grid: GridWindow, t0: int, t1: int) -> Readings:
        """Every reading the devices take in [t0, t1), from room states on the grid."""
        device, k, true_s = self._schedule(t0, t1)
        battery = self.battery_at(device, true_s)
        alive = battery > 0.0
        device, k, true_s, battery = device[alive], k[alive], true_s[alive], battery[alive]

        fault = self.fault[device]
        moved = (fault == FAULT_CODES["moved"]) & (true_s >= self.fault_start_s[device])
        slot = np.where(moved, self.target_slot[device], self.slot[device])
        home = self.home[device]
        position = (true_s - grid.times_s[0]) / (grid.times_s[1] - grid.times_s[0])
        lo = np.clip(np.floor(position).astype(np.int64), 0, grid.times_s.size - 2)
        w = position - lo

        def at(values: FloatArray) -> FloatArray:
            result: FloatArray = values[lo, home, slot] * (1.0 - w) + values[lo + 1, home, slot] * w
            return result

        temperature = at(grid.temperature_c)
        vapour = at(grid.vapour_g_m3)
        active = true_s >= self.fault_start_s[device]
        magnitude = self.fault_magnitude[device]
        heat = active & (fault == FAULT_CODES["heat_source"])
        temperature = temperature + np.where(heat, magnitude * at(grid.heating_fraction), 0.0)
        humidity = relative_humidity_pct(vapour, temperature)
        wet = active & (fault == FAULT_CODES["moisture_source"])
        humidity = humidity + np.where(wet, magnitude * at(grid.moisture_fraction), 0.0)

        temperature = (
            temperature
            + self.cal_t[device]
            + NOISE_T_C * hashed_normal(self.seed, STREAM_NOISE_T, self.key[device], k)
        )
        humidity = (
            humidity
            + self.cal_rh[device]
            + NOISE_RH_PCT * hashed_normal(self.seed, STREAM_NOISE_RH, self.key[device], k)
        )
        drifting = active & (fault == FAULT_CODES["drift"])
        days_on = (true_s - self.fault_start_s[device]) / DAY_S
        humidity = humidity + np.where(drifting, magnitude * days_on, 0.0)
        temperature = np.round(temperature / RESOLUTION_T_C) * RESOLUTION_T_C
        humidity = np.round(np.clip(humidity, 0.0, 100.0) / RESOLUTION_RH_PCT) * RESOLUTION_RH_PCT
        self._apply_stuck(device, active & (fault == FAULT_CODES["stuck"]), temperature, humidity)

        recorded = true_s
        sent = true_s.copy()
        duplicate = np.zeros(device.size, dtype=bool)
        if self.quirks:
            offset = self.drift_ppm[device] * 1e-6 * (true_s % DAY_S)
            recorded = np.where(self.backlog[device], true_s + offset, true_s)
            online, reconnect = self._offline(device, true_s)
            keep = online | self.backlog[device]
            sent = np.where(online, true_s, reconnect)
            duplicate = hashed_uniform(self.seed, STREAM_DUPLICATE, self.key[device], k) < (
                DUPLICATE_SHARE
            )
            device, recorded, temperature, humidity, battery, sent, duplicate = (
                a[keep] for a in (device, recorded, temperature, humidity, battery, sent, duplicate)
            )
        return Readings(
            sensor=device,
            recorded_at=np.floor(recorded).astype(np.int64),
            temperature_c=np.round(temperature, 1),
            humidity_pct=np.round(humidity, 1),
            battery_pct=np.round(np.clip(battery, 0.0, 100.0)).astype(np.float64),
            sent_at=np.floor(sent).astype(np.int64),
            duplicate=duplicate,
        )

    def _apply_stuck(
        self, device: IntArray, stuck: BoolArray, temperature: FloatArray, humidity: FloatArray
    ) -> None:
        """A stuck device repeats the first value it measured once the fault began."""
        for index in np.flatnonzero(stuck):
            d = int(device[index])
            if d not in self.stuck_values:
                self.stuck_values[d] = (float(temperature[index]), float(humidity[index]))
            temperature[index], humidity[index] = self.stuck_values[d]

    def _offline(self, device: IntArray, true_s: FloatArray) -> tuple[BoolArray, FloatArray]:
        """Whether each reading finds its device online, and when the device reconnects."""
        online = np.ones(device.size, dtype=bool)
        reconnect = true_s.copy()
        day = np.floor(true_s / DAY_S).astype(np.int64)
        key = self.key[device]
        for back in range(int(np.ceil(OFFLINE_MAX_H / 24.0)) + 1):
            d = day - back
            starts = hashed_uniform(self.seed, STREAM_OFFLINE, key, d) < OFFLINE_START_PER_DAY
            begin = d * DAY_S + hashed_uniform(self.seed, STREAM_OFFLINE, key, d, 1) * DAY_S
            hours = (
                1.0
                + (OFFLINE_MAX_H - 1.0) * hashed_uniform(self.seed, STREAM_OFFLINE, key, d, 2) ** 2
            )
            end = begin + hours * 3600.0
            inside = starts & (true_s >= begin) & (true_s < end)
            online &= ~inside
            reconnect = np.where(inside, np.maximum(reconnect, end), reconnect)
        return online, reconnect
