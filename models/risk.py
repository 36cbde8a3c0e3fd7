"""From a room's numbers to a score, a band, a cause and two sentences an officer can repeat.

The score is 0-100: the larger of how far the mould index already is towards visible mould
(M = 3) and how soon the projection says it gets there. The cause is found by asking, for the
room's mean conditions, which single change would lower the coldest surface's humidity most:
a normal moisture load (ventilation), a warmer room (heating) or a better-insulated junction
(fabric). It names conditions, never the people living there ("It's not lifestyle", Housing
Ombudsman Spotlight report on damp and mould, 2021).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from models.psychro import (
    R_VAPOUR_J_PER_KG_K,
    FloatArray,
    humidity_class_limits_kg_m3,
    relative_humidity_pct,
    saturation_vapour_pressure_pa,
)
from models.surface import DEFAULT_TEMPERATURE_FACTOR, surface_temperature_c

# VTT mould index scale (Hukka & Viitanen 1999, Table 1): 1 = microscopic growth begins,
# 3 = growth visible to the naked eye; scoring treats M = 3 as the harm to prevent.
VISIBLE_MOULD_INDEX = 3.0
# The score is the larger of two piecewise-linear scales. Now: M = 2.5 (microscopic growth
# well established, half way from M = 2 to visible) is amber and M = 3 (visible) red. Soon:
# visible mould projected within five weeks is amber, within two weeks red: an officer's
# visit and a repair order take about that long.
SCORE_BY_INDEX = ((0.0, 1.0, 2.5, 3.0, 6.0), (0.0, 15.0, 40.0, 70.0, 100.0))
SCORE_BY_DAYS_TO_M3 = ((0.0, 14.0, 35.0, 90.0, 180.0), (100.0, 70.0, 40.0, 15.0, 0.0))
RED_FROM_SCORE = 70
AMBER_FROM_SCORE = 40
# Below this share of hours with data in the feature window the band is not trusted.
MIN_COVERAGE = 0.25
# The heating a room "should" have for the cause test: WHO Housing and Health Guidelines
# (2018) recommend at least 18 °C; 20 °C is the living-room design temperature of SAP 10.
REFERENCE_TEMPERATURE_C = 20.0
# A cause counts when fixing it alone lowers the surface humidity by this many points and by
# at least this share of the largest single fix.
CAUSE_MIN_DROP_PCT = 3.0
CAUSE_MIN_SHARE = 0.5

CAUSE_PHRASES = {
    "moisture": "more moisture is being produced in the home than the ventilation removes",
    "under_heating": "the room is not warm enough for long stretches, which can happen when "
    "heating is costly, inadequate or hard to control",
    "cold_fabric": "the walls or window reveals are cold because heat escapes through the "
    "building's fabric",
}


def scores(mould_index: FloatArray, days_to_m3: FloatArray) -> npt.NDArray[np.int64]:
    """0-100 per room: the larger of the index's and the projection's scale, NaN-safe."""
    now = np.interp(np.nan_to_num(mould_index), *SCORE_BY_INDEX)
    soon = np.where(
        np.isfinite(days_to_m3),
        np.interp(np.nan_to_num(days_to_m3, nan=1e9), *SCORE_BY_DAYS_TO_M3),
        0.0,
    )
    # Floored, so that a band starts exactly at its threshold (M = 2.49 is not amber).
    result: npt.NDArray[np.int64] = np.floor(np.maximum(now, soon) + 1e-9).astype(np.int64)
    return result


def band_of(score: int) -> str:
    if score >= RED_FROM_SCORE:
        return "red"
    if score >= AMBER_FROM_SCORE:
        return "amber"
    return "green"


def cause_drops(
    temperature_c: FloatArray,
    vapour_pressure_pa: FloatArray,
    outdoor_temperature_c: FloatArray,
    outdoor_vapour_pressure_pa: FloatArray,
    factor: FloatArray,
) -> dict[str, FloatArray]:
    """How many points of surface humidity each single fix would remove, per room."""

    def surface_rh(theta_i: FloatArray, p_i: FloatArray, f: FloatArray) -> FloatArray:
        theta_si = surface_temperature_c(theta_i, outdoor_temperature_c, f)
        return relative_humidity_pct(theta_si, p_i)

    base = surface_rh(temperature_c, vapour_pressure_pa, factor)
    # Moisture at the upper limit of ISO 13788 humidity class 2 ("dwellings with low
    # occupancy"): what adequate ventilation achieves for a normal household.
    kelvin = temperature_c + 273.15
    class2_pa = humidity_class_limits_kg_m3(outdoor_temperature_c)[..., 1] * (
        R_VAPOUR_J_PER_KG_K * kelvin
    )
    ventilated = np.minimum(vapour_pressure_pa, outdoor_vapour_pressure_pa + class2_pa)
    warm = np.maximum(temperature_c, REFERENCE_TEMPERATURE_C)
    insulated = np.maximum(factor, DEFAULT_TEMPERATURE_FACTOR)
    return {
        "moisture": base - surface_rh(temperature_c, ventilated, factor),
        "under_heating": base - surface_rh(warm, vapour_pressure_pa, factor),
        "cold_fabric": base - surface_rh(temperature_c, vapour_pressure_pa, insulated),
    }


def cause_of(drops: dict[str, float], band: str) -> tuple[str, list[str]]:
    """The cause label and the contributing causes, largest first."""
    if band == "unknown":
        return "unknown", []
    ranked = sorted(((d, k) for k, d in drops.items() if np.isfinite(d)), key=lambda pair: -pair[0])
    if not ranked or ranked[0][0] < CAUSE_MIN_DROP_PCT:
        return ("none", []) if band == "green" else ("mixed", [k for _, k in ranked[:2]])
    top = ranked[0][0]
    causes = [k for d, k in ranked if d >= CAUSE_MIN_DROP_PCT and d >= CAUSE_MIN_SHARE * top]
    if band == "green":
        return "none", causes
    return (causes[0] if len(causes) == 1 else "mixed"), causes


def outdoor_vapour_pressure(temperature_c: FloatArray, humidity_pct: FloatArray) -> FloatArray:
    result: FloatArray = humidity_pct / 100.0 * saturation_vapour_pressure_pa(temperature_c)
    return result


def _days_phrase(days: float) -> str:
    if days <= 0:
        return "already"
    if days < 14:
        return f"in about {max(1, round(days))} days"
    return f"in about {round(days / 7)} weeks"


def explain_room(
    *,
    room_name: str,
    band: str,
    mould_index: float,
    days_to_m3: float,
    surface_humidity_pct: float,
    hours_surface_rh80: float,
    causes: list[str],
    fault: str | None,
) -> str:
    """Two plain sentences: what the numbers say, then why and how soon."""
    room = room_name.strip() or "room"
    if fault is not None:
        return (
            f"The sensor in the {room} looks faulty ({fault.replace('_', ' ')}), so its readings "
            "are not used for a mould risk. The sensor should be checked before this room "
            "can be assessed."
        )
    if band == "unknown":
        return (
            f"There are too few recent readings from the {room} to assess its risk. "
            "The sensor may be offline or newly installed."
        )
    first = (
        f"The coldest surface in the {room} averaged {surface_humidity_pct:.0f}% humidity, "
        f"above 80% for {hours_surface_rh80:.0f} hours a day, and its mould index is "
        f"{mould_index:.1f} (visible mould at 3)."
    )
    if band == "green":
        if np.isfinite(days_to_m3):
            return (
                f"{first} The surface is damp enough for mould to grow slowly, but visible "
                f"mould is not expected for about {round(days_to_m3 / 7)} weeks at recent "
                "conditions."
            )
        return first + " Conditions are not currently likely to cause mould."
    why = (
        " and ".join(CAUSE_PHRASES[c] for c in causes[:2])
        if causes
        else ("several conditions together keep the surface damp")
    )
    if np.isfinite(days_to_m3) and days_to_m3 > 0:
        when = f"At recent conditions visible mould is likely {_days_phrase(days_to_m3)}"
    elif np.isfinite(days_to_m3):
        when = "Visible mould is likely already present"
    else:
        when = "The surface is damp enough for mould to start"
    return f"{first} {when}; the main reason is that {why}."
