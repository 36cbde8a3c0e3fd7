"""Sensor faults on synthetic homes: each fault raises its kind, a healthy home none."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from models.faults import Fault, detect_faults
from models.features import TREND_DAYS, Window
from models.hourly import HourlyBlock, RoomState, integrate_block
from models.psychro import relative_humidity_pct, saturation_vapour_pressure_pa

DAYS = TREND_DAYS
HOURS = DAYS * 24
START_HOUR = 20_454 * 24  # midnight UTC, 2026-01-01
ONSET_DAY = 21
# Living room, kitchen, bathroom, bedroom: set-points and the daily heating swing.
BASE_C = np.array([20.5, 19.5, 19.0, 17.5])
SWING_C = np.array([1.5, 2.0, 1.5, 1.0])

Readings = tuple[np.ndarray, np.ndarray]


def _home(homes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hourly T and RH for `homes` homes of four rooms sharing one vapour pressure each."""
    rng = np.random.default_rng(seed)
    hour = np.arange(HOURS)
    heating = np.clip(np.sin(2 * np.pi * (hour % 24 - 6) / 24), 0, None)
    weather = 0.8 * np.sin(2 * np.pi * hour / (24 * 9))
    t_rows, rh_rows = [], []
    for _ in range(homes):
        vp = 1150 + 60 * np.sin(2 * np.pi * hour / 24 + 1) + 40 * rng.standard_normal(HOURS)
        for room in range(4):
            t = BASE_C[room] + SWING_C[room] * heating + weather + 0.1 * rng.standard_normal(HOURS)
            room_vp = vp + (250 * (hour % 24 == 7) if room == 2 else 0)
            t_rows.append(t)
            rh_rows.append(relative_humidity_pct(t, room_vp) + 0.4 * rng.standard_normal(HOURS))
    return np.array(t_rows), np.array(rh_rows)


def _faults(
    t: np.ndarray, rh: np.ndarray, kinds: tuple[str, ...] | None = None
) -> list[Fault | None]:
    rooms = t.shape[0]
    block = HourlyBlock(
        start_hour=START_HOUR,
        temperature_c=t,
        humidity_pct=np.clip(rh, 0, 100),
        readings=np.ones(t.shape, dtype=np.int64),
        temperature_range_c=np.zeros(t.shape),
        humidity_range_pct=np.zeros(t.shape),
        outdoor_temperature_c=np.full(t.shape, 6.0),
        outdoor_humidity_pct=np.full(t.shape, 85.0),
        temperature_factor=np.full(rooms, 0.75),
    )
    daily = integrate_block(block, RoomState.empty(rooms)).daily
    window = Window(START_HOUR // 24 + DAYS - 1, daily.columns)
    home = np.repeat(np.arange(rooms // 4), 4)
    if kinds is None:
        kinds = ("living_room", "kitchen", "bathroom", "bedroom") * (rooms // 4)
    return detect_faults(window, home, kinds)


def _after_onset(values: np.ndarray) -> np.ndarray:
    mask = np.zeros(values.shape, dtype=bool)
    mask[ONSET_DAY * 24 :] = True
    return mask


def test_healthy_homes_raise_no_fault() -> None:
    """Three ordinary homes, four weeks: no room is flagged."""
    t, rh = _home()
    assert _faults(t, rh) == [None] * 12


def _heat_source(t: np.ndarray, rh: np.ndarray, room: int) -> None:
    hour = np.arange(HOURS)
    heating = np.clip(np.sin(2 * np.pi * (hour % 24 - 6) / 24), 0, None)
    vp = rh[room] / 100 * saturation_vapour_pressure_pa(t[room])
    t[room] += np.where(_after_onset(t[room]), 5.0 * heating, 0.0)
    rh[room] = relative_humidity_pct(t[room], vp)


def _moisture_source(t: np.ndarray, rh: np.ndarray, room: int) -> None:
    cooking = (np.arange(HOURS) % 24 == 18) | (np.arange(HOURS) % 24 == 8)
    rh[room] += np.where(_after_onset(rh[room]) & cooking, 25.0, 0.0)


def _moved(t: np.ndarray, rh: np.ndarray, room: int) -> None:
    target = room - 3  # the bedroom's sensor ends up in the living room
    after = _after_onset(t[room])
    t[room] = np.where(after, t[target] + 0.1, t[room])
    rh[room] = np.where(after, rh[target] - 0.5, rh[room])


def _drift(t: np.ndarray, rh: np.ndarray, room: int) -> None:
    days = np.arange(HOURS) / 24
    rh[room] += 0.5 * days


@pytest.mark.parametrize(
    ("make", "room", "kind"),
    [
        (_heat_source, 4, "heat_source"),
        (_moisture_source, 7, "moisture_source"),
        (_moved, 7, "moved"),
        (_drift, 4, "drift"),
    ],
)
def test_each_fault_is_named_in_its_room_only(
    make: Callable[[np.ndarray, np.ndarray, int], None], room: int, kind: str
) -> None:
    """The faulty room gets its fault kind; every other room of the fleet stays clean."""
    t, rh = _home()
    make(t, rh, room)
    faults = _faults(t, rh)
    found = faults[room]
    assert found is not None
    assert found.kind == kind
    assert [i for i, f in enumerate(faults) if f is not None] == [room]


def test_stuck_sensor_is_named_stuck() -> None:
    """The same hourly value for the last days is a stuck sensor."""
    t, rh = _home()
    t[1, -60:] = 19.3
    rh[1, -60:] = 71.5
    faults = _faults(t, rh)
    assert faults[1] is not None
    assert faults[1].kind == "stuck"


def test_impossible_readings_are_named() -> None:
    """Humidity readings of 0 % for days are implausible for room air."""
    t, rh = _home()
    rh[2, -72:] = 0.0
    faults = _faults(t, rh)
    assert faults[2] is not None
    assert faults[2].kind == "implausible_values"


def _flagged(faults: list[Fault | None]) -> dict[int, str]:
    return {i: f.kind for i, f in enumerate(faults) if f is not None}


def test_moved_sensor_is_found_through_its_calibration_offset() -> None:
    """A moved sensor that reads its new room 0.4 °C and 2 %RH off (within datasheet
    accuracy) is still that room's twin, and only it is flagged."""
    t, rh = _home()
    after = _after_onset(t[7])
    t[7] = np.where(after, t[4] + 0.4, t[7])
    rh[7] = np.where(after, rh[4] - 2.0, rh[7])
    assert _flagged(_faults(t, rh)) == {7: "moved"}


def _bredem_heating() -> np.ndarray:
    """1 while a BREDEM-12 weekday heating period runs (07-09, 16-23), else 0."""
    hour = np.arange(HOURS) % 24
    return (((hour >= 7) & (hour < 9)) | ((hour >= 16) & (hour < 23))).astype(float)


def test_small_radiator_under_a_bedroom_sensor_is_a_heat_source() -> None:
    """A radiator that lifts a bedroom sensor 2.5 °C while the heating runs: its daily swing
    grows too little for the swing rule, but its highest reading and its hourly steps rise."""
    t, rh = _home()
    vp = rh[3] / 100 * saturation_vapour_pressure_pa(t[3])
    t[3] += np.where(_after_onset(t[3]), 2.5 * _bredem_heating(), 0.0)
    rh[3] = relative_humidity_pct(t[3], vp)
    assert _flagged(_faults(t, rh)) == {3: "heat_source"}


def test_radiator_under_a_kitchen_sensor_is_warm_and_dry() -> None:
    """In a kitchen, where cooking already swings the temperature, a radiator 3 °C warm at
    the sensor shows as a higher daily peak with a drier humid peak (the evening meal's)."""
    t, rh = _home()
    heating = _bredem_heating()
    meal = np.arange(HOURS) % 24 == 18
    vp = rh[1] / 100 * saturation_vapour_pressure_pa(t[1]) + np.where(meal, 700.0, 0.0)
    t[1] += np.where(_after_onset(t[1]), 3.0 * heating, 0.0)
    rh[1] = relative_humidity_pct(t[1], vp)
    assert _flagged(_faults(t, rh)) == {1: "heat_source"}


def test_small_steam_bursts_at_the_sensor_are_a_moisture_source() -> None:
    """A kettle lifting the sensor 12 points at the humid hour of each day: below the steam
    rule's jump, but the day's highest reading and largest jump both rise."""
    t, rh = _home()
    humid_hour = np.arange(HOURS) % 24 == 5
    rh[0] += np.where(_after_onset(rh[0]) & humid_hour, 12.0, 0.0)
    assert _flagged(_faults(t, rh)) == {0: "moisture_source"}


def test_two_drifting_sensors_in_one_home_are_both_found() -> None:
    """Two sensors of one home drifting apart from it, one up and one down, at the same rate:
    neither is the steepest by far, yet each walks away from every other room."""
    t, rh = _home()
    days = np.arange(HOURS) / 24
    rh[4] += 0.4 * days
    rh[7] -= 0.4 * days
    assert _flagged(_faults(t, rh)) == {4: "drift", 7: "drift"}


def test_a_change_every_bathroom_shares_is_the_season_not_a_fault() -> None:
    """Showers steaming more in every home at once (a cold week) flag no bathroom."""
    homes = 32
    t, rh = _home(homes=homes)
    shower = np.arange(HOURS) % 24 == 7
    for room in range(2, 4 * homes, 4):
        vp = rh[room] / 100 * saturation_vapour_pressure_pa(t[room])
        vp += np.where(_after_onset(t[room]) & shower, 450.0, 0.0)
        rh[room] = np.clip(relative_humidity_pct(t[room], vp), 0, 100)
    assert _flagged(_faults(t, rh)) == {}


def test_humidifier_at_the_sensor_is_a_moisture_source() -> None:
    """Laundry drying under a living-room sensor lifts it 20 points for the day, ramping up
    and down over hours: no burst to jump at, but a step against the home's shared air."""
    t, rh = _home()
    hour = np.arange(HOURS) % 24
    drying = np.clip(np.minimum(hour - 6, 23 - hour) / 4, 0, 1)
    rh[0] += np.where(_after_onset(rh[0]), 20.0 * drying, 0.0)
    assert _flagged(_faults(t, rh)) == {0: "moisture_source"}


def test_slow_noisy_drift_in_a_bedroom_is_found() -> None:
    """A bedroom sensor drifting 0.3 points a day through a day-to-day scatter of ±0.6 points
    is found; a bedroom with the same scatter and no drift is not."""
    t, rh = _home()
    day = np.arange(HOURS) // 24
    scatter = np.where(day % 2 == 0, 0.6, -0.6)
    rh[3] += 0.3 * day + scatter
    rh[7] += scatter
    assert _flagged(_faults(t, rh)) == {3: "drift"}


def test_pan_steaming_at_a_kitchen_sensor_is_a_moisture_source() -> None:
    """A pan simmering under the kitchen sensor through the evening lifts it up to 20 points,
    5 an hour: no burst, but the day's humid peak and its mean humidity rise together."""
    t, rh = _home()
    hour = np.arange(HOURS) % 24
    simmer = np.clip(4 - np.abs(hour - 18), 0, None) * 5.0
    rh[1] += np.where(_after_onset(rh[1]), simmer, 0.0)
    assert _flagged(_faults(t, rh)) == {1: "moisture_source"}
