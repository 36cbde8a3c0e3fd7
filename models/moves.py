"""Sensors moved into another room of the home, found by the room they now read like.

A sensor taken from the bedroom and left in the living room reads what the living room's own
sensor reads, up to the two sensors' calibration: a constant offset of a few tenths of a degree
and a few points of humidity (datasheet accuracy, e.g. ±0.3 °C and ±2 %RH each). Before the
move the two read differently. So a pair of rooms is a pair of twins when, over the last days,
every daily quantity of the two agrees within what calibration allows, and the differences
between them have moved away from where they were in the baseline weeks by more than rooms
with good sensors ever move together. Of the pair, the sensor that moved is the one whose own
readings changed more; the room it moved into keeps its own conditions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.features import Window
from models.peers import BASELINE_FROM_DAYS, BASELINE_TO_DAYS, RECENT_DAYS, HomeLayout
from models.psychro import FloatArray


@dataclass(frozen=True, slots=True)
class PairQuantity:
    """A daily quantity compared between two rooms of a home.

    `same`: the most two sensors in one room may differ by on any recent day (calibration and
    sampling at different minutes). `scale`: how far the difference between two rooms with good
    sensors moves from its baseline level over three days, about the 90th percentile of the
    simulated fleet's healthy pairs (dampsim seed 7, 1,000 homes, a winter: 0.52, 0.97 and
    0.55 °C, 25 Pa, 4.8 points), so that one quantity at one scale is common and the sum of
    squares over all five reaching `TWIN_CHANGE` is not.
    """

    same: float
    scale: float


# Daily mean temperature (°C), highest and lowest hourly mean (°C), mean vapour pressure (Pa)
# and largest hour-to-hour humidity jump (points). Two sensors of ±0.3 °C and ±2 %RH differ by
# up to 0.6 °C and about 100 Pa (2 x 2 %RH of ~2.3 kPa at 20 °C); their jumps, being
# differences, do not carry the offset. The daily mean's limit is tighter, 0.45 °C: accuracy
# figures are limits most units sit well inside, and a pair further apart is only missed as a
# twin, never mistaken for one. Highest and lowest hourly means add sampling at different
# minutes of a changing hour to the 0.6 °C.
PAIR_QUANTITIES: dict[str, PairQuantity] = {
    "temperature": PairQuantity(same=0.45, scale=0.7),
    "max_temperature": PairQuantity(same=0.7, scale=1.1),
    "min_temperature": PairQuantity(same=0.7, scale=0.55),
    "vapour_pressure": PairQuantity(same=100.0, scale=20.0),
    "humidity_jump": PairQuantity(same=12.0, scale=4.0),
}
# The pair's differences must have moved by this much (sum of squared changes over scales).
# With reading alike on every recent day, 7 of the fleet's 7,903 healthy pairs of rooms meet
# it at some time over a winter (seed 7, as above).
TWIN_CHANGE = 10.0
# In a home with no third room to judge by, the sensor that moved must itself have changed:
# 3 robust sigmas from its weeks before (models.peers.changes) in temperature, daily swing or
# humidity jumps, beyond 99.7 % of a normal spread.
MOVER_MIN_Z = 3.0
# Against the home's other rooms, the sensor that moved changes about as much as against its
# twin (its old room's conditions are gone), so its median change there reaches three quarters
# of TWIN_CHANGE; the room it moved into keeps its conditions, so its own change against them
# stays under half of TWIN_CHANGE, or under a quarter of the mover's where the whole home moved.
MOVER_SHARE = 0.75
STAYER_SHARE = 0.5
MOVER_RATIO = 4.0
# A pair's usual difference is taken from at least two weeks of baseline days in common: a
# shorter start (a new installation, the first days of a season) is no baseline for it.
MIN_PAIR_BASELINE_DAYS = 14


def _daily_quantities(window: Window) -> dict[str, FloatArray]:
    columns = window.columns
    with np.errstate(invalid="ignore", divide="ignore"):
        hours = columns["hours_observed"]
        mean_t = np.where(hours > 0, columns["sum_temperature_c"] / hours, np.nan)
        vapour = np.where(hours > 0, columns["sum_vapour_pressure_pa"] / hours, np.nan)
    return {
        "temperature": mean_t,
        "max_temperature": columns["max_temperature_c"],
        "min_temperature": columns["min_temperature_c"],
        "vapour_pressure": vapour,
        "humidity_jump": columns["max_jump_humidity_pct"],
    }


@dataclass(frozen=True, slots=True)
class PairChanges:
    """(homes, width, width) arrays over the pairs of rooms of each home."""

    same: npt.NDArray[np.bool_]  # reading alike on every recent day
    change: FloatArray  # how far their differences moved (NaN: no baseline in common)


def pair_changes(window: Window, layout: HomeLayout) -> PairChanges:
    """For every pair of rooms of a home: do they read alike now, and how far did they move."""
    days = window.days
    base = slice(max(days - BASELINE_FROM_DAYS, 0), days - BASELINE_TO_DAYS)
    recent = slice(days - RECENT_DAYS, days)
    same = np.ones((layout.homes, layout.width, layout.width), dtype=bool)
    change = np.zeros((layout.homes, layout.width, layout.width))
    for name, values in _daily_quantities(window).items():
        quantity = PAIR_QUANTITIES[name]
        padded = layout.pad(values)
        difference = padded[:, :, np.newaxis, :] - padded[:, np.newaxis, :, :]
        with warnings.catch_warnings():
            # A pair with no day in common has NaN statistics: it is neither same nor changed.
            warnings.simplefilter("ignore", RuntimeWarning)
            now = difference[..., recent]
            level = np.nanmedian(difference[..., base], axis=-1)
            shift = np.nanmean(now, axis=-1) - level
            same &= np.max(np.abs(now), axis=-1) <= quantity.same
        change += np.nan_to_num(shift / quantity.scale, nan=0.0) ** 2
        known = np.isfinite(difference[..., base]).sum(axis=-1) >= MIN_PAIR_BASELINE_DAYS
        change = np.where(known, change, np.nan)
    diagonal = np.arange(layout.width)
    change[:, diagonal, diagonal] = np.nan
    return PairChanges(same & np.isfinite(change), change)


def moved_rooms(
    window: Window, layout: HomeLayout, own_change: FloatArray
) -> npt.NDArray[np.bool_]:
    """Rooms whose sensor moved: one of a twin pair, the one that also moved against the
    home's other rooms (the room it moved into keeps its own conditions against them). In a
    home of two rooms, the one whose own readings changed more (`own_change`, one value per
    room, in robust sigmas from its weeks before)."""
    pairs = pair_changes(window, layout)
    twins = pairs.same & (pairs.change >= TWIN_CHANGE)
    width = layout.width
    # others[h, i, j]: median change of room i against the rooms other than j (and i).
    against = np.broadcast_to(pairs.change[:, :, np.newaxis, :], (*pairs.change.shape, width))
    against = np.where(np.eye(width, dtype=bool)[np.newaxis, np.newaxis, :, :], np.nan, against)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        others = np.nanmedian(against, axis=-1)
    thirds = np.isfinite(others) & np.isfinite(np.swapaxes(others, 1, 2))
    own = np.nan_to_num(layout.pad(own_change[:, np.newaxis])[..., 0])
    partner = np.swapaxes(others, 1, 2)
    by_thirds = (
        thirds
        & (others >= TWIN_CHANGE * MOVER_SHARE)
        & ((partner < TWIN_CHANGE * STAYER_SHARE) | (partner * MOVER_RATIO <= others))
    )
    by_own = (
        ~thirds
        & (own[:, :, np.newaxis] > own[:, np.newaxis, :])
        & (own[:, :, np.newaxis] >= MOVER_MIN_Z)
    )
    mover = twins & (by_thirds | by_own)
    any_pair: npt.NDArray[np.bool_] = np.asarray(mover.any(axis=2))
    result: npt.NDArray[np.bool_] = any_pair[layout.home_index, layout.slot]
    return result
