"""Physical sanity of the simulated homes: bounds, and the right response to each cause."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from dampsim.estate import HomeSpec, iter_homes
from dampsim.options import SimOptions
from dampsim.physics import RoomPhysics, StepResult
from dampsim.psychro import relative_humidity_pct
from dampsim.weather import outdoor_conditions

JANUARY_12_2026 = 1_768_176_000  # a Monday, midnight UTC
OPTIONS = SimOptions(homes=60, boroughs=6, seed=11, mould_fraction=0.2)


def run(homes: list[HomeSpec], days: float = 5.0) -> tuple[RoomPhysics, list[StepResult]]:
    physics = RoomPhysics(homes, OPTIONS.seed, OPTIONS.borough_codes())
    physics.start(JANUARY_12_2026)
    return physics, physics.advance(JANUARY_12_2026 + int(days * 86_400))


def mean_room_state(homes: list[HomeSpec]) -> tuple[float, float, float]:
    """Mean air temperature, air RH and coldest-surface temperature over the present rooms."""
    physics, steps = run(homes)
    mask = physics.present
    air_c = np.stack([s.temperature_c for s in steps])[:, mask]
    rh = np.stack([relative_humidity_pct(s.vapour_g_m3, s.temperature_c) for s in steps])[:, mask]
    surface_c = np.stack([s.surface_c for s in steps])[:, mask]
    return float(air_c.mean()), float(rh.mean()), float(surface_c.mean())


@pytest.fixture(scope="module")
def homes() -> list[HomeSpec]:
    return list(iter_homes(OPTIONS))


def test_indoor_and_surface_humidity_stay_between_0_and_100(homes: list[HomeSpec]) -> None:
    """Every room's air RH and coldest-surface RH stay within 0-100 % through a cold spell."""
    physics, steps = run(homes, days=10)
    air = np.stack([relative_humidity_pct(s.vapour_g_m3, s.temperature_c) for s in steps])
    surface = np.stack([s.surface_rh_pct for s in steps])
    present = np.broadcast_to(physics.present, air.shape)
    assert air[present].min() > 0.0
    assert air[present].max() <= 100.0 + 1e-9
    assert surface[present].min() > 0.0
    assert surface[present].max() <= 100.0


def test_heating_raises_temperature_and_lowers_humidity(homes: list[HomeSpec]) -> None:
    """The same homes heated to a higher set-point all day are warmer and drier."""
    cold = [replace(h, physics=replace(h.physics, living_setpoint_c=15.0)) for h in homes]
    warm = [
        replace(h, physics=replace(h.physics, living_setpoint_c=21.0, heating_pattern="all_day"))
        for h in homes
    ]
    cold_c, cold_rh, _ = mean_room_state(cold)
    warm_c, warm_rh, _ = mean_room_state(warm)
    assert warm_c > cold_c + 2.0
    assert warm_rh < cold_rh - 5.0


def test_more_moisture_raises_humidity(homes: list[HomeSpec]) -> None:
    """Drying more washing indoors raises the rooms' RH, all else equal."""
    dry = [replace(h, physics=replace(h.physics, clothes_loads_week=0.0)) for h in homes]
    wet = [replace(h, physics=replace(h.physics, clothes_loads_week=10.0)) for h in homes]
    assert mean_room_state(wet)[1] > mean_room_state(dry)[1] + 3.0


def test_less_ventilation_raises_humidity(homes: list[HomeSpec]) -> None:
    """Halving every room's air change rate raises its RH."""

    def scaled(factor: float) -> list[HomeSpec]:
        return [
            replace(
                h,
                physics=replace(h.physics, ach_room=tuple(a * factor for a in h.physics.ach_room)),
            )
            for h in homes
        ]

    assert mean_room_state(scaled(0.5))[1] > mean_room_state(scaled(1.0))[1] + 3.0


def test_lower_temperature_factor_lowers_surface_temperature(homes: list[HomeSpec]) -> None:
    """A colder junction (lower f) gives a colder coldest surface in the same rooms."""

    def with_f(f: float) -> list[HomeSpec]:
        return [replace(h, physics=replace(h.physics, f_room=(f,) * 5)) for h in homes]

    assert mean_room_state(with_f(0.5))[2] < mean_room_state(with_f(0.85))[2] - 3.0


def test_homes_of_one_borough_share_the_weather() -> None:
    """Outdoor conditions are a function of borough and time: repeatable, and a borough apart."""
    hours = np.arange(JANUARY_12_2026, JANUARY_12_2026 + 3 * 86_400, 3600)
    codes = ("E09000001", "E09000005")
    first = outdoor_conditions(3, codes, hours)
    again = outdoor_conditions(3, codes, hours[::-1])
    assert np.array_equal(first[0], again[0][::-1])
    assert not np.allclose(first[0][:, 0], first[0][:, 1])
    assert np.abs(first[0][:, 0] - first[0][:, 1]).mean() < 3.0


def test_london_winter_matches_the_climate_normals() -> None:
    """A simulated January's mean temperature and RH sit near London's normals."""
    hours = np.arange(JANUARY_12_2026 - 11 * 86_400, JANUARY_12_2026 + 20 * 86_400, 3600)
    means_c = []
    for seed in range(5):
        temperature_c, humidity_pct = outdoor_conditions(seed, ("E09000005",), hours)
        means_c.append(temperature_c.mean())
        assert 70.0 < humidity_pct.mean() < 95.0
    # Met Office 1971-2000, Greenwich: January mean of daily max and min (8.3 + 2.6) / 2.
    assert abs(np.mean(means_c) - 5.45) < 1.5
