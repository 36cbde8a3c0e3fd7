"""Conditions at a room's coldest surface, from the air inside and outside.

The coldest inside surface (a corner, a window reveal, the wall behind a wardrobe) sits at
θsi = θe + f_Rsi (θi - θe), where f_Rsi is the temperature factor of BS EN ISO 13788:2012
(clause 3, eq. 1) and BRE IP 1/06. The room's vapour pressure is the same at the surface, so
the surface relative humidity is p_i / p_sat(θsi). This is where mould starts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.psychro import FloatArray, relative_humidity_pct, vapour_pressure_pa

# BRE IP 1/06 ("Assessing the effects of thermal bridging at junctions and around openings")
# and Approved Document C: f_Rsi >= 0.75 avoids surface condensation and mould in dwellings; it
# is the design value used when nothing is known of a home.
DEFAULT_TEMPERATURE_FACTOR = 0.75

# The coldest surface is taken to be an interior finish (painted plaster, gypsum board,
# wallpaper): "sensitive" in Ojanen et al. 2010 (Table 2), declining at C_mat = 0.5 in dry
# spells (Ojanen 2010, Table 3; pine, the reference, declines at 1.0), which errs towards mould.
SURFACE_SENSITIVITY = "sensitive"
SURFACE_DECLINE = 0.5

# Typical f_Rsi at the worst junction by archetype, where a home's own value is not recorded:
# a little under the middle of the ranges in the worked examples of BRE BR 497 (2007) and BRE
# IP 1/06 (about 0.65-0.8 at uninsulated solid-wall, cavity and concrete-frame junctions, 0.8-0.9
# for insulated modern fabric). A surveyed value in homes.temperature_factor always wins; a
# cold junction far below its archetype (e.g. a failed cavity) is what a survey is for.
ARCHETYPE_TEMPERATURE_FACTORS: dict[str, float] = {
    "victorian_terrace": 0.71,
    "edwardian_terrace": 0.71,
    "solid_wall_house": 0.70,
    "interwar_cavity_semi": 0.75,
    "cavity_unfilled": 0.75,
    "cavity_filled": 0.80,
    "concrete_tower_flat": 0.72,
    "tower_block_flat": 0.72,
    "1960s_tower_block": 0.72,
    "system_built_flat": 0.72,
    "modern_flat": 0.85,
    "new_build": 0.86,
}


def temperature_factor(factor: float | None, archetype: str | None) -> float:
    """A home's f_Rsi: its recorded value, else its archetype's, else the 0.75 design value."""
    if factor is not None and 0.0 < factor <= 1.0:
        return float(factor)
    if archetype is not None:
        return ARCHETYPE_TEMPERATURE_FACTORS.get(archetype.lower(), DEFAULT_TEMPERATURE_FACTOR)
    return DEFAULT_TEMPERATURE_FACTOR


def surface_temperature_c(
    indoor_temperature_c: npt.ArrayLike,
    outdoor_temperature_c: npt.ArrayLike,
    factor: npt.ArrayLike,
) -> FloatArray:
    """θsi = θe + f (θi - θe), elementwise (BS EN ISO 13788:2012, eq. 1 solved for θsi)."""
    theta_i = np.asarray(indoor_temperature_c, dtype=np.float64)
    theta_e = np.asarray(outdoor_temperature_c, dtype=np.float64)
    result: FloatArray = theta_e + np.asarray(factor, dtype=np.float64) * (theta_i - theta_e)
    return result


def surface_humidity_pct(
    indoor_temperature_c: npt.ArrayLike,
    indoor_humidity_pct: npt.ArrayLike,
    surface_temperature: npt.ArrayLike,
) -> FloatArray:
    """Relative humidity of the air touching the surface (capped at 100 %: condensation)."""
    pressure = vapour_pressure_pa(indoor_temperature_c, indoor_humidity_pct)
    return relative_humidity_pct(surface_temperature, pressure)
