"""Redundancy: candidates that measure the same behaviour (|Spearman| ≥ 0.9) are grouped
(METHODS §3.7). The groups and the correlation matrix behind them come from one computation, so
the heatmap's outline can never contradict the groups.
"""

from __future__ import annotations

import numpy as np

from ..stats import influence

REDUNDANT_RHO = 0.9
REDUNDANCY_MAX_USERS = 50_000


def redundancy_rows(ret: np.ndarray, seed: int) -> np.ndarray:
    """Row numbers of the users the correlations are computed on: landmark users, or above 50k
    a fixed random 50k of them (a correlation of 0.9 is estimated to ±0.002 there, and the
    matrix is the costly part)."""
    rows = np.flatnonzero(ret)
    if rows.size > REDUNDANCY_MAX_USERS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, REDUNDANCY_MAX_USERS, False))
    return rows


def spearman_matrix(columns: list[np.ndarray], codes: list | None = None) -> np.ndarray:
    """Spearman ρ between the columns (missing values take the column mean): Pearson
    correlation of mid-ranks, exactly symmetric with 1 on the diagonal.

    codes: per column, its users' level codes and their number when already known (None
    where not): the same mid-ranks without sorting the column again."""
    n = columns[0].size if columns[0] is not None else codes[0][0].size
    ranks = np.empty((len(columns), n))  # a row per column: every pass below is contiguous
    for j, x in enumerate(columns):
        known = codes[j] if codes is not None else None
        if known is not None:
            ranks[j] = influence.MidRanks(None, known).a
        else:
            ranks[j] = influence.MidRanks(np.where(np.isnan(x), np.nanmean(x), x)).a
    ranks -= ranks.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", ranks, ranks))
    norm[norm == 0] = 1.0
    rho = (ranks @ ranks.T) / np.outer(norm, norm)
    rho = (rho + rho.T) / 2
    np.fill_diagonal(rho, 1.0)
    return rho


def _components(linked: np.ndarray) -> list[list[int]]:
    """Connected components (of two or more) of a boolean adjacency matrix."""
    parent = list(range(linked.shape[0]))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked, 1)), strict=True):
        parent[find(i)] = find(j)
    comps: dict[int, list[int]] = {}
    for i in range(linked.shape[0]):
        comps.setdefault(find(i), []).append(i)
    return [m for m in comps.values() if len(m) > 1]


def redundancy_groups(cands, results, ret, seed: int) -> list[list[str]]:
    """Groups of candidates with |Spearman| ≥ 0.9 among landmark users (connected components),
    strongest first; each member gets its group number and a warning naming its twins."""
    if len(cands) < 2:
        return []
    by_key = {c.key: c for c in cands}
    rows = redundancy_rows(ret, seed)
    members = [by_key[r.key] for r in results]
    rho = spearman_matrix(
        [None if not c.has_gaps else c.raw[rows] for c in members],
        [None if c.has_gaps else c.codes_for(rows) for c in members],
    )
    linked = np.abs(np.nan_to_num(rho)) >= REDUNDANT_RHO
    groups = [sorted(m, key=lambda i: -results[i].score) for m in _components(linked)]
    groups.sort(key=lambda m: -results[m[0]].score)
    for g_id, members in enumerate(groups, start=1):
        names = [results[i].name for i in members]
        for i in members:
            results[i].redundancy_group = g_id
            others = [n for n in names if n != results[i].name]
            r_max = max(abs(rho[i, j]) for j in members if j != i)
            results[i].warnings.append(
                f"Near-duplicate (|ρ| up to {r_max:.2f}) of: {', '.join(others[:3])}"
                + (" …" if len(others) > 3 else "")
            )
    return [[results[i].key for i in m] for m in groups]
