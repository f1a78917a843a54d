"""Rank candidate metrics by how well early behaviour predicts retention and revenue.

Per candidate (METHODS §3–5): univariate Cox (HR per SD with CI, Wald p), Harrell's C of the
predicted survival, Spearman ρ with the revenue outcome, a threshold chosen on training users and
judged on held-out users, BH q-values, a composite score, and a joint bootstrap for rank
stability. Ranking uses effect sizes (C, ρ), never p-values, which grow with n.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import bootstrap, survival, thresholds
from .candidates import Candidate, at_least_candidate
from .errors import InputError
from .outcomes import Outcomes
from .results import CandidateResult, RankingResult

MIN_EVENTS = 50
NOISE_Q = 0.05
REDUNDANT_RHO = 0.9
TENURE_RHO = 0.7
PH_TOP = 3
PH_MAX_N = 20_000

Progress = Callable[[str, float], None]


@dataclass
class Population:
    """The two analysis populations and the train/held-out split over all users of the frame."""

    outcomes: Outcomes
    train: np.ndarray  # over all frame rows
    sd: survival.SurvivalData
    horizon: float

    @property
    def ret(self) -> np.ndarray:
        return self.outcomes.retention_mask

    @property
    def rev(self) -> np.ndarray:
        return self.outcomes.revenue_mask

    @property
    def has_revenue(self) -> bool:
        return self.outcomes.revenue is not None and self.rev.sum() >= 10


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


def rank_candidates(
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
    held_out: dict[str, bool] = {}
    seen_binaries: set[int] = set()
    for i, cand in enumerate(usable):
        say(f"Fitting {cand.name}", i / max(len(usable), 1) * 0.5)
        res, k = _measure(cand, pop, settings, choose_threshold=not quick)
        results.append(res)
        all_cands.append(cand)
        held_out[cand.key] = False
        if k is not None:
            binary = at_least_candidate(cand, k, settings.window_days)
            test = ~pop.train
            fresh = _binary_signature(binary.raw) not in seen_binaries
            seen_binaries.add(_binary_signature(binary.raw))
            if fresh and np.ptp(binary.raw[pop.ret & test]) > 0:
                bres, _ = _measure(binary, pop, settings, subset=test, threshold=k)
                bres.threshold_figures = res.threshold_figures
                results.append(bres)
                all_cands.append(binary)
                held_out[binary.key] = True
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
    groups = _redundancy(all_cands, results, pop.ret)
    if observed_days is not None:
        _flag_tenure_traps(all_cands, results, pop.ret, observed_days)
    _order(results)

    n_boot = settings.n_bootstrap if bootstrap_resamples is None else bootstrap_resamples
    n_boot = 0 if quick else n_boot
    ph_check = ph_check and not quick
    t1 = time.perf_counter()
    if n_boot > 0:
        say(f"Bootstrapping rank stability ({n_boot} resamples)", 0.6)
        _stability(all_cands, results, pop, held_out, settings, n_boot)
    timings["bootstrap"] = time.perf_counter() - t1

    if ph_check:
        say("Checking proportional hazards for the leaders", 0.9)
        _ph_checks(all_cands, results, pop, held_out)
    for r in results:
        _candidate_warnings(r, pop)
    timings["total"] = time.perf_counter() - t0
    return RankingResult(
        n_users=outcomes.n_users,
        n_churned=outcomes.n_churned,
        excluded=dict(outcomes.excluded),
        settings=settings.to_dict(),
        data=dict(data_info or {}),
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
    sd = survival.SurvivalData.from_arrays(outcomes.duration, outcomes.event)
    return Population(outcomes, train, sd, float(settings.horizon_days))


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


def _measure(cand, pop: Population, settings, subset=None, threshold=None, choose_threshold=True):
    """Cox, C, ρ and threshold for one candidate; `subset` restricts to held-out users."""
    ret = pop.ret if subset is None else pop.ret & subset
    rev = pop.rev if subset is None else pop.rev & subset
    if subset is None:
        sd = pop.sd
    else:
        sd = survival.SurvivalData.from_arrays(
            pop.outcomes.duration_since_signup[ret] - pop.outcomes.window_days,
            pop.outcomes.event_all[ret],
        )
    raw = cand.raw
    x_all = cand.modelled
    x = x_all[ret]
    missing = np.isnan(x)
    if missing.any():  # users-table columns may have gaps; they are left out of this candidate
        x = np.where(missing, np.nanmean(x), x)
    fit = survival.cox_univariate(sd, x)
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
        c_index=float(survival.concordance(sd, -fit.beta * x)) if fit.beta != 0 else 0.5,
        direction="more is better" if fit.beta < 0 else "more is worse",
        n=int(ret.sum()),
        n_events=int(sd.event.sum()),
        sd=sd_x,
        share_nonzero=float(np.mean(raw[ret] > 0)),
        mean_raw=float(np.nanmean(raw[ret])),
        window_verifiable=cand.window_verifiable,
        evaluated_on="held-out users" if subset is not None else "all users",
        threshold=threshold,
    )
    if not fit.converged:
        res.warnings.append(
            "The Cox model did not converge (near-perfect separation): read retention at the "
            "horizon and ΔRMST instead of the hazard ratio."
        )
    if pop.has_revenue and rev.sum() >= 10 and np.ptp(x_all[rev]) > 0:
        y = pop.outcomes.revenue[rev]
        res.revenue_rho = float(stats.spearmanr(x_all[rev], y)[0])
        res.n_revenue = int(rev.sum())
    if subset is None and choose_threshold:
        k = _choose_threshold(cand, pop, settings)
        res.threshold = k
        if k is not None:
            res.threshold_figures = _held_out_figures(cand, pop, k)
        return res, k
    return res, None


def _binary_signature(values: np.ndarray) -> int:
    """Identical 0/1 candidates (e.g. 'x ≥ 1×' and 'x on ≥ 1 days') are offered once."""
    return hash(np.packbits(values.astype(bool)).tobytes())


def _choose_threshold(cand: Candidate, pop: Population, settings) -> float | None:
    """k on training users only: knee of retention-at-horizon among users at/above k."""
    fixed = dict(settings.fixed_thresholds)
    if cand.key in fixed:
        return fixed[cand.key]
    tr = pop.ret & pop.train
    if tr.sum() < 20 or cand.kind == "at_least":
        return None
    raw = cand.raw[tr]
    if np.isnan(raw).any() or np.ptp(raw) == 0:
        return None
    d = pop.outcomes.duration_since_signup[tr] - pop.outcomes.window_days
    e = pop.outcomes.event_all[tr]
    sd_tr = survival.SurvivalData.from_arrays(d, e)
    try:
        beta = survival.cox_univariate(sd_tr, cand.modelled[tr]).beta
    except ValueError:
        return None
    ks = thresholds.threshold_levels(raw)
    ks = ks[ks > ks.min()]  # "at least the minimum" splits nobody
    if ks.size == 0:
        return None
    curve = thresholds.retention_by_threshold(raw, d, e, pop.horizon, ks)
    return thresholds.knee_threshold(curve, 1.0 if beta < 0 else -1.0)


def _held_out_figures(cand: Candidate, pop: Population, k: float) -> dict | None:
    test = ~pop.train
    ret = pop.ret & test
    d = pop.outcomes.duration_since_signup[ret] - pop.outcomes.window_days
    e = pop.outcomes.event_all[ret]
    rev = pop.rev & test
    figs = thresholds.threshold_figures(
        cand.raw[ret],
        d,
        e,
        k,
        pop.horizon,
        revenue_raw=cand.raw[rev] if pop.has_revenue else None,
        revenue=pop.outcomes.revenue[rev] if pop.has_revenue else None,
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


def _rank_matrix(values: np.ndarray) -> np.ndarray:
    """Column-wise ranks (average ties) of a (n, k) matrix; NaN is treated as the mean."""
    filled = np.where(np.isnan(values), np.nanmean(values, axis=0), values)
    return stats.rankdata(filled, axis=0)


def _redundancy(cands, results, ret) -> list[list[str]]:
    """Groups of candidates with |Spearman| ≥ 0.9 among retention users (connected components)."""
    if len(cands) < 2:
        return []
    by_key = {c.key: c for c in cands}
    keys = [r.key for r in results]
    mat = np.column_stack([by_key[k].modelled[ret] for k in keys])
    rho = np.corrcoef(_rank_matrix(mat), rowvar=False)
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


def _stability(cands, results, pop: Population, held_out, settings, n_boot: int) -> None:
    """p_first, median rank, bootstrap ρ CI and the set not distinguishable from the leader."""
    by_key = {c.key: c for c in cands}
    n = pop.ret.size
    test = ~pop.train
    ret_idx = np.flatnonzero(pop.ret)
    ret_test_idx = np.flatnonzero(pop.ret & test)
    sd_test = survival.SurvivalData.from_arrays(
        pop.outcomes.duration_since_signup[ret_test_idx] - pop.outcomes.window_days,
        pop.outcomes.event_all[ret_test_idx],
    )
    rev_idx = np.flatnonzero(pop.rev)
    rev_test_idx = np.flatnonzero(pop.rev & test)
    k = len(results)
    c_draws = np.full((n_boot, k), np.nan)
    rho_draws = np.full((n_boot, k), np.nan)
    chunk = max(1, min(n_boot, 4_000_000 // max(n, 1)))
    rng_seed = settings.seed + 1
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        w = bootstrap.poisson_weights(n, b, rng_seed + start)
        y_all = y_test = None
        if pop.has_revenue:
            y_all = bootstrap.RankedOutcome(pop.outcomes.revenue[rev_idx], w[:, rev_idx])
            if rev_test_idx.size > 10:
                y_test = bootstrap.RankedOutcome(
                    pop.outcomes.revenue[rev_test_idx], w[:, rev_test_idx]
                )
        for j, r in enumerate(results):
            cand = by_key[r.key]
            x = cand.modelled
            x = np.where(np.isnan(x), np.nanmean(x), x)
            sign = -np.sign(r.coef_per_unit) or 1.0
            if held_out[r.key]:
                idx, sd, y = ret_test_idx, sd_test, y_test
                ridx = rev_test_idx
            else:
                idx, sd, y = ret_idx, pop.sd, y_all
                ridx = rev_idx
            score = sign * x[idx]
            c_draws[start : start + b, j] = bootstrap.concordance_draws(sd, score, w[:, idx])
            if y is not None and r.revenue_rho is not None:
                rho_draws[start : start + b, j] = bootstrap.spearman_draws(x[ridx], y)
    if pop.has_revenue:
        rho_draws = np.nan_to_num(rho_draws, nan=0.0)
    scores = score_of(c_draws, rho_draws, settings.score_weights)
    scores = np.where(np.isnan(c_draws), -np.inf, scores)
    trap = np.array([r.tenure_rho is not None and abs(r.tenure_rho) >= TENURE_RHO for r in results])
    scores[:, trap] = -np.inf
    ranks = (-scores).argsort(axis=1).argsort(axis=1) + 1
    first = np.bincount(ranks.argmin(axis=1), minlength=k) / n_boot
    lead_diff = scores[:, [0]] - scores
    for j, r in enumerate(results):
        r.p_first = float(first[j])
        r.median_rank = float(np.median(ranks[:, j]))
        r.tied_with_leader = bool(j == 0 or np.nanquantile(lead_diff[:, j], 0.025) <= 0)
        if r.revenue_rho is not None and np.isfinite(rho_draws[:, j]).sum() > 10:
            lo, hi = np.nanquantile(rho_draws[:, j], [0.025, 0.975])
            r.revenue_rho_ci_low, r.revenue_rho_ci_high = float(lo), float(hi)


def _ph_checks(cands, results, pop: Population, held_out) -> None:
    """Proportional-hazards test for the leading candidates, on a ≤ 20k-user subsample."""
    by_key = {c.key: c for c in cands}
    for r in results[:PH_TOP]:
        mask = pop.ret & (~pop.train if held_out[r.key] else True)
        x = by_key[r.key].modelled[mask]
        d = pop.outcomes.duration_since_signup[mask] - pop.outcomes.window_days
        e = pop.outcomes.event_all[mask]
        try:
            r.ph_test_p = survival.ph_test_p(np.nan_to_num(x, nan=np.nanmean(x)), d, e,
                                             max_n=PH_MAX_N)  # fmt: skip
        except Exception:  # the diagnostic is optional; a failure must not sink the ranking
            r.ph_test_p = None
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
