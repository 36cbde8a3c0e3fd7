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


def _faults(t: np.ndarray, rh: np.ndarray) -> list[Fault | None]:
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
