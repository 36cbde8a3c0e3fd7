"""The kinds of London social home the fleet is drawn from, and their hidden physics.

Ranges are the simulator's assumptions, chosen to be plausible and documented, not a survey
fit. Sources for their order of magnitude:
- temperature factor of the coldest surface f_Rsi: BRE IP1/06 and BS 5250:2021 ask for at
  least 0.75 at junctions of new dwellings; older solid walls, unbroken concrete slab edges and
  uninsulated corners reach 0.5-0.65 (BRE BR 497, "Conventions for calculating linear thermal
  transmittance and temperature factors", 2007, example values);
- wall U-values: RdSAP 10 default values (solid brick ~2.1, unfilled cavity ~1.5, system-built
  concrete ~1.7, post-2000 cavity ~0.35 W/m2K), blended here with the windows into one U_eff;
- air change rates: CIBSE Guide A (2015) section 4 infiltration ranges for dwellings, leaky
  Victorian houses near 1 /h, modern airtight flats 0.3 /h;
- heating pattern: BREDEM-12 standard pattern (Anderson et al. 2002), heating 07-09 and 16-23 on
  weekdays, 07-23 at weekends; living room 21 C, elsewhere lower;
- thermal mass per floor area: the classes of BS EN ISO 13790:2008 Table 12 (medium 165,
  heavy 260 kJ/m2K) and its coupling of air to mass, h_ms = 9.1 W/m2K over A_m = 2.5 A_f (eq. 65).
"""

from __future__ import annotations

from dataclasses import dataclass

ROOM_SLOTS: tuple[tuple[str, str], ...] = (
    ("Living room", "living_room"),
    ("Kitchen", "kitchen"),
    ("Bathroom", "bathroom"),
    ("Bedroom 1", "bedroom"),
    ("Bedroom 2", "bedroom"),
)
MAX_ROOMS = len(ROOM_SLOTS)
LIVING, KITCHEN, BATHROOM, BEDROOM_1, BEDROOM_2 = range(MAX_ROOMS)

# Room volume (m3) and exposed envelope area (wall + window, m2) of a typical room of each slot.
ROOM_VOLUME_M3 = (40.0, 22.0, 11.0, 30.0, 22.0)
ROOM_EXPOSED_M2 = (14.0, 8.0, 5.0, 12.0, 9.0)
# Coldest surface relative to the home's worst junction: bedrooms and bathrooms often sit on
# external corners; the kitchen and living room are warmed by appliances and people.
ROOM_F_OFFSET = (0.03, 0.07, -0.01, 0.0, 0.01)
# Set-point below the living room's, C (BREDEM-12: living area 21 C, rest of dwelling lower).
ROOM_SETPOINT_OFFSET_C = (0.0, -1.0, 0.0, -2.5, -3.0)


@dataclass(frozen=True, slots=True)
class Archetype:
    name: str
    wall_type: str
    construction_era: str
    share: float  # of the simulated estate
    f_range: tuple[float, float]  # temperature factor of the home's coldest junction
    u_eff_w_m2k: tuple[float, float]
    ach_range: tuple[float, float]  # background air changes per hour
    mass_kj_m2k: tuple[float, float]  # internal heat capacity per floor area
    is_flat: bool
    max_floor: int
    second_bedroom_share: float


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "victorian_terrace",
        "solid_brick",
        "pre-1919",
        0.20,
        (0.66, 0.80),
        (1.7, 2.2),
        (0.8, 1.4),
        (220.0, 300.0),
        False,
        0,
        0.85,
    ),
    Archetype(
        "interwar_cavity_semi",
        "cavity_unfilled",
        "1919-1944",
        0.20,
        (0.70, 0.84),
        (1.3, 1.7),
        (0.7, 1.2),
        (150.0, 220.0),
        False,
        0,
        0.9,
    ),
    Archetype(
        "concrete_tower_flat",
        "concrete_system_built",
        "1960-1979",
        0.35,
        (0.68, 0.80),
        (1.4, 1.9),
        (0.5, 0.9),
        (240.0, 320.0),
        True,
        20,
        0.5,
    ),
    Archetype(
        "modern_flat",
        "cavity_insulated",
        "post-2000",
        0.25,
        (0.80, 0.92),
        (0.4, 0.7),
        (0.45, 0.8),
        (130.0, 200.0),
        True,
        8,
        0.55,
    ),
)

# Moisture production, BS 5250:2021 Annex (after BS EN ISO 13788 and BRE Digest 297 figures).
PERSON_ASLEEP_G_H = 40.0
PERSON_ACTIVE_G_H = 55.0
COOKING_G_PER_PERSON_DAY = (500.0, 750.0)  # a household of four: 2-3 kg/day
DISHWASHING_G_DAY = 400.0
SHOWER_G = 250.0  # per shower, released over the hour it is taken
CLOTHES_LOAD_G = 1500.0  # water left in one spun 5 kg load, dried indoors over ~12 h

# Approved Document F (2010) extract rates: kitchen 30 l/s adjacent to the hob, bathroom 15 l/s.
KITCHEN_EXTRACT_M3_H = 30.0 * 3.6
BATHROOM_EXTRACT_M3_H = 15.0 * 3.6

# Heat given off by a person at rest or light activity, W (CIBSE Guide A, Table 6.3 order).
PERSON_HEAT_W = 75.0
COOKING_HEAT_W = 600.0
BASE_APPLIANCE_W = 40.0

# ISO 13790:2008 eq. 65 and Table 12: air-to-mass coupling per floor area, 9.1 W/m2K x 2.5.
AIR_TO_MASS_W_M2K = 9.1 * 2.5
ROOM_HEIGHT_M = 2.5
# Share of a room's exposed fabric conductance that is glazing, which couples to the air node.
WINDOW_SHARE = 0.3
# Volumetric heat capacity of air, Wh/(m3 K): 0.33 as used in SAP/BREDEM ventilation losses.
AIR_HEAT_WH_M3K = 0.33
# External design temperature for sizing radiators in London, C (CIBSE Guide A Table 2.3 order).
DESIGN_OUTDOOR_C = -3.0


def archetype_named(name: str) -> Archetype:
    for archetype in ARCHETYPES:
        if archetype.name == name:
            return archetype
    raise KeyError(name)
