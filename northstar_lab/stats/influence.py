"""Rank stability for large populations from influence functions (the bootstrap's first order).

For n beyond a few tens of thousands of users, a joint bootstrap that touches every user for
every candidate and resample costs minutes. Harrell's C and Spearman's ρ are smooth functions of
pair counts, so under Poisson(1) user weights w the statistic moves, to first order, by
Σ_u (w_u − 1)·ψ_u, where ψ_u is user u's influence. Computing ψ for every candidate is O(n) from
the same collapsed grids, the joint covariance of all scores is ΨᵀΨ, and p_first / median rank /
ties with the leader come from draws of that multivariate normal. The exact bootstrap
(`bootstrap.py`) is used below `ranking.EXACT_BOOTSTRAP_MAX_USERS`; tests check that the two
agree (finite-difference derivatives and bootstrap variances).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from .grid import SurvivalData, grid_counts, levels, quantile_bins

MAX_GRID_CELLS = 4_000_000


def concordance_influence(
    sd: SurvivalData, score: np.ndarray, codes: tuple[np.ndarray, int] | None = None
) -> tuple[float, np.ndarray]:
    """Harrell's C of `score` (predicted survival) and each user's influence ψ_u.

    With pair weights w_i·w_j, C(w) = N(w)/A(w); ∂N/∂w_u = n_u (u's concordant pairs, ties ½, as
    either member) and ∂A/∂w_u = a_u (u's comparable pairs), so ψ_u = (n_u − C·a_u)/A.
    codes: integer codes ordering `score` ascending, equal for equal scores (saves a sort;
    levels without users are allowed). C is exact; if the (time × value) grid would be too
    large, ψ is computed on 256 quantile bins of the score and C is counted exactly from the
    codes (`concordance.concordance_sorted`).
    """
    codes, n_lev = codes if codes is not None else levels(score, max_levels=2**31 - 1)
    exact_c = None
    if n_lev * sd.times.size > MAX_GRID_CELLS:
        from .concordance import concordance_sorted

        exact_c = concordance_sorted(sd, codes)
        codes, n_lev = quantile_bins(codes, n_lev)
    users, deaths = (a.astype(float) for a in grid_counts(sd, codes, n_lev))
    n_grid, a_grid = pair_count_grids(users, deaths)
    idx = (sd.time_index * n_lev + codes) * 2 + sd.event
    n_u = n_grid.ravel()[idx]
    a_u = a_grid[sd.time_index, 0, sd.event]
    pairs = 0.5 * a_u.sum()
    if pairs <= 0:
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    c = 0.5 * n_u.sum() / pairs
    psi = (n_u - c * a_u) / pairs
    return float(c if exact_c is None else exact_c), psi


def pair_count_grids(users: np.ndarray, deaths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (time, level, e) cell of a (times × levels) grid of users and churns: the
    concordant pairs (ties ½) n and the comparable pairs a of one user in that cell, censored
    (e = 0) or churned (e = 1), under lifelines' tie rules (METHODS §3.2). The one home of this
    counting: C is Σ n / Σ a over users, and each user's influence on it is (n − C·a)/A, both
    for a user-level vector (`concordance_influence`) and for cells (`cells.concordance_cells`).

    n has shape (times, levels, 2). A user's comparable pairs do not depend on its level, so
    a has shape (times, 1, 2) and broadcasts. Every count is a whole or half number far below
    2⁵³, so the sums below are exact in any order.
    """
    at_or_after = np.cumsum(users[::-1], axis=0)[::-1]  # users whose duration is ≥ this one
    partners = at_or_after - deaths  # a churner's partners: longer, or censored at its time
    p_cum = np.cumsum(partners, axis=1)
    p_total = p_cum[:, -1:]
    d_before = np.cumsum(deaths, axis=0) - deaths  # churns at earlier times, by level
    db_cum = np.cumsum(d_before, axis=1)
    d_cum = np.cumsum(deaths, axis=1)
    # churns before at lower levels (ties ½): Σ_{≤ level} d_before − ½·d_before
    long_conc = db_cum - 0.5 * d_before
    n_grid = np.empty((*users.shape, 2))
    # e = 0: a censored user pairs with churns before and at its time, at lower levels (ties ½)
    np.add(long_conc, d_cum - 0.5 * deaths, out=n_grid[..., 0])
    # e = 1: a churner also pairs with everyone still there after it, at higher levels
    np.add(long_conc, p_total - p_cum + 0.5 * partners, out=n_grid[..., 1])
    long_comp = db_cum[:, -1:]
    a_grid = np.stack([long_comp + d_cum[:, -1:], long_comp + p_total], axis=-1)
    return n_grid, a_grid


class MidRanks:
    """A variable's mid-distribution a_i = (#less + ½·#equal)/n, by dense codes."""

    def __init__(
        self, values: np.ndarray | None, codes: tuple[np.ndarray, int] | None = None
    ) -> None:
        """values may be None when their codes are given (ranks need only the order)."""
        self.codes, n_lev = codes or levels(values, max_levels=np.iinfo(np.int32).max)
        self.counts = np.bincount(self.codes, minlength=n_lev).astype(float)
        self.n = self.codes.size
        self.level_mid = (np.cumsum(self.counts) - 0.5 * self.counts) / self.n
        self.n_levels = n_lev

    @cached_property
    def a(self) -> np.ndarray:
        """Each user's mid-rank (a gather over the users: made only when a term needs it)."""
        return self.level_mid[self.codes]

    def upper_mean(self, g: np.ndarray) -> np.ndarray:
        """(1/n)·Σ_i m(v_u, v_i)·g_i for every user u, m(a, b) = 1{a < b} + ½·1{a = b}."""
        return self.upper_by_level(self.sum_by_level(g))[self.codes]

    def sum_by_level(self, g: np.ndarray) -> np.ndarray:
        """Σ g over the users of each level."""
        return np.bincount(self.codes, weights=g, minlength=self.n_levels)

    def upper_by_level(self, by_level: np.ndarray) -> np.ndarray:
        """`upper_mean` per level, from per-level sums: (Σ higher levels + ½ · this one)/n."""
        return (np.cumsum(by_level[::-1])[::-1] - 0.5 * by_level) / self.n


class SpearmanTarget:
    """The revenue side of Spearman's ρ, prepared once per ranking."""

    def __init__(self, y: np.ndarray) -> None:
        self.ranks = MidRanks(y)
        b = self.ranks.a - 0.5
        self.b = b
        self.s_bb = float(np.mean(b * b))
        self.d_bb = b * b - self.s_bb + 2 * (self.ranks.upper_mean(b) - np.mean(self.ranks.a * b))


def spearman_influence(
    x: np.ndarray | None, target: SpearmanTarget, codes: tuple[np.ndarray, int] | None = None
) -> tuple[float, np.ndarray]:
    """Spearman's ρ (Pearson of mid-ranks, ties handled) and each user's influence ψ_u.

    Linearises the weighted mid-rank correlation, including how every user's weight moves the
    others' ranks: dS_ab = (a_u−½)(b_u−½) − S_ab + [g_x(u) − c_ab] + [g_y(u) − c_ba], etc.
    Every term that depends on the user only through x's level (the mid-rank a, the x-side
    upper means) is summed per level first and read back with one gather, so a candidate costs
    three passes over the users whatever the number of terms (§ influence functions, the
    bootstrap's first order; equal to the term-by-term sum to rounding). x may be None when
    its codes are given: only its order matters.
    """
    xr = MidRanks(x, codes)
    n, counts, mid = xr.n, xr.counts, xr.level_mid
    a = xr.a - 0.5
    b = target.b
    alpha, b_by_level, s_ab, s_aa = _rank_moments(xr, target)
    if s_aa <= 0 or target.s_bb <= 0:
        return float("nan"), np.zeros(n)
    k = np.sqrt(s_aa * target.s_bb)
    rho = s_ab / k
    # x-side upper means, per level (Σ a over a level is its count times its α)
    u_b = xr.upper_by_level(b_by_level)
    u_a = xr.upper_by_level(counts * alpha)
    mean_mid_b = float(mid @ b_by_level) / n
    mean_mid_a = float(mid @ (counts * alpha)) / n
    # y-side: the target's upper mean of a, and the mean of its mid-rank times a
    a_by_y = target.ranks.sum_by_level(a)
    u_y = target.ranks.upper_by_level(a_by_y)
    mean_ymid_a = float(target.ranks.level_mid @ a_by_y) / n
    per_level = u_b / k - 0.5 * rho * (alpha * alpha + 2 * u_a) / s_aa
    const = (-s_ab - mean_mid_b - mean_ymid_a) / k + 0.5 * rho * (s_aa + 2 * mean_mid_a) / s_aa
    psi = a * b
    psi /= k
    psi += per_level[xr.codes]
    psi += (u_y / k)[target.ranks.codes]
    psi -= (0.5 * rho / target.s_bb) * target.d_bb
    psi += const
    return float(rho), psi / n


def spearman_rho(target: SpearmanTarget, codes: tuple[np.ndarray, int]) -> float:
    """Spearman's ρ alone, as `spearman_influence` computes it (no influence: one pass)."""
    xr = MidRanks(None, codes)
    _, _, s_ab, s_aa = _rank_moments(xr, target)
    if s_aa <= 0 or target.s_bb <= 0:
        return float("nan")
    return float(s_ab / np.sqrt(s_aa * target.s_bb))


def _rank_moments(xr: MidRanks, target: SpearmanTarget):
    """x's centred mid-rank per level (α), the target's centred mid-ranks summed per level of
    x, and the mean cross and x-side products of centred mid-ranks (S_ab, S_aa): ρ is
    S_ab / √(S_aa·S_bb)."""
    alpha = xr.level_mid - 0.5
    b_by_level = xr.sum_by_level(target.b)
    s_ab = float(alpha @ b_by_level) / xr.n
    s_aa = float(xr.counts @ (alpha * alpha)) / xr.n
    return alpha, b_by_level, s_ab, s_aa


def score_draws_from_cov(scores: np.ndarray, cov: np.ndarray, n_draws: int, seed: int):
    """(n_draws, k) scores from N(scores, cov), cov = ΨᵀΨ of the (n_users, k) influence
    matrix Ψ, however it was summed (`ranking.stability._influence_cov` sums it in blocks)."""
    cov = (cov + cov.T) / 2
    vals, vecs = np.linalg.eigh(cov)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    z = np.random.default_rng(seed).standard_normal((n_draws, scores.size))
    return scores[None, :] + z @ root.T
