"""Scoring a fleet in memory, day after day, with the same core the scoring job runs.

The job keeps its days and state in PostgreSQL; here they live in arrays, so a whole winter of
a simulated estate can be replayed run by run (the evaluation) and the numpy core can be timed
without a database (the benchmark). Each daily run integrates that day's hours into the carried
state, adds the day's column, and rates every room on the last weeks' window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.faults import Fault
from models.features import TREND_DAYS, Window
from models.hourly import DAILY_COLUMNS, HourlyBlock, IntArray, RoomState, integrate_block
from models.psychro import FloatArray
from models.rating import Ratings, RoomMeta, rate
from models.surface import SURFACE_DECLINE, SURFACE_SENSITIVITY

HOURS_PER_DAY = 24


@dataclass(frozen=True, slots=True)
class FleetGrid:
    """A fleet's hourly conditions from a midnight UTC: (rooms, hours) arrays, NaN for gaps."""

    start_hour: int
    temperature_c: FloatArray
    humidity_pct: FloatArray
    readings: IntArray
    temperature_range_c: FloatArray
    humidity_range_pct: FloatArray
    outdoor_temperature_c: FloatArray
    outdoor_humidity_pct: FloatArray
    meta: RoomMeta

    @property
    def days(self) -> int:
        return int(self.temperature_c.shape[1]) // HOURS_PER_DAY

    def block(self, first_hour: int, hours: int) -> HourlyBlock:
        """Columns [first_hour, first_hour + hours) as one scoring block."""
        cut = slice(first_hour, first_hour + hours)
        return HourlyBlock(
            start_hour=self.start_hour + first_hour,
            temperature_c=self.temperature_c[:, cut],
            humidity_pct=self.humidity_pct[:, cut],
            readings=self.readings[:, cut],
            temperature_range_c=self.temperature_range_c[:, cut],
            humidity_range_pct=self.humidity_range_pct[:, cut],
            outdoor_temperature_c=self.outdoor_temperature_c[:, cut],
            outdoor_humidity_pct=self.outdoor_humidity_pct[:, cut],
            temperature_factor=self.meta.factor,
        )


DayCallback = Callable[[int, Ratings, RoomState], None]


def replay_daily(
    grid: FleetGrid,
    *,
    on_day: DayCallback,
    sensitivity: str = SURFACE_SENSITIVITY,
    decline: float = SURFACE_DECLINE,
    first_day: int = 0,
) -> RoomState:
    """Run the job once per simulated day; `on_day(day, ratings, state)` sees each run."""
    if grid.start_hour % HOURS_PER_DAY:
        raise ValueError("the grid must start at midnight UTC")
    rooms = grid.temperature_c.shape[0]
    state = RoomState.empty(rooms)
    latched: tuple[Fault | None, ...] = (None,) * rooms
    columns = {c: np.full((rooms, grid.days), np.nan) for c in DAILY_COLUMNS}
    for day in range(grid.days):
        result = integrate_block(
            grid.block(day * HOURS_PER_DAY, HOURS_PER_DAY),
            state,
            sensitivity=sensitivity,
            decline=decline,
        )
        state = result.state
        for name in DAILY_COLUMNS:
            columns[name][:, day] = np.where(
                result.daily.present[:, 0], result.daily.columns[name][:, 0], np.nan
            )
        if day < first_day:
            continue
        lo = day + 1 - TREND_DAYS
        window_columns = {
            name: _left_pad(values[:, max(lo, 0) : day + 1], TREND_DAYS)
            for name, values in columns.items()
        }
        window = Window(grid.start_hour // HOURS_PER_DAY + day, window_columns)
        ratings = rate(
            window, state.mould.mould_index, grid.meta, sensitivity=sensitivity, latched=latched
        )
        latched = ratings.faults
        on_day(day, ratings, state)
    return state


def _left_pad(values: FloatArray, width: int) -> FloatArray:
    missing = width - values.shape[1]
    if missing <= 0:
        return values
    result: FloatArray = np.pad(values, ((0, 0), (missing, 0)), constant_values=np.nan)
    return result
