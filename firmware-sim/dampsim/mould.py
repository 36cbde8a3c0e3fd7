"""The VTT mould index on the true coldest surface: the ground truth the service is judged by.

Implemented here from the papers (the simulator imports nothing from the service):

- Hukka A. & Viitanen H. (1999), "A mathematical model of mould growth on wooden material",
  Wood Science and Technology 33:475-485 — growth rate, eq. 4 (time in days):

      dM/dt = k1 k2 / (7 exp(-0.68 ln T - 13.9 ln RH + 0.14 W - 0.33 SQ + 66.02))

  with W = 0 (pine) and SQ = 0 (sawn surface), as the updated model takes them; and the decline
  in unfavourable conditions, eq. 6, per hour since conditions turned: -0.032/day for the first
  6 h, 0 from 6 h to 24 h, -0.016/day after 24 h.
- Ojanen T. et al. (2010), "Mold growth modeling of building structures using sensitivity
  classes of materials", Proc. Thermal Performance of the Exterior Envelopes of Whole Buildings
  XI: growth only above RH_crit(T) = max(-0.00267 T³ + 0.160 T² - 3.13 T + 100, RH_min) for
  0 < T < 50 C; k1 by sensitivity class (0.578 below M = 1 and 0.386 above for "sensitive");
  k2 = max(1 - exp(2.3 (M - Mmax)), 0) with Mmax = A + B x - C x², x = (RH_crit - RH) /
  (RH_crit - 100), (A, B, C) = (0.3, 6, 1) for "sensitive"; RH_min = 80 % for the sensitive
  classes; decline scaled by the material factor C_mat (0.5, "relatively low decline").

Interior finishes with their dust and paint are taken as "sensitive" (Ojanen 2010 lists glued
wooden boards and paper-faced boards there); the class is a parameter of `MouldIndex`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SensitivityClass:
    k1_below_1: float
    k1_above_1: float
    a: float
    b: float
    c: float
    rh_min_pct: float
    decline_factor: float  # C_mat


# Ojanen et al. 2010, Tables 1-3.
SENSITIVITY_CLASSES = {
    "very_sensitive": SensitivityClass(1.0, 2.0, 1.0, 7.0, 2.0, 80.0, 1.0),
    "sensitive": SensitivityClass(0.578, 0.386, 0.3, 6.0, 1.0, 80.0, 0.5),
    "medium_resistant": SensitivityClass(0.072, 0.097, 0.0, 5.0, 1.5, 85.0, 0.25),
    "resistant": SensitivityClass(0.033, 0.014, 0.0, 3.0, 1.0, 85.0, 0.1),
}
DEFAULT_CLASS = "sensitive"
# Hukka & Viitanen 1999, eq. 6: decline per day, by hours since conditions turned unfavourable.
DECLINE_FIRST_6_H_PER_DAY = -0.032
DECLINE_AFTER_24_H_PER_DAY = -0.016
M_MAX = 6.0


def critical_rh_pct(temperature_c: FloatArray, rh_min_pct: float) -> FloatArray:
    """RH above which mould can grow at a temperature (Ojanen et al. 2010, eq. 2)."""
    t = temperature_c
    poly = -0.00267 * t**3 + 0.160 * t**2 - 3.13 * t + 100.0
    result: FloatArray = np.where(t <= 20.0, np.maximum(poly, rh_min_pct), rh_min_pct)
    return result


class MouldIndex:
    """M for many surfaces at once, advanced hour by hour from surface temperature and RH."""

    def __init__(self, shape: tuple[int, ...], sensitivity: str = DEFAULT_CLASS) -> None:
        self.cls = SENSITIVITY_CLASSES[sensitivity]
        self.m = np.zeros(shape)
        self.hours_unfavourable = np.zeros(shape)

    def step(self, temperature_c: FloatArray, rh_pct: FloatArray, hours: float = 1.0) -> FloatArray:
        """Advance by `hours` at the given surface conditions; return the new M."""
        cls = self.cls
        t = np.asarray(temperature_c, dtype=np.float64)
        rh = np.clip(np.asarray(rh_pct, dtype=np.float64), 1.0, 100.0)
        rh_crit = critical_rh_pct(t, cls.rh_min_pct)
        grows = (t > 0.0) & (t < 50.0) & (rh >= rh_crit)
        safe_t = np.where(grows, t, 20.0)
        x = np.where(grows, (rh_crit - rh) / np.minimum(rh_crit - 100.0, -1e-9), 0.0)
        m_max = cls.a + cls.b * x - cls.c * x**2
        k1 = np.where(self.m < 1.0, cls.k1_below_1, cls.k1_above_1)
        k2 = np.maximum(1.0 - np.exp(2.3 * (self.m - m_max)), 0.0)
        exponent = -0.68 * np.log(safe_t) - 13.9 * np.log(rh) + 66.02
        growth_per_day = k1 * k2 / (7.0 * np.exp(exponent))
        since = self.hours_unfavourable
        decline_per_day = (
            np.where(
                since < 6.0,
                DECLINE_FIRST_6_H_PER_DAY,
                np.where(since < 24.0, 0.0, DECLINE_AFTER_24_H_PER_DAY),
            )
            * cls.decline_factor
        )
        rate_per_day = np.where(grows, growth_per_day, decline_per_day)
        self.m = np.clip(self.m + rate_per_day * hours / 24.0, 0.0, M_MAX)
        self.hours_unfavourable = np.where(grows, 0.0, since + hours)
        return self.m
