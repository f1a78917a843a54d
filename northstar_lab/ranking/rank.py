"""Rank candidate metrics by how well early behaviour predicts retention and revenue (METHODS §3–5).

Per candidate: univariate Cox (HR per SD with CI, Wald p), Harrell's C of the predicted survival,
Spearman ρ with the revenue outcome, a threshold chosen on training users and judged on held-out
users; then BH q-values, the composite score (`score.py`), redundancy groups, flags
(`flags.py`) and rank stability (`stability.py`). Ranking uses effect sizes (C, ρ), never
p-values, which grow with n.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from ..candidates import Candidate, at_least_candidate
from ..errors import InputError
from ..outcomes import Outcomes
from ..results import CandidateResult, RankingResult
from ..stats import influence
from ..stats.cells import cox_and_concordance
from .flags import (
    MIN_EVENTS,
    add_candidate_warnings,
    check_proportional_hazards,
    flag_lifetime_totals,
    order_results,
)
from .population import Influence, Population, split_users
from .redundancy import redundancy_groups
from .score import NOISE_Q, bh_qvalues, score_of
from .stability import rank_stability
from .thresholds import choose_threshold, held_out_figures

FIT_THREADS = min(2, os.cpu_count() or 1)


Progress = Callable[[str, float], None]


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
    train: np.ndarray | None = None,
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
    pop = _population(outcomes, settings, signup_sec, train)
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
    groups = redundancy_groups(all_cands, results, pop.ret, settings.seed)
    if observed_days is not None:
        flag_lifetime_totals(all_cands, results, pop.ret, observed_days)
    order_results(results)
    timings["redundancy"] = time.perf_counter() - t1

    n_boot = settings.n_bootstrap if bootstrap_resamples is None else bootstrap_resamples
    n_boot = 0 if quick else n_boot
    ph_check = ph_check and not quick
    t1 = time.perf_counter()
    stability = None
    if n_boot > 0:
        say("Measuring rank stability", 0.6)
        stability = rank_stability(results, infl, pop, settings, n_boot)
    timings["stability"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    if ph_check:
        say("Checking proportional hazards for the leaders", 0.9)
        check_proportional_hazards(all_cands, results, pop)
    timings["ph_check"] = time.perf_counter() - t1
    for r in results:
        add_candidate_warnings(r, pop)
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


def _population(outcomes: Outcomes, settings, signup_sec, train) -> Population:
    if outcomes.n_churned == 0:
        raise InputError(
            f"No churn events among the {outcomes.n_users:,} users in the retention analysis "
            f"(churn source: {outcomes.churn_source}). Survival analysis needs users who left: "
            "check the churn column or inactivity days, or use a later as-of date."
        )
    n = outcomes.retention_mask.size
    if train is None:
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
    codes = cand.codes_for(ret)
    fit, c_index, psi_c = cox_and_concordance(sd, x, codes)
    sd_x = float(np.std(x, ddof=1))
    z = stats.norm.ppf(0.975)
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
        rho, psi_rho = influence.spearman_influence(xr, target, cand.codes_for(rev))
        res.revenue_rho = None if np.isnan(rho) else rho
        res.n_revenue = int(rev.size)
    infl = Influence(c=psi_c, rho=psi_rho, held_out=held_out)
    if not held_out and choose:
        k = choose_threshold(cand, pop, settings)
        res.threshold = k
        if k is not None:
            res.threshold_figures = held_out_figures(cand, pop, k)
        return res, k, infl
    return res, None, infl


def _binary_signature(values: np.ndarray) -> int:
    """Identical 0/1 candidates (e.g. 'x ≥ 1×' and 'x on ≥ 1 days') are offered once."""
    return hash(np.packbits(values.astype(bool)).tobytes())


def _rhos(results: list[CandidateResult], has_revenue: bool) -> np.ndarray:
    """ρ per candidate for the score. With a revenue outcome, a candidate whose ρ cannot be
    computed (no spread among revenue users) scores 0 on revenue, so that every candidate of
    one ranking is scored on the same scale; without one, all are NaN (retention only)."""
    if not has_revenue:
        return np.full(len(results), np.nan)
    return np.array([0.0 if r.revenue_rho is None else r.revenue_rho for r in results])


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
