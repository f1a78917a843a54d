"""Rank candidate metrics by how well early behaviour predicts retention and revenue (METHODS §3–5).

Per candidate: univariate Cox (HR per SD with CI, Wald p), Harrell's C of the predicted survival,
Spearman ρ with the revenue outcome, a threshold chosen on training users and judged on held-out
users; then BH q-values, the composite score (`score.py`), redundancy groups, flags
(`flags.py`) and rank stability (`stability.py`). Ranking uses effect sizes (C, ρ), never
p-values, which grow with n.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from ..candidates import Candidate, at_least_candidate
from ..errors import InputError
from ..outcomes import Outcomes
from ..results import CandidateResult, DataInfo, ExcludedCandidate, RankingResult
from ..settings import AnalysisSettings
from ..stats import influence
from ..stats.cells import cox_and_concordance
from ..stats.concordance import comparable_pairs
from ..stats.dist import Z95
from ..text import duration_words
from .flags import (
    MIN_EVENTS,
    add_candidate_warnings,
    assign_flags,
    check_proportional_hazards,
    flag_guardrails,
    flag_lifetime_totals,
    order_results,
    separation_words,
)
from .population import Influence, Population, split_users
from .redundancy import redundancy_groups
from .score import NOISE_Q, bh_qvalues, score_of
from .stability import WORKER_THREADS, rank_stability
from .thresholds import choose_threshold, held_out_figures

MIN_VALUES_FOR_AT_LEAST = 3  # a 0/1 column is its own threshold (METHODS §4)
MIN_USERS = 20  # in the retention analysis: fewer cannot fill two halves with churn and stay


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
    settings: AnalysisSettings,
    signup_sec: np.ndarray | None = None,
    train: np.ndarray | None = None,
    observed_days: np.ndarray | None = None,
    data_info: DataInfo | None = None,
    progress: Progress | None = None,
    bootstrap_resamples: int | None = None,
    ph_check: bool = True,
    quick: bool = False,
    known_lifetime: frozenset[str] = frozenset(),
) -> RankingResult:
    """The leaderboard for these candidates and outcomes (see module docstring).

    train: bool per row, the threshold-training half (default: split from the settings).
    observed_days: each user's observed tenure, to flag users-table columns that grow with it.
    quick: effect sizes only (no thresholds, bootstrap or PH checks), for sensitivity runs.
    known_lifetime: keys already judged lifetime totals (by the main ranking), kept so here.
    """
    say = progress or (lambda _m, _f: None)
    timer = _Timer()
    info = data_info or DataInfo()
    pop = _population(outcomes, settings, signup_sec, train, info.duration_unit)
    candidates = [c.with_gaps_filled(pop.ret) for c in candidates]
    usable, excluded = _usable(candidates, pop)
    if not usable:
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in excluded[:5])
        raise InputError(f"No candidate metric can be ranked: {reasons}.")
    fitted = _fit_all(usable, pop, settings, quick, say)
    timer.lap("fit")
    say("Checking redundancy and tenure traps", 0.55)
    _score(fitted.results, pop, settings)
    groups = redundancy_groups(fitted.candidates, fitted.results, pop.ret, settings.seed)
    if observed_days is not None:
        flag_lifetime_totals(
            fitted.candidates, fitted.results, pop.ret, observed_days, outcomes.event_all,
            known=known_lifetime,
        )  # fmt: skip
    flag_guardrails(fitted.results)
    order_results(fitted.results)
    timer.lap("redundancy")
    n_boot = 0 if quick else (settings.n_bootstrap if bootstrap_resamples is None
                              else bootstrap_resamples)  # fmt: skip
    method = None
    if n_boot > 0:
        say("Measuring rank stability", 0.6)
        method = rank_stability(fitted.results, fitted.influence, pop, settings, n_boot)
    timer.lap("stability")
    if ph_check and not quick:
        say("Checking proportional hazards for the leaders", 0.9)
        check_proportional_hazards(fitted.candidates, fitted.results, pop)
    timer.lap("ph_check")
    for r in fitted.results:
        add_candidate_warnings(r, pop)
    assign_flags(fitted.results)
    return RankingResult(
        n_users=outcomes.n_users,
        n_churned=outcomes.n_churned,
        excluded=dict(outcomes.excluded),
        settings=settings,
        data=dataclasses.replace(info, stability_method=method, horizon_days=pop.horizon),
        candidates=fitted.results,
        excluded_candidates=excluded,
        redundancy_groups=groups,
        warnings=_population_warnings(pop, settings, info.duration_unit),
        notes=_method_notes(settings, outcomes, pop.horizon, info.duration_unit),
        timings=timer.total(),
    )


class _Timer:
    """Seconds per step of a ranking (the `timings` of the result)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now

    def total(self) -> dict[str, float]:
        return {**self.laps, "total": time.perf_counter() - self.start}


@dataclass
class _Fitted:
    """Every measured candidate, in fitting order: the base candidates and their '≥ k' versions."""

    candidates: list[Candidate] = field(default_factory=list)
    results: list[CandidateResult] = field(default_factory=list)
    influence: dict[str, Influence] = field(default_factory=dict)

    def add(self, cand: Candidate, res: CandidateResult, infl: Influence) -> None:
        self.candidates.append(cand)
        self.results.append(res)
        self.influence[cand.key] = infl


def _fit_all(usable: list[Candidate], pop: Population, settings, quick: bool, say) -> _Fitted:
    """Measure every candidate and, where a threshold was chosen, its '≥ k' version on held-out
    users; identical 0/1 versions (e.g. 'x ≥ 1×' and 'x on ≥ 1 days') are kept once."""
    held_out_rows = pop.index(held_out=True)[0]

    def measure_with_threshold(cand: Candidate):
        res, k, f = _measure(cand, pop, settings, choose=not quick)
        if k is None or cand.n_distinct < MIN_VALUES_FOR_AT_LEAST:
            return res, f, None  # 'fin ≥ 1' would only repeat 'fin', on half the users
        if not pop.sd_test.event.any():
            return res, f, None  # no churn among the held-out users: nothing to judge k on
        binary = at_least_candidate(cand, k, settings.window_days)
        held_out_codes = binary.codes_for(held_out_rows)[0]
        if held_out_codes.min() == held_out_codes.max():
            return res, f, None
        bres, _, bf = _measure(binary, pop, settings, held_out=True, threshold=k)
        bres.threshold_figures = res.threshold_figures
        return res, f, (binary, bres, bf)

    fitted, seen = _Fitted(), set()
    # NumPy releases the GIL in the array work, so two threads use both cores of a small box.
    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as pool:
        measured = pool.map(measure_with_threshold, usable)
        for i, (cand, (res, f, extra)) in enumerate(zip(usable, measured, strict=True)):
            say(f"Fitted {cand.name}", (i + 1) / max(len(usable), 1) * 0.5)
            fitted.add(cand, res, f)
            if extra is None:
                continue
            signature = _binary_signature(extra[0].raw)
            if signature not in seen:
                seen.add(signature)
                fitted.add(*extra)
    pop.candidates = fitted.candidates
    return fitted


def _score(results: list[CandidateResult], pop: Population, settings) -> None:
    """BH q-values over every candidate tested, the noise verdict, and the composite score."""
    q = bh_qvalues(np.array([r.p_value for r in results]))
    for r, qi in zip(results, q, strict=True):
        r.q_value = float(qi)
        r.noise_level = bool(not qi < NOISE_Q)
    scores = score_of(
        [r.c_plus for r in results], _rhos(results, pop.has_revenue), settings.score_weights
    )
    for r, s in zip(results, scores, strict=True):
        r.score = float(s)


def _no_churn_words(outcomes: Outcomes, settings) -> str:
    """Why nobody churned, with who was left out, and, when churn waits for a silence, whether
    the data is long enough to show one (a two-month log with a 30-day gap rarely is)."""
    ex = outcomes.excluded
    loaded = outcomes.retention_mask.size
    head = (
        f"No churn events among the {outcomes.n_users:,} users in the retention analysis "
        f"(of {loaded:,} users: {ex.get('churned_in_window', 0):,} churned in the first "
        f"{settings.window_days} days, {ex.get('not_yet_observable', 0):,} signed up too "
        f"recently; churn source: {outcomes.churn_source})."
    )
    followed = outcomes.duration_since_signup[outcomes.retention_mask] - settings.window_days
    gap = settings.inactivity_days
    if outcomes.churn_source.startswith("inactivity") and followed.size and followed.max() < gap:
        return (
            f"{head} Churn by inactivity shows only after {gap} silent days, and no user in "
            f"it is followed for more than {int(followed.max()):,} days after the window: the "
            f"data is too short for a {gap}-day gap. Use a shorter inactivity gap or window, "
            "a churn event if the log records cancellations, or data over a longer period."
        )
    return (
        f"{head} Survival analysis needs users who left: check the churn column or inactivity "
        "days, or use a later as-of date."
    )


def _population(outcomes: Outcomes, settings, signup_sec, train, unit=None) -> Population:
    if outcomes.n_churned == 0:
        raise InputError(_no_churn_words(outcomes, settings))
    n_ret = int(outcomes.retention_mask.sum())
    if n_ret < MIN_USERS:
        raise InputError(
            f"Only {n_ret} user{'s are' if n_ret != 1 else ' is'} in the retention analysis "
            f"(of {outcomes.retention_mask.size:,} loaded): a ranking needs at least "
            f"{MIN_USERS}, half of them to choose thresholds and half to judge them. Load more "
            "users, or a shorter observation window if the window excluded them."
        )
    n = outcomes.retention_mask.size
    if train is None:
        train = split_users(n, settings.seed, signup_sec, settings.threshold_split)
    horizon = reportable_horizon(outcomes, settings.horizon_days)
    pop = Population(outcomes, train, horizon, unit)
    if comparable_pairs(pop.sd) == 0:
        raise InputError(
            f"The {outcomes.n_users:,} users in the retention analysis cannot be compared: "
            f"all {outcomes.n_churned:,} who churned did so on the last day anyone was "
            "followed, so no user is known to have stayed longer than another. Check the churn "
            "column or inactivity days, or use a later as-of date."
        )
    return pop


def reportable_horizon(outcomes: Outcomes, horizon_days: float) -> float:
    """The horizon retention, ΔRMST and threshold figures are read at: the one asked for, or
    the longest follow-up after the landmark when that is shorter. A Kaplan–Meier curve is
    flat after its last observed time; reading it further reports an extrapolation as a
    measurement (METHODS §3.3)."""
    return float(min(float(horizon_days), float(outcomes.duration.max())))


def _population_warnings(pop: Population, settings, unit: str | None) -> list[str]:
    out = []
    asked = float(settings.horizon_days)
    if pop.horizon < asked:
        out.append(
            f"Horizon shortened from {duration_words(asked, unit)} to "
            f"{duration_words(pop.horizon, unit)}: the longest follow-up after the landmark is "
            f"{duration_words(pop.horizon, unit)}, so retention, ΔRMST and threshold figures "
            "are read there instead of extrapolated past it."
        )
    oc = pop.outcomes
    churn_times = oc.duration[oc.event.astype(bool)]
    if churn_times.size and churn_times.min() > pop.horizon:
        first, median = float(churn_times.min()), float(np.median(churn_times))
        out.append(
            f"No user churned within the horizon ({duration_words(pop.horizon, unit)} after the "
            f"window): the first churn comes {duration_words(first, unit)} after it. Retention "
            "at the horizon is 100% in every group, so the retention, ΔRMST and threshold "
            "figures there show no difference; the hazard ratios and concordance use every "
            f"churn. Choose a longer horizon (half of the churns come within "
            f"{duration_words(median, unit)})."
        )
    if oc.revenue is not None and not pop.has_revenue:
        out.append(
            f"No revenue figures: only {int(oc.revenue_mask.sum()):,} users in the retention "
            f"analysis have the full {duration_words(asked, unit)} of revenue follow-up (at "
            "least 10 are needed). Use a shorter horizon or a later as-of date."
        )
    e = pop.outcomes.n_churned
    if e < MIN_EVENTS:
        out.append(
            f"Only {e} churn event{'s' if e != 1 else ''}: fewer than {MIN_EVENTS}, so every "
            "estimate is fragile. "
            "Treat the ranking as a hypothesis and gather more data."
        )
    return out


def _usable(
    cands: list[Candidate], pop: Population
) -> tuple[list[Candidate], list[ExcludedCandidate]]:
    """The candidates that vary among the retention users, and the others with the reason:
    the value they all share, or that they are an outcome itself. Min and max are
    read in place (NaN skipped), without a copy of the column per candidate: on the level
    codes (4 bytes a user) when there are no gaps."""
    usable, excluded = [], []
    churn = _churn_target(pop) if any(not c.window_verifiable for c in cands) else None
    for c in cands:
        lo, hi = _modelled_range(c, pop.ret)
        if not lo < hi:
            value = "missing" if lo > hi else f"{lo:g}"  # lo > hi: no value at all
            excluded.append(
                ExcludedCandidate(c.key, c.name, f"the same value ({value}) for every user")
            )
            continue
        itself = None if c.window_verifiable else _outcome_itself(c, pop, churn)
        if itself:
            excluded.append(ExcludedCandidate(c.key, c.name, itself))
            continue
        usable.append(c)
    return usable, excluded


#: |Spearman's ρ| with an outcome at which a candidate is that outcome under another name: a
#: users-table copy of the revenue column ('Umsatz €' beside 'revenue'), or of who churned
#: ('status_code' = still a customer). Its score would be the outcome measured against itself,
#: so it would lead by construction (a churn copy "kept 100% vs 34%").
OUTCOME_ITSELF_RHO = 0.99


def _outcome_itself(c: Candidate, pop: Population, churn) -> str | None:
    """Why the candidate is an outcome itself (words for the excluded list), or None. Asked
    only of users-table columns: a count from the event log's window is measured before the
    outcomes by construction."""
    for what, target, rows in (("revenue", pop.revenue_all, pop.rev), ("churn", churn, pop.ret)):
        rho = _rho_with(c, target, rows)
        if rho is not None and abs(rho) >= OUTCOME_ITSELF_RHO:
            return (
                f"the {what} outcome itself under another name (Spearman ρ {rho:.3f} with "
                f"{what}): an outcome predicts itself, so it would lead by construction. If it "
                f"is a behaviour, measure it before the {what} it predicts"
            )
    return None


def _churn_target(pop: Population):
    churned = pop.outcomes.event_all[pop.ret]
    return influence.SpearmanTarget(churned) if 0 < churned.sum() < churned.size else None


def _rho_with(c: Candidate, target, rows: np.ndarray) -> float | None:
    """The candidate's Spearman ρ with an outcome over those users, as the fit computes it."""
    if target is None:
        return None
    codes = c.codes_for(rows)
    if not codes[0].size or codes[0].min() == codes[0].max():
        return None
    rho = influence.spearman_rho(target, codes)
    return None if np.isnan(rho) else rho


def _modelled_range(c: Candidate, ret: np.ndarray) -> tuple[float, float]:
    """The least and greatest modelled value among the retention users (NaN skipped)."""
    if c.has_gaps:
        lo = np.fmin.reduce(c.modelled, where=ret, initial=np.inf)
        hi = np.fmax.reduce(c.modelled, where=ret, initial=-np.inf)
        return float(lo), float(hi)
    codes, n_levels = c.levels
    lo = np.minimum.reduce(codes, where=ret, initial=n_levels)
    hi = np.maximum.reduce(codes, where=ret, initial=-1)
    if lo > hi:
        return np.inf, -np.inf
    return float(c.level_modelled[lo]), float(c.level_modelled[hi])


def _measure(cand, pop: Population, settings, held_out=False, threshold=None, choose=True):
    """Cox, C, ρ (with influence vectors) and the threshold for one candidate.

    held_out: measure on held-out users only (for '≥ k' candidates, whose k was chosen on
    the training users).
    """
    ret, rev = pop.index(held_out)
    sd = pop.sd_test if held_out else pop.sd
    # Per level, not per user: the users' codes, and the raw and modelled value of each level
    # (gaps already filled with the landmark mean, `with_gaps_filled`).
    codes = cand.codes_for(ret)
    level_x = cand.level_modelled
    summary = _level_summary(codes, cand.level_values, level_x)
    fit, c_index, psi_cox = cox_and_concordance(sd, codes, level_x)
    sd_x = summary.sd_x
    # C⁺, the C of "more of x ⇒ stays longer", has its direction fixed before looking
    # (METHODS §5.1); Harrell's C in the Cox direction (lifelines' number) is the same count
    # read the other way, and so is each user's influence on it.
    c_plus = c_index if fit.beta <= 0 else 1.0 - c_index
    psi_c = psi_cox if fit.beta <= 0 else -psi_cox
    res = CandidateResult(
        key=cand.key,
        name=cand.name,
        kind=cand.kind,
        event=cand.event,
        column=cand.column,
        transform=cand.transform,
        **hazard_fields(fit, sd_x),
        c_index=c_index if fit.beta != 0 else 0.5,
        c_plus=c_plus,
        direction="more is better" if fit.beta < 0 else "more is worse",
        n=int(ret.size),
        n_events=int(sd.event.sum()),
        sd=sd_x,
        share_nonzero=summary.share_nonzero,
        mean_raw=summary.mean_raw,
        window_verifiable=cand.window_verifiable,
        evaluated_on="held-out users" if held_out else "all users",
        threshold=threshold,
    )
    if cand.imputed is not None:
        res.n_imputed = int(cand.imputed.take(ret).sum())
        res.warnings.append(
            f"{res.n_imputed:,} of these {ret.size:,} users lack this value: the mean of the "
            "landmark users was used, the same filled value in every statistic."
        )
    if fit.separated:
        res.warnings.insert(0, separation_words(res))
    elif not fit.converged:
        res.warnings.append(
            "The Cox model did not converge: read retention at the horizon and ΔRMST instead "
            "of the hazard ratio."
        )
    psi_rho = None
    target = pop.revenue_test if held_out else pop.revenue_all
    rev_codes = cand.codes_for(rev) if target is not None and rev.size else None
    if rev_codes is not None and rev_codes[0].min() < rev_codes[0].max():
        rho, psi_rho = influence.spearman_influence(None, target, rev_codes)
        res.revenue_rho = None if np.isnan(rho) else rho
        res.n_revenue = int(rev.size)
    infl = Influence.of(psi_c, psi_rho, held_out)
    if not held_out and choose:
        k = choose_threshold(cand, pop, settings)
        res.threshold = k
        if k is not None:
            res.threshold_figures = held_out_figures(cand, pop, k)
        return res, k, infl
    return res, None, infl


@dataclass(frozen=True)
class _LevelSummary:
    sd_x: float  # SD of the modelled variable (ddof 1)
    mean_raw: float
    share_nonzero: float


def _level_summary(codes, level_raw: np.ndarray, level_x: np.ndarray) -> _LevelSummary:
    """The mean, SD and share above zero of a candidate from its level counts: one count of
    the users instead of a copy of their values per statistic."""
    users, n_levels = codes
    n = max(users.size, 1)
    counts = np.bincount(users, minlength=n_levels).astype(float)
    mean_x = float(counts @ level_x) / n
    ss = float(counts @ (level_x - mean_x) ** 2)
    return _LevelSummary(
        sd_x=float(np.sqrt(ss / (n - 1))) if n > 1 else float("nan"),
        mean_raw=float(counts @ level_raw) / n,
        share_nonzero=float(counts[level_raw > 0].sum()) / n,
    )


def hazard_fields(fit, sd_x: float) -> dict:
    """The hazard ratio per SD with its 95% CI, the per-unit coefficient and the p-value.

    Under perfect separation (a monotone likelihood) β̂ is ±∞ and the Wald test says p ≈ 1
    whatever the data: the p-value is the likelihood-ratio test's, and the hazard ratio is
    reported as a bound, the finite end of the 95% profile-likelihood interval (`hr_bound`
    'upper': the HR is below it; 'lower': above it). METHODS §3.1.
    """
    z = Z95
    if not fit.separated:
        return dict(
            hazard_ratio=float(np.exp(fit.beta * sd_x)),
            hr_ci_low=float(np.exp((fit.beta - z * fit.se) * sd_x)),
            hr_ci_high=float(np.exp((fit.beta + z * fit.se) * sd_x)),
            coef_per_unit=float(fit.beta),
            coef_se=float(fit.se),
            p_value=float(fit.p),
        )
    bound = float(np.exp(fit.beta_bound * sd_x))
    below = fit.beta < 0
    return dict(
        hazard_ratio=bound,
        hr_ci_low=0.0 if below else bound,
        hr_ci_high=bound if below else float("inf"),
        coef_per_unit=float(fit.beta_bound),
        coef_se=float("nan"),
        p_value=fit.lr_p,
        p_method="likelihood ratio",
        hr_bound="upper" if below else "lower",
    )


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


def _training_half(settings) -> str:
    if settings.threshold_split == "cohort":
        return "the earlier half of signups"
    return "a random half of users"


def _method_notes(settings, outcomes: Outcomes, horizon: float, unit: str | None) -> list[str]:
    w, h = settings.window_days, duration_words(horizon, unit)
    window = (
        f"Candidates count behaviour in each user's first {w} days only; retention is "
        f"followed from day {w} (landmark)."
        if w > 0
        else "No observation window (W = 0): the users table's columns describe users at the "
        "start, and retention is followed from signup."
    )
    notes = [
        f"{window} Churn: {outcomes.churn_source}.",
        "Event counts are modelled as log(1 + count); hazard ratios are per standard deviation "
        "of the modelled variable.",
        f"Thresholds are chosen on {_training_half(settings)} and every threshold figure is "
        f"measured on the other half; retention is read {h} after day {w}.",
        "Association, not causation: a metric that predicts retention is a candidate lever, "
        "to be tested by experiment.",
    ]
    if outcomes.revenue_source:
        notes.append(f"Revenue: {outcomes.revenue_source}.")
    else:
        notes.append("No revenue outcome: the score is the retention strength alone.")
    return notes
