"""Telling a broken or badly placed sensor from a damp room.

Rules on the daily rows catch the plain failures: a sensor that repeats the same value, reads
outside what a room's air can be, or jumps. A sensor that is wrong in a plausible way (drifting,
next to a radiator, in the steam of a kettle) is caught by comparing it with the other rooms of
the same home: their vapour pressure is nearly the same (one air volume, doors open) and their
temperatures are close, so a sensor whose residual against its home is far from the fleet's
is out of place. A room with a fault gets band `unknown` and a fault instead of a mould risk.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.anomaly import anomalous_rooms
from models.features import Window
from models.peers import (
    BASELINE_FROM_DAYS,
    BASELINE_TO_DAYS,
    RECENT_DAYS,
    HomeLayout,
    changes,
    is_home_extreme,
    robust_trend,
)
from models.psychro import FloatArray, saturation_vapour_pressure_pa

# A stuck sensor repeats itself: most hours of the last two days identical to the hour before.
STUCK_DAYS = 2
STUCK_SHARE = 0.75
# Readings a room's air cannot have, for a good share of the last three days.
IMPLAUSIBLE_DAYS = 3
IMPLAUSIBLE_SHARE = 0.2
# An hourly mean temperature that moves this much from one hour to the next, on two days.
JUMP_TEMPERATURE_C = 8.0
JUMP_DAYS = 2

# Peer comparison (see models.peers). Floors keep a very steady room's small wobble from
# looking like a step. The shifts are what the faults do to a room's readings: a radiator
# under the sensor widens its daily temperature swing by degrees while the heating runs; steam
# from a kettle or shower lifts the hourly humidity jumps by tens of points; a sensor moved
# into another room reads what that room's sensor reads; a drifting RH element walks away
# from the home by a fraction of a point a day (datasheet drift is ~0.25 %RH a year).
TEMPERATURE_FLOOR_C = 0.3
HUMIDITY_FLOOR_PCT = 1.0
RANGE_FLOOR_C = 0.5
JUMP_FLOOR_PCT = 2.0
MIN_Z = 4.0
HEAT_RANGE_SHIFT_C = 2.5
HEAT_RANGE_Z = 4.0
BUSY_HEAT_RANGE_SHIFT_C = 3.5
HEAT_TEMPERATURE_SHIFT_C = 0.3
WET_JUMP_SHIFT_PCT = 10.0
WET_HUMIDITY_SHIFT_PCT = 2.0
STEAM_JUMP_SHIFT_PCT = 15.0
# Two sensors in one room read within their datasheet accuracy of each other (±0.3 °C each).
MOVED_SHIFT_C = 0.8
TWIN_BEFORE_C = 0.8
TWIN_NOW_C = 0.35
TWIN_NOW_PA = 40.0
TWIN_EXTREMES_C = 0.6
# Drift: a line through three weeks of the humidity residual, steep, clean (its change over
# the span many times the scatter about it) and the steepest in the home by far (so that a
# drifting neighbour, which moves every room's reference a little, is not blamed on them).
DRIFT_DAYS = 21
DRIFT_MIN_SHARE = 0.8
DRIFT_FLOOR_PCT = 0.3
DRIFT_SLOPE_PCT_DAY = 0.2
DRIFT_STRENGTH = 8.0
DRIFT_HOME_RATIO = 2.0


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    evidence: dict[str, float]


def _tail_sum(window: Window, column: str, days: int) -> FloatArray:
    result: FloatArray = np.nan_to_num(window.columns[column][:, -days:]).sum(axis=1)
    return result


def rule_faults(window: Window) -> list[Fault | None]:
    """Stuck, implausible and jumping sensors, from the daily rows alone."""
    n = next(iter(window.columns.values())).shape[0]
    out: list[Fault | None] = [None] * n
    stuck_hours = _tail_sum(window, "hours_stuck", STUCK_DAYS)
    stuck_observed = _tail_sum(window, "hours_observed", STUCK_DAYS)
    bad_hours = _tail_sum(window, "hours_implausible", IMPLAUSIBLE_DAYS)
    bad_observed = _tail_sum(window, "hours_observed", IMPLAUSIBLE_DAYS)
    jumps = window.columns["max_jump_temperature_c"][:, -7:]
    with np.errstate(invalid="ignore"):
        jump_days = (jumps > JUMP_TEMPERATURE_C).sum(axis=1)
    for i in range(n):
        if stuck_observed[i] >= 12 and stuck_hours[i] >= STUCK_SHARE * stuck_observed[i]:
            out[i] = Fault("stuck", {"stuck_hours": float(stuck_hours[i])})
        elif bad_observed[i] > 0 and bad_hours[i] >= IMPLAUSIBLE_SHARE * bad_observed[i]:
            out[i] = Fault("implausible_values", {"implausible_hours": float(bad_hours[i])})
        elif jump_days[i] >= JUMP_DAYS:
            out[i] = Fault("implausible_jumps", {"days_with_jumps": float(jump_days[i])})
    return out


def detect_faults(
    window: Window, home: npt.NDArray[np.int64], kind: tuple[str, ...]
) -> list[Fault | None]:
    """Every room's fault, or None: the rules first, then the comparison with its home."""
    faults = rule_faults(window)
    peer = peer_faults(window, HomeLayout.of(home), kind)
    return [f if f is not None else p for f, p in zip(faults, peer, strict=True)]


def _daily(window: Window, column: str) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        hours = window.columns["hours_observed"]
        result: FloatArray = np.where(hours > 0, window.columns[column] / hours, np.nan)
    return result


def peer_faults(window: Window, layout: HomeLayout, kind: tuple[str, ...]) -> list[Fault | None]:
    """Moved, heat-source, moisture-source and drifting sensors, from residuals to the home."""
    n = layout.home_index.size
    temperature = _daily(window, "sum_temperature_c")
    vapour = _daily(window, "sum_vapour_pressure_pa")
    with np.errstate(invalid="ignore"):
        saturation = saturation_vapour_pressure_pa(temperature)
        rh_resid = 100.0 * (vapour - layout.others_median(vapour)) / saturation
        t_resid = temperature - layout.others_median(temperature)
        t_range = window.columns["max_temperature_c"] - window.columns["min_temperature_c"]
        range_resid = t_range - layout.others_median(t_range)
    rh_jump = window.columns["max_jump_humidity_pct"]
    d_t = changes(t_resid, TEMPERATURE_FLOOR_C)
    d_rh = changes(rh_resid, HUMIDITY_FLOOR_PCT)
    d_range = changes(range_resid, RANGE_FLOOR_C)
    d_jump = changes(rh_jump, JUMP_FLOOR_PCT)
    trend = robust_trend(rh_resid, DRIFT_DAYS, floor=DRIFT_FLOOR_PCT, min_share=DRIFT_MIN_SHARE)
    slope = trend.slope
    twin = _twins(
        layout,
        (temperature, window.columns["max_temperature_c"], window.columns["min_temperature_c"]),
        vapour,
        d_t.shift,
    )
    out: list[Fault | None] = [None] * n
    with np.errstate(invalid="ignore"):
        moved = twin & (np.abs(d_t.shift) >= MOVED_SHIFT_C)
        # Cooking and showers already swing a kitchen's or bathroom's temperature.
        busy = np.isin(np.asarray(kind), ("kitchen", "bathroom"))
        heat = (
            (d_range.shift >= np.where(busy, BUSY_HEAT_RANGE_SHIFT_C, HEAT_RANGE_SHIFT_C))
            & (d_range.z >= HEAT_RANGE_Z)
            & (d_t.shift >= HEAT_TEMPERATURE_SHIFT_C)
        )
        steam = (d_jump.z >= MIN_Z) & (np.abs(d_jump.shift) >= WET_JUMP_SHIFT_PCT)
        wet = steam & (
            (d_rh.shift >= WET_HUMIDITY_SHIFT_PCT) | (d_jump.shift >= STEAM_JUMP_SHIFT_PCT)
        )
        # A sensor that starts (or stops) seeing shower steam while its temperature steps is
        # in another room now, even where no other sensor shares that room.
        moved |= (
            steam
            & (np.abs(d_jump.shift) >= STEAM_JUMP_SHIFT_PCT)
            & (np.abs(d_t.shift) >= MOVED_SHIFT_C)
        )
        drift = (
            (np.abs(slope) >= DRIFT_SLOPE_PCT_DAY)
            & (trend.strength >= DRIFT_STRENGTH)
            & is_home_extreme(slope, layout, ratio=DRIFT_HOME_RATIO)
        )
    z = np.column_stack(
        [d_t.z, d_rh.z, d_range.z, d_jump.z, np.sign(np.nan_to_num(slope)) * trend.strength / 2]
    )
    unusual, scores = anomalous_rooms(z)
    for i in range(n):
        if moved[i]:
            out[i] = Fault("moved", {"temperature_shift_c": _r(d_t.shift[i])})
        elif heat[i]:
            out[i] = Fault(
                "heat_source",
                {
                    "daily_range_shift_c": _r(d_range.shift[i]),
                    "temperature_shift_c": _r(d_t.shift[i]),
                },
            )
        elif wet[i]:
            out[i] = Fault(
                "moisture_source",
                {
                    "humidity_jump_shift_pct": _r(d_jump.shift[i]),
                    "humidity_shift_pct": _r(d_rh.shift[i]),
                },
            )
        elif drift[i]:
            out[i] = Fault("drift", {"humidity_slope_pct_per_day": _r(slope[i])})
        elif unusual[i]:
            out[i] = Fault("unusual_readings", {"anomaly_score": _r(scores[i])})
    return out


def _r(value: float) -> float:
    return round(float(value), 2)


def _twins(
    layout: HomeLayout,
    temperatures: tuple[FloatArray, FloatArray, FloatArray],
    vapour: FloatArray,
    shift: FloatArray,
) -> npt.NDArray[np.bool_]:
    """Rooms now reading the same as another room of the home they used to differ from.

    Of the pair, the room whose residual moved more is the one whose sensor moved: the room
    it moved into keeps its own conditions.
    """

    def pairwise(values: FloatArray) -> FloatArray:
        padded = layout.pad(values)
        result: FloatArray = np.abs(padded[:, :, np.newaxis, :] - padded[:, np.newaxis, :, :])
        return result

    mean_t, max_t, min_t = temperatures
    d_t = pairwise(mean_t)
    d_v = pairwise(vapour)
    d_extremes = np.maximum(pairwise(max_t), pairwise(min_t))
    days = mean_t.shape[1]
    base = slice(max(days - BASELINE_FROM_DAYS, 0), days - BASELINE_TO_DAYS)
    recent = slice(days - RECENT_DAYS, days)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        before = np.nanmedian(d_t[..., base], axis=-1)
        # Every recent day, not just their mean: two rooms can meet for a day in a cold snap.
        now_t = np.max(d_t[..., recent], axis=-1)
        now_v = np.max(d_v[..., recent], axis=-1)
        now_extremes = np.max(d_extremes[..., recent], axis=-1)
    moved = np.abs(np.nan_to_num(layout.pad(shift[:, np.newaxis])[..., 0]))
    same = (
        (before >= TWIN_BEFORE_C)
        & (now_t <= TWIN_NOW_C)
        & (now_v <= TWIN_NOW_PA)
        & (now_extremes <= TWIN_EXTREMES_C)
    )
    mover = same & (moved[:, :, np.newaxis] > moved[:, np.newaxis, :])
    result: npt.NDArray[np.bool_] = mover.any(axis=2)[layout.home_index, layout.slot]
    return result
