"""Coldest-surface conditions and the outdoor fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from models.climate import NORMAL_MAX_C, NORMAL_MIN_C, bridge_gaps, normal_conditions, outdoor_grid
from models.psychro import saturation_vapour_pressure_pa
from models.surface import (
    ARCHETYPE_TEMPERATURE_FACTORS,
    DEFAULT_TEMPERATURE_FACTOR,
    surface_humidity_pct,
    surface_temperature_c,
    temperature_factor,
)


def test_surface_temperature_is_iso_13788_relation() -> None:
    """θsi = θe + f (θi - θe): 0 °C outside, 20 °C inside, f 0.75 gives 15 °C."""
    assert surface_temperature_c(20.0, 0.0, 0.75) == pytest.approx(15.0)
    assert surface_temperature_c(20.0, 0.0, 1.0) == pytest.approx(20.0)


def test_surface_humidity_rises_on_the_cold_surface() -> None:
    """20 °C / 50 % air against a 15 °C surface is at p / p_sat(15) there (about 68 %)."""
    expected = 50.0 * saturation_vapour_pressure_pa(20.0) / saturation_vapour_pressure_pa(15.0)
    assert surface_humidity_pct(20.0, 50.0, 15.0) == pytest.approx(expected)
    assert 67.0 < expected < 70.0


def test_surface_humidity_caps_at_saturation() -> None:
    """A surface below the dew point condenses: 100 %, not more."""
    assert surface_humidity_pct(20.0, 80.0, 5.0) == 100.0


def test_home_factor_wins_over_archetype_and_default() -> None:
    """A surveyed f is used; else the archetype's; else the 0.75 design value."""
    assert temperature_factor(0.55, "modern_flat") == 0.55
    assert (
        temperature_factor(None, "victorian_terrace")
        == ARCHETYPE_TEMPERATURE_FACTORS["victorian_terrace"]
    )
    assert temperature_factor(None, "castle") == DEFAULT_TEMPERATURE_FACTOR
    assert temperature_factor(None, None) == DEFAULT_TEMPERATURE_FACTOR
    assert temperature_factor(0.0, None) == DEFAULT_TEMPERATURE_FACTOR


def test_normals_follow_the_monthly_means_and_daily_cycle() -> None:
    """January's normal averages to its mean, peaks at 15:00 UTC and bottoms at 03:00."""
    january = np.datetime64("2027-01-01T00", "h").astype(np.int64)
    hours = january + np.arange(24, dtype=np.int64)
    temperature, humidity = normal_conditions(hours)
    assert temperature.mean() == pytest.approx((NORMAL_MAX_C[0] + NORMAL_MIN_C[0]) / 2)
    assert temperature[15] == pytest.approx(NORMAL_MAX_C[0])
    assert temperature[3] == pytest.approx(NORMAL_MIN_C[0])
    assert np.all(humidity == humidity[0])


def test_short_gaps_are_bridged_long_ones_are_not() -> None:
    """Up to six missing hours are interpolated; seven are left for the normals."""
    row = np.array(
        [[0.0, np.nan, np.nan, 3.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 11.0]]
    )
    bridged = bridge_gaps(row)
    assert bridged[0, :4] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert np.isnan(bridged[0, 4:11]).all()


def test_outdoor_grid_falls_back_to_normals() -> None:
    """Hours with no observation anywhere near take the climate normal and are marked so."""
    hours = np.datetime64("2027-01-10T00", "h").astype(np.int64) + np.arange(48, dtype=np.int64)
    observed = np.full((1, 48), np.nan)
    observed[0, :24] = 4.0
    temperature, humidity, from_normals = outdoor_grid(hours, observed, observed + 80.0)
    assert np.all(temperature[0, :24] == 4.0)
    assert from_normals[0, 24:].all()
    assert temperature[0, 24:] == pytest.approx(normal_conditions(hours[24:])[0])
    assert humidity.shape == (1, 48)
