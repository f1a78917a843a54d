"""The composite score and the multiple-testing rule: each written once, read by the ranking, the
stability draws, the evidence charts and the exports (METHODS §5.1).
"""

from __future__ import annotations

import numpy as np

from ..stats.dist import bh_adjust

NOISE_Q = 0.05


def normalised_weights(weights: tuple[float, float]) -> tuple[float, float]:
    """(retention, revenue) weights scaled to sum to 1."""
    w_ret, w_rev = (float(w) for w in weights)
    total = w_ret + w_rev
    return w_ret / total, w_rev / total


def retention_strength(c_plus):
    """Signed retention strength 2·(C⁺ − 0.5), C⁺ the concordance of "more of x ⇒ stays
    longer": 0 at chance, +1 when more always means staying longer, −1 when more always means
    leaving sooner. The direction is fixed before looking; choosing it after (max(C, 1 − C))
    would turn noise into signal (on null data the mean would be > 0)."""
    return 2.0 * (np.asarray(c_plus, float) - 0.5)


def score_parts(c_plus, rho, weights: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The retention part and the revenue part of the composite score (they sum to it):
    w_ret·2(C⁺ − 0.5) and w_rev·max(ρ, 0), weights normalised to sum 1 (METHODS §5.1).

    Without a revenue outcome (ρ NaN) the score is the retention strength alone (unless the
    retention weight is 0).
    """
    w_ret, w_rev = normalised_weights(weights)
    strength = retention_strength(c_plus)
    rho = np.asarray(rho, float)
    has_rev = ~np.isnan(rho)
    retention = np.where(has_rev, w_ret * strength, strength if w_ret > 0 else 0.0)
    revenue = np.where(has_rev, w_rev * np.maximum(np.nan_to_num(rho, nan=0.0), 0.0), 0.0)
    return retention, revenue


def score_of(c_plus, rho, weights: tuple[float, float]):
    """The composite score (METHODS §5.1): the sum of `score_parts`."""
    retention, revenue = score_parts(c_plus, rho, weights)
    return retention + revenue


def score_gradient(weights: tuple[float, float], has_revenue: bool) -> tuple[float, float]:
    """(∂score/∂C⁺, ∂score/∂ρ where ρ > 0): how C⁺ and ρ move the score, for the linearised
    (influence-function) stability draws."""
    w_ret, w_rev = normalised_weights(weights)
    if not has_revenue:
        return (2.0 if w_ret > 0 else 0.0), 0.0
    return 2.0 * w_ret, w_rev


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q-values over all candidates tested (NaN p stays NaN)."""
    p = np.asarray(p, float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = bh_adjust(p[ok])
    return q
