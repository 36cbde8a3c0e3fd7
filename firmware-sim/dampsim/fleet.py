"""A batch of homes run together: physics, firmware and (optionally) ground truth in step.

The batch owns a cursor: `advance(until_s)` returns every reading taken in [cursor, until_s)
and moves the cursor. Physics is stepped on a fixed 10-minute grid aligned to the Unix epoch,
up to the first grid time at or after `until_s`, so readings are interpolated between two known
states and no window boundary changes any value.
"""

from __future__ import annotations

import numpy as np

from dampsim.estate import HomeSpec
from dampsim.firmware import Firmware, GridWindow, Readings
from dampsim.options import SimOptions
from dampsim.physics import STEP_S, RoomPhysics, StepResult
from dampsim.truth import TruthAccumulator


def grid_floor(time_s: float) -> int:
    return int(time_s // STEP_S) * STEP_S


def grid_ceil(time_s: float) -> int:
    return -int(-time_s // STEP_S) * STEP_S


class HomeBatch:
    def __init__(
        self,
        homes: list[HomeSpec],
        options: SimOptions,
        period: tuple[int, int],
        *,
        with_truth: bool = False,
    ) -> None:
        self.homes = homes
        self.physics = RoomPhysics(homes, options.seed, options.borough_codes())
        self.firmware = Firmware(homes, options.seed, options.firmware_quirks, period)
        self.truth = (
            TruthAccumulator(self.physics.present.shape, self.physics.f) if (with_truth) else None
        )
        self.cursor_s = period[0]
        first = grid_floor(period[0])
        self.physics.start(first)
        self._tail_times = [first]
        self._tail = [self._snapshot()]

    def _snapshot(self) -> StepResult:
        p = self.physics
        zero = np.zeros_like(p.temperature_c)
        return StepResult(
            p.temperature_c,
            p.vapour_g_m3,
            zero,
            zero,
            zero[:, 0],
            zero[:, 0],
            p.temperature_c,
            zero,
        )

    def advance(self, until_s: int) -> Readings:
        """Readings taken in [cursor, until_s); steps physics (and truth) as far as needed."""
        if until_s <= self.cursor_s:
            return Readings.concat([])
        first_new = (self.physics.time_s or 0) + STEP_S
        steps = self.physics.advance(grid_ceil(until_s))
        if self.truth is not None:
            for k, step in enumerate(steps):
                self.truth.add(first_new + k * STEP_S, step)
        times = self._tail_times + [first_new + k * STEP_S for k in range(len(steps))]
        states = self._tail + steps
        if len(times) < 2:
            return Readings.concat([])
        grid = GridWindow(
            times_s=np.asarray(times, dtype=np.int64),
            temperature_c=np.stack([s.temperature_c for s in states]),
            vapour_g_m3=np.stack([s.vapour_g_m3 for s in states]),
            heating_fraction=np.stack([s.heating_fraction for s in states]),
            moisture_fraction=np.stack([s.moisture_fraction for s in states]),
        )
        readings = self.firmware.measure(grid, self.cursor_s, until_s)
        self._tail_times, self._tail = times[-2:], states[-2:]
        self.cursor_s = until_s
        return readings
