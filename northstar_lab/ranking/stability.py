"""Rank stability: share of resamples in which each candidate ranks first, median rank, ties with
the leader and the revenue-ρ interval (METHODS §5.2). The exact joint Poisson bootstrap below
`EXACT_BOOTSTRAP_MAX_USERS` landmark users, its influence-function approximation above.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..stats import bootstrap, influence
from .population import Influence, Population
from .score import score_gradient, score_of

EXACT_BOOTSTRAP_MAX_USERS = 20_000  # above: influence-function stability (see influence.py)
#: Threads for per-candidate array work (fits, bootstrap draws). NumPy releases the GIL in
#: bincount and cumsum, so two threads use both cores of a small box; results do not depend on
#: the number of threads (each candidate's draws use the same shared weights).
WORKER_THREADS = min(2, os.cpu_count() or 1)


INFLUENCE_DRAWS = 4000
DIFF_SE_TOP = 10  # leading candidates whose score difference to every candidate is recorded


def rank_stability(results, infl: dict[str, Influence], pop: Population, settings, n_boot: int):
    """p_first, median rank, ρ CI and ties with the leader, by the exact joint bootstrap
    (moderate n) or its influence-function approximation (large n). Returns the method used."""
    n_ret = int(pop.ret.sum())
    if n_ret <= EXACT_BOOTSTRAP_MAX_USERS:
        c_draws, rho_draws = _bootstrap_draws(results, pop, settings, n_boot)
        if pop.has_revenue:
            rho_draws = np.nan_to_num(rho_draws, nan=0.0)
        scores = score_of(c_draws, rho_draws, settings.score_weights)
        scores = np.where(np.isnan(c_draws), -np.inf, scores)
        method = f"joint Poisson bootstrap, {n_boot} resamples"
        rho_ci = [
            tuple(np.nanquantile(rho_draws[:, j], [0.025, 0.975]))
            if r.revenue_rho is not None and np.isfinite(rho_draws[:, j]).sum() > 10 else None
            for j, r in enumerate(results)
        ]  # fmt: skip
    else:
        scores, rho_ci = _influence_draws(results, infl, pop, settings)
        method = f"influence functions (first-order bootstrap), {INFLUENCE_DRAWS} draws"
    record_score_uncertainty(results, scores)
    _set_score_intervals(results, scores)
    _set_ranks_and_ties(results, scores)
    for j, r in enumerate(results):
        if rho_ci[j] is not None:
            r.revenue_rho_ci_low = float(max(rho_ci[j][0], -1.0))
            r.revenue_rho_ci_high = float(min(rho_ci[j][1], 1.0))
    return method


def _set_score_intervals(results, scores: np.ndarray) -> None:
    """Each candidate's 95% score interval from the draws (re-validation judges change by it)."""
    with warnings.catch_warnings():  # a candidate with no finite draw has no interval
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(np.where(np.isfinite(scores), scores, np.nan), [0.025, 0.975], 0)
    for j, r in enumerate(results):
        if np.isfinite(lo[j]) and np.isfinite(hi[j]):
            r.score_ci_low, r.score_ci_high = float(lo[j]), float(hi[j])


def _set_ranks_and_ties(results, scores: np.ndarray) -> None:
    """p_first, median rank and ties with the leader. Guardrails and lifetime totals are never
    a North Star, so they never count as ranked first in a draw (METHODS §5.1, §2) and are
    never "tied with the leader"; the leader is the first candidate that can be grown."""
    barred = np.array([r.is_lifetime_total or r.is_guardrail for r in results])
    scores = np.where(barred[None, :], -np.inf, scores)
    ranks = (-scores).argsort(axis=1).argsort(axis=1) + 1
    first = np.bincount(ranks.argmin(axis=1), minlength=len(results)) / scores.shape[0]
    if barred.all():
        first[:] = 0.0
    lead = int(np.argmin(barred)) if not barred.all() else None
    for j, r in enumerate(results):
        r.p_first = float(first[j])
        r.median_rank = float(np.median(ranks[:, j]))
        if lead is None or barred[j]:
            r.tied_with_leader = False
            continue
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            diff = scores[:, lead] - scores[:, j]
            r.tied_with_leader = bool(j == lead or np.nanquantile(diff, 0.025) <= 0)


def record_score_uncertainty(results, scores: np.ndarray) -> None:
    """Each candidate's `score_se`, and the SE of its score difference to each of the
    `DIFF_SE_TOP` leading candidates (`score_diff_se`), from the joint draws (n_draws, k).

    Differences are taken within a draw, so their SEs keep the candidates' correlation (two
    near-duplicates differ far less than their separate SEs suggest). Re-validation reads them
    to put an uncertainty on a change in an advantage (METHODS §5.6). Undefined draws are left
    out; four significant digits are kept.
    """
    s = np.where(np.isfinite(scores), scores, np.nan)
    se = _draw_sd(s)
    top = min(DIFF_SE_TOP, len(results))
    diff = np.column_stack([_draw_sd(s - s[:, [i]]) for i in range(top)])
    for j, r in enumerate(results):
        r.score_se = _sig4(se[j])
        r.score_diff_se = {
            results[i].key: _sig4(diff[j, i])
            for i in range(top)
            if i != j and np.isfinite(diff[j, i])
        }


def _draw_sd(x: np.ndarray) -> np.ndarray:
    """Column SDs over the finite draws (NaN where fewer than 2)."""
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    xz = np.where(ok, x, 0.0)
    mean = xz.sum(axis=0) / np.maximum(n, 1)
    ss = (np.where(ok, x - mean, 0.0) ** 2).sum(axis=0)
    return np.where(n >= 2, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)


def _sig4(x: float) -> float | None:
    return float(f"{x:.4g}") if np.isfinite(x) else None


def _bootstrap_draws(results, pop: Population, settings, n_boot: int):
    """C and ρ of every candidate in each joint Poisson(1) resample of the users."""
    by_key = {c.key: c for c in pop.candidates}
    n = pop.ret.size
    idx = {h: tuple(np.flatnonzero(m) for m in pop.masks(h)) for h in (False, True)}
    sds = {False: pop.sd, True: pop.sd_test}
    k = len(results)
    c_draws = np.full((n_boot, k), np.nan)
    rho_draws = np.full((n_boot, k), np.nan)
    chunk = max(1, min(n_boot, 4_000_000 // max(n, 1)))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        w = bootstrap.poisson_weights(n, b, settings.seed + 1 + start)
        targets = {}
        for h in (False, True):
            ridx = idx[h][1]
            if pop.has_revenue and ridx.size > 10:
                targets[h] = bootstrap.RankedOutcome(pop.outcomes.revenue[ridx], w[:, ridx])
        used = {r.held_out for r in results}
        resampled = {h: bootstrap.ResampledUsers(sds[h], w[:, idx[h][0]]) for h in used}
        rows = slice(start, start + b)
        _draw_chunk(results, by_key, idx, resampled, targets, c_draws[rows], rho_draws[rows])
    return c_draws, rho_draws


def _draw_chunk(results, by_key, idx, resampled, targets, c_out, rho_out) -> None:
    """One chunk of resamples for every candidate, candidates spread over the worker threads;
    each writes its own column of `c_out` / `rho_out` (views of the draws)."""

    def draw(j: int) -> None:
        r = results[j]
        h = r.held_out
        x = by_key[r.key].modelled  # gaps filled once, before fitting
        score = x[idx[h][0]]  # C⁺: "more ⇒ stays longer", the score's fixed direction
        c_out[:, j] = bootstrap.resampled_concordance(resampled[h], score)
        if h in targets and r.revenue_rho is not None:
            rho_out[:, j] = bootstrap.spearman_draws(x[idx[h][1]], targets[h])

    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as pool:
        list(pool.map(draw, range(len(results))))


def _influence_draws(results, infl: dict[str, Influence], pop: Population, settings):
    """Draws of all scores from N(score, ΨᵀΨ): Ψ stacks each score's per-user influence."""
    d_c, d_rho = score_gradient(settings.score_weights, pop.has_revenue)
    parts, rho_ci = [], []
    for r in results:
        f = infl[r.key]
        ret, rev = pop.index(f.held_out)
        has_rho = pop.has_revenue and f.rho is not None and r.revenue_rho is not None
        mine = [(ret, np.float32(d_c), f.c)]
        if has_rho:
            if r.revenue_rho > 0:
                mine.append((rev, np.float32(d_rho), f.rho))
            se = f.rho_se
            rho_ci.append((r.revenue_rho - 1.96 * se, r.revenue_rho + 1.96 * se))
        else:
            rho_ci.append(None)
        parts.append(mine)
    scores = np.array([r.score for r in results])
    cov = _influence_cov(parts, pop.ret.size)
    draws = influence.score_draws_from_cov(scores, cov, INFLUENCE_DRAWS, settings.seed + 1)
    return draws, rho_ci


COV_BLOCK_VALUES = 1 << 22  # float32 values of Ψ held at once (16 MB) while ΨᵀΨ is summed


def _influence_cov(parts: list, n: int) -> np.ndarray:
    """ΨᵀΨ for the scores' influence (parts[j]: (sorted user rows, weight, ψ) terms of score
    j), summed over blocks of users so that the (scores × users) matrix Ψ is never held
    whole: at 2M users and 100 scores it was 0.8 GB on top of the vectors it copies."""
    k = len(parts)
    cov = np.zeros((k, k))
    step = max(1, COV_BLOCK_VALUES // max(k, 1))
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        block = np.zeros((k, hi - lo), dtype=np.float32)
        for j, terms in enumerate(parts):
            for rows, weight, psi in terms:
                a, b = np.searchsorted(rows, (lo, hi))
                block[j, rows[a:b] - lo] += weight * psi[a:b]
        cov += (block @ block.T).astype(np.float64)
    return cov
