"""Outdoor conditions on the scoring grid: a borough's own observations, else London normals.

The coldest-surface temperature depends on the outdoor temperature, so every scored hour needs
one. Observations in `outdoor_conditions` are averaged per hour and bridged linearly across
short gaps; longer gaps fall back to the climate normal of that month and hour of day.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.psychro import FloatArray, humidity_is_physical

# Met Office UK climate averages 1991-2020, London Heathrow (station 03772): mean daily maximum
# and minimum air temperature (°C) by month, January to December, rounded to 0.1 °C. The
# model's sensitivity to these is small (θsi moves by (1 - f) x the error, ~0.05 °C per 0.2 °C)
# and a borough's own feed in `outdoor_conditions` replaces them wherever it exists.
NORMAL_MAX_C = (8.4, 9.0, 11.9, 15.2, 18.7, 21.7, 23.9, 23.4, 20.3, 15.7, 11.4, 8.7)
NORMAL_MIN_C = (2.3, 2.3, 3.9, 5.7, 8.7, 11.8, 13.9, 13.8, 11.3, 8.4, 4.9, 2.6)
# Monthly mean relative humidity (%) for London (approximate, rounded values from Met Office
# hourly observations at Heathrow, MIDAS, 1991-2020); humidity only enters the moisture
# excess, which is reported, not scored, so a few points either way change no band.
NORMAL_HUMIDITY_PCT = (86.0, 82.0, 77.0, 71.0, 70.0, 69.0, 68.0, 71.0, 75.0, 81.0, 85.0, 87.0)
# The daily temperature cycle peaks mid-afternoon; a cosine with its maximum at 15:00 UTC is
# the usual first approximation (e.g. CIBSE Guide A, 2015, section 2 design-day profiles).
DAILY_PEAK_HOUR_UTC = 15.0
# Observations further apart than this are not bridged.
MAX_BRIDGE_H = 6

NORMALS_SOURCE = "Met Office 1991-2020 averages, London Heathrow"


def normal_conditions(epoch_hours: npt.NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """Normal outdoor temperature (°C) and humidity (%) at each hour (hours since 1970, UTC)."""
    hours = np.asarray(epoch_hours, dtype="datetime64[h]")
    month = hours.astype("datetime64[M]").astype(np.int64) % 12
    hour_of_day = (np.asarray(epoch_hours, dtype=np.int64) % 24).astype(np.float64)
    t_max = np.asarray(NORMAL_MAX_C)[month]
    t_min = np.asarray(NORMAL_MIN_C)[month]
    cycle = np.cos(2.0 * np.pi * (hour_of_day - DAILY_PEAK_HOUR_UTC) / 24.0)
    temperature: FloatArray = (t_max + t_min) / 2.0 + (t_max - t_min) / 2.0 * cycle
    humidity: FloatArray = np.asarray(NORMAL_HUMIDITY_PCT)[month]
    return temperature, humidity


def bridge_gaps(values: FloatArray, max_gap: int = MAX_BRIDGE_H) -> FloatArray:
    """Linear interpolation across runs of NaN no longer than `max_gap`, along the last axis."""
    out = values.copy()
    for row in out.reshape(-1, out.shape[-1]):
        known = np.flatnonzero(np.isfinite(row))
        if known.size < 2:
            continue
        gaps = np.diff(known)
        for left, width in zip(known[:-1], gaps, strict=True):
            if 1 < width <= max_gap + 1:
                right = left + width
                row[left + 1 : right] = np.interp(
                    np.arange(left + 1, right), [left, right], [row[left], row[right]]
                )
    return out


def outdoor_grid(
    epoch_hours: npt.NDArray[np.int64],
    observed_temperature_c: FloatArray,
    observed_humidity_pct: FloatArray,
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Fill a borough's hourly observations (NaN where none) from normals after bridging.

    Returns temperature, humidity and a mask of the hours that came from the normals. A
    humidity no outdoor air can have (a station reporting 0 %RH) counts as no observation.
    """
    temperature = bridge_gaps(observed_temperature_c)
    humidity = bridge_gaps(
        np.where(humidity_is_physical(observed_humidity_pct), observed_humidity_pct, np.nan)
    )
    normal_t, normal_rh = normal_conditions(epoch_hours)
    from_normals = ~(np.isfinite(temperature) & np.isfinite(humidity))
    return (
        np.where(from_normals, normal_t, temperature),
        np.where(from_normals, normal_rh, humidity),
        from_normals,
    )
