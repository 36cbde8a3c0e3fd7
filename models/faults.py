"""Telling a broken or badly placed sensor from a damp room.

Rules on the daily rows catch the plain failures: a sensor that repeats the same value, reads
outside what a room's air can be, or jumps. A sensor that is wrong in a plausible way (drifting,
next to a radiator, in the steam of a kettle) is caught by comparing it with the other rooms of
the same home: their vapour pressure is nearly the same (one air volume, doors open) and their
temperatures are close, so a sensor whose residual against its home is far from the fleet's
is out of place. A room with a fault gets band `unknown` and a fault instead of a mould risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.anomaly import anomalous_rooms
from models.features import Window
from models.moves import moved_rooms
from models.peers import (
    HomeLayout,
    changes,
    pairwise_trend,
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
# into another room reads what that room's sensor reads (models.moves); a drifting RH element
# walks away from the home by a fraction of a point a day (datasheet drift is ~0.25 %RH a
# year, so this is a failing element, not ageing). Every change is taken less the run's
# season for the room's kind (models.peers.Change.less_fleet).
#
# Where a threshold below is a fleet percentile, it was measured on healthy rooms of the
# simulated fleet over a winter (dampsim seed 7, 1,000 homes, 4,457 healthy rooms), taking
# each room's largest value of the winter: a room is flagged on any one day, so it is the
# winter's largest that must be rare.
TEMPERATURE_FLOOR_C = 0.3
HUMIDITY_FLOOR_PCT = 1.0
RANGE_FLOOR_C = 0.5
JUMP_FLOOR_PCT = 2.0
MIN_Z = 4.0
HEAT_RANGE_SHIFT_C = 2.5
HEAT_RANGE_Z = 4.0
BUSY_HEAT_RANGE_SHIFT_C = 3.5
HEAT_TEMPERATURE_SHIFT_C = 0.3
# A radiator under a bedroom or living-room sensor: the day's highest reading rises by more
# than it does in nine healthy rooms in ten over a winter (90th percentile 1.2 °C), the mean
# rises, and the evidence of the highest reading, the hourly steps and the daily swing
# together (their z summed) is beyond the 99.5th percentile of such rooms (11.6).
HEAT_PEAK_SHIFT_C = 1.5
HEAT_EVIDENCE_Z = 12.0
# Anywhere, a radiator holds the room's vapour at a higher temperature at the sensor, so the
# day's highest reading rises while its highest humidity falls. Each of the four is beyond the
# 90th percentile of healthy rooms (1.6 °C at 4.1 sigma; a drop of 6 points at 2.3 sigma);
# together one healthy room of 4,457 meets them.
WARM_DRY_PEAK_SHIFT_C = 2.0
WARM_DRY_PEAK_Z = 6.0
WARM_DRY_HUMID_DROP_PCT = 10.0
WARM_DRY_HUMID_Z = 4.0
WET_JUMP_SHIFT_PCT = 10.0
WET_HUMIDITY_SHIFT_PCT = 2.0
STEAM_JUMP_SHIFT_PCT = 15.0
# Smaller bursts at the sensor lift both the day's largest jump and its highest reading. Each
# of the four is beyond the 90th percentile of healthy rooms (4.3 points at 1.7 sigma; 6.3
# points at 2.3 sigma), the jump's z beyond the 99th (2.8); one healthy room of 4,457 meets all.
WET_BURST_JUMP_SHIFT_PCT = 7.0
WET_BURST_JUMP_Z = 3.0
WET_BURST_PEAK_SHIFT_PCT = 8.0
WET_BURST_PEAK_Z = 4.0
# A humidifier or drying laundry at the sensor lifts its humidity against the home's shared
# air for hours without a burst: a step beyond the 99.9th percentile (9.4 points) at a z
# beyond the 99.9th percentile (8.9 sigma) of healthy rooms, near enough (3 of 4,457 meet it).
HUMID_STEP_PCT = 10.0
HUMID_STEP_Z = 8.0
# A pan or kettle at a kitchen or bathroom sensor, steaming for hours without a burst, lifts
# the day's humid peak and the room's mean humidity against the home's air together: a peak
# up beyond the 99th percentile of healthy kitchens and bathrooms (10.6 points), at 3 sigma,
# and a mean up 3 points at 3 sigma, each beyond their 90th percentile (peak 2.5 sigma; mean
# 2.6 points at 2.4 sigma); none of 1,906 healthy kitchens and bathrooms meets all four. Kept
# to those rooms: elsewhere a household's own busy evenings lift peak and mean together.
PAN_PEAK_SHIFT_PCT = 12.0
PAN_PEAK_Z = 3.0
PAN_MEAN_SHIFT_PCT = 3.0
PAN_MEAN_Z = 3.0
# A sensor that starts or stops seeing shower steam and steps in temperature is elsewhere now.
MOVED_SHIFT_C = 0.8
# Drift: a line through three weeks of the sensor's humidity against each other room of its
# home (models.peers.pairwise_trend), steep and clean (its change over the span many times
# the scatter about it). Bathrooms and kitchens trend with the weather (showers and cooking
# steam more in cold weeks): 8 is their 99.4th percentile. Bedrooms and living rooms have no
# such source: 6 is beyond their 99.9th percentile (4.6).
DRIFT_DAYS = 21
DRIFT_MIN_SHARE = 0.8
DRIFT_FLOOR_PCT = 0.3
DRIFT_SLOPE_PCT_DAY = 0.2
DRIFT_STRENGTH = 8.0
QUIET_DRIFT_STRENGTH = 6.0


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
        t_max = window.columns["max_temperature_c"]
        max_resid = t_max - layout.others_median(t_max)
    rh_jump = window.columns["max_jump_humidity_pct"]
    d_t = changes(t_resid, TEMPERATURE_FLOOR_C).less_fleet(kind)
    d_rh = changes(rh_resid, HUMIDITY_FLOOR_PCT).less_fleet(kind)
    d_range = changes(range_resid, RANGE_FLOOR_C).less_fleet(kind)
    d_jump = changes(rh_jump, JUMP_FLOOR_PCT).less_fleet(kind)
    d_max = changes(max_resid, TEMPERATURE_FLOOR_C).less_fleet(kind)
    d_peak_rh = changes(window.columns["max_humidity_pct"], HUMIDITY_FLOOR_PCT).less_fleet(kind)
    d_t_jump = changes(window.columns["max_jump_temperature_c"], TEMPERATURE_FLOOR_C).less_fleet(
        kind
    )
    trend = robust_trend(rh_resid, DRIFT_DAYS, floor=DRIFT_FLOOR_PCT, min_share=DRIFT_MIN_SHARE)
    slope = trend.slope
    apart = pairwise_trend(
        vapour, saturation, layout, DRIFT_DAYS, floor=DRIFT_FLOOR_PCT, min_share=DRIFT_MIN_SHARE
    )
    # fmax skips NaN without a warning; a room with no baseline keeps NaN.
    own_change = np.fmax.reduce(np.abs(np.stack([d_t.z, d_range.z, d_jump.z])), axis=0)
    twin = moved_rooms(window, layout, own_change)
    out: list[Fault | None] = [None] * n
    with np.errstate(invalid="ignore"):
        moved = twin.copy()
        # Cooking and showers already swing a kitchen's or bathroom's temperature.
        busy = np.isin(np.asarray(kind), ("kitchen", "bathroom"))
        heat = (
            (d_range.shift >= np.where(busy, BUSY_HEAT_RANGE_SHIFT_C, HEAT_RANGE_SHIFT_C))
            & (d_range.z >= HEAT_RANGE_Z)
            & (d_t.shift >= HEAT_TEMPERATURE_SHIFT_C)
        )
        heat |= (
            (d_max.shift >= WARM_DRY_PEAK_SHIFT_C)
            & (d_max.z >= WARM_DRY_PEAK_Z)
            & (d_peak_rh.shift <= -WARM_DRY_HUMID_DROP_PCT)
            & (d_peak_rh.z <= -WARM_DRY_HUMID_Z)
        )
        # Kitchens and bathrooms are left out: cooking and showers step their temperature.
        evidence = np.fmax(d_max.z, 0) + np.fmax(d_t_jump.z, 0) + np.fmax(d_range.z, 0)
        heat |= (
            ~busy
            & (d_max.shift >= HEAT_PEAK_SHIFT_C)
            & (d_t.shift > 0)
            & (evidence >= HEAT_EVIDENCE_Z)
        )
        steam = (d_jump.z >= MIN_Z) & (np.abs(d_jump.shift) >= WET_JUMP_SHIFT_PCT)
        wet = steam & (
            (d_rh.shift >= WET_HUMIDITY_SHIFT_PCT) | (d_jump.shift >= STEAM_JUMP_SHIFT_PCT)
        )
        # Smaller bursts that lift the day's highest reading as well as its largest jump.
        wet |= (
            (d_jump.shift >= WET_BURST_JUMP_SHIFT_PCT)
            & (d_jump.z >= WET_BURST_JUMP_Z)
            & (d_peak_rh.shift >= WET_BURST_PEAK_SHIFT_PCT)
            & (d_peak_rh.z >= WET_BURST_PEAK_Z)
        )
        wet |= (d_rh.shift >= HUMID_STEP_PCT) & (d_rh.z >= HUMID_STEP_Z)
        wet |= (
            busy
            & (d_peak_rh.shift >= PAN_PEAK_SHIFT_PCT)
            & (d_peak_rh.z >= PAN_PEAK_Z)
            & (d_rh.shift >= PAN_MEAN_SHIFT_PCT)
            & (d_rh.z >= PAN_MEAN_Z)
        )
        # A sensor that starts (or stops) seeing shower steam while its temperature steps is
        # in another room now, even where no other sensor shares that room.
        moved |= (
            steam
            & (np.abs(d_jump.shift) >= STEAM_JUMP_SHIFT_PCT)
            & (np.abs(d_t.shift) >= MOVED_SHIFT_C)
        )
        drift = (np.abs(apart.slope) >= DRIFT_SLOPE_PCT_DAY) & (
            apart.strength >= np.where(busy, DRIFT_STRENGTH, QUIET_DRIFT_STRENGTH)
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
            out[i] = Fault("drift", {"humidity_slope_pct_per_day": _r(apart.slope[i])})
        elif unusual[i]:
            out[i] = Fault("unusual_readings", {"anomaly_score": _r(scores[i])})
    return out


def _r(value: float) -> float:
    return round(float(value), 2)
