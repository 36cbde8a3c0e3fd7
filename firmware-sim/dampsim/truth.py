"""Ground truth per room: the mould index on the true coldest surface, and why it grew.

The sensors measure room air; the truth is computed from the surface the service has to infer.
M is integrated hourly on the hour's mean surface temperature and RH (`mould.MouldIndex`), and
sampled at each midnight UTC.

The cause of a room that reaches M >= 1 is read off its conditions over the period, in the
categories the service reports (never "lifestyle"):
- "moisture": mean moisture excess over outdoors above 4 g/m3 (the upper end of dwellings in the
  humidity classes of BS EN ISO 13788:2012 Annex A), i.e. more vapour produced than removed;
- "under_heating": mean air temperature below 16 C (Public Health England's Cold Weather Plan
  puts the minimum at 18 C, with respiratory effects below 16 C);
- "cold_fabric": the coldest surface's temperature factor f below 0.6 (BS 5250 and BRE IP1/06
  ask for 0.75);
- "mixed": more than one of these. When none passes its threshold, the one nearest to it wins.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dampsim.mould import MouldIndex
from dampsim.physics import STEP_S, StepResult

FloatArray = npt.NDArray[np.float64]

MOISTURE_EXCESS_LIMIT_G_M3 = 4.0
UNDER_HEATED_BELOW_C = 16.0
COLD_FABRIC_BELOW_F = 0.6
CAUSES = ("moisture", "under_heating", "cold_fabric", "mixed")


class TruthAccumulator:
    """Integrates M and the cause statistics of a batch's rooms as physics steps arrive."""

    def __init__(self, shape: tuple[int, int], f: FloatArray) -> None:
        self.mould = MouldIndex(shape)
        self.f = f
        self.hour_surface_c = np.zeros(shape)
        self.hour_surface_rh = np.zeros(shape)
        self.hour_steps = 0
        self.daily_m: list[FloatArray] = []
        self.day_starts_s: list[int] = []
        self.sum_air_c = np.zeros(shape)
        self.sum_excess = np.zeros(shape)
        self.steps = 0

    def add(self, time_s: int, step: StepResult) -> None:
        """Take the state at grid time `time_s` (the end of the step it describes)."""
        self.hour_surface_c += step.surface_c
        self.hour_surface_rh += step.surface_rh_pct
        self.hour_steps += 1
        self.sum_air_c += step.temperature_c
        self.sum_excess += step.vapour_g_m3 - step.outdoor_vapour_g_m3[:, None]
        self.steps += 1
        if time_s % 3600 == 0:
            n = self.hour_steps
            self.mould.step(self.hour_surface_c / n, self.hour_surface_rh / n, n * STEP_S / 3600)
            self.hour_surface_c[:] = 0.0
            self.hour_surface_rh[:] = 0.0
            self.hour_steps = 0
        if time_s % 86_400 == 0:
            self.daily_m.append(self.mould.m.astype(np.float32))
            self.day_starts_s.append(time_s)

    def causes(self) -> npt.NDArray[np.str_]:
        """Cause per room ("" where M never reached 1), by the thresholds above."""
        steps = max(self.steps, 1)
        mean_c = self.sum_air_c / steps
        excess = self.sum_excess / steps
        ratios = np.stack(
            [
                excess / MOISTURE_EXCESS_LIMIT_G_M3,
                UNDER_HEATED_BELOW_C / np.maximum(mean_c, 1.0),
                COLD_FABRIC_BELOW_F / np.maximum(self.f, 0.05),
            ]
        )
        flags = ratios >= 1.0
        nearest = np.argmax(ratios, axis=0)
        single = np.array(CAUSES[:3])[nearest]
        cause = np.where(flags.sum(axis=0) >= 2, "mixed", single)
        reached = np.zeros(self.f.shape, dtype=bool)
        if self.daily_m:
            reached = np.max(np.stack(self.daily_m), axis=0) >= 1.0
        result: npt.NDArray[np.str_] = np.where(reached, cause, "")
        return result
