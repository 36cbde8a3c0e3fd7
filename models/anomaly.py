"""An anomaly detector over the residual changes of every room of a run.

The rules in `models.faults` each look for one fault's signature. A sensor can also go wrong in
a way no rule names; what it shares with the named faults is that its room's residuals to its
home move together in a way the fleet's rooms do not. scikit-learn's IsolationForest (Liu, Ting
& Zhou 2008) scores how easily a room's vector of changes is isolated from the fleet's; a room
is reported only when that score is extreme *and* one of its changes is large, so a steady
room is never flagged for being merely unusual.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from models.psychro import FloatArray

# Fit on at most this many rooms per run (isolation needs few samples: Liu et al. use 256).
MAX_FIT_ROOMS = 4096
TREES = 50
SEED = 0
# IsolationForest.score_samples lies in (-1, 0); -0.5 is the "no clear anomaly" level of
# Liu et al.; rooms below ANOMALY_SCORE with a change beyond MIN_ABS_Z are reported.
ANOMALY_SCORE = -0.78
MIN_ABS_Z = 10.0
MIN_FIT_ROOMS = 50
Z_CLIP = 20.0


def anomalous_rooms(z: FloatArray) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    """Rooms (rows of z, one column per residual change) that are isolated outliers."""
    from sklearn.ensemble import IsolationForest

    scores = np.full(z.shape[0], np.nan)
    usable = np.isfinite(z).all(axis=1)
    if usable.sum() < MIN_FIT_ROOMS:
        return np.zeros(z.shape[0], dtype=bool), scores
    data = np.clip(z[usable], -Z_CLIP, Z_CLIP)
    rng = np.random.default_rng(SEED)
    fit_rows = (
        data
        if data.shape[0] <= MAX_FIT_ROOMS
        else data[rng.choice(data.shape[0], MAX_FIT_ROOMS, replace=False)]
    )
    candidates = np.abs(data).max(axis=1) >= MIN_ABS_Z
    if not candidates.any():
        return np.zeros(z.shape[0], dtype=bool), scores
    forest = IsolationForest(n_estimators=TREES, random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        forest.fit(fit_rows)
        scored = np.full(data.shape[0], np.nan)
        scored[candidates] = forest.score_samples(data[candidates])
    scores[usable] = scored
    flagged = np.nan_to_num(scores, nan=0.0) <= ANOMALY_SCORE
    return flagged, scores
