"""Rank candidate metrics by how well early behaviour predicts retention and revenue.

Per candidate (METHODS §3–5): univariate Cox (HR per SD with CI, Wald p), Harrell's C of the
predicted survival, Spearman ρ with the revenue outcome, a threshold chosen on training users and
judged on held-out users, BH q-values, a composite score, and a joint bootstrap for rank
stability. Ranking uses effect sizes (C, ρ), never p-values, which grow with n.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from . import bootstrap, influence, survival, thresholds
from .candidates import Candidate, at_least_candidate
from .errors import InputError
from .outcomes import Outcomes
from .results import CandidateResult, RankingResult

MIN_EVENTS = 50
NOISE_Q = 0.05
REDUNDANT_RHO = 0.9
TENURE_RHO = 0.7
PH_TOP = 5
EXACT_BOOTSTRAP_MAX_USERS = 20_000  # above: influence-function stability (see influence.py)
INFLUENCE_DRAWS = 4000
FIT_THREADS = min(2, os.cpu_count() or 1)
REDUNDANCY_MAX_USERS = 50_000

Progress = Callable[[str, float], None]


@dataclass
class Population:
    """The analysis populations, prepared once: every candidate reuses these sorts and splits.

    Masks are over all rows of the per-user frame; `ret` = landmark users, `rev` = users with
    the revenue outcome, `train` = the threshold-training half (a random or cohort split).
    """

    outcomes: Outcomes
    train: np.ndarray
    horizon: float
    sd: survival.SurvivalData = field(init=False)
    sd_train: survival.SurvivalData = field(init=False)
    sd_test: survival.SurvivalData = field(init=False)
    revenue_all: influence.SpearmanTarget | None = field(init=False, default=None)
    revenue_test: influence.SpearmanTarget | None = field(init=False, default=None)
    candidates: list = field(init=False, default_factory=list)  # set during a ranking

    def __post_init__(self) -> None:
        oc = self.outcomes
        self.sd = survival.SurvivalData.from_arrays(oc.duration, oc.event)
        self.sd_train = self._sd(self.ret & self.train)
        self.sd_test = self._sd(self.ret & ~self.train)
        if self.has_revenue:
            self.revenue_all = influence.SpearmanTarget(oc.revenue[self.rev])
            if (self.rev & ~self.train).sum() >= 10:
                self.revenue_test = influence.SpearmanTarget(oc.revenue[self.rev & ~self.train])

    def _sd(self, mask: np.ndarray) -> survival.SurvivalData:
        oc = self.outcomes
        return survival.SurvivalData.from_arrays(
            oc.duration_since_signup[mask] - oc.window_days, oc.event_all[mask]
        )

    @property
    def ret(self) -> np.ndarray:
        return self.outcomes.retention_mask

    @property
    def rev(self) -> np.ndarray:
        return self.outcomes.revenue_mask

    @property
    def has_revenue(self) -> bool:
        return self.outcomes.revenue is not None and self.rev.sum() >= 10

    @cached_property
    def _indices(self) -> dict:
        return {
            "all": (np.flatnonzero(self.ret), np.flatnonzero(self.rev)),
            "held_out": (
                np.flatnonzero(self.ret & ~self.train),
                np.flatnonzero(self.rev & ~self.train),
            ),
            "train": np.flatnonzero(self.ret & self.train),
        }

    def index(self, held_out: bool) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers (retention users, revenue users), cheaper to gather with than masks."""
        return self._indices["held_out" if held_out else "all"]

    def masks(self, held_out: bool) -> tuple[np.ndarray, np.ndarray]:
        """(retention mask, revenue mask) over frame rows for all users or held-out users."""
        if not held_out:
            return self.ret, self.rev
        return self.ret & ~self.train, self.rev & ~self.train


@dataclass
class Influence:
    """A candidate's per-user influence on its C (retention users) and ρ (revenue users)."""

    c: np.ndarray
    rho: np.ndarray | None
    held_out: bool


def split_users(n: int, seed: int, signup_sec=None, mode: str = "random") -> np.ndarray:
    """Training mask: a seeded random half, or the earlier half of signups ('cohort')."""
    if mode == "cohort" and signup_sec is not None:
        return np.asarray(signup_sec) < np.nanmedian(signup_sec)
    return np.random.default_rng(seed).random(n) < 0.5


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


def rank_candidates(*args, **kwargs) -> RankingResult:
    """The leaderboard (see `_rank_candidates`), with BLAS limited to one thread.

    Our matrix products are small and many; multi-threaded BLAS on a busy 2-core machine
    spends more time waking threads than computing (measured in bench/bench_rank.py).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _rank_candidates(*args, **kwargs)


def _rank_candidates(
    candidates: list[Candidate],
    outcomes: Outcomes,
    *,
    settings,
    signup_sec: np.ndarray | None = None,
    observed_days: np.ndarray | None = None,
    data_info: dict | None = None,
    progress: Progress | None = None,
    bootstrap_resamples: int | None = None,
    ph_check: bool = True,
    quick: bool = False,
) -> RankingResult:
    """The leaderboard for these candidates and outcomes (see module docstring).

    observed_days: each user's observed tenure, to flag users-table columns that grow with it.
    quick: effect sizes only (no thresholds, bootstrap or PH checks), for sensitivity runs.
    """
    say = progress or (lambda _m, _f: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pop = _population(outcomes, settings, signup_sec)
    warnings = _population_warnings(pop)
    usable, excluded_cands = _usable(candidates, pop.ret)
    if not usable:
        reasons = "; ".join(f"{c['name']}: {c['reason']}" for c in excluded_cands[:5])
        raise InputError(f"No candidate metric can be ranked: {reasons}.")

    results: list[CandidateResult] = []
    all_cands: list[Candidate] = []
    infl: dict[str, Influence] = {}
    seen_binaries: set[int] = set()
    held_out_rows = pop.index(held_out=True)[0]

    def measure_with_threshold(cand: Candidate):
        """A candidate and, when a threshold was chosen, its '≥ k' version on held-out users."""
        res, k, f = _measure(cand, pop, settings, choose=not quick)
        if k is None:
            return res, f, None
        binary = at_least_candidate(cand, k, settings.window_days)
        values = binary.raw.take(held_out_rows)
        if values.min() == values.max():
            return res, f, None
        bres, _, bf = _measure(binary, pop, settings, held_out=True, threshold=k)
        bres.threshold_figures = res.threshold_figures
        return res, f, (binary, bres, bf)

    # NumPy releases the GIL in the array work, so two threads use both cores of a small box.
    with ThreadPoolExecutor(max_workers=FIT_THREADS) as pool:
        measured = pool.map(measure_with_threshold, usable)
        for i, (cand, (res, f, extra)) in enumerate(zip(usable, measured, strict=True)):
            say(f"Fitted {cand.name}", (i + 1) / max(len(usable), 1) * 0.5)
            results.append(res)
            all_cands.append(cand)
            infl[cand.key] = f
            if extra is None:
                continue
            binary, bres, bf = extra
            signature = _binary_signature(binary.raw)
            if signature in seen_binaries:  # e.g. 'x ≥ 1×' and 'x on ≥ 1 days'
                continue
            seen_binaries.add(signature)
            results.append(bres)
            all_cands.append(binary)
            infl[binary.key] = bf
    pop.candidates = all_cands
    timings["fit"] = time.perf_counter() - t0

    q = bh_qvalues(np.array([r.p_value for r in results]))
    for r, qi in zip(results, q, strict=True):
        r.q_value = float(qi)
        r.noise_level = bool(not qi < NOISE_Q)
    scores = score_of(
        [r.c_index for r in results], _rhos(results, pop.has_revenue), settings.score_weights
    )
    for r, s in zip(results, scores, strict=True):
        r.score = float(s)

    say("Checking redundancy and tenure traps", 0.55)
    t1 = time.perf_counter()
    groups = _redundancy(all_cands, results, pop.ret, settings.seed)
    if observed_days is not None:
        _flag_tenure_traps(all_cands, results, pop.ret, observed_days)
    _order(results)
    timings["redundancy"] = time.perf_counter() - t1

    n_boot = settings.n_bootstrap if bootstrap_resamples is None else bootstrap_resamples
    n_boot = 0 if quick else n_boot
    ph_check = ph_check and not quick
    t1 = time.perf_counter()
    stability = None
    if n_boot > 0:
        say("Measuring rank stability", 0.6)
        stability = _stability(results, infl, pop, settings, n_boot)
    timings["stability"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    if ph_check:
        say("Checking proportional hazards for the leaders", 0.9)
        _ph_checks(all_cands, results, pop)
    timings["ph_check"] = time.perf_counter() - t1
    for r in results:
        _candidate_warnings(r, pop)
    timings["total"] = time.perf_counter() - t0
    info = dict(data_info or {})
    info["stability_method"] = stability
    return RankingResult(
        n_users=outcomes.n_users,
        n_churned=outcomes.n_churned,
        excluded=dict(outcomes.excluded),
        settings=settings.to_dict(),
        data=info,
        candidates=results,
        excluded_candidates=excluded_cands,
        redundancy_groups=groups,
        warnings=warnings,
        notes=_method_notes(settings, outcomes),
        timings=timings,
    )


def _population(outcomes: Outcomes, settings, signup_sec) -> Population:
    if outcomes.n_churned == 0:
        raise InputError(
            f"No churn events among the {outcomes.n_users:,} users in the retention analysis "
            f"(churn source: {outcomes.churn_source}). Survival analysis needs users who left: "
            "check the churn column or inactivity days, or use a later as-of date."
        )
    n = outcomes.retention_mask.size
    train = split_users(n, settings.seed, signup_sec, settings.threshold_split)
    return Population(outcomes, train, float(settings.horizon_days))


def _population_warnings(pop: Population) -> list[str]:
    out = []
    e = pop.outcomes.n_churned
    if e < MIN_EVENTS:
        out.append(
            f"Only {e} churn events: fewer than {MIN_EVENTS}, so every estimate is fragile. "
            "Treat the ranking as a hypothesis and gather more data."
        )
    return out


def _usable(cands: list[Candidate], ret: np.ndarray) -> tuple[list[Candidate], list[dict]]:
    usable, excluded = [], []
    for c in cands:
        x = c.modelled[ret]
        if np.isnan(x).any():
            x = x[~np.isnan(x)]
        if x.size == 0 or np.ptp(x) == 0:
            value = f"{x[0]:g}" if x.size else "missing"
            excluded.append(
                {"key": c.key, "name": c.name, "reason": f"the same value ({value}) for every user"}
            )
            continue
        usable.append(c)
    return usable, excluded


def _measure(cand, pop: Population, settings, held_out=False, threshold=None, choose=True):
    """Cox, C, ρ (with influence vectors) and the threshold for one candidate.

    held_out: measure on held-out users only (for '≥ k' candidates, whose k was chosen on
    the training users).
    """
    ret, rev = pop.index(held_out)
    sd = pop.sd_test if held_out else pop.sd
    x_all = cand.modelled
    x = x_all.take(ret)
    missing = np.isnan(x)
    if missing.any():  # users-table columns may have gaps: filled with the mean, and said so
        x = np.where(missing, np.nanmean(x), x)
    codes = _subset_codes(cand, ret)
    fit = survival.cox_univariate(sd, x, codes=codes)
    sd_x = float(np.std(x, ddof=1))
    z = stats.norm.ppf(0.975)
    ascending = codes if fit.beta <= 0 else (codes[1] - 1 - codes[0], codes[1])
    c_index, psi_c = influence.concordance_influence(sd, -fit.beta * x, ascending)
    res = CandidateResult(
        key=cand.key,
        name=cand.name,
        kind=cand.kind,
        event=cand.event,
        column=cand.column,
        transform=cand.transform,
        hazard_ratio=float(np.exp(fit.beta * sd_x)),
        hr_ci_low=float(np.exp((fit.beta - z * fit.se) * sd_x)),
        hr_ci_high=float(np.exp((fit.beta + z * fit.se) * sd_x)),
        coef_per_unit=float(fit.beta),
        coef_se=float(fit.se),
        p_value=float(fit.p),
        c_index=c_index if fit.beta != 0 else 0.5,
        direction="more is better" if fit.beta < 0 else "more is worse",
        n=int(ret.size),
        n_events=int(sd.event.sum()),
        sd=sd_x,
        share_nonzero=float(np.mean(cand.raw.take(ret) > 0)),
        mean_raw=float(np.nanmean(cand.raw.take(ret))),
        window_verifiable=cand.window_verifiable,
        evaluated_on="held-out users" if held_out else "all users",
        threshold=threshold,
    )
    if missing.any():
        res.warnings.append(f"{int(missing.sum()):,} users lack this value; the mean was used.")
    if not fit.converged:
        res.warnings.append(
            "The Cox model did not converge (near-perfect separation): read retention at the "
            "horizon and ΔRMST instead of the hazard ratio."
        )
    psi_rho = None
    target = pop.revenue_test if held_out else pop.revenue_all
    xr = x_all.take(rev) if target is not None else None
    if xr is not None and np.isnan(xr).any():
        xr = np.where(np.isnan(xr), np.nanmean(xr), xr)
    if xr is not None and xr.size and xr.min() < xr.max():
        rho, psi_rho = influence.spearman_influence(xr, target, _subset_codes(cand, rev))
        res.revenue_rho = None if np.isnan(rho) else rho
        res.n_revenue = int(rev.size)
    infl = Influence(c=psi_c, rho=psi_rho, held_out=held_out)
    if not held_out and choose:
        k = _choose_threshold(cand, pop, settings)
        res.threshold = k
        if k is not None:
            res.threshold_figures = _held_out_figures(cand, pop, k)
        return res, k, infl
    return res, None, infl


def _subset_codes(cand: Candidate, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """The candidate's cached codes for these rows (indices or a mask). Levels absent from the
    subset stay as empty levels: grid methods give them zero weight, so no re-densifying."""
    codes, n_lev = cand.levels
    return (codes.take(rows) if rows.dtype != bool else codes[rows]), n_lev


def _binary_signature(values: np.ndarray) -> int:
    """Identical 0/1 candidates (e.g. 'x ≥ 1×' and 'x on ≥ 1 days') are offered once."""
    return hash(np.packbits(values.astype(bool)).tobytes())


def _choose_threshold(cand: Candidate, pop: Population, settings) -> float | None:
    """k on training users only: knee of retention-at-horizon among users at/above k."""
    fixed = dict(settings.fixed_thresholds)
    if cand.key in fixed:
        return fixed[cand.key]
    tr = pop._indices["train"]
    if pop.sd_train.n < 20 or cand.kind == "at_least":
        return None
    raw = cand.raw.take(tr)
    if np.isnan(raw).any() or np.ptp(raw) == 0 or pop.sd_train.event.sum() == 0:
        return None
    direction = -survival.cox_direction(pop.sd_train, cand.modelled.take(tr))
    if direction == 0:
        return None
    ks = thresholds.threshold_levels(raw)
    ks = ks[ks > ks.min()]  # "at least the minimum" splits nobody
    if ks.size == 0:
        return None
    curve = thresholds.retention_by_threshold(raw, None, None, pop.horizon, ks, sd=pop.sd_train)
    return thresholds.knee_threshold(curve, direction)


def _held_out_figures(cand: Candidate, pop: Population, k: float) -> dict | None:
    ret, rev = pop.index(held_out=True)
    figs = thresholds.threshold_figures(
        cand.raw.take(ret),
        pop.sd_test,
        k,
        pop.horizon,
        revenue_raw=cand.raw.take(rev) if pop.has_revenue else None,
        revenue=pop.outcomes.revenue.take(rev) if pop.has_revenue else None,
    )
    return figs.to_dict() if figs else None


def _rhos(results: list[CandidateResult], has_revenue: bool) -> np.ndarray:
    """ρ per candidate for the score. With a revenue outcome, a candidate whose ρ cannot be
    computed (no spread among revenue users) scores 0 on revenue, so that every candidate of
    one ranking is scored on the same scale; without one, all are NaN (retention only)."""
    if not has_revenue:
        return np.full(len(results), np.nan)
    return np.array([0.0 if r.revenue_rho is None else r.revenue_rho for r in results])


def _order(results: list[CandidateResult]) -> None:
    """Sort by score; lifetime totals in disguise go last whatever their score (METHODS §2)."""
    results.sort(key=lambda r: (r.tenure_rho is not None and abs(r.tenure_rho) >= TENURE_RHO,
                                -np.nan_to_num(r.score, nan=-np.inf)))  # fmt: skip
    for i, r in enumerate(results, start=1):
        r.rank = i


def _redundancy(cands, results, ret, seed: int) -> list[list[str]]:
    """Groups of candidates with |Spearman| ≥ 0.9 among retention users (connected components).

    Above 50k users the correlations are computed on a fixed random 50k-user subsample: a
    correlation of 0.9 is estimated to ±0.002 there, and the matrix is the costly part.
    """
    if len(cands) < 2:
        return []
    by_key = {c.key: c for c in cands}
    keys = [r.key for r in results]
    rows = np.flatnonzero(ret)
    if rows.size > REDUNDANCY_MAX_USERS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, REDUNDANCY_MAX_USERS, False))
    ranks = np.empty((rows.size, len(keys)), dtype=np.float32)
    for j, k in enumerate(keys):
        x = by_key[k].raw[rows]
        ranks[:, j] = influence.MidRanks(np.where(np.isnan(x), np.nanmean(x), x)).a
    ranks -= ranks.mean(axis=0)
    norm = np.sqrt((ranks * ranks).sum(axis=0))
    norm[norm == 0] = 1.0
    rho = (ranks.T @ ranks) / np.outer(norm, norm)
    linked = np.abs(np.nan_to_num(rho)) >= REDUNDANT_RHO
    parent = list(range(len(keys)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(linked, 1)), strict=True):
        parent[find(i)] = find(j)
    comps: dict[int, list[int]] = {}
    for i in range(len(keys)):
        comps.setdefault(find(i), []).append(i)
    groups = [sorted(m, key=lambda i: -results[i].score) for m in comps.values() if len(m) > 1]
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


def _flag_tenure_traps(cands, results, ret, observed_days) -> None:
    """A users-table column that grows with tenure is a lifetime total in disguise (§2).

    A '≥ k' version inherits the verdict of the column it thresholds: cutting a lifetime total
    at k does not make it any less a lifetime total.
    """
    by_key = {c.key: c for c in cands}
    obs = np.asarray(observed_days, float)[ret]
    for r in results:
        cand = by_key[r.key]
        if cand.window_verifiable:
            continue
        source = by_key.get(cand.threshold_of, cand)
        x = source.raw[ret]
        ok = ~np.isnan(x)
        rho = float(stats.spearmanr(x[ok], obs[ok])[0]) if ok.sum() > 2 else float("nan")
        r.tenure_rho = rho if np.isfinite(rho) else None
        if r.tenure_rho is not None and abs(rho) >= TENURE_RHO:
            r.warnings.insert(
                0,
                f"Lifetime total in disguise: {source.column or source.name} grows with how long "
                f"users stayed (Spearman {rho:.2f} with observed tenure), so it predicts retention "
                "by construction. Ranked last; use a version counted in the first days instead.",
            )


def _stability(results, infl: dict[str, Influence], pop: Population, settings, n_boot: int):
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
    trap = np.array([_is_trap(r) for r in results])
    scores[:, trap] = -np.inf
    ranks = (-scores).argsort(axis=1).argsort(axis=1) + 1
    first = np.bincount(ranks.argmin(axis=1), minlength=len(results)) / scores.shape[0]
    lead_diff = scores[:, [0]] - scores
    for j, r in enumerate(results):
        r.p_first = float(first[j])
        r.median_rank = float(np.median(ranks[:, j]))
        with np.errstate(invalid="ignore"):
            r.tied_with_leader = bool(j == 0 or np.nanquantile(lead_diff[:, j], 0.025) <= 0)
        if rho_ci[j] is not None:
            r.revenue_rho_ci_low = float(max(rho_ci[j][0], -1.0))
            r.revenue_rho_ci_high = float(min(rho_ci[j][1], 1.0))
    return method


def _is_trap(r: CandidateResult) -> bool:
    return r.tenure_rho is not None and abs(r.tenure_rho) >= TENURE_RHO


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
        w_ret = {h: w[:, idx[h][0]] for h in (False, True)}
        for j, r in enumerate(results):
            h = r.evaluated_on == "held-out users"
            x = by_key[r.key].modelled
            x = np.where(np.isnan(x), np.nanmean(x), x)
            sign = -np.sign(r.coef_per_unit) or 1.0
            score = sign * x[idx[h][0]]
            c_draws[start : start + b, j] = bootstrap.concordance_draws(sds[h], score, w_ret[h])
            if h in targets and r.revenue_rho is not None:
                rho_draws[start : start + b, j] = bootstrap.spearman_draws(x[idx[h][1]], targets[h])
    return c_draws, rho_draws


def _influence_draws(results, infl: dict[str, Influence], pop: Population, settings):
    """Draws of all scores from N(score, ΨᵀΨ): Ψ stacks each score's per-user influence."""
    w_ret, w_rev = settings.score_weights
    total = w_ret + w_rev
    n = pop.ret.size
    psi = np.zeros((len(results), n), dtype=np.float32)  # one contiguous row per score
    rho_ci = []
    for j, r in enumerate(results):
        f = infl[r.key]
        ret, rev = pop.index(f.held_out)
        has_rho = pop.has_revenue and f.rho is not None and r.revenue_rho is not None
        scale_c = 2 * w_ret / total if pop.has_revenue else 2.0
        psi[j, ret] += scale_c * f.c
        if has_rho:
            if r.revenue_rho > 0:
                psi[j, rev] += (w_rev / total) * f.rho
            se = float(np.sqrt(f.rho @ f.rho))
            rho_ci.append((r.revenue_rho - 1.96 * se, r.revenue_rho + 1.96 * se))
        else:
            rho_ci.append(None)
    scores = np.array([r.score for r in results])
    draws = influence.score_draws(scores, psi.T, INFLUENCE_DRAWS, settings.seed + 1)
    return draws, rho_ci


def _ph_checks(cands, results, pop: Population) -> None:
    """Proportional-hazards test (Grambsch–Therneau, rank time) for the leading candidates,
    on all their users (`survival.ph_test` is vectorised; lifelines' needs a subsample)."""
    by_key = {c.key: c for c in cands}
    for r in results[:PH_TOP]:
        held_out = r.evaluated_on == "held-out users"
        ret, _ = pop.masks(held_out)
        x = by_key[r.key].modelled[ret]
        x = np.where(np.isnan(x), np.nanmean(x), x)
        sd = pop.sd_test if held_out else pop.sd
        fit = survival.cox_univariate(sd, x, codes=_subset_codes(by_key[r.key], ret))
        r.ph_test_p = survival.ph_test(sd, x, fit)
        if r.ph_test_p is not None and r.ph_test_p < 0.01:
            r.warnings.append(
                "Hazard ratio drifts over follow-up (proportional-hazards test p "
                f"{r.ph_test_p:.3g}): read retention at day {int(pop.horizon)} and ΔRMST "
                "instead of the hazard ratio."
            )


def _candidate_warnings(r: CandidateResult, pop: Population) -> None:
    if r.noise_level:
        r.warnings.insert(0, f"Not distinguishable from noise (q {r.q_value:.2g}).")
    if not r.window_verifiable:
        r.warnings.append(
            "Window not verifiable: a users-table column; North Star Lab cannot check that it "
            "was measured before the outcome."
        )
    if r.n_events < MIN_EVENTS:
        r.warnings.append(f"Only {r.n_events} churn events behind this estimate (< {MIN_EVENTS}).")


def _method_notes(settings, outcomes: Outcomes) -> list[str]:
    w, h = settings.window_days, settings.horizon_days
    notes = [
        f"Candidates count behaviour in each user's first {w} days only; retention is "
        f"followed from day {w} (landmark). Churn: {outcomes.churn_source}.",
        "Event counts are modelled as log(1 + count); hazard ratios are per standard deviation "
        "of the modelled variable.",
        f"Thresholds are chosen on a random half of users and every threshold figure is "
        f"measured on the other half; retention is read {h} days after day {w}.",
        "Association, not causation: a metric that predicts retention is a candidate lever, "
        "to be tested by experiment.",
    ]
    if outcomes.revenue_source:
        notes.append(f"Revenue: {outcomes.revenue_source}.")
    else:
        notes.append("No revenue outcome: the score is the retention strength alone.")
    return notes
