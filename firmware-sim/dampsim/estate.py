"""The simulated estate: homes with their rooms, hidden physics and sensors.

A home is a pure function of (seed, home index, options), so 100,000 homes can be drawn one
batch at a time and any home can be re-drawn on its own. Addresses, UPRNs and postcodes are
obviously synthetic ("Flat 12, 3 Example Street", postcodes in the non-existent ZZ area).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from dampsim.archetypes import (
    ARCHETYPES,
    BEDROOM_2,
    COOKING_G_PER_PERSON_DAY,
    MAX_ROOMS,
    ROOM_F_OFFSET,
    Archetype,
)
from dampsim.options import BOROUGH_CODES, FAULT_KINDS, SimOptions
from dampsim.streams import STREAM_FAULT, STREAM_HOME, STREAM_SENSOR, rng_for, stable_key

# Fictitious UPRNs: 12 digits from 900,000,000,000, a block of ten million per seed.
UPRN_BASE = 900_000_000_000
UPRN_BLOCK = 10_000_000
STREETS = (
    "Example Street",
    "Sample Road",
    "Specimen Close",
    "Placeholder Lane",
    "Test Row",
    "Fixture Gardens",
    "Model Terrace",
    "Synthetic Way",
)
HEATING_PATTERNS = ("bredem", "all_day", "evening_only")
RISK_DRIVERS = ("moisture", "under_heating", "cold_fabric", "mixed")
SENSOR_MODELS = {
    "native": "TH-100 Wi-Fi logger",
    "senml": "TH-200 NB-IoT logger",
    "tts": "LW-300 LoRaWAN sensor",
    "chirpstack": "LW-310 LoRaWAN sensor",
    "lpp": "TH-50 cellular LPP sensor",
}
# Which vendor a borough bought first, in turn; each borough also has a second supplier.
PRIMARY_FORMATS = ("native", "tts", "senml", "chirpstack", "native")


@dataclass(frozen=True, slots=True)
class FaultSpec:
    kind: str
    start_fraction: float  # where in the simulated period it begins, 0..1
    magnitude: float  # drift per day, extra C near a heat source, extra %RH near moisture
    target_slot: int  # the room a "moved" sensor ends up in


@dataclass(frozen=True, slots=True)
class SensorSpec:
    sensor_id: str
    key: int
    slot: int
    payload_format: str
    model: str
    lpp_encoded: bool  # LoRaWAN uplink carrying raw LPP bytes instead of a decoded object
    interval_s: float
    phase_s: float
    battery_start_pct: float
    battery_drain_pct_day: float
    fault: FaultSpec | None

    @property
    def provisioned(self) -> bool:
        return self.fault is None or self.fault.kind != "unprovisioned"


@dataclass(frozen=True, slots=True)
class HomePhysics:
    """What the service never sees: the home's building physics and way of life."""

    f_room: tuple[float, ...]
    ach_room: tuple[float, ...]
    u_eff_w_m2k: float
    mass_kj_m2k: float
    living_setpoint_c: float
    heating_pattern: str
    radiator_oversize: float
    occupants: int
    home_by_day: bool
    cooking_g_day: float
    clothes_loads_week: float
    clothes_slot: int
    kitchen_fan: bool
    bathroom_fan: bool
    bedroom_window_night: bool
    buffer_factor: float


@dataclass(frozen=True, slots=True)
class HomeSpec:
    index: int
    uprn: int
    borough_code: str
    address: str
    postcode: str
    archetype: str
    wall_type: str
    construction_era: str
    floor_level: int | None
    slots: tuple[int, ...]  # rooms present, by slot
    sensors: tuple[SensorSpec, ...]
    physics: HomePhysics
    risk_driver: str | None


def sensor_id_for(seed: int, home: int, slot: int, n: int, payload_format: str) -> str:
    digest = hashlib.blake2b(f"{seed}/{home}/{slot}/{n}".encode(), digest_size=8).hexdigest()
    if payload_format == "chirpstack":
        return digest  # a DevEUI, lowercase hex as ChirpStack prints it
    if payload_format == "tts":
        return f"eui-{digest}"  # The Things Stack's default device id for an EUI
    prefix = {"native": "dw", "senml": "sn", "lpp": "lpp"}[payload_format]
    return f"{prefix}-{digest[:12]}"


def borough_formats(seed: int, borough_index: int, formats: str) -> tuple[str, str]:
    """(primary, secondary) payload format of a borough's estate."""
    if formats != "mixed":
        return formats, formats
    primary = PRIMARY_FORMATS[borough_index % len(PRIMARY_FORMATS)]
    others = [f for f in ("native", "senml", "tts", "chirpstack") if f != primary]
    rng = rng_for(seed, STREAM_SENSOR, 1_000_000 + borough_index)
    return primary, others[int(rng.integers(len(others)))]


def _draw_physics(
    rng: np.random.Generator, archetype: Archetype, driver: str | None, slots: tuple[int, ...]
) -> HomePhysics:
    base_f = rng.uniform(*archetype.f_range)
    occupants = min(len(slots) - 2 + int(rng.integers(0, 3)), 6)
    pattern = str(rng.choice(HEATING_PATTERNS, p=(0.6, 0.3, 0.1)))
    setpoint = rng.uniform(19.0, 21.5)
    ach_scale = rng.uniform(*archetype.ach_range)
    clothes = rng.uniform(0.5, 1.0) * occupants if rng.random() < 0.5 else 0.0
    kitchen_fan = rng.random() < 0.75
    bathroom_fan = rng.random() < 0.7
    window_night = rng.random() < 0.3
    cooking = rng.uniform(*COOKING_G_PER_PERSON_DAY) * occupants
    ach_factor = 1.0
    moisture = driver in ("moisture", "mixed")
    cold = driver in ("under_heating", "mixed") and not (driver == "mixed" and rng.random() < 0.5)
    fabric = driver == "cold_fabric" or (driver == "mixed" and not cold)
    if moisture:
        occupants = max(occupants, int(rng.integers(4, 7)))
        clothes = rng.uniform(1.0, 1.5) * occupants
        kitchen_fan = bathroom_fan = window_night = False
        cooking = rng.uniform(*COOKING_G_PER_PERSON_DAY) * occupants
        ach_factor = rng.uniform(0.35, 0.55)
    if cold:
        # Rationed heating: a low set-point for three evening hours, and windows kept shut.
        setpoint = rng.uniform(12.5, 15.0)
        pattern = "evening_only"
        ach_factor *= 0.7
        window_night = False
    if fabric:
        base_f = rng.uniform(0.40, 0.50)
    f_room = tuple(
        float(min(0.95, base_f + ROOM_F_OFFSET[s] + rng.normal(0.0, 0.02)))
        for s in range(MAX_ROOMS)
    )
    ach_room = tuple(
        float(max(0.15, ach_scale * ach_factor * rng.uniform(0.8, 1.2))) for _ in range(MAX_ROOMS)
    )
    return HomePhysics(
        f_room=f_room,
        ach_room=ach_room,
        u_eff_w_m2k=float(rng.uniform(*archetype.u_eff_w_m2k)),
        mass_kj_m2k=float(rng.uniform(*archetype.mass_kj_m2k)),
        living_setpoint_c=float(setpoint),
        heating_pattern=pattern,
        radiator_oversize=float(rng.uniform(1.0, 1.4)),
        occupants=occupants,
        home_by_day=pattern == "all_day",
        cooking_g_day=float(cooking),
        clothes_loads_week=float(clothes),
        clothes_slot=int(rng.choice([0, 3] if BEDROOM_2 not in slots else [0, 3, 4])),
        kitchen_fan=bool(kitchen_fan),
        bathroom_fan=bool(bathroom_fan),
        bedroom_window_night=bool(window_night),
        buffer_factor=float(rng.uniform(2.0, 4.0)),
    )


def _draw_fault(
    rng: np.random.Generator,
    fraction: float,
    allowed: tuple[str, ...],
    slot: int,
    slots: tuple[int, ...],
) -> FaultSpec | None:
    """A fault for one sensor, or None; "unprovisioned" is drawn per home, not here."""
    kinds = [k for k in FAULT_KINDS if k in allowed and k != "unprovisioned"]
    if not kinds or rng.random() >= fraction:
        return None
    others = [s for s in slots if s != slot]
    if not others and "moved" in kinds:
        kinds.remove("moved")
    if not kinds:
        return None
    kind = str(rng.choice(kinds))
    magnitude = {
        "stuck": 0.0,
        "drift": float(rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.6)),  # %RH per day
        "heat_source": float(rng.uniform(3.0, 6.0)),  # C above the room at full radiator output
        "moisture_source": float(rng.uniform(15.0, 30.0)),  # %RH at the peak of cooking/shower
        "moved": 0.0,
        "unprovisioned": 0.0,
    }[kind]
    target = int(rng.choice(others)) if kind == "moved" else slot
    return FaultSpec(kind, float(rng.uniform(0.2, 0.7)), magnitude, target)


def draw_home(options: SimOptions, index: int) -> HomeSpec:
    """Home number `index` of the estate the options describe."""
    seed = options.seed
    rng = rng_for(seed, STREAM_HOME, index)
    boroughs = options.borough_codes()
    borough = boroughs[index % len(boroughs)]
    archetype = ARCHETYPES[int(rng.choice(len(ARCHETYPES), p=[a.share for a in ARCHETYPES]))]
    slots = (0, 1, 2, 3, 4) if rng.random() < archetype.second_bedroom_share else (0, 1, 2, 3)
    driver = str(rng.choice(RISK_DRIVERS)) if rng.random() < options.mould_fraction else None
    physics = _draw_physics(rng, archetype, driver, slots)
    floor = int(rng.integers(0, archetype.max_floor + 1)) if archetype.is_flat else None
    street = STREETS[int(rng.integers(len(STREETS)))]
    number = int(rng.integers(1, 120))
    if archetype.is_flat:
        address = f"Flat {int(rng.integers(1, 90))}, {number} {street}"
    else:
        address = f"{number} {street}"
    borough_number = BOROUGH_CODES.index(borough) + 1
    primary, secondary = borough_formats(seed, BOROUGH_CODES.index(borough), options.formats)
    sensors = []
    for slot in slots:
        srng = rng_for(seed, STREAM_SENSOR, index, slot)
        sensors.append(_draw_sensor(options, srng, index, slot, 0, primary, secondary, slots))
    frng = rng_for(seed, STREAM_FAULT, index)
    if "unprovisioned" in options.fault_kinds and frng.random() < options.fault_fraction / 2:
        slot = int(frng.choice(slots))
        srng = rng_for(seed, STREAM_SENSOR, index, slot, 1)
        extra = _draw_sensor(options, srng, index, slot, 1, primary, secondary, slots)
        fault = FaultSpec("unprovisioned", 0.0, 0.0, slot)
        sensors.append(_with_fault(extra, fault))
    return HomeSpec(
        index=index,
        uprn=UPRN_BASE + (seed % 9000) * UPRN_BLOCK + index,
        borough_code=borough,
        address=address,
        postcode=f"ZZ{borough_number} {index % 9 + 1}ZZ",
        archetype=archetype.name,
        wall_type=archetype.wall_type,
        construction_era=archetype.construction_era,
        floor_level=floor,
        slots=slots,
        sensors=tuple(sensors),
        physics=physics,
        risk_driver=driver,
    )


def _with_fault(sensor: SensorSpec, fault: FaultSpec) -> SensorSpec:
    return replace(sensor, fault=fault)


def _draw_sensor(
    options: SimOptions,
    rng: np.random.Generator,
    home: int,
    slot: int,
    n: int,
    primary: str,
    secondary: str,
    slots: tuple[int, ...],
) -> SensorSpec:
    fmt = primary if rng.random() < 0.75 else secondary
    if options.formats == "mixed" and rng.random() < 0.05:
        fmt = "lpp"
    lpp_encoded = fmt in ("tts", "chirpstack") and rng.random() < 0.2
    sensor_id = sensor_id_for(options.seed, home, slot, n, fmt)
    if options.reading_interval_s is not None:
        interval = float(options.reading_interval_s)
    else:
        # Firmware reports every 5, 10 or 15 minutes depending on the device's configuration.
        interval = float(rng.choice([300.0, 600.0, 900.0], p=[0.2, 0.5, 0.3]))
    fault = _draw_fault(
        rng_for(options.seed, STREAM_FAULT, home, slot, n),
        options.fault_fraction,
        options.fault_kinds,
        slot,
        slots,
    )
    quick_drain = options.firmware_quirks and rng.random() < 0.04
    return SensorSpec(
        sensor_id=sensor_id,
        key=stable_key(sensor_id),
        slot=slot,
        payload_format=fmt,
        model=SENSOR_MODELS[fmt],
        lpp_encoded=lpp_encoded,
        interval_s=interval,
        phase_s=float(rng.uniform(0.0, interval)),
        battery_start_pct=float(rng.uniform(35.0, 100.0) if quick_drain else rng.uniform(70, 100)),
        # Two AA cells last 2-5 years at these intervals; a bad cell or unit dies in weeks.
        battery_drain_pct_day=float(
            rng.uniform(0.6, 2.0) if quick_drain else rng.uniform(0.05, 0.14)
        ),
        fault=fault,
    )


def iter_homes(options: SimOptions, start: int = 0, stop: int | None = None) -> Iterator[HomeSpec]:
    for index in range(start, options.homes if stop is None else min(stop, options.homes)):
        yield draw_home(options, index)
