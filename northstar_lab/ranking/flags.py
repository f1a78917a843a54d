"""Verdicts and words attached to each candidate: lifetime totals in disguise, hazard ratios that
drift over follow-up, small data, noise level (METHODS §2, §3.4, §6). Each rule is written here
once; `CandidateResult.flags` and the warnings read them.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..results import CandidateResult
from ..stats.cox import cox_univariate
from ..stats.ph import ph_test
from .population import Population

MIN_EVENTS = 50
TENURE_RHO = 0.7
PH_TOP = 5


#: The flag words shown beside a candidate (leaderboards, exports), in display order, and what
#: each means. Words, not emoji: they read on any projector and in any font.
FLAG_LEGEND = {
    "LIFETIME": "lifetime total in disguise, ranked last",
    "noise": "not distinguishable from noise (q ≥ 0.05)",
    "dup": "near-duplicate group n (|ρ| ≥ 0.9)",
    "window?": "users-table column, window not verifiable",
    "drift": "hazard ratio drifts over follow-up (read retention at the horizon and ΔRMST)",
}
PH_DRIFT_P = 0.01


def lifetime_total_verdict(tenure_rho: float | None) -> bool:
    """A column whose |Spearman| with observed tenure is ≥ 0.7 grows with how long users
    stayed: a lifetime total in disguise (METHODS §2)."""
    return tenure_rho is not None and abs(tenure_rho) >= TENURE_RHO


def flag_words(r: CandidateResult) -> list[str]:
    """The candidate's flags, in `FLAG_LEGEND` order ('dup 2' names its group)."""
    words = []
    if r.is_lifetime_total:
        words.append("LIFETIME")
    if r.noise_level:
        words.append("noise")
    if r.redundancy_group:
        words.append(f"dup {r.redundancy_group}")
    if not r.window_verifiable:
        words.append("window?")
    if r.ph_test_p is not None and r.ph_test_p < PH_DRIFT_P:
        words.append("drift")
    return words


def flag_legend() -> str:
    """One line explaining every flag word, for under a leaderboard."""
    return "Flags — " + " · ".join(f"{w}: {meaning}" for w, meaning in FLAG_LEGEND.items())


def assign_flags(results: list[CandidateResult]) -> None:
    """Set each result's flags from its verdicts (the last step of a ranking)."""
    for r in results:
        r.flags = flag_words(r)


def order_results(results: list[CandidateResult]) -> None:
    """Sort by score; lifetime totals in disguise go last whatever their score (METHODS §2)."""
    results.sort(key=lambda r: (r.is_lifetime_total, -np.nan_to_num(r.score, nan=-np.inf)))
    for i, r in enumerate(results, start=1):
        r.rank = i


def flag_lifetime_totals(cands, results, ret, observed_days) -> None:
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
        r.is_lifetime_total = lifetime_total_verdict(r.tenure_rho)
        if r.is_lifetime_total:
            r.warnings.insert(
                0,
                f"Lifetime total in disguise: {source.column or source.name} grows with how long "
                f"users stayed (Spearman {rho:.2f} with observed tenure), so it predicts retention "
                "by construction. Ranked last; use a version counted in the first days instead.",
            )


def check_proportional_hazards(cands, results, pop: Population) -> None:
    """Proportional-hazards test (Grambsch–Therneau, rank time) for the leading candidates,
    on all their users (`ph_test` is vectorised; lifelines' needs a subsample)."""
    by_key = {c.key: c for c in cands}
    for r in results[:PH_TOP]:
        held_out = r.held_out
        ret, _ = pop.masks(held_out)
        x = by_key[r.key].modelled[ret]
        x = np.where(np.isnan(x), np.nanmean(x), x)
        sd = pop.sd_test if held_out else pop.sd
        fit = cox_univariate(sd, x, codes=by_key[r.key].codes_for(ret))
        r.ph_test_p = ph_test(sd, x, fit)
        if r.ph_test_p is not None and r.ph_test_p < PH_DRIFT_P:
            r.warnings.append(
                "Hazard ratio drifts over follow-up (proportional-hazards test p "
                f"{r.ph_test_p:.3g}): read retention at day {int(pop.horizon)} and ΔRMST "
                "instead of the hazard ratio."
            )


def add_candidate_warnings(r: CandidateResult, pop: Population) -> None:
    if r.noise_level:
        r.warnings.insert(0, f"Not distinguishable from noise (q {r.q_value:.2g}).")
    if not r.window_verifiable:
        r.warnings.append(
            "Window not verifiable: a users-table column; North Star Lab cannot check that it "
            "was measured before the outcome."
        )
    if r.n_events < MIN_EVENTS:
        r.warnings.append(f"Only {r.n_events} churn events behind this estimate (< {MIN_EVENTS}).")
