"""Moist-air relations the simulated homes need: saturation pressure and vapour density.

Saturation vapour pressure uses the Magnus form with the constants of BS EN ISO 13788:2012,
Annex E (eqs. E.7 over water, E.8 over ice), the same the risk model uses, so the simulator and
the service agree on what "surface RH" means.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Specific gas constant of water vapour, J/(kg K) (ISO 13788:2012, Table 1).
R_VAPOUR_J_PER_KG_K = 461.5
KELVIN = 273.15


def saturation_pressure_pa(temperature_c: npt.ArrayLike) -> FloatArray:
    """Saturation vapour pressure in Pa (ISO 13788 Annex E: over water >= 0 C, over ice below)."""
    t = np.asarray(temperature_c, dtype=np.float64)
    over_water = 610.5 * np.exp(17.269 * t / (237.3 + t))
    over_ice = 610.5 * np.exp(21.875 * t / (265.5 + t))
    result: FloatArray = np.where(t >= 0.0, over_water, over_ice)
    return result


def vapour_density_g_m3(temperature_c: npt.ArrayLike, humidity_pct: npt.ArrayLike) -> FloatArray:
    """Water vapour per cubic metre of air (g/m3) at a temperature and relative humidity."""
    t = np.asarray(temperature_c, dtype=np.float64)
    pv = saturation_pressure_pa(t) * np.asarray(humidity_pct, dtype=np.float64) / 100.0
    result: FloatArray = 1000.0 * pv / (R_VAPOUR_J_PER_KG_K * (t + KELVIN))
    return result


def saturation_density_g_m3(temperature_c: npt.ArrayLike) -> FloatArray:
    """Vapour density of saturated air (g/m3)."""
    return vapour_density_g_m3(temperature_c, 100.0)


def relative_humidity_pct(vapour_g_m3: npt.ArrayLike, temperature_c: npt.ArrayLike) -> FloatArray:
    """RH (%) of air holding `vapour_g_m3` at `temperature_c`; may exceed 100 (callers clip)."""
    t = np.asarray(temperature_c, dtype=np.float64)
    pv = np.asarray(vapour_g_m3, dtype=np.float64) / 1000.0 * R_VAPOUR_J_PER_KG_K * (t + KELVIN)
    result: FloatArray = 100.0 * pv / saturation_pressure_pa(t)
    return result


def vapour_pressure_at_dew_point_pa(dew_point_c: npt.ArrayLike) -> FloatArray:
    """Vapour pressure of air whose dew point is given (saturation pressure at that point)."""
    return saturation_pressure_pa(dew_point_c)
