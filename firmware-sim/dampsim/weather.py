"""London outdoor weather: climate normals, day-to-day weather, a small offset per borough.

The seasonal cycle follows the Met Office 1971-2000 averages for Greenwich (the station closest
to the boroughs' centre with published normals). Day-to-day weather is a London-wide anomaly of
the daily mean, an AR(1) process (lag-one correlation 0.7, standard deviation 2.5 C in winter,
assumed values typical of a maritime climate, not fitted), plus a daily diurnal range between
0.6x (overcast) and 1.4x (clear) of the normal one. Boroughs add an urban heat-island offset
(inner London is warmer, GLA "London's Urban Heat Island", 2006) and a small daily jitter, so
homes in one borough see the same weather at the same time and neighbours differ a little.

Humidity comes through the dew point: about the daily minimum temperature less a seasonal
depression (a rule of thumb for humid maritime air), which gives winter RH near 95 % at dawn
and 75-80 % in the afternoon, as London's observations show.

Everything is a pure function of (seed, borough, time): the same hour always has the same
weather, whichever window or process asks for it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dampsim.options import BOROUGH_CODES
from dampsim.psychro import saturation_pressure_pa
from dampsim.streams import STREAM_WEATHER, STREAM_WEATHER_BOROUGH, hashed_normal, hashed_uniform

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DAY_S = 86_400
# Met Office 1971-2000 averages, London (Greenwich): mean daily maximum and minimum, Jan..Dec, C.
NORMAL_MAX_C = np.array([8.3, 8.5, 11.4, 14.2, 17.7, 20.7, 23.2, 22.9, 20.1, 15.6, 11.4, 8.6])
NORMAL_MIN_C = np.array([2.6, 2.4, 4.1, 5.4, 8.4, 13.2, 14.2, 14.0, 11.2, 8.3, 5.1, 2.8])
# Dew-point depression below the daily minimum, C (assumed; larger in drier spring/summer air).
DEW_DEPRESSION_C = np.array([0.0, 0.3, 1.2, 2.2, 2.5, 2.5, 2.5, 2.2, 1.5, 0.8, 0.2, 0.0])
MID_MONTH_DOY = np.array(
    [15.5, 45.0, 74.5, 105.0, 135.5, 166.0, 196.5, 227.5, 258.0, 288.5, 319.0, 349.5]
)
ANOMALY_LAG1 = 0.7
ANOMALY_SD_C = 2.5
ANOMALY_MEMORY_DAYS = 24  # 0.7**24 < 2e-4: the truncated AR(1) sum is exact to the 0.01 C
PEAK_HOUR = 15.0  # the daily maximum comes mid-afternoon

# Inner London (ONS statistical definition) runs warmer; the City and Westminster most.
_HEAT_ISLAND_C = {
    "E09000001": 1.2,
    "E09000033": 1.2,
    "E09000007": 0.9,
    "E09000019": 0.9,
    "E09000020": 0.9,
    "E09000012": 0.8,
    "E09000013": 0.8,
    "E09000022": 0.8,
    "E09000028": 0.8,
    "E09000030": 0.8,
    "E09000011": 0.6,
    "E09000023": 0.6,
    "E09000032": 0.6,
    "E09000014": 0.5,
    "E09000025": 0.5,
}


def heat_island_c(borough_code: str) -> float:
    return _HEAT_ISLAND_C.get(borough_code, 0.0)


def _seasonal(day_of_year: FloatArray, monthly: FloatArray) -> FloatArray:
    """Monthly normals interpolated linearly (and circularly) to a day of the year."""
    x = np.concatenate([MID_MONTH_DOY - 365.0, MID_MONTH_DOY, MID_MONTH_DOY + 365.0])
    y = np.concatenate([monthly, monthly, monthly])
    result: FloatArray = np.interp(day_of_year, x, y)
    return result


def _day_of_year(day_index: IntArray) -> FloatArray:
    days = day_index.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype("datetime64[D]")
    result: FloatArray = (days - years).astype(np.float64) + 0.5
    return result


def _regional_anomaly_c(seed: int, day_index: IntArray) -> FloatArray:
    """The London-wide anomaly of the daily mean: AR(1) as a truncated moving sum of shocks."""
    lags = np.arange(ANOMALY_MEMORY_DAYS)
    shocks = hashed_normal(seed, STREAM_WEATHER, day_index[:, None] - lags[None, :])
    weights = ANOMALY_LAG1**lags * np.sqrt(1.0 - ANOMALY_LAG1**2) * ANOMALY_SD_C
    result: FloatArray = shocks @ weights
    return result


def daily_weather(
    seed: int, borough_codes: tuple[str, ...], day_index: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(mean C, half-range C, dew point C) per day (rows) and borough (columns)."""
    doy = _day_of_year(day_index)
    normal_max = _seasonal(doy, NORMAL_MAX_C)
    normal_min = _seasonal(doy, NORMAL_MIN_C)
    anomaly = _regional_anomaly_c(seed, day_index)
    clearness = 0.6 + 0.8 * hashed_uniform(seed, STREAM_WEATHER, day_index, 7)
    borough_ids = np.array([BOROUGH_CODES.index(c) for c in borough_codes], dtype=np.int64)
    offsets = np.array([heat_island_c(c) for c in borough_codes])
    jitter = 0.3 * hashed_normal(seed, STREAM_WEATHER_BOROUGH, day_index[:, None], borough_ids)
    mean_c = ((normal_max + normal_min) / 2.0 + anomaly)[:, None] + offsets[None, :] + jitter
    half_range_c = np.repeat(
        ((normal_max - normal_min) / 2.0 * clearness)[:, None], len(borough_codes), axis=1
    )
    # Heat islands mostly warm the nights: the range narrows by the offset.
    half_range_c = np.maximum(half_range_c - offsets[None, :] / 2.0, 0.5)
    dew_noise = 0.7 * hashed_normal(seed, STREAM_WEATHER, day_index, 9)
    dew_c = mean_c - half_range_c - (_seasonal(doy, DEW_DEPRESSION_C) + dew_noise)[:, None]
    return mean_c, half_range_c, dew_c


def outdoor_conditions(
    seed: int, borough_codes: tuple[str, ...], times_s: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Outdoor (temperature C, RH %) at each time (rows) for each borough (columns).

    Daily values are interpolated between noons, so nothing jumps at midnight.
    """
    t = np.asarray(times_s, dtype=np.float64)
    position = (t - DAY_S / 2) / DAY_S  # in days, 0 at the noon of day 0
    first = int(np.floor(position.min())) if t.size else 0
    last = int(np.floor(position.max())) + 1 if t.size else 0
    days = np.arange(first, last + 1, dtype=np.int64)
    mean_c, half_c, dew_c = daily_weather(seed, borough_codes, days)
    frac = (position - first)[:, None]
    lo = np.floor(frac).astype(np.int64)
    w = frac - lo
    cols = np.arange(len(borough_codes))[None, :]

    def interp(values: FloatArray) -> FloatArray:
        result: FloatArray = values[lo, cols] * (1.0 - w) + values[lo + 1, cols] * w
        return result

    hour = (t % DAY_S) / 3600.0
    diurnal = np.cos(2.0 * np.pi * (hour - PEAK_HOUR) / 24.0)[:, None]
    temperature_c = interp(mean_c) + interp(half_c) * diurnal
    dew = np.minimum(interp(dew_c), temperature_c)
    humidity_pct = 100.0 * saturation_pressure_pa(dew) / saturation_pressure_pa(temperature_c)
    return temperature_c, np.clip(humidity_pct, 5.0, 100.0)
