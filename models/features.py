"""Features of each room over the last weeks, read from its daily rows.

`room_daily_conditions` holds sums and counts per room per UTC day; a feature is a ratio of
sums over the window (e.g. mean surface humidity = Σ sum_surface_humidity_pct / Σ hours), so
it is the same whether the days were written by one run or by many. Quantities derived from
humidity are summed over the hours whose humidity was physical only, so they divide by those
hours (`hours_observed - hours_humidity_invalid`); temperatures divide by every hour heard.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.psychro import FloatArray, humidity_class

FEATURE_DAYS = 14
TREND_DAYS = 28


@dataclass(frozen=True, slots=True)
class Window:
    """Daily columns of many rooms over the last `days` days: (rooms, days) arrays."""

    last_day: int  # days since 1970-01-01 of the last column
    columns: dict[str, FloatArray]

    @property
    def days(self) -> int:
        return int(next(iter(self.columns.values())).shape[1])

    def tail(self, days: int) -> Window:
        """The last `days` columns."""
        return Window(self.last_day, {k: v[:, -days:] for k, v in self.columns.items()})


@dataclass(frozen=True, slots=True)
class Features:
    """Per-room features (one value per room, NaN where unknown)."""

    hours: FloatArray
    coverage: FloatArray
    temperature_c: FloatArray
    humidity_pct: FloatArray
    vapour_pressure_pa: FloatArray
    outdoor_temperature_c: FloatArray
    outdoor_humidity_pct: FloatArray
    moisture_excess_kg_m3: FloatArray
    humidity_class: npt.NDArray[np.int8]
    surface_temperature_c: FloatArray
    surface_humidity_pct: FloatArray
    dew_point_margin_c: FloatArray
    min_dew_point_margin_c: FloatArray
    hours_per_day: dict[str, FloatArray]  # e.g. "surface_rh80" -> hours a day above 80 %
    share_below_16c: FloatArray
    share_below_18c: FloatArray
    growth_rate_per_day: FloatArray  # Σ 1/(7 t_m) over growth hours, per observed day
    growth_m_max: FloatArray  # rate-weighted mean M_max of the growth hours
    decline_per_day: FloatArray  # potential decline per observed day (C_mat included)

    def as_details(self, i: int) -> dict[str, float | int | None]:
        """Room i's features as plain numbers for `risk_assessments.details`."""

        def num(value: float, digits: int = 2) -> float | None:
            return round(float(value), digits) if np.isfinite(value) else None

        out: dict[str, float | int | None] = {
            "hours_observed": int(self.hours[i]),
            "temperature_c": num(self.temperature_c[i], 1),
            "humidity_pct": num(self.humidity_pct[i], 1),
            "outdoor_temperature_c": num(self.outdoor_temperature_c[i], 1),
            "surface_temperature_c": num(self.surface_temperature_c[i], 1),
            "surface_humidity_pct": num(self.surface_humidity_pct[i], 1),
            "dew_point_margin_c": num(self.dew_point_margin_c[i], 1),
            "min_dew_point_margin_c": num(self.min_dew_point_margin_c[i], 1),
            "moisture_excess_g_m3": num(self.moisture_excess_kg_m3[i] * 1000.0, 2),
            "humidity_class": int(self.humidity_class[i]) or None,
            "share_below_16c": num(self.share_below_16c[i], 3),
            "share_below_18c": num(self.share_below_18c[i], 3),
        }
        for name, values in self.hours_per_day.items():
            out[f"hours_per_day_{name}"] = num(values[i], 1)
        return out


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(denominator > 0, numerator / denominator, np.nan)
    return result


def compute_features(window: Window) -> Features:
    """Features over every day of the window (rooms with no hours get NaN and coverage 0)."""
    c = {k: np.nan_to_num(v, nan=0.0) for k, v in window.columns.items()}

    def total(name: str) -> FloatArray:
        result: FloatArray = c[name].sum(axis=1)
        return result

    hours = total("hours_observed")
    humid_hours = hours - total("hours_humidity_invalid")
    days_observed = humid_hours / 24.0
    outdoor_t = _ratio(total("sum_outdoor_temperature_c"), hours)
    excess = _ratio(total("sum_moisture_excess_kg_m3"), humid_hours)
    surface_rh = _ratio(total("sum_surface_humidity_pct"), humid_hours)
    min_margin = window.columns["min_dew_point_margin_c"]
    with np.errstate(invalid="ignore"):
        lowest_margin = np.where(
            np.isfinite(min_margin).any(axis=1),
            np.nanmin(np.where(np.isfinite(min_margin), min_margin, np.inf), axis=1),
            np.nan,
        )
    hours_per_day = {
        name: 24.0 * _ratio(total(f"hours_{name}"), humid_hours)
        for name in (
            "air_rh70",
            "air_rh80",
            "air_rh85",
            "surface_rh70",
            "surface_rh80",
            "surface_rh85",
            "condensing",
        )
    }
    return Features(
        hours=hours,
        # The risk needs humidity: hours without a physical one are not coverage.
        coverage=np.clip(humid_hours / (24.0 * window.days), 0.0, 1.0),
        temperature_c=_ratio(total("sum_temperature_c"), hours),
        humidity_pct=_ratio(total("sum_humidity_pct"), humid_hours),
        vapour_pressure_pa=_ratio(total("sum_vapour_pressure_pa"), humid_hours),
        outdoor_temperature_c=outdoor_t,
        outdoor_humidity_pct=_ratio(total("sum_outdoor_humidity_pct"), hours),
        moisture_excess_kg_m3=excess,
        humidity_class=humidity_class(excess, outdoor_t),
        surface_temperature_c=_ratio(total("sum_surface_temperature_c"), hours),
        surface_humidity_pct=surface_rh,
        dew_point_margin_c=_ratio(total("sum_dew_point_margin_c"), humid_hours),
        min_dew_point_margin_c=lowest_margin,
        hours_per_day=hours_per_day,
        share_below_16c=_ratio(total("hours_below_16c"), hours),
        share_below_18c=_ratio(total("hours_below_18c"), hours),
        growth_rate_per_day=np.nan_to_num(_ratio(total("sum_growth_rate_per_h"), days_observed)),
        growth_m_max=np.nan_to_num(
            _ratio(total("sum_growth_m_max"), total("sum_growth_rate_per_h"))
        ),
        decline_per_day=np.nan_to_num(_ratio(total("sum_decline_potential"), days_observed)),
    )


def daily_means(window: Window, numerator: str) -> FloatArray:
    """Per-day means of one humidity-derived summed column (rooms, days), NaN for days without
    a physical humidity."""
    humid_hours = np.nan_to_num(window.columns["hours_observed"]) - np.nan_to_num(
        window.columns["hours_humidity_invalid"]
    )
    return _ratio(np.nan_to_num(window.columns[numerator]), humid_hours)
