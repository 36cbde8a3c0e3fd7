"""The ground-truth VTT mould index behaves as Hukka & Viitanen (1999) and Ojanen (2010) say."""

from __future__ import annotations

import math

import numpy as np
from dampsim.mould import MouldIndex, critical_rh_pct


def hours_to_reach(level: float, temperature_c: float, rh_pct: float, limit_h: int) -> int | None:
    index = MouldIndex((1,))
    for hour in range(1, limit_h + 1):
        index.step(np.array([temperature_c]), np.array([rh_pct]))
        if index.m[0] >= level:
            return hour
    return None


def test_mould_starts_when_the_published_growth_rate_says() -> None:
    """At 20 C and 97 % RH, M reaches 1 when the paper's rate (k1 = 0.578) integrates to 1."""
    # Hukka & Viitanen 1999 eq. 4 with W = SQ = 0, per day; k2 is ~1 while M << Mmax.
    rate_per_day = 0.578 / (7 * math.exp(-0.68 * math.log(20) - 13.9 * math.log(97) + 66.02))
    expected_h = 24 / rate_per_day
    reached_h = hours_to_reach(1.0, 20.0, 97.0, limit_h=24 * 60)
    assert reached_h is not None
    assert abs(reached_h - expected_h) / expected_h < 0.05


def test_no_growth_below_the_critical_humidity() -> None:
    """Below RH_crit (80 % above 20 C, higher when colder) M stays at zero for a year."""
    assert hours_to_reach(0.01, 22.0, 79.0, limit_h=24 * 365) is None
    assert critical_rh_pct(np.array([5.0]), 80.0)[0] > 85.0
    assert hours_to_reach(0.01, 5.0, 84.0, limit_h=24 * 365) is None


def test_mould_declines_when_conditions_turn_dry() -> None:
    """After growth, a dry week lowers M, slowly (decline is far slower than growth)."""
    index = MouldIndex((1,))
    for _ in range(24 * 60):
        index.step(np.array([20.0]), np.array([97.0]))
    grown = float(index.m[0])
    for _ in range(24 * 7):
        index.step(np.array([20.0]), np.array([50.0]))
    assert grown > 1.0
    assert grown - 0.2 < index.m[0] < grown


def test_mould_index_never_exceeds_its_maximum() -> None:
    """Months at saturation leave M at most the 0-6 scale's top."""
    index = MouldIndex((1,))
    for _ in range(24 * 400):
        index.step(np.array([22.0]), np.array([100.0]))
    assert 4.0 < index.m[0] <= 6.0
