"""Lumped heat and moisture balance of every room of a batch of homes, stepped in time.

Heat: each room has an air node and a mass node (the two-node simplification of the
BS EN ISO 13790:2008 hourly method). The air node has no capacity of its own; glazing and
ventilation (H_ae = U_w A_w + 0.33 n V) couple it to outdoors, internal surfaces (H_am =
9.1 W/m2K x 2.5 A_f) to the mass, doors (H_z) to the home's mean air temperature θh; the
mass (C_m per floor area by archetype) loses through the opaque fabric (H_me):

    θa = (H_ae θe + H_am θm + H_z θh + Φg + Φh) / (H_ae + H_am + H_z)
    C_m dθm/dt = H_am (θa - θm) + H_me (θe - θm)

Heating is a thermostat on the air temperature limited by the radiators' output: Φh is what
holds θa at the set-point, clipped to [0, Φmax]. So a room warms within the hour the heating
comes on and its walls follow over hours, and cools overnight at the pace of its mass.

Moisture: one node per room whose capacity includes furnishings' buffering (k ≥ 1):

    k V dc/dt = G + n V (ce - c) + nz V (ch - c)

with c the vapour density (g/m3), G the moisture produced (g/h), n and nz the outdoor and
inter-room air changes (/h). Over a step both balances are integrated exactly for inputs held
constant (exponential update), so the 10-minute step is always stable. Air that would exceed
saturation condenses (c is capped at saturation).

The coldest surface follows the design's steady relation θsi = θe + f (θa - θe) with the room's
temperature factor f (BS EN ISO 13788:2012, eq. 2); its RH is the room air's vapour pressure over
the saturation pressure at θsi.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dampsim.archetypes import (
    AIR_HEAT_WH_M3K,
    AIR_TO_MASS_W_M2K,
    BATHROOM,
    DESIGN_OUTDOOR_C,
    KITCHEN,
    MAX_ROOMS,
    ROOM_EXPOSED_M2,
    ROOM_HEIGHT_M,
    ROOM_SETPOINT_OFFSET_C,
    ROOM_VOLUME_M3,
    WINDOW_SHARE,
)
from dampsim.estate import HomeSpec
from dampsim.psychro import relative_humidity_pct, saturation_density_g_m3, vapour_density_g_m3
from dampsim.schedules import home_tables, week_slot
from dampsim.weather import outdoor_conditions

FloatArray = npt.NDArray[np.float64]
STEP_S = 600
INTERZONE_ACH = 1.5  # doors ajar; a closed bathroom door exchanges less, an open kitchen more
BATHROOM_INTERZONE_ACH = 0.6
KITCHEN_INTERZONE_ACH = 2.5
SPIN_UP_S = 4 * 86_400


@dataclass(slots=True)
class StepResult:
    """Room states at one grid time: air temperature, vapour density, heating and moisture use."""

    temperature_c: FloatArray
    vapour_g_m3: FloatArray
    heating_fraction: FloatArray
    moisture_fraction: FloatArray
    outdoor_c: FloatArray  # per home
    outdoor_vapour_g_m3: FloatArray  # per home
    surface_c: FloatArray
    surface_rh_pct: FloatArray


class RoomPhysics:
    """The rooms of a batch of homes as (home, room slot) arrays, advanced one grid step at a time.

    Absent rooms are carried with zero volume and masked out of every home average.
    """

    def __init__(self, homes: list[HomeSpec], seed: int, borough_codes: tuple[str, ...]) -> None:
        n = len(homes)
        self.seed = seed
        self.borough_codes = borough_codes
        self.borough_of_home = np.array([borough_codes.index(h.borough_code) for h in homes])
        present = np.zeros((n, MAX_ROOMS), dtype=bool)
        for i, home in enumerate(homes):
            present[i, list(home.slots)] = True
        self.present = present
        self.volume_m3 = np.where(present, np.asarray(ROOM_VOLUME_M3)[None, :], 0.0)
        self.home_volume_m3 = self.volume_m3.sum(axis=1, keepdims=True)
        tables = [home_tables(h) for h in homes]
        self.moisture_g_h = np.stack([t["moisture_g_h"] for t in tables])
        self.ach = np.stack([t["ach"] for t in tables])
        self.gains_w = np.stack([t["gains_w"] for t in tables])
        self.heating = np.stack([t["heating"] for t in tables]) > 0.5
        self.ventilation_w_k = np.stack([t["ventilation_w_k"] for t in tables])
        self.moisture_peak_g_h = np.maximum(self.moisture_g_h.max(axis=2), 1.0)
        u = np.array([h.physics.u_eff_w_m2k for h in homes])
        fabric_w_k = u[:, None] * np.asarray(ROOM_EXPOSED_M2)[None, :]
        self.window_w_k = WINDOW_SHARE * fabric_w_k
        self.mass_out_w_k = (1.0 - WINDOW_SHARE) * fabric_w_k
        floor_m2 = self.volume_m3 / ROOM_HEIGHT_M
        self.air_mass_w_k = np.maximum(AIR_TO_MASS_W_M2K * floor_m2, 1.0)
        mass = np.array([h.physics.mass_kj_m2k for h in homes])[:, None]
        self.mass_wh_k = np.maximum(mass * 1000.0 / 3600.0 * floor_m2, 1.0)
        self.f = np.array([h.physics.f_room for h in homes])
        self.buffer = np.array([h.physics.buffer_factor for h in homes])[:, None]
        nominal_w_k = fabric_w_k + AIR_HEAT_WH_M3K * self.ach.mean(axis=2) * self.volume_m3
        setpoint = np.array([h.physics.living_setpoint_c for h in homes])[:, None]
        self.setpoint_c = setpoint + np.asarray(ROOM_SETPOINT_OFFSET_C)[None, :]
        oversize = np.array([h.physics.radiator_oversize for h in homes])[:, None]
        design_c = np.maximum(self.setpoint_c, 18.0) - DESIGN_OUTDOOR_C
        self.heating_max_w = oversize * nominal_w_k * design_c
        self.interzone_ach = np.full((n, MAX_ROOMS), INTERZONE_ACH)
        self.interzone_ach[:, BATHROOM] = BATHROOM_INTERZONE_ACH
        self.interzone_ach[:, KITCHEN] = KITCHEN_INTERZONE_ACH
        self.interzone_w_k = AIR_HEAT_WH_M3K * self.interzone_ach * self.volume_m3
        self.temperature_c = np.full((n, MAX_ROOMS), np.nan)
        self.mass_c = np.full((n, MAX_ROOMS), np.nan)
        self.vapour_g_m3 = np.full((n, MAX_ROOMS), np.nan)
        self.time_s: int | None = None

    def _home_mean(self, values: FloatArray) -> FloatArray:
        total = np.where(self.present, values * self.volume_m3, 0.0).sum(axis=1, keepdims=True)
        result: FloatArray = total / np.maximum(self.home_volume_m3, 1e-9)
        return result

    def start(self, time_s: int) -> None:
        """Initialise at `time_s` (a grid time) and spin up for a few days so states settle."""
        begin = time_s - SPIN_UP_S
        outdoor_c, outdoor_rh = outdoor_conditions(self.seed, self.borough_codes, [begin])
        out_c = outdoor_c[0, self.borough_of_home][:, None]
        out_rh = outdoor_rh[0, self.borough_of_home][:, None]
        self.temperature_c = np.broadcast_to(self.setpoint_c - 2.0, self.present.shape).copy()
        self.mass_c = self.temperature_c.copy()
        self.vapour_g_m3 = np.broadcast_to(
            vapour_density_g_m3(out_c, out_rh) + 2.0, self.present.shape
        ).copy()
        self.time_s = begin
        for _ in self.advance(time_s):
            pass

    def advance(self, until_s: int) -> list[StepResult]:
        """Step to every grid time in (now, until_s]; return the states at each of them."""
        if self.time_s is None:
            raise RuntimeError("start() first")
        times = np.arange(self.time_s + STEP_S, until_s + 1, STEP_S, dtype=np.int64)
        if times.size == 0:
            return []
        outdoor_c, outdoor_rh = outdoor_conditions(self.seed, self.borough_codes, times)
        slots = week_slot(times - STEP_S)  # the hour the step runs through
        results = []
        for k in range(times.size):
            out_c = outdoor_c[k, self.borough_of_home][:, None]
            out_rh = outdoor_rh[k, self.borough_of_home][:, None]
            results.append(self._step(out_c, out_rh, int(slots[k])))
        self.time_s = int(times[-1])
        return results

    def _step(self, out_c: FloatArray, out_rh: FloatArray, slot: int) -> StepResult:
        dt_h = STEP_S / 3600.0
        to_air = self.window_w_k + self.ventilation_w_k[:, :, slot]
        total = to_air + self.air_mass_w_k + self.interzone_w_k
        # Everything that drives the air node except the mass and the heating.
        drive = to_air * out_c + self.interzone_w_k * self._home_mean(self.temperature_c)
        gains = self.gains_w[:, :, slot]
        needed = total * self.setpoint_c - drive - self.air_mass_w_k * self.mass_c - gains
        heating_w = np.where(
            self.heating[:, :, slot], np.clip(needed, 0.0, self.heating_max_w), 0.0
        )
        # The mass node with the air node substituted: dθm/dt = (inflow - loss θm) / C_m.
        share = self.air_mass_w_k / total
        inflow = share * (drive + gains + heating_w) + self.mass_out_w_k * out_c
        loss = share * (to_air + self.interzone_w_k) + self.mass_out_w_k
        mass_eq = inflow / loss
        self.mass_c = mass_eq + (self.mass_c - mass_eq) * np.exp(-dt_h * loss / self.mass_wh_k)
        self.temperature_c = (drive + self.air_mass_w_k * self.mass_c + gains + heating_w) / total

        out_vapour = vapour_density_g_m3(out_c, out_rh)
        ach = self.ach[:, :, slot]
        mix = ach + self.interzone_ach
        produced = self.moisture_g_h[:, :, slot]
        source = (
            np.where(self.present, produced / np.maximum(self.volume_m3, 1e-9), 0.0)
            + ach * out_vapour
            + self.interzone_ach * self._home_mean(self.vapour_g_m3)
        )
        vapour_eq = source / mix
        self.vapour_g_m3 = vapour_eq + (self.vapour_g_m3 - vapour_eq) * np.exp(
            -dt_h * mix / self.buffer
        )
        self.vapour_g_m3 = np.minimum(self.vapour_g_m3, saturation_density_g_m3(self.temperature_c))

        surface_c = out_c + self.f * (self.temperature_c - out_c)
        surface_rh = np.minimum(
            relative_humidity_pct(self.vapour_g_m3, self.temperature_c)
            * _saturation_ratio(self.temperature_c, surface_c),
            100.0,
        )
        return StepResult(
            temperature_c=self.temperature_c,
            vapour_g_m3=self.vapour_g_m3,
            heating_fraction=heating_w / np.maximum(self.heating_max_w, 1e-9),
            moisture_fraction=produced / self.moisture_peak_g_h,
            outdoor_c=out_c[:, 0],
            outdoor_vapour_g_m3=out_vapour[:, 0],
            surface_c=surface_c,
            surface_rh_pct=surface_rh,
        )


def _saturation_ratio(air_c: FloatArray, surface_c: FloatArray) -> FloatArray:
    """p_sat(air) / p_sat(surface): the factor by which RH rises on the colder surface."""
    from dampsim.psychro import saturation_pressure_pa

    result: FloatArray = saturation_pressure_pa(air_c) / saturation_pressure_pa(surface_c)
    return result
