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
from scipy import sparse

from .grid import SurvivalData, batched_bincount, levels

CHUNK_CELLS = 6_000_000  # resamples per chunk are sized to keep arrays near 50 MB


@dataclass
class BootstrapDraws:
    """Per-resample statistics: arrays of shape (n_resamples, n_candidates); NaN = undefined."""

    c_index: np.ndarray
    rho: np.ndarray


def poisson_weights(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) Poisson(1) weights as small integers (the bootstrap's only randomness)."""
    return np.random.default_rng(seed).poisson(1.0, size=(n_resamples, n)).astype(np.float32)


class ResampledUsers:
    """One outcome's users under b resamples, laid out once for every candidate's C.

    Weights are held as (users × resamples) float64, all users and the churned ones, so that a
    candidate's grid is one sparse one-hot product (each cell's users summed, a row of b
    resamples at a time). Time runs over the *distinct churn times*, counted from the last: a
    censored user sits at the last churn time at or before their own (they are a partner of
    exactly the churns at or before it), and one censored before the first churn is nobody's
    partner. Counting from the last makes "at or after" a forward cumulative sum.
    """

    def __init__(self, sd: SurvivalData, weights: np.ndarray) -> None:
        self.event = sd.event.astype(bool)
        churn_times = np.unique(sd.duration[self.event])
        self.n_times = churn_times.size
        # 0 = the last churn time … n_times − 1 = the first; n_times = censored before any churn
        self.row = self.n_times - np.searchsorted(churn_times, sd.duration, side="right")
        self.weights = np.ascontiguousarray(weights.T, dtype=np.float64)
        self.churned_weights = np.ascontiguousarray(self.weights[self.event])
        self.n_resamples = weights.shape[0]


def concordance_draws(sd: SurvivalData, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Harrell's C (score = predicted survival) for each row of `weights` (b, n)."""
    return resampled_concordance(ResampledUsers(sd, weights), score)


def resampled_concordance(users: ResampledUsers, score: np.ndarray) -> np.ndarray:
    """Harrell's C of `score` in each resample of `users` (lifelines' tie rules).

    With churn[t, l] and partners[t, l] (weighted users at level l still observed after a
    churn at t, or censored at t), summed over cells: total = Σ churn · (all partners at t),
    S1 = Σ churn · (partners at levels ≤ l), S2 = Σ churn · (partners at level l), and
    C = (concordant + ties / 2) / total = (total − S1 + S2 / 2) / total. With integer
    weights every sum is a whole number, exact in float64: the same C as counting
    concordant, discordant and tied pairs separately, to the last bit.
    """
    codes, n_lev = levels(score)
    n_t = users.n_times
    cell = users.row * n_lev + codes
    size = (n_t + 1) * n_lev  # the last block: users censored before the first churn
    everyone = _one_hot(cell, size)
    churned = _one_hot(cell[users.event], size)
    out = np.empty(users.n_resamples)
    step = max(1, CHUNK_CELLS // max(size, 1))
    for s in range(0, users.n_resamples, step):
        e = min(s + step, users.n_resamples)
        w, wc = users.weights, users.churned_weights
        if s > 0 or e < users.n_resamples:
            w, wc = np.ascontiguousarray(w[:, s:e]), np.ascontiguousarray(wc[:, s:e])
        grid = (everyone @ w)[: n_t * n_lev].reshape(n_t, n_lev, e - s)
        churn = (churned @ wc)[: n_t * n_lev].reshape(n_t, n_lev, e - s)
        np.cumsum(grid, axis=0, out=grid)  # users at or after each churn time
        grid -= churn  # partners: later users, and those censored at that time
        s2 = np.einsum("tlb,tlb->b", churn, grid)
        np.cumsum(grid, axis=1, out=grid)  # partners at levels ≤ l
        total = np.einsum("tlb,tb->b", churn, grid[:, -1, :])
        s1 = np.einsum("tlb,tlb->b", churn, grid)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s:e] = np.where(total > 0, (total - s1 + 0.5 * s2) / total, np.nan)
    return out


def _one_hot(cell: np.ndarray, size: int) -> sparse.csr_matrix:
    """(size × users) matrix with a 1 at (cell of user i, i): its product with weights sums
    each cell's users, built directly in CSR (users ordered by cell)."""
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(cell, minlength=size), out=indptr[1:])
    order = np.argsort(cell, kind="stable")
    return sparse.csr_matrix((np.ones(cell.size), order, indptr), shape=(size, cell.size))


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
