"""The composite score and the multiple-testing rule: each written once, read by the ranking, the
stability draws, the evidence charts and the exports (METHODS §5.1).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

NOISE_Q = 0.05


def score_of(c_index, rho, weights: tuple[float, float]):
    """Composite score: w_ret·2(C − 0.5) + w_rev·max(ρ, 0), weights normalised to sum 1.

    Without a revenue outcome (rho NaN) the score is retention strength alone.
    """
    w_ret, w_rev = weights
    total = w_ret + w_rev
    ret = 2.0 * (np.asarray(c_index, float) - 0.5)
    rev = np.maximum(np.nan_to_num(np.asarray(rho, float), nan=0.0), 0.0)
    has_rev = ~np.isnan(np.asarray(rho, float))
    with_rev = (w_ret * ret + w_rev * rev) / total
    return np.where(has_rev, with_rev, ret if w_ret > 0 else 0.0)


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values over all candidates tested (NaN p stays NaN)."""
    p = np.asarray(p, float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q
