"""Joint bootstrap of every candidate's score: rank stability and revenue CIs (METHODS §5).

Users are resampled with Poisson(1) frequency weights (one weight per user, shared by all
candidates, so their scores stay comparable within a resample). Both statistics are computed
from collapsed grids, many resamples per NumPy call:

- Harrell's C from a (time × score level) grid of weighted users and churns — the same
  counting as `survival.concordance`, with pair weights w_i·w_j;
- Spearman's ρ as the weighted Pearson correlation of weighted mid-ranks (a weight of k is k
  copies of the user), with the ranks recomputed in every resample.

The direction of each candidate's score is fixed before looking: the ranking passes the candidate
itself ("more of x ⇒ stays longer", C⁺, METHODS §5.1) and never re-chooses it per resample
(choosing max(C, 1 − C) after the fact would bias C upwards).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import SurvivalData, batched_bincount, grid_counts_batched, levels

CHUNK_CELLS = 6_000_000  # resamples per chunk are sized to keep arrays near 50 MB


@dataclass
class BootstrapDraws:
    """Per-resample statistics: arrays of shape (n_resamples, n_candidates); NaN = undefined."""

    c_index: np.ndarray
    rho: np.ndarray


def poisson_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) Poisson(1) weights as small integers (the bootstrap's only randomness)."""
    return np.random.default_rng(seed).poisson(1.0, size=(n_resamples, n)).astype(np.float32)


def concordance_draws(sd: SurvivalData, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Harrell's C (score = predicted survival) for each row of `weights` (b, n)."""
    codes, n_lev = levels(score)
    out = np.empty(weights.shape[0])
    step = max(1, CHUNK_CELLS // max(sd.times.size * n_lev, sd.n))
    for s in range(0, weights.shape[0], step):
        w = weights[s : s + step]
        b = w.shape[0]
        users, churn = grid_counts_batched(sd, codes, n_lev, w)
        at_or_after = np.cumsum(users[:, ::-1], axis=1)[:, ::-1]
        partners = at_or_after - churn  # later users + those censored at the same time
        cum = np.cumsum(partners, axis=2)
        higher = cum[:, :, -1:] - cum
        lower = cum - partners
        conc = (churn * higher).sum(axis=(1, 2))
        disc = (churn * lower).sum(axis=(1, 2))
        tied = (churn * partners).sum(axis=(1, 2))
        total = conc + disc + tied
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s : s + b] = np.where(total > 0, (conc + 0.5 * tied) / total, np.nan)
    return out


def _midranks(group_weights: np.ndarray) -> np.ndarray:
    """Weighted mid-rank of each ordered group (b, g): copies fill ranks cum+1 … cum+W."""
    before = np.cumsum(group_weights, axis=1) - group_weights
    return before + (group_weights + 1.0) / 2.0


class RankedOutcome:
    """An outcome prepared for repeated weighted Spearman correlations (ranks per resample)."""

    def __init__(self, y: np.ndarray, weights: np.ndarray) -> None:
        self.codes, self.n_codes = levels(y, max_levels=np.iinfo(np.int32).max)
        self.weights = weights
        self.group_w = batched_bincount(self.codes, self.n_codes, weights)
        self.ranks = _midranks(self.group_w)
        self.total = self.group_w.sum(axis=1)
        mean = (self.total + 1.0) / 2.0
        self.var = (self.group_w * (self.ranks - mean[:, None]) ** 2).sum(axis=1)
        rows = np.arange(weights.shape[0])[:, None]
        self.weighted_rank = weights * self.ranks[rows, self.codes[None, :]]


def spearman_draws(x: np.ndarray, y: RankedOutcome) -> np.ndarray:
    """Weighted Spearman ρ of x with the prepared outcome, one per resample."""
    codes, n_lev = levels(x, max_levels=np.iinfo(np.int32).max)
    wx = batched_bincount(codes, n_lev, y.weights)
    rx = _midranks(wx)
    mean = (y.total + 1.0) / 2.0
    var_x = (wx * (rx - mean[:, None]) ** 2).sum(axis=1)
    sum_ry_by_level = batched_bincount(codes, n_lev, y.weighted_rank)
    cov = (rx * sum_ry_by_level).sum(axis=1) - y.total * mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((var_x > 0) & (y.var > 0), cov / np.sqrt(var_x * y.var), np.nan)
