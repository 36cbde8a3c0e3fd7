"""The VTT mould index against the published equations and closed-form cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.mould_index import (
    SENSITIVITY_CLASSES,
    MouldState,
    UnknownSensitivityError,
    advance,
    critical_humidity_pct,
    maximum_index,
    mould_index,
    weeks_to_m1,
)


def _hours(days: float) -> int:
    return round(days * 24)


def test_weeks_to_m1_is_the_published_equation() -> None:
    """t_m at 20 °C, 97 % is exp(-0.68 ln 20 - 13.9 ln 97 + 66.02) = 1.48 weeks (H&V 1999)."""
    expected = math.exp(-0.68 * math.log(20) - 13.9 * math.log(97) + 66.02)
    assert weeks_to_m1(20.0, 97.0) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(1.48, abs=0.01)


@pytest.mark.parametrize("sensitivity", list(SENSITIVITY_CLASSES))
@pytest.mark.parametrize(("temperature_c", "humidity_pct"), [(20.0, 97.0), (10.0, 95.0)])
def test_days_to_m1_is_seven_t_m_over_k1(
    sensitivity: str, temperature_c: float, humidity_pct: float
) -> None:
    """At constant conditions M reaches 1 after 7 t_m / k1 days, corrected exactly for k2.

    With k2 = 1 - a e^{2.3 M}, a = e^{-2.3 M_max}, dM/dt = k1 k2 / (7 t_m) integrates to
    t = 7 t_m / k1 x [1 - ln((1 - a e^{2.3}) / (1 - a)) / 2.3]; the bracket is ~1 when
    M_max >> 1, which is the published rule of thumb.
    """
    params = SENSITIVITY_CLASSES[sensitivity]
    t_m = float(weeks_to_m1(temperature_c, humidity_pct))
    m_max = float(maximum_index(temperature_c, humidity_pct, sensitivity))
    a = math.exp(-2.3 * m_max)
    exact_days = (
        7 * t_m / params.k1_below_m1 * (1 - math.log((1 - a * math.exp(2.3)) / (1 - a)) / 2.3)
    )
    steps = _hours(exact_days * 1.5)
    m = mould_index(
        np.full(steps, temperature_c), np.full(steps, humidity_pct), sensitivity=sensitivity
    )
    reached_days = (int(np.argmax(m >= 1.0)) + 1) / 24
    assert reached_days == pytest.approx(exact_days, abs=1 / 24 + 0.002 * exact_days)
    if m_max > 4:
        assert reached_days == pytest.approx(7 * t_m / params.k1_below_m1, rel=0.02)


def test_critical_humidity_curve() -> None:
    """RH_crit is 100 % at 0 °C, about 80 % at 20 °C and RH_min above (H&V 1999 eq. 2)."""
    assert critical_humidity_pct(0.0) == pytest.approx(100.0)
    assert critical_humidity_pct(10.0) == pytest.approx(82.03, abs=0.01)
    assert critical_humidity_pct(20.0) == pytest.approx(80.04, abs=0.01)
    assert critical_humidity_pct(25.0) == pytest.approx(80.0)
    assert critical_humidity_pct(15.0, rh_min_pct=85.0) == pytest.approx(85.0)


@pytest.mark.parametrize(
    ("sensitivity", "expected"),
    [("very_sensitive", 6.0), ("sensitive", 5.3), ("medium_resistant", 3.5), ("resistant", 2.0)],
)
def test_maximum_index_at_saturation_is_a_plus_b_minus_c(sensitivity: str, expected: float) -> None:
    """At 100 % RH u = 1, so M_max = A + B - C (Ojanen et al. 2010, Table 1)."""
    assert maximum_index(22.0, 100.0, sensitivity) == pytest.approx(expected)


def test_index_levels_off_at_its_maximum() -> None:
    """Half a year at 22 °C, 95 % settles M at (just under) M_max and never above it."""
    steps = _hours(365)
    m = mould_index(np.full(steps, 22.0), np.full(steps, 95.0))
    m_max = float(maximum_index(22.0, 95.0))
    assert m.max() <= m_max + 1e-6
    assert m[-1] == pytest.approx(m_max, abs=0.05)


def test_no_growth_below_critical_humidity() -> None:
    """A surface at 22 °C and 79 % RH never starts growing."""
    m = mould_index(np.full(_hours(60), 22.0), np.full(_hours(60), 79.0))
    assert np.all(m == 0.0)


def test_no_growth_at_or_below_freezing() -> None:
    """At 0 °C nothing grows, even saturated."""
    m = mould_index(np.full(100, 0.0), np.full(100, 100.0))
    assert np.all(m == 0.0)


def test_decline_follows_the_three_stretches_of_a_dry_period() -> None:
    """-0.032/day for 6 h, nothing to 24 h, -0.016/day after (H&V 1999 eq. 9), times C_mat."""
    dry = 48
    m = mould_index(np.full(dry, 20.0), np.full(dry, 50.0), initial=2.0)
    assert m[5] == pytest.approx(2.0 - 6 * 0.032 / 24)
    assert m[23] == pytest.approx(2.0 - 6 * 0.032 / 24)
    assert m[47] == pytest.approx(2.0 - 6 * 0.032 / 24 - 24 * 0.016 / 24)
    half = mould_index(np.full(dry, 20.0), np.full(dry, 50.0), initial=2.0, decline=0.5)
    assert 2.0 - half[47] == pytest.approx((2.0 - m[47]) / 2)


def test_wet_hour_restarts_the_dry_period() -> None:
    """A growth step resets the timer, so the fast early decline applies again afterwards."""
    rh = np.array([50.0] * 30 + [97.0] + [50.0] * 6)
    m = mould_index(np.full(rh.size, 20.0), rh, initial=2.0)
    assert m[-1] - m[30] == pytest.approx(-6 * 0.032 / 24)


def test_decline_does_not_depend_on_step_size() -> None:
    """Hourly and ten-minute steps through the same dry spell decline by the same amount."""
    hourly = mould_index(np.full(40, 20.0), np.full(40, 50.0), initial=1.5)
    fine = mould_index(np.full(240, 20.0), np.full(240, 50.0), initial=1.5, step_h=1 / 6)
    assert fine[-1] == pytest.approx(hourly[-1], abs=1e-12)


def test_index_never_goes_below_zero() -> None:
    """A long dry spell floors M at 0."""
    m = mould_index(np.full(_hours(30), 20.0), np.full(_hours(30), 40.0), initial=0.1)
    assert m.min() == 0.0


def test_more_sensitive_materials_grow_faster() -> None:
    """At the same conditions very_sensitive > sensitive > medium_resistant > resistant."""
    steps = _hours(40)
    finals = [
        mould_index(np.full(steps, 20.0), np.full(steps, 97.0), sensitivity=s)[-1]
        for s in ("very_sensitive", "sensitive", "medium_resistant", "resistant")
    ]
    assert finals == sorted(finals, reverse=True)
    assert finals[-1] > 0


def test_gap_holds_the_index() -> None:
    """NaN steps are gaps: M and the dry timer carry over unchanged."""
    rh = np.array([97.0] * 48 + [np.nan] * 24 + [97.0] * 24)
    m = mould_index(np.full(rh.size, 20.0), rh)
    assert np.all(m[48:72] == m[47])
    assert m[-1] > m[47]


def test_pieces_equal_one_run() -> None:
    """Advancing in pieces with the carried state gives bit-for-bit the one-run result."""
    rng = np.random.default_rng(7)
    hours = _hours(60)
    theta = 15 + 4 * rng.standard_normal(hours)
    rh = np.clip(85 + 10 * np.sin(np.arange(hours) / 9) + 3 * rng.standard_normal(hours), 0, 100)
    rh[300:340] = np.nan
    whole = mould_index(theta, rh)
    state = MouldState.zeros(1)
    for cut in np.split(np.arange(hours), [5, 17, 400, 401, 900]):
        state, _ = advance(state, theta[cut][np.newaxis], rh[cut][np.newaxis])
    assert state.mould_index[0] == whole[-1]


def test_unknown_sensitivity_is_refused() -> None:
    """A misspelt sensitivity class raises rather than silently using a default."""
    with pytest.raises(UnknownSensitivityError):
        mould_index([20.0], [90.0], sensitivity="fragile")
