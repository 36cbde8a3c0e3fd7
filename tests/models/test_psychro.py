"""Psychrometrics against published values (BS EN ISO 13788:2012 Annex E, standard tables)."""

from __future__ import annotations

import numpy as np
import pytest

from models.psychro import (
    absolute_humidity_kg_m3,
    dew_point_c,
    humidity_class,
    moisture_excess_kg_m3,
    saturation_vapour_pressure_pa,
    vapour_pressure_pa,
)


@pytest.mark.parametrize(
    ("temperature_c", "published_pa"),
    [
        (0.0, 610.5),  # the Magnus constant itself
        (10.0, 1228.0),  # ISO 13788 Table E.1 / WMO tables: 1227-1228 Pa
        (20.0, 2337.0),  # 2337 Pa
        (30.0, 4243.0),  # 4243-4246 Pa
        (-10.0, 259.9),  # over ice, Murphy & Koop 2005: 259.9 Pa
    ],
)
def test_saturation_pressure_matches_published_tables(
    temperature_c: float, published_pa: float
) -> None:
    """Magnus over water and ice agrees with tabulated saturation pressures within 0.5 %."""
    assert saturation_vapour_pressure_pa(temperature_c) == pytest.approx(published_pa, rel=5e-3)


def test_ice_branch_is_used_below_zero() -> None:
    """Below 0 °C the over-ice constants give a lower pressure than water would."""
    over_water = 610.5 * np.exp(17.269 * -5.0 / (237.3 - 5.0))
    assert saturation_vapour_pressure_pa(-5.0) < over_water


def test_dew_point_of_saturated_air_is_its_temperature() -> None:
    """At 100 % RH the dew (or frost) point equals the air temperature, both branches."""
    temperatures = np.array([-20.0, -5.0, 0.5, 12.0, 25.0, 40.0])
    assert dew_point_c(temperatures, 100.0) == pytest.approx(temperatures, abs=1e-9)


def test_dew_point_of_room_air_matches_tables() -> None:
    """20 °C at 50 % RH has its dew point at 9.3 °C (psychrometric tables)."""
    assert dew_point_c(20.0, 50.0) == pytest.approx(9.3, abs=0.05)


def test_absolute_humidity_of_saturated_air_at_20c() -> None:
    """Saturated air at 20 °C holds 17.3 g/m³ (CIBSE Guide C psychrometric data)."""
    assert absolute_humidity_kg_m3(20.0, 100.0) * 1000.0 == pytest.approx(17.3, abs=0.1)


def test_vapour_pressure_scales_with_humidity() -> None:
    """Half the relative humidity is half the vapour pressure at the same temperature."""
    assert vapour_pressure_pa(18.0, 40.0) == pytest.approx(vapour_pressure_pa(18.0, 80.0) / 2)


def test_moisture_excess_is_zero_for_identical_air() -> None:
    """Indoor air equal to outdoor air carries no moisture excess."""
    assert moisture_excess_kg_m3(5.0, 80.0, 5.0, 80.0) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("excess_g_m3", "outdoor_c", "expected"),
    [
        (3.0, 0.0, 1),  # under class 1's 4 g/m³ at 0 °C
        (5.0, 0.0, 2),
        (7.0, -5.0, 3),  # limits are flat below 0 °C
        (9.0, 0.0, 4),
        (11.0, 0.0, 5),
        (2.5, 10.0, 2),  # at 10 °C the limits halve: 2, 3, 4, 5 g/m³
        (4.5, 10.0, 4),
        (5.5, 10.0, 5),
    ],
)
def test_humidity_class_follows_iso_13788_annex_a(
    excess_g_m3: float, outdoor_c: float, expected: int
) -> None:
    """The class is the lowest whose limit at that outdoor temperature the excess stays under."""
    assert int(humidity_class(excess_g_m3 / 1000.0, outdoor_c)) == expected


def test_humidity_class_is_zero_when_unknown() -> None:
    """A missing excess gives class 0 (unknown), not class 1."""
    assert int(humidity_class(np.nan, 5.0)) == 0
