"""Psychrometrics of moist air, vectorised: vapour pressure, dew point, absolute humidity.

The saturation vapour pressure uses the Magnus form and constants of BS EN ISO 13788:2012,
Annex E (eq. E.7 over water for θ >= 0 °C, eq. E.8 over ice below), which the standard's
surface-condensation method is built on. Every function takes and returns numpy arrays (or
scalars) elementwise; NaN propagates, so a missing hour stays missing.

The functions are finite over the range ingest accepts from sensors, -40..85 °C, for every
physical humidity (`humidity_is_physical`). A relative humidity of 0 % describes no air a room
can hold (it is what a sensor whose humidity element has failed reports, and the dew point of
perfectly dry air is -infinity), so `vapour_pressure_pa`, where humidity enters, makes it NaN:
everything derived from it is then missing, never infinite.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

# BS EN ISO 13788:2012, Annex E, eqs. E.7 and E.8: p_sat = 610.5 exp(a θ / (b + θ)) in Pa.
MAGNUS_P0_PA = 610.5
MAGNUS_A_WATER = 17.269
MAGNUS_B_WATER_C = 237.3
MAGNUS_A_ICE = 21.875
MAGNUS_B_ICE_C = 265.5

# Gas constant of water vapour, BS EN ISO 13788:2012, clause 3 (R_v = 462 J/(kg K)).
R_VAPOUR_J_PER_KG_K = 462.0
KELVIN_OFFSET = 273.15

# BS EN ISO 13788:2012, Annex A, Figure A.1: internal moisture excess Δv (kg/m³) at or below
# 0 °C outdoor for the upper limit of humidity classes 1-4; each falls linearly to zero at
# 20 °C. Class 1 unoccupied/storage, 2 offices and dwellings with low occupancy, 3 dwellings of
# unknown occupancy, 4 sports halls, kitchens, canteens, 5 special buildings (laundries, pools).
HUMIDITY_CLASS_LIMITS_KG_M3 = (0.004, 0.006, 0.008, 0.010)
HUMIDITY_CLASS_ZERO_AT_C = 20.0

# The finest humidity step room sensors resolve (Sensirion SHT4x datasheet: 0.01 %RH); a reading
# below it is a failed element's 0, not air. (It also keeps p > 0 in floating point.)
MIN_HUMIDITY_PCT = 0.01


def _as_float(values: ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def saturation_vapour_pressure_pa(temperature_c: ArrayLike) -> FloatArray:
    """Saturation vapour pressure in Pa, over water at or above 0 °C and over ice below."""
    theta = _as_float(temperature_c)
    over_ice = theta < 0.0
    if not over_ice.any():  # rooms almost never freeze: skip the per-element branch
        water: FloatArray = MAGNUS_P0_PA * np.exp(
            MAGNUS_A_WATER * theta / (MAGNUS_B_WATER_C + theta)
        )
        return water
    a = np.where(over_ice, MAGNUS_A_ICE, MAGNUS_A_WATER)
    b = np.where(over_ice, MAGNUS_B_ICE_C, MAGNUS_B_WATER_C)
    result: FloatArray = MAGNUS_P0_PA * np.exp(a * theta / (b + theta))
    return result


def humidity_is_physical(humidity_pct: ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a relative humidity can describe real air, from the finest step a sensor
    resolves up to saturation (False for NaN)."""
    phi = _as_float(humidity_pct)
    result: npt.NDArray[np.bool_] = (phi >= MIN_HUMIDITY_PCT) & (phi <= 100.0)
    return result


def vapour_pressure_pa(temperature_c: ArrayLike, humidity_pct: ArrayLike) -> FloatArray:
    """Partial pressure of water vapour in Pa; NaN where the humidity is not physical."""
    phi = _as_float(humidity_pct)
    pressure = phi / 100.0 * saturation_vapour_pressure_pa(temperature_c)
    result: FloatArray = np.where(humidity_is_physical(phi), pressure, np.nan)
    return result


def dew_point_c(temperature_c: ArrayLike, humidity_pct: ArrayLike) -> FloatArray:
    """Dew point (frost point below 0 °C) in °C: the Magnus equation solved for θ."""
    return dew_point_of_pressure_c(vapour_pressure_pa(temperature_c, humidity_pct))


def dew_point_of_pressure_c(pressure_pa: ArrayLike) -> FloatArray:
    """The temperature (°C) at which `pressure_pa` of vapour saturates (over ice below 0).

    NaN for no vapour at all (p <= 0), whose dew point would be -infinity.
    """
    pressure = _as_float(pressure_pa)
    ln_ratio = np.log(np.where(pressure > 0.0, pressure, np.nan) / MAGNUS_P0_PA)
    # Below 610.5 Pa the saturating phase is ice (ISO 13788 eq. E.8 inverted).
    over_ice = ln_ratio < 0.0
    a = np.where(over_ice, MAGNUS_A_ICE, MAGNUS_A_WATER)
    b = np.where(over_ice, MAGNUS_B_ICE_C, MAGNUS_B_WATER_C)
    result: FloatArray = b * ln_ratio / (a - ln_ratio)
    return result


def absolute_humidity_kg_m3(temperature_c: ArrayLike, humidity_pct: ArrayLike) -> FloatArray:
    """Water vapour content v = p / (R_v T) in kg/m³ (BS EN ISO 13788:2012, eq. 2)."""
    return vapour_content_kg_m3(vapour_pressure_pa(temperature_c, humidity_pct), temperature_c)


def vapour_content_kg_m3(pressure_pa: ArrayLike, temperature_c: ArrayLike) -> FloatArray:
    """v = p / (R_v T) in kg/m³ for a known vapour pressure."""
    kelvin = _as_float(temperature_c) + KELVIN_OFFSET
    result: FloatArray = _as_float(pressure_pa) / (R_VAPOUR_J_PER_KG_K * kelvin)
    return result


def relative_humidity_pct(temperature_c: ArrayLike, vapour_pressure: ArrayLike) -> FloatArray:
    """Relative humidity in % of air at `temperature_c` holding `vapour_pressure` Pa, <= 100."""
    ratio = _as_float(vapour_pressure) / saturation_vapour_pressure_pa(temperature_c)
    result: FloatArray = np.minimum(100.0 * ratio, 100.0)
    return result


def moisture_excess_kg_m3(
    indoor_temperature_c: ArrayLike,
    indoor_humidity_pct: ArrayLike,
    outdoor_temperature_c: ArrayLike,
    outdoor_humidity_pct: ArrayLike,
) -> FloatArray:
    """Internal moisture excess Δv = v_i - v_e in kg/m³ (BS EN ISO 13788:2012, eq. A.1)."""
    result: FloatArray = absolute_humidity_kg_m3(
        indoor_temperature_c, indoor_humidity_pct
    ) - absolute_humidity_kg_m3(outdoor_temperature_c, outdoor_humidity_pct)
    return result


def humidity_class_limits_kg_m3(outdoor_temperature_c: ArrayLike) -> FloatArray:
    """Upper limits of classes 1-4 at each outdoor temperature, shape (..., 4), in kg/m³."""
    theta = _as_float(outdoor_temperature_c)
    scale = np.clip(1.0 - theta / HUMIDITY_CLASS_ZERO_AT_C, 0.0, 1.0)
    limits: FloatArray = scale[..., np.newaxis] * np.asarray(HUMIDITY_CLASS_LIMITS_KG_M3)
    return limits


def humidity_class(
    excess_kg_m3: ArrayLike, outdoor_temperature_c: ArrayLike
) -> npt.NDArray[np.int8]:
    """ISO 13788 internal humidity class 1-5 of a measured moisture excess; 0 where unknown.

    The class is the lowest whose upper limit the excess does not exceed; above class 4's limit
    it is 5. Both arguments are usually means over the same period (a week or more).
    """
    excess = _as_float(excess_kg_m3)
    limits = humidity_class_limits_kg_m3(outdoor_temperature_c)
    above = (excess[..., np.newaxis] > limits).sum(axis=-1)
    classes = (above + 1).astype(np.int8)
    known = np.isfinite(excess) & np.isfinite(_as_float(outdoor_temperature_c))
    result: npt.NDArray[np.int8] = np.where(known, classes, 0).astype(np.int8)
    return result
