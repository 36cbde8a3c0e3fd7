"""The VTT mould growth model: the mould index M (0-6) of a surface under varying conditions.

Hukka & Viitanen (1999), "A mathematical model of mould growth on wooden material", Wood
Science and Technology 33:475-485, as updated for other materials by Ojanen, Viitanen, Peuhkuri,
Lähdesmäki, Vinha & Salminen (2010), "Mold growth modeling of building structures using
sensitivity classes of materials", Proc. Buildings XI, ASHRAE. The model in one place:

    dM/dt = k1 k2 / (7 t_m)            per day, while T > 0 °C and RH >= RH_crit (growth)
    t_m   = exp(-0.68 ln T - 13.9 ln RH + 66.02)   weeks (H&V 1999 eq. 4, W = SQ = 0)
    k2    = max(1 - exp(2.3 (M - M_max)), 0)       (Ojanen 2010 eq. 5)
    M_max = A + B u - C u²,  u = (RH_crit - RH) / (RH_crit - 100)   (Ojanen 2010 eq. 6)
    RH_crit = max(-0.00267 T³ + 0.160 T² - 3.13 T + 100, RH_min) for T <= 20 °C,
              RH_min above                           (H&V 1999 eq. 2; Ojanen 2010 eq. 7)

and otherwise (decline) dM/dt = C_mat x (-0.032 per day for the first 6 h of a dry period,
0 from 6 h to 24 h, -0.016 per day after 24 h) (H&V 1999 eq. 9; Ojanen 2010 eq. 8).

The integration is explicit Euler on the growth term at the step's start (as in the published
hourly formulation) and exact on the piecewise-constant decline: a dry step integrates the
decline rate over the stretch of the dry-period timer it covers, so the result does not depend
on where a step boundary falls. A step whose temperature or humidity is NaN is a gap: M and the
timer are carried unchanged, which is what makes scoring in pieces equal scoring in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Sensitivity = Literal["very_sensitive", "sensitive", "medium_resistant", "resistant"]


@dataclass(frozen=True, slots=True)
class SensitivityClass:
    """Parameters of one sensitivity class (Ojanen et al. 2010, Table 1)."""

    k1_below_m1: float
    k1_from_m1: float
    a: float
    b: float
    c: float
    rh_min_pct: float


# Ojanen et al. 2010, Table 1: k1 for M < 1 and M >= 1, the M_max coefficients A, B, C, RH_min.
SENSITIVITY_CLASSES: dict[str, SensitivityClass] = {
    "very_sensitive": SensitivityClass(1.0, 2.0, 1.0, 7.0, 2.0, 80.0),
    "sensitive": SensitivityClass(0.578, 0.386, 0.3, 6.0, 1.0, 80.0),
    "medium_resistant": SensitivityClass(0.072, 0.097, 0.0, 5.0, 1.5, 85.0),
    "resistant": SensitivityClass(0.033, 0.014, 0.0, 3.0, 1.0, 85.0),
}

# Hukka & Viitanen 1999, eq. 4 (W = 0 pine, SQ = 0 resawn, as Ojanen 2010 fixes them).
T_M_CONSTANT = 66.02
T_M_TEMPERATURE_EXPONENT = -0.68
T_M_HUMIDITY_EXPONENT = -13.9
K2_STEEPNESS = 2.3  # Ojanen 2010, eq. 5
# Hukka & Viitanen 1999, eq. 9: decline per day in the three stretches of a dry period.
DECLINE_EARLY_PER_DAY = 0.032
DECLINE_EARLY_END_H = 6.0
DECLINE_PAUSE_END_H = 24.0
DECLINE_LATE_PER_DAY = 0.016
# The model's range of validity: no growth at or below 0 °C nor at or above 50 °C.
GROWTH_MIN_TEMPERATURE_C = 0.0
GROWTH_MAX_TEMPERATURE_C = 50.0


class UnknownSensitivityError(ValueError):
    """A sensitivity class the model does not define."""


def sensitivity_class(name: str) -> SensitivityClass:
    """The parameters of a class by name (`very_sensitive` ... `resistant`)."""
    try:
        return SENSITIVITY_CLASSES[name]
    except KeyError as err:
        raise UnknownSensitivityError(
            f"sensitivity must be one of {', '.join(SENSITIVITY_CLASSES)}, not {name!r}"
        ) from err


def critical_humidity_pct(temperature_c: npt.ArrayLike, rh_min_pct: float = 80.0) -> FloatArray:
    """RH_crit: the humidity above which mould grows at a temperature (Ojanen 2010 eq. 7)."""
    theta = np.asarray(temperature_c, dtype=np.float64)
    # Horner's form of -0.00267 T³ + 0.160 T² - 3.13 T + 100.
    curve = ((-0.00267 * theta + 0.160) * theta - 3.13) * theta + 100.0
    result: FloatArray = np.where(theta <= 20.0, np.maximum(curve, rh_min_pct), rh_min_pct)
    return result


def weeks_to_m1(temperature_c: npt.ArrayLike, humidity_pct: npt.ArrayLike) -> FloatArray:
    """t_m: weeks to M = 1 on the reference material at constant conditions (H&V eq. 4)."""
    theta = np.asarray(temperature_c, dtype=np.float64)
    rh = np.asarray(humidity_pct, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.exp(
            T_M_TEMPERATURE_EXPONENT * np.log(theta)
            + T_M_HUMIDITY_EXPONENT * np.log(rh)
            + T_M_CONSTANT
        )
    return result


def maximum_index(
    temperature_c: npt.ArrayLike, humidity_pct: npt.ArrayLike, sensitivity: str = "sensitive"
) -> FloatArray:
    """M_max: the highest index the conditions can sustain (Ojanen 2010 eq. 6), >= 0."""
    params = sensitivity_class(sensitivity)
    rh_crit = critical_humidity_pct(temperature_c, params.rh_min_pct)
    rh_crit, humidity = np.broadcast_arrays(rh_crit, np.asarray(humidity_pct, dtype=np.float64))
    # u places the humidity between RH_crit (0) and saturation (1). Where RH_crit is 100 (a
    # surface at 0 °C) the span is empty: saturated air is at its top, anything drier at its
    # foot (and grows nothing there anyway).
    span = np.asarray(rh_crit - 100.0)
    u = np.divide(
        rh_crit - humidity,
        span,
        out=np.asarray(np.where(humidity >= 100.0, 1.0, 0.0)),
        where=span != 0.0,
    )
    result: FloatArray = np.maximum(params.a + params.b * u - params.c * u**2, 0.0)
    return result


def decline_over(dry_from_h: FloatArray, dry_to_h: FloatArray) -> FloatArray:
    """Decline of M (before C_mat) while the dry-period timer runs from one hour to another."""
    early = np.clip(dry_to_h, None, DECLINE_EARLY_END_H) - np.clip(
        dry_from_h, None, DECLINE_EARLY_END_H
    )
    late = np.clip(dry_to_h, DECLINE_PAUSE_END_H, None) - np.clip(
        dry_from_h, DECLINE_PAUSE_END_H, None
    )
    result: FloatArray = (DECLINE_EARLY_PER_DAY * early + DECLINE_LATE_PER_DAY * late) / 24.0
    return result


@dataclass(frozen=True, slots=True)
class MouldState:
    """What carries from one run to the next, per surface: M and the dry-period timer (h)."""

    mould_index: FloatArray
    dry_h: FloatArray

    @classmethod
    def zeros(cls, n: int) -> MouldState:
        return cls(np.zeros(n), np.zeros(n))


@dataclass(frozen=True, slots=True)
class Conditions:
    """Per-step growth terms, computed once for a block of steps (rooms x steps)."""

    grows: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_]
    rate_per_h: FloatArray  # 1 / (7 t_m) per hour, before k1 k2
    m_max: FloatArray


def conditions(
    temperature_c: npt.ArrayLike, humidity_pct: npt.ArrayLike, sensitivity: str = "sensitive"
) -> Conditions:
    """Which steps grow, at what base rate and towards which M_max."""
    theta = np.asarray(temperature_c, dtype=np.float64)
    rh = np.asarray(humidity_pct, dtype=np.float64)
    params = sensitivity_class(sensitivity)
    known = np.isfinite(theta) & np.isfinite(rh)
    rh_crit = critical_humidity_pct(theta, params.rh_min_pct)
    with np.errstate(invalid="ignore"):
        grows = (
            known
            & (theta > GROWTH_MIN_TEMPERATURE_C)
            & (theta < GROWTH_MAX_TEMPERATURE_C)
            & (rh >= rh_crit)
        )
    # The logarithms and exponentials are only needed where something grows (a few per cent
    # of a fleet's hours), so they are computed on those elements alone.
    rate = np.zeros(theta.shape)
    m_max = np.zeros(theta.shape)
    where = np.nonzero(grows)
    theta_g, rh_g = theta[where], rh[where]
    rate[where] = 1.0 / (7.0 * 24.0 * weeks_to_m1(theta_g, rh_g))
    m_max[where] = maximum_index(theta_g, rh_g, sensitivity)
    return Conditions(grows, known, rate, m_max)


@dataclass(frozen=True, slots=True)
class Trace:
    """M and the dry-period timer after every step, and the decline each dry step could cause
    (before the floor at 0)."""

    mould_index: FloatArray
    dry_h: FloatArray
    decline_potential: FloatArray


def advance(
    state: MouldState,
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
    *,
    step_h: float = 1.0,
    sensitivity: str = "sensitive",
    decline: float | FloatArray = 1.0,
    trace: bool = False,
) -> tuple[MouldState, Trace | None]:
    """Integrate a block of steps for many surfaces at once.

    `temperature_c` and `humidity_pct` are (surfaces, steps) arrays of surface conditions; the
    state holds one value per surface; `decline` (C_mat) is a scalar or one per surface.
    Returns the state after the last step and, if asked, the trace of every step.
    """
    theta = np.atleast_2d(np.asarray(temperature_c, dtype=np.float64))
    rh = np.atleast_2d(np.asarray(humidity_pct, dtype=np.float64))
    terms = conditions(theta, rh, sensitivity)
    return advance_terms(
        state, terms, step_h=step_h, sensitivity=sensitivity, decline=decline, trace=trace
    )


def advance_terms(
    state: MouldState,
    terms: Conditions,
    *,
    step_h: float = 1.0,
    sensitivity: str = "sensitive",
    decline: float | FloatArray = 1.0,
    trace: bool = False,
) -> tuple[MouldState, Trace | None]:
    """`advance` on growth terms already computed (the scoring job reuses them).

    Surfaces with no growth step in the block (most of a fleet, most of the time) only
    decline: their M and timer are folded along the block at once, with the very operations
    the step loop would do in the same order, so either path gives the same bits.
    """
    params = sensitivity_class(sensitivity)
    c_mat = np.broadcast_to(np.asarray(decline, dtype=np.float64), state.mould_index.shape)
    m = state.mould_index.astype(np.float64, copy=True)
    dry_h = state.dry_h.astype(np.float64, copy=True)
    n, steps = terms.grows.shape
    m_out = np.empty((n, steps)) if trace else None
    dry_out = np.empty((n, steps)) if trace else None
    loss_out = np.empty((n, steps)) if trace else None
    growing = terms.grows.any(axis=1)
    quiet = np.flatnonzero(~growing)
    if quiet.size and steps:
        dry = (terms.known[quiet] & ~terms.grows[quiet]).astype(np.float64)
        timer = np.add.accumulate(
            np.concatenate([dry_h[quiet, np.newaxis], step_h * dry], axis=1), axis=1
        )
        loss = c_mat[quiet, np.newaxis] * decline_over(timer[:, :-1], timer[:, :-1] + step_h) * dry
        path = np.subtract.accumulate(np.concatenate([m[quiet, np.newaxis], loss], axis=1), axis=1)
        path = np.maximum(path[:, 1:], 0.0)
        m[quiet] = path[:, -1]
        dry_h[quiet] = timer[:, -1]
        if m_out is not None and dry_out is not None and loss_out is not None:
            m_out[quiet] = path
            dry_out[quiet] = timer[:, 1:]
            loss_out[quiet] = loss
    busy = np.flatnonzero(growing)
    if busy.size:
        m_busy, dry_busy, busy_trace = _step_loop(
            m[busy],
            dry_h[busy],
            c_mat[busy],
            terms.grows[busy],
            terms.known[busy] & ~terms.grows[busy],
            terms.rate_per_h[busy] * step_h,
            terms.m_max[busy],
            params,
            step_h,
            trace,
        )
        m[busy], dry_h[busy] = m_busy, dry_busy
        if m_out is not None and dry_out is not None and loss_out is not None:
            if busy_trace is None:
                raise RuntimeError("_step_loop() returned no trace")
            m_out[busy] = busy_trace.mould_index
            dry_out[busy] = busy_trace.dry_h
            loss_out[busy] = busy_trace.decline_potential
    if m_out is None or dry_out is None or loss_out is None:
        return MouldState(m, dry_h), None
    return MouldState(m, dry_h), Trace(m_out, dry_out, loss_out)


def _step_loop(
    m: FloatArray,
    dry_h: FloatArray,
    c_mat: FloatArray,
    grows_rs: npt.NDArray[np.bool_],
    dry_rs: npt.NDArray[np.bool_],
    rate_rs: FloatArray,
    m_max_rs: FloatArray,
    params: SensitivityClass,
    step_h: float,
    trace: bool,
) -> tuple[FloatArray, FloatArray, Trace | None]:
    """Step by step for surfaces that grow in the block (arrays are surfaces x steps)."""
    # Step-major copies: each step reads one contiguous row instead of a strided column.
    grows = np.ascontiguousarray(grows_rs.T)
    dry = np.ascontiguousarray(dry_rs.T).astype(np.float64)
    rate = np.ascontiguousarray(rate_rs.T)  # zero where nothing grows
    m_max = np.ascontiguousarray(m_max_rs.T)
    m_out = np.empty(grows.shape) if trace else None
    dry_out = np.empty(grows.shape) if trace else None
    loss_out = np.empty(grows.shape) if trace else None
    for step in range(grows.shape[0]):
        k1 = np.where(m < 1.0, params.k1_below_m1, params.k1_from_m1)
        k2 = np.maximum(1.0 - np.exp(K2_STEEPNESS * (m - m_max[step])), 0.0)
        loss = c_mat * decline_over(dry_h, dry_h + step_h) * dry[step]
        # Growth is zero on dry and missing steps, loss zero on growing and missing ones, so
        # one expression covers all three (x + 0.0 and x - 0.0 are exact).
        m = np.maximum(m + k1 * k2 * rate[step] - loss, 0.0)
        dry_h = np.where(grows[step], 0.0, dry_h + step_h * dry[step])
        if m_out is not None and dry_out is not None and loss_out is not None:
            m_out[step] = m
            dry_out[step] = dry_h
            loss_out[step] = loss
    if m_out is None or dry_out is None or loss_out is None:
        return m, dry_h, None
    return m, dry_h, Trace(m_out.T, dry_out.T, loss_out.T)


def mould_index(
    temperature_c: npt.ArrayLike,
    humidity_pct: npt.ArrayLike,
    *,
    step_h: float = 1.0,
    sensitivity: str = "sensitive",
    decline: float = 1.0,
    initial: float = 0.0,
) -> FloatArray:
    """M after each step of a series of surface temperatures (°C) and humidities (%).

    `sensitivity` is one of very_sensitive, sensitive, medium_resistant, resistant (Ojanen 2010);
    `decline` is C_mat, the relative decline of the material (1 for pine, 0.5, 0.25 or 0.1);
    `initial` is M before the first step. NaN steps are gaps and hold M.
    """
    theta = np.asarray(temperature_c, dtype=np.float64).reshape(1, -1)
    rh = np.asarray(humidity_pct, dtype=np.float64).reshape(1, -1)
    if theta.shape != rh.shape:
        raise ValueError("temperature_c and humidity_pct must have the same length")
    start = MouldState(np.array([float(initial)]), np.zeros(1))
    _, steps = advance(
        start, theta, rh, step_h=step_h, sensitivity=sensitivity, decline=decline, trace=True
    )
    if steps is None:  # trace=True always returns one
        raise RuntimeError("advance() returned no trace")
    result: FloatArray = steps.mould_index[0]
    return result
