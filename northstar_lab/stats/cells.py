"""Survival cells: users counted per (duration, value) — all that a candidate's retention
statistics need when it takes few distinct values (counts in a window, 0/1 thresholds).

The Cox fit (Efron), Harrell's C and its per-user influence, Kaplan–Meier retention at the
horizon and the threshold curve are sums over these cells, so they are computed on a
(distinct times × levels) grid, O(cells) instead of O(users) per step. The grid can be counted
in memory from per-user arrays (`SurvivalCells.from_users`) or by the engine that holds the
users (`SurvivalCells.from_counts`, fed by `data/cells.py`): the same functions then give the
same numbers, which is how statistics are pushed into the engine (bench/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .cox import CoxFit, cox_weighted_cells
from .grid import SurvivalData
from .influence import pair_count_grids


@dataclass(frozen=True, eq=False)
class SurvivalCells:
    """users[j, v] users with duration times[j] and level v, deaths[j, v] of them churned.

    times: distinct durations (days since the landmark, ascending); values: the modelled value
    of each level (ascending). Counts are int64, so sums of them are exact.
    """

    times: np.ndarray
    values: np.ndarray
    users: np.ndarray
    deaths: np.ndarray

    @classmethod
    def from_users(
        cls, sd: SurvivalData, codes: np.ndarray, n_levels: int, values: np.ndarray
    ) -> SurvivalCells:
        """Count users of `sd` by (time, level code); values[v] is level v's modelled value."""
        key = codes.astype(np.int64) * (2 * sd.times.size) + sd.status_cell
        return cls.from_key(sd, key, n_levels, values)

    @classmethod
    def from_key(
        cls, sd: SurvivalData, key: np.ndarray, n_levels: int, values: np.ndarray
    ) -> SurvivalCells:
        """From each user's cell key, (level · times + time index) · 2 + churned."""
        k = sd.times.size
        counts = np.bincount(key, minlength=2 * k * n_levels).reshape(n_levels, k, 2)
        return cls._from_grid(sd.times, np.asarray(values, float), counts)

    @classmethod
    def from_counts(
        cls, duration: np.ndarray, value: np.ndarray, event: np.ndarray, n: np.ndarray
    ) -> SurvivalCells:
        """From a long table of (duration, value, churned, users) rows, e.g. an engine's
        group-by; rows may repeat a cell (they are summed)."""
        times, t_idx = np.unique(np.asarray(duration, float), return_inverse=True)
        values, v_idx = np.unique(np.asarray(value, float), return_inverse=True)
        key = (v_idx * times.size + t_idx) * 2 + np.asarray(event, np.int64)
        size = 2 * times.size * values.size
        counts = np.bincount(key, weights=np.asarray(n, float), minlength=size)
        counts = np.rint(counts).astype(np.int64).reshape(values.size, times.size, 2)
        return cls._from_grid(times, values, counts)

    @classmethod
    def _from_grid(cls, times, values, counts) -> SurvivalCells:
        users = (counts[:, :, 0] + counts[:, :, 1]).T.astype(np.int64)
        deaths = counts[:, :, 1].T.astype(np.int64)
        return cls(np.asarray(times, float), values, users, deaths)

    @property
    def n(self) -> int:
        return int(self.users.sum())

    @property
    def n_events(self) -> int:
        return int(self.deaths.sum())

    @cached_property
    def deaths_by_time(self) -> np.ndarray:
        return self.deaths.sum(axis=1)

    def merge_levels(self, groups: np.ndarray, values: np.ndarray) -> SurvivalCells:
        """Cells with levels merged: old level v goes to new level groups[v] (ascending)."""
        n_new = values.size
        users = np.zeros((self.times.size, n_new), np.int64)
        deaths = np.zeros_like(users)
        for target in range(n_new):
            mine = groups == target
            users[:, target] = self.users[:, mine].sum(axis=1)
            deaths[:, target] = self.deaths[:, mine].sum(axis=1)
        return SurvivalCells(self.times, np.asarray(values, float), users, deaths)


def cox_cells(cells: SurvivalCells) -> CoxFit:
    """One-covariate Cox (Efron ties) from cells: the same likelihood as `cox_univariate` on
    the users, term for term (users with equal time, value and status are frequency weights)."""
    if cells.n_events == 0:
        raise ValueError("no churn events: the Cox model is not estimable")
    present = cells.users.sum(axis=0) > 0
    if cells.values[present].min() == cells.values[present].max():
        raise ValueError("x is constant: a Cox model needs a covariate that varies")
    alive = cells.users - cells.deaths
    t_idx, v_idx = np.nonzero(alive)
    td, vd = np.nonzero(cells.deaths)
    w = np.concatenate([alive[t_idx, v_idx], cells.deaths[td, vd]]).astype(float)
    e = np.concatenate([np.zeros(t_idx.size, np.int64), np.ones(td.size, np.int64)])
    t = np.concatenate([t_idx, td])
    xv = cells.values[np.concatenate([v_idx, vd])]
    return cox_weighted_cells(
        w, e, t, xv, cells.times.size, cells.deaths_by_time.astype(float), float(cells.n_events)
    )


@dataclass(frozen=True)
class ConcordanceCells:
    """Harrell's C of the values as predicted survival (higher = stays longer), and the
    influence of a user in each cell: psi[j, v, e] for duration j, level v, churned e."""

    c: float
    psi: np.ndarray
    pairs: float


def concordance_cells(cells: SurvivalCells, ascending: bool = True) -> ConcordanceCells:
    """Exact C with lifelines' tie rules, and each cell's influence ψ = (n_u − C·a_u)/A.

    ascending False reads the levels in reverse (the score is −value). With pair weights
    w_i·w_j, ∂N/∂w_u = n_u (u's concordant pairs, ties ½) and ∂A/∂w_u = a_u (its comparable
    pairs); see `influence.concordance_influence`, which gathers the same cells per user.
    """
    users = cells.users.astype(float)
    deaths = cells.deaths.astype(float)
    if not ascending:
        users, deaths = users[:, ::-1], deaths[:, ::-1]
    n_grid, a_grid = pair_count_grids(users, deaths)
    # every user counts once per cell: censored (e = 0) are users − deaths, churned deaths
    per_cell = np.stack([users - deaths, deaths], axis=-1)
    pairs = 0.5 * float((per_cell * a_grid).sum())
    if pairs <= 0:
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    c = 0.5 * float((per_cell * n_grid).sum()) / pairs
    psi = (n_grid - c * a_grid) / pairs
    if not ascending:
        psi = psi[:, ::-1]
    return ConcordanceCells(c=c, psi=np.ascontiguousarray(psi), pairs=pairs)


def retention_at(cells: SurvivalCells, horizon: float) -> float:
    """Kaplan–Meier retention at `horizon` days (all levels together)."""
    users = cells.users.sum(axis=1)
    deaths = cells.deaths_by_time
    at_risk = np.cumsum(users[::-1])[::-1]
    keep = (cells.times <= horizon) & (at_risk > 0)
    return float(np.prod(1.0 - deaths[keep] / at_risk[keep]))


def cox_and_concordance(
    sd: SurvivalData, codes: tuple[np.ndarray, int], level_x: np.ndarray
) -> tuple[CoxFit, float, np.ndarray]:
    """The ranking's Cox fit, C of −β·x and each user's influence on C, from one count of the
    users into cells when the candidate has few values (else per user, as before).

    codes: the users' dense level codes and their number; level_x: the modelled value of each
    level (x = level_x[codes]; levels absent here weigh nothing). The (time × level) grid is
    counted once and shared by both statistics; per user only the influence is gathered back,
    with the same cell key the count used. Returns (CoxFit, C, ψ).
    """
    from .cox import cox_univariate
    from .influence import MAX_GRID_CELLS, concordance_influence

    level_codes, n_lev = codes
    k = sd.times.size
    if n_lev * k > min(MAX_GRID_CELLS, 2 * sd.n):
        x = level_x[level_codes]
        fit = cox_univariate(sd, x, codes=codes)
        # the score −β·x orders users as x does (β < 0) or in reverse; at β = 0 all tie
        ascending = (
            None if fit.beta == 0 else codes if fit.beta < 0 else (n_lev - 1 - level_codes, n_lev)
        )
        c, psi = concordance_influence(sd, -fit.beta * x, ascending)
        return fit, c, psi
    key = level_codes.astype(np.int64) * (2 * k) + sd.status_cell  # level-major cells
    cells = SurvivalCells.from_key(sd, key, n_lev, level_x)
    fit = cox_cells(cells)
    cc = concordance_cells(cells, ascending=fit.beta <= 0)
    psi_level_major = cc.psi.transpose(1, 0, 2).ravel()  # (levels, times, e), like `key`
    return fit, cc.c, psi_level_major[key]
