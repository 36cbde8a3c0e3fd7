"""Each room against the other rooms of its home, day by day.

Rooms of one home share their air (doors open, one ventilation system) and their weather, so
what is common to them (a cold snap, a wet week, the heating schedule) cancels in a room's
difference from the median of the others. A sensor fault does not cancel: it shows as a step
or a trend in that difference, which `changes` measures against the room's own earlier weeks.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.psychro import FloatArray

IntArray = npt.NDArray[np.int64]

# The last RECENT_DAYS are compared with the days from BASELINE_FROM to BASELINE_TO before
# today (a gap of a few days keeps a fault's first days out of its own baseline).
RECENT_DAYS = 3
BASELINE_FROM_DAYS = 28
BASELINE_TO_DAYS = 7
MIN_BASELINE_DAYS = 7
# Robust spread: 1.4826 x the median absolute deviation estimates a normal distribution's sigma.
MAD_TO_SIGMA = 1.4826
# Rooms of one kind a run needs before their median change stands for the season: the median
# moves only when half the rooms move, so with 30 or more the few faulty sensors of a fleet
# (5 % in the evaluation) or one odd home cannot pass for the season.
MIN_FLEET_ROOMS = 30


@dataclass(frozen=True, slots=True)
class HomeLayout:
    """Where each room sits in a (homes, rooms-per-home) grid, for per-home operations."""

    home_index: IntArray
    slot: IntArray
    homes: int
    width: int

    @classmethod
    def of(cls, home: npt.ArrayLike) -> HomeLayout:
        ids = np.asarray(home, dtype=np.int64)
        unique, index = np.unique(ids, return_inverse=True)
        order = np.argsort(index, kind="stable")
        starts = np.searchsorted(index[order], np.arange(unique.size))
        slot = np.empty(ids.size, dtype=np.int64)
        slot[order] = np.arange(ids.size) - starts[index[order]]
        width = int(slot.max()) + 1 if ids.size else 1
        return cls(index.astype(np.int64), slot, int(unique.size), width)

    def pad(self, values: FloatArray) -> FloatArray:
        """(rooms, days) -> (homes, width, days), NaN where a home has fewer rooms."""
        out = np.full((self.homes, self.width, values.shape[1]), np.nan)
        out[self.home_index, self.slot] = values
        return out

    def others_median(self, values: FloatArray) -> FloatArray:
        """Per room and day, the median of the other rooms of its home (NaN if none)."""
        padded = self.pad(values)
        out = np.full(values.shape, np.nan)
        for s in range(self.width):
            rooms = self.slot == s
            if not rooms.any():
                continue
            others = np.delete(padded, s, axis=1)
            with warnings.catch_warnings():
                # An all-NaN day (no other room reporting) is expected: its median is NaN.
                warnings.simplefilter("ignore", RuntimeWarning)
                median = np.nanmedian(others, axis=1)
            out[rooms] = median[self.home_index[rooms]]
        return out


@dataclass(frozen=True, slots=True)
class Change:
    """A series' recent level against its baseline: the shift and the shift in robust sigma."""

    shift: FloatArray
    z: FloatArray
    sigma: FloatArray  # the robust sigma (at least the floor) the shift is measured in

    def less_fleet(self, kind: Sequence[str]) -> Change:
        """The change, less what the run's rooms of the same kind all did.

        What every bathroom of an estate does at once (showers steam more in a cold week, the
        holidays change routines) is the season, not a sensor: the median change of a kind
        excuses the part of a room's change that goes the same way, down to none. It never adds
        to a change. Kinds with fewer than `MIN_FLEET_ROOMS` rooms in the run are left as they
        are.
        """
        kinds = np.asarray(kind)
        shift = self.shift.copy()
        for name in np.unique(kinds):
            mine = kinds == name
            rooms = mine & np.isfinite(self.shift)
            if rooms.sum() < MIN_FLEET_ROOMS:
                continue
            season = float(np.median(self.shift[rooms]))
            with np.errstate(invalid="ignore"):
                if season > 0:
                    shift[mine] = np.where(
                        shift[mine] > 0, np.maximum(shift[mine] - season, 0.0), shift[mine]
                    )
                elif season < 0:
                    shift[mine] = np.where(
                        shift[mine] < 0, np.minimum(shift[mine] - season, 0.0), shift[mine]
                    )
        return Change(shift, shift / self.sigma, self.sigma)


def changes(series: FloatArray, floor: float) -> Change:
    """Recent mean minus baseline median, and that over max(robust sigma, floor), per row."""
    days = series.shape[1]
    recent = series[:, days - RECENT_DAYS :]
    base = series[:, max(days - BASELINE_FROM_DAYS, 0) : days - BASELINE_TO_DAYS]
    enough = (np.isfinite(base).sum(axis=1) >= MIN_BASELINE_DAYS) & np.isfinite(recent).any(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nanmedian(base, axis=1)
        spread = MAD_TO_SIGMA * np.nanmedian(np.abs(base - level[:, np.newaxis]), axis=1)
        shift = np.nanmean(recent, axis=1) - level
    sigma = np.maximum(np.nan_to_num(spread), floor)
    shift = np.where(enough, shift, np.nan)
    return Change(shift, shift / sigma, sigma)


@dataclass(frozen=True, slots=True)
class Trend:
    """A robust straight line through each row's last days: slope, and slope over scatter."""

    slope: FloatArray  # per day
    strength: FloatArray  # change over the span / robust sigma of the scatter about the line


def robust_trend(series: FloatArray, days: int, *, floor: float, min_share: float) -> Trend:
    """Theil-Sen line of each row's last `days` values; NaN with too few of them known."""
    tail = series[:, -days:]
    t = np.arange(tail.shape[1], dtype=np.float64)
    i, j = np.triu_indices(tail.shape[1], k=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        slope = np.nanmedian((tail[:, j] - tail[:, i]) / (j - i), axis=1)
        intercept = np.nanmedian(tail - slope[:, np.newaxis] * t, axis=1)
        scatter = tail - intercept[:, np.newaxis] - slope[:, np.newaxis] * t
        sigma = MAD_TO_SIGMA * np.nanmedian(
            np.abs(scatter - np.nanmedian(scatter, axis=1)[:, np.newaxis]), axis=1
        )
    known = np.isfinite(tail).sum(axis=1) >= min_share * tail.shape[1]
    strength = np.abs(slope) * tail.shape[1] / np.maximum(np.nan_to_num(sigma), floor)
    return Trend(np.where(known, slope, np.nan), np.where(known, strength, np.nan))


def pairwise_trend(
    vapour_pa: FloatArray,
    saturation_pa: FloatArray,
    layout: HomeLayout,
    days: int,
    *,
    floor: float,
    min_share: float,
) -> Trend:
    """Per room, the weakest trend of its humidity against each other room of its home.

    The rooms of a home share their air, so the difference of two rooms' vapour pressures over
    one room's saturation pressure is that room's humidity error against the other, in points.
    A drifting sensor walks away from every other room at once; a room that only looks as if it
    moves, because a drifting neighbour is in its reference, stays level against the rest. So
    a room's slope here is that of its flattest pair (NaN unless it has two or more pairs and
    all of them trend the same way), and its strength that pair's.
    """
    vapour = layout.pad(vapour_pa)
    saturation = layout.pad(saturation_pa)
    with np.errstate(invalid="ignore"):
        pairs = 100.0 * (vapour[:, :, np.newaxis, :] - vapour[:, np.newaxis, :, :])
        pairs /= saturation[:, :, np.newaxis, :]
    width = layout.width
    trend = robust_trend(pairs.reshape(-1, pairs.shape[-1]), days, floor=floor, min_share=min_share)
    slope = trend.slope.reshape(layout.homes, width, width)
    strength = trend.strength.reshape(layout.homes, width, width)
    slope[:, np.arange(width), np.arange(width)] = np.nan
    known = np.isfinite(slope)
    magnitude = np.where(known, np.abs(slope), np.inf)
    flattest = np.argmin(magnitude, axis=2)[..., np.newaxis]
    weakest = np.take_along_axis(slope, flattest, axis=2)[..., 0]
    weakest_strength = np.take_along_axis(strength, flattest, axis=2)[..., 0]
    one_way = (np.where(known, slope > 0, True).all(axis=2)) | (
        np.where(known, slope < 0, True).all(axis=2)
    )
    usable = (known.sum(axis=2) >= 2) & one_way
    home, slot = layout.home_index, layout.slot
    return Trend(
        np.where(usable, weakest, np.nan)[home, slot],
        np.where(usable, weakest_strength, np.nan)[home, slot],
    )
