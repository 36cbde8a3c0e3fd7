"""Hour-by-hour life in a home: heating on or off, people, cooking, showers, drying, fans.

Everything is tabulated once per home as 48 slots (24 weekday hours, then 24 weekend hours) and
looked up at each step, so stepping thousands of rooms costs a few array gathers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dampsim.archetypes import (
    AIR_HEAT_WH_M3K,
    BASE_APPLIANCE_W,
    BATHROOM,
    BATHROOM_EXTRACT_M3_H,
    BEDROOM_1,
    BEDROOM_2,
    CLOTHES_LOAD_G,
    COOKING_HEAT_W,
    DISHWASHING_G_DAY,
    KITCHEN,
    KITCHEN_EXTRACT_M3_H,
    LIVING,
    MAX_ROOMS,
    PERSON_ACTIVE_G_H,
    PERSON_ASLEEP_G_H,
    PERSON_HEAT_W,
    ROOM_VOLUME_M3,
    SHOWER_G,
)
from dampsim.estate import HomeSpec

FloatArray = npt.NDArray[np.float64]
SLOTS_PER_WEEK = 48

# BREDEM-12 standard heating hours: 07-09 and 16-23 on weekdays, 07-23 at weekends.
_BREDEM_WEEKDAY = [7, 8, 16, 17, 18, 19, 20, 21, 22]
_ALL_DAY = list(range(7, 23))
# Under-heated homes: a few evening hours only (the pattern of households rationing fuel).
_EVENING_ONLY = [18, 19, 20]
SLEEP_HOURS = [23, 0, 1, 2, 3, 4, 5, 6]
# Hours of cooking and the share of the day's cooking moisture released in each (breakfast,
# lunch when someone is home, the evening meal over two hours and the washing-up after it).
MEALS = {7: 0.1, 12: 0.15, 13: 0.05, 17: 0.3, 18: 0.3, 19: 0.1}


def heating_table(pattern: str) -> npt.NDArray[np.bool_]:
    table = np.zeros(SLOTS_PER_WEEK, dtype=bool)
    if pattern == "bredem":
        table[_BREDEM_WEEKDAY] = True
        table[[24 + h for h in _ALL_DAY]] = True
    elif pattern == "all_day":
        table[_ALL_DAY] = True
        table[[24 + h for h in _ALL_DAY]] = True
    elif pattern == "evening_only":
        table[_EVENING_ONLY] = True
        table[[24 + h for h in _EVENING_ONLY]] = True
    return table


def _awake_at_home(home: HomeSpec, weekend: bool, hour: int) -> float:
    """How many occupants are at home and awake in that hour."""
    physics = home.physics
    if hour in SLEEP_HOURS:
        return 0.0
    if weekend or physics.home_by_day:
        return float(physics.occupants)
    if hour in (7, 8) or hour >= 17:
        return float(physics.occupants)
    # Weekdays: one occupant in three stays at home (carers, retired, small children).
    return physics.occupants / 3.0


def home_tables(home: HomeSpec) -> dict[str, FloatArray]:
    """Per room slot and week slot: moisture g/h, air changes /h, gains W, heating on (0/1)."""
    physics = home.physics
    moisture = np.zeros((MAX_ROOMS, SLOTS_PER_WEEK))
    ach = np.tile(np.asarray(physics.ach_room)[:, None], (1, SLOTS_PER_WEEK))
    gains = np.full((MAX_ROOMS, SLOTS_PER_WEEK), BASE_APPLIANCE_W)
    has_second = BEDROOM_2 in home.slots
    sleepers_1 = min(2, physics.occupants)
    sleepers_2 = physics.occupants - sleepers_1 if has_second else 0
    sleepers_1 = physics.occupants - sleepers_2
    clothes_g_h = physics.clothes_loads_week / 7.0 * CLOTHES_LOAD_G / 12.0
    for week_slot in range(SLOTS_PER_WEEK):
        weekend, hour = week_slot >= 24, week_slot % 24
        awake = _awake_at_home(home, weekend, hour)
        if hour in SLEEP_HOURS:
            moisture[BEDROOM_1, week_slot] += sleepers_1 * PERSON_ASLEEP_G_H
            gains[BEDROOM_1, week_slot] += sleepers_1 * PERSON_HEAT_W * 0.8
            if has_second:
                moisture[BEDROOM_2, week_slot] += sleepers_2 * PERSON_ASLEEP_G_H
                gains[BEDROOM_2, week_slot] += sleepers_2 * PERSON_HEAT_W * 0.8
            if physics.bedroom_window_night:
                ach[BEDROOM_1, week_slot] += 0.5
                ach[BEDROOM_2, week_slot] += 0.5
        moisture[LIVING, week_slot] += 0.75 * awake * PERSON_ACTIVE_G_H
        moisture[KITCHEN, week_slot] += 0.25 * awake * PERSON_ACTIVE_G_H
        gains[LIVING, week_slot] += 0.75 * awake * PERSON_HEAT_W
        gains[KITCHEN, week_slot] += 0.25 * awake * PERSON_HEAT_W
        meal = MEALS.get(hour, 0.0)
        if hour in (12, 13) and not (weekend or physics.home_by_day):
            meal = 0.0
        if meal:
            moisture[KITCHEN, week_slot] += meal * physics.cooking_g_day
            gains[KITCHEN, week_slot] += COOKING_HEAT_W
            if physics.kitchen_fan:
                ach[KITCHEN, week_slot] += KITCHEN_EXTRACT_M3_H / ROOM_VOLUME_M3[KITCHEN]
        if hour == 19:
            moisture[KITCHEN, week_slot] += DISHWASHING_G_DAY
        if hour == 7:
            moisture[BATHROOM, week_slot] += physics.occupants * SHOWER_G
        if hour in (7, 8) and physics.bathroom_fan:
            ach[BATHROOM, week_slot] += BATHROOM_EXTRACT_M3_H / ROOM_VOLUME_M3[BATHROOM]
        if 9 <= hour < 21:
            moisture[physics.clothes_slot, week_slot] += clothes_g_h
    heating = np.tile(heating_table(physics.heating_pattern)[None, :], (MAX_ROOMS, 1))
    return {
        "moisture_g_h": moisture,
        "ach": ach,
        "gains_w": gains,
        "heating": heating.astype(np.float64),
        "ventilation_w_k": AIR_HEAT_WH_M3K * ach * np.asarray(ROOM_VOLUME_M3)[:, None],
    }


def week_slot(times_s: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """0-23 for weekday hours, 24-47 for weekend hours (UTC, which is London time in winter)."""
    t = np.asarray(times_s, dtype=np.int64)
    hour = (t // 3600) % 24
    weekday = (t // 86_400 + 3) % 7  # 1970-01-01 was a Thursday: Monday is 0
    result: npt.NDArray[np.int64] = np.where(weekday >= 5, 24 + hour, hour)
    return result
