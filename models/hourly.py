"""The numpy core of a scoring run: a block of hourly room conditions in, state and days out.

A block is a grid of rooms x hours (UTC, on the hour), NaN where a room has no reading. For
every room it computes the coldest-surface conditions, integrates the VTT mould index from the
room's carried state, and sums each UTC day into the columns of `room_daily_conditions`. The
database plays no part here, so the benchmark can time the core alone.

An hour is heard when it has readings. A heard hour whose humidity no air can have (0 %RH from a
failed humidity element; see `models.psychro`) is counted in `hours_humidity_invalid` and left
out of every quantity derived from humidity, and the mould index holds through it as through a
missing hour; its temperature still counts, and the fault detectors see its raw values (stuck,
implausible, jumps, extremes), so a dead humidity element is reported, not averaged in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.mould_index import MouldState, advance_terms, conditions
from models.psychro import (
    FloatArray,
    absolute_humidity_kg_m3,
    dew_point_of_pressure_c,
    humidity_is_physical,
    relative_humidity_pct,
    vapour_content_kg_m3,
    vapour_pressure_pa,
)
from models.surface import surface_temperature_c

IntArray = npt.NDArray[np.int64]

# Plausible hourly means for a room's air; outside them the sensor, not the room, is wrong.
PLAUSIBLE_TEMPERATURE_C = (0.0, 40.0)
PLAUSIBLE_HUMIDITY_PCT = (2.0, 100.0)
# A rise or fall of humidity this large within one hour, or from one hour to the next, is a
# burst of steam (a shower, a pan) at or near the sensor.
SPIKE_RANGE_PCT = 15.0

SUM_COLUMNS = (
    "hours_observed",
    "hours_humidity_invalid",
    "readings",
    "sum_temperature_c",
    "sum_humidity_pct",
    "sum_vapour_pressure_pa",
    "sum_outdoor_temperature_c",
    "sum_outdoor_humidity_pct",
    "sum_moisture_excess_kg_m3",
    "sum_surface_temperature_c",
    "sum_surface_humidity_pct",
    "sum_dew_point_margin_c",
    "hours_air_rh70",
    "hours_air_rh80",
    "hours_air_rh85",
    "hours_surface_rh70",
    "hours_surface_rh80",
    "hours_surface_rh85",
    "hours_condensing",
    "hours_below_16c",
    "hours_below_18c",
    "hours_growth",
    "sum_growth_rate_per_h",
    "sum_growth_m_max",
    "sum_decline_potential",
    "hours_stuck",
    "hours_implausible",
    "hours_spike",
)
MIN_COLUMNS = ("min_dew_point_margin_c", "min_temperature_c", "min_humidity_pct")
MAX_COLUMNS = (
    "max_temperature_c",
    "max_humidity_pct",
    "max_jump_temperature_c",
    "max_jump_humidity_pct",
)
# The room's state at the end of the day's last observed hour (gaps hold it, so also at the end
# of the day): a late reading is folded in by restarting from the day before it (models.late).
LAST_COLUMNS = ("mould_index", "dry_h", "last_temperature_c", "last_humidity_pct")
DAILY_COLUMNS = SUM_COLUMNS + MIN_COLUMNS + MAX_COLUMNS + LAST_COLUMNS
INTEGER_COLUMNS = frozenset(c for c in SUM_COLUMNS if c.startswith("hours_") or c == "readings")


@dataclass(frozen=True, slots=True)
class HourlyBlock:
    """Hourly means of many rooms on one grid; every 2-D array is (rooms, hours)."""

    start_hour: int  # hours since 1970-01-01 UTC of column 0
    temperature_c: FloatArray
    humidity_pct: FloatArray
    readings: IntArray
    temperature_range_c: FloatArray  # max - min within the hour
    humidity_range_pct: FloatArray
    outdoor_temperature_c: FloatArray
    outdoor_humidity_pct: FloatArray
    temperature_factor: FloatArray  # (rooms,)

    @property
    def hours(self) -> int:
        return int(self.temperature_c.shape[1])


@dataclass(frozen=True, slots=True)
class RoomState:
    """Carried per room between runs (one value per room in each array)."""

    mould: MouldState
    last_temperature_c: FloatArray  # NaN when unknown
    last_humidity_pct: FloatArray

    @classmethod
    def empty(cls, n: int) -> RoomState:
        return cls(MouldState.zeros(n), np.full(n, np.nan), np.full(n, np.nan))


@dataclass(frozen=True, slots=True)
class DailyBlock:
    """Per-room, per-day columns of `room_daily_conditions` (rooms, days) and which exist."""

    first_day: int  # days since 1970-01-01 of column 0
    columns: dict[str, FloatArray]
    present: npt.NDArray[np.bool_]
    hour_readings: IntArray  # (rooms, days, 24): readings integrated in each UTC hour


@dataclass(frozen=True, slots=True)
class BlockResult:
    state: RoomState
    daily: DailyBlock


def _previous(values: FloatArray, carried: FloatArray) -> FloatArray:
    """The last known hourly value before each hour, NaN where there is none."""
    filled = np.concatenate([carried[:, np.newaxis], values], axis=1)
    index = np.where(np.isfinite(filled), np.arange(filled.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    carried_fill = np.take_along_axis(filled, index, axis=1)
    result: FloatArray = carried_fill[:, :-1]
    return result


def _last_known(values: FloatArray, carried: FloatArray) -> FloatArray:
    filled = np.concatenate([carried[:, np.newaxis], values], axis=1)
    index = np.where(np.isfinite(filled), np.arange(filled.shape[1]), 0).max(axis=1)
    result: FloatArray = filled[np.arange(filled.shape[0]), index]
    return result


def _day_starts(start_hour: int, hours: int) -> IntArray:
    """Column where each UTC day of the block starts (the first may start mid-day)."""
    lead = start_hour % 24
    result: IntArray = np.maximum(np.arange(-lead, hours, 24, dtype=np.int64), 0)
    return result


def integrate_block(
    block: HourlyBlock,
    state: RoomState,
    *,
    sensitivity: str = "sensitive",
    decline: float = 1.0,
) -> BlockResult:
    """Advance every room through the block and sum its hours into UTC days."""
    theta_i = block.temperature_c
    rh_i = block.humidity_pct
    heard = np.isfinite(theta_i) & np.isfinite(rh_i)
    # Hours whose humidity describes real air: only these enter humidity-derived sums.
    humid = heard & humidity_is_physical(rh_i)
    factor = block.temperature_factor[:, np.newaxis]
    theta_si = surface_temperature_c(theta_i, block.outdoor_temperature_c, factor)
    # The room's vapour pressure, once: it is also the vapour pressure at the surface.
    pressure = vapour_pressure_pa(theta_i, rh_i)
    rh_si = relative_humidity_pct(theta_si, pressure)
    with np.errstate(invalid="ignore", divide="ignore"):
        dew_margin = theta_si - dew_point_of_pressure_c(pressure)
    excess = vapour_content_kg_m3(pressure, theta_i) - absolute_humidity_kg_m3(
        block.outdoor_temperature_c, block.outdoor_humidity_pct
    )
    terms = conditions(theta_si, rh_si, sensitivity)
    mould, trace = advance_terms(
        state.mould, terms, sensitivity=sensitivity, decline=decline, trace=True
    )
    if trace is None:
        raise RuntimeError("advance_terms() returned no trace")

    prev_t = _previous(theta_i, state.last_temperature_c)
    prev_rh = _previous(rh_i, state.last_humidity_pct)
    with np.errstate(invalid="ignore"):
        jump_t = np.abs(theta_i - prev_t)
        jump_rh = np.abs(rh_i - prev_rh)
        stuck = (
            heard
            & (block.temperature_range_c == 0.0)
            & (block.humidity_range_pct == 0.0)
            & (jump_t == 0.0)
            & (jump_rh == 0.0)
        )
        implausible = heard & (
            (theta_i < PLAUSIBLE_TEMPERATURE_C[0])
            | (theta_i > PLAUSIBLE_TEMPERATURE_C[1])
            | (rh_i < PLAUSIBLE_HUMIDITY_PCT[0])
            | (rh_i > PLAUSIBLE_HUMIDITY_PCT[1])
        )
        spike = heard & ((block.humidity_range_pct > SPIKE_RANGE_PCT) | (jump_rh > SPIKE_RANGE_PCT))

    starts = _day_starts(block.start_hour, block.hours)

    def count(mask: npt.NDArray[np.bool_], over: npt.NDArray[np.bool_] = heard) -> FloatArray:
        result: FloatArray = np.add.reduceat(mask & over, starts, axis=1, dtype=np.float64)
        return result

    def total(values: FloatArray, over: npt.NDArray[np.bool_] = heard) -> FloatArray:
        result: FloatArray = np.add.reduceat(np.where(over, values, 0.0), starts, axis=1)
        return result

    def extreme(values: FloatArray, *, highest: bool) -> FloatArray:
        fill = -np.inf if highest else np.inf
        ufunc = np.maximum if highest else np.minimum
        out = ufunc.reduceat(np.where(heard & np.isfinite(values), values, fill), starts, axis=1)
        result: FloatArray = np.where(np.isfinite(out), out, np.nan)
        return result

    with np.errstate(invalid="ignore"):
        columns: dict[str, FloatArray] = {
            "hours_observed": count(heard),
            "hours_humidity_invalid": count(~humid),
            "readings": total(block.readings.astype(np.float64)),
            "sum_temperature_c": total(theta_i),
            "sum_humidity_pct": total(rh_i, humid),
            "sum_vapour_pressure_pa": total(pressure, humid),
            "sum_outdoor_temperature_c": total(block.outdoor_temperature_c),
            "sum_outdoor_humidity_pct": total(block.outdoor_humidity_pct),
            "sum_moisture_excess_kg_m3": total(excess, humid),
            "sum_surface_temperature_c": total(theta_si),
            "sum_surface_humidity_pct": total(rh_si, humid),
            "sum_dew_point_margin_c": total(dew_margin, humid),
            "hours_air_rh70": count(rh_i > 70.0, humid),
            "hours_air_rh80": count(rh_i > 80.0, humid),
            "hours_air_rh85": count(rh_i > 85.0, humid),
            "hours_surface_rh70": count(rh_si > 70.0, humid),
            "hours_surface_rh80": count(rh_si > 80.0, humid),
            "hours_surface_rh85": count(rh_si > 85.0, humid),
            "hours_condensing": count(dew_margin <= 0.0, humid),
            "hours_below_16c": count(theta_i < 16.0),
            "hours_below_18c": count(theta_i < 18.0),
            "hours_growth": count(terms.grows, humid),
            "sum_growth_rate_per_h": total(terms.rate_per_h, humid),
            "sum_growth_m_max": total(terms.rate_per_h * terms.m_max, humid),
            "sum_decline_potential": total(trace.decline_potential, humid),
            "hours_stuck": count(stuck),
            "hours_implausible": count(implausible),
            "hours_spike": count(spike),
            "min_dew_point_margin_c": extreme(dew_margin, highest=False),
            "min_temperature_c": extreme(theta_i, highest=False),
            "min_humidity_pct": extreme(rh_i, highest=False),
            "max_temperature_c": extreme(theta_i, highest=True),
            "max_humidity_pct": extreme(rh_i, highest=True),
            "max_jump_temperature_c": extreme(jump_t, highest=True),
            "max_jump_humidity_pct": extreme(jump_rh, highest=True),
            "mould_index": _last_of_day(trace.mould_index, heard, starts),
            "dry_h": _last_of_day(trace.dry_h, heard, starts),
            "last_temperature_c": _last_of_day(theta_i, np.isfinite(theta_i), starts),
            "last_humidity_pct": _last_of_day(rh_i, np.isfinite(rh_i), starts),
        }
    present = columns["hours_observed"] > 0
    new_state = RoomState(
        mould,
        _last_known(theta_i, state.last_temperature_c),
        _last_known(rh_i, state.last_humidity_pct),
    )
    daily = DailyBlock(
        block.start_hour // 24, columns, present, _hour_readings(block, heard, starts.size)
    )
    return BlockResult(new_state, daily)


def _hour_readings(block: HourlyBlock, heard: npt.NDArray[np.bool_], days: int) -> IntArray:
    """Readings per room, UTC day and hour of the day (zero outside the block)."""
    lead = block.start_hour % 24
    out = np.zeros((heard.shape[0], days * 24), dtype=np.int64)
    out[:, lead : lead + block.hours] = np.where(heard, block.readings, 0)
    result: IntArray = out.reshape(heard.shape[0], days, 24)
    return result


def _last_of_day(values: FloatArray, known: npt.NDArray[np.bool_], starts: IntArray) -> FloatArray:
    """The value at each day's last observed hour, NaN for a day with none."""
    column = np.where(known, np.arange(values.shape[1]), -1)
    last = np.maximum.reduceat(column, starts, axis=1)
    picked = np.take_along_axis(values, np.maximum(last, 0), axis=1)
    result: FloatArray = np.where(last >= 0, picked, np.nan)
    return result
