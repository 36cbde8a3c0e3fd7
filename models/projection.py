"""How soon mould would appear if the last weeks' conditions went on, and which way they move.

The projection integrates the VTT model forward from each room's current M. The recent
conditions enter as the mean growth rate Σ 1/(7 t_m) over the growth hours per day, the
rate-weighted M_max of those hours, and the mean decline per day that the dry hours cause
(with C_mat), so the day's wet and dry hours keep their weight. It steps in quarter days,
vectorised across rooms, and reports the first day M reaches 1 and 3 (NaN: not within the
horizon). The trend is a robust line through the daily mean surface humidity
(scikit-learn's HuberRegressor, which down-weights the odd wet day).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from models.mould_index import K2_STEEPNESS, sensitivity_class
from models.psychro import FloatArray

logger = logging.getLogger(__name__)

HORIZON_DAYS = 365
STEPS_PER_DAY = 4
# A trend needs enough days to mean anything; fewer and none is reported.
MIN_TREND_DAYS = 7


def days_to_index(
    mould_index: FloatArray,
    growth_rate_per_day: FloatArray,
    growth_m_max: FloatArray,
    decline_per_day: FloatArray,
    *,
    targets: tuple[float, ...] = (1.0, 3.0),
    sensitivity: str = "sensitive",
    horizon_days: int = HORIZON_DAYS,
) -> dict[float, FloatArray]:
    """Days until M reaches each target at constant recent conditions (0 if already there)."""
    params = sensitivity_class(sensitivity)
    m = np.nan_to_num(np.asarray(mould_index, dtype=np.float64)).copy()
    result = {t: np.where(m >= t, 0.0, np.nan) for t in targets}
    top = max(targets)
    idx = np.flatnonzero((growth_rate_per_day > 0) & (m < top) & (growth_m_max > m))
    mi = m[idx]
    rate = growth_rate_per_day[idx] / STEPS_PER_DAY
    m_max = growth_m_max[idx]
    loss = decline_per_day[idx] / STEPS_PER_DAY
    for step in range(1, horizon_days * STEPS_PER_DAY + 1):
        if idx.size == 0:
            break
        k1 = np.where(mi < 1.0, params.k1_below_m1, params.k1_from_m1)
        k2 = np.maximum(1.0 - np.exp(K2_STEEPNESS * (mi - m_max)), 0.0)
        change = k1 * k2 * rate - loss
        mi = np.maximum(mi + change, 0.0)
        for target, days in result.items():
            reached = (mi >= target) & np.isnan(days[idx])
            days[idx[reached]] = step / STEPS_PER_DAY
        # A room whose M has stopped rising (growth balanced by decline, or M_max reached)
        # reaches nothing further, since k2 only falls as M rises: drop it from the loop.
        going = (change > 1e-9) & (mi < top)
        if not going.all():
            idx, mi, rate, m_max, loss = (
                idx[going],
                mi[going],
                rate[going],
                m_max[going],
                loss[going],
            )
    return result


def humidity_trend_per_week(daily_values: FloatArray) -> FloatArray:
    """Robust slope (points a week) of each row's daily values; NaN with too few days."""
    from sklearn.linear_model import HuberRegressor

    slopes = np.full(daily_values.shape[0], np.nan)
    days = np.arange(daily_values.shape[1], dtype=np.float64)
    for i, row in enumerate(daily_values):
        known = np.isfinite(row)
        if known.sum() < MIN_TREND_DAYS or np.ptp(row[known]) == 0.0:
            continue
        model = HuberRegressor(epsilon=1.35, max_iter=200)
        with warnings.catch_warnings():
            # A short noisy series may not converge in max_iter; the slope is still usable.
            warnings.simplefilter("ignore")
            model.fit(days[known, np.newaxis], row[known])
        slopes[i] = 7.0 * float(model.coef_[0])
    return slopes
