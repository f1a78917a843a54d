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


def order_results(results: list[CandidateResult]) -> None:
    """Sort by score; lifetime totals in disguise go last whatever their score (METHODS §2)."""
    results.sort(key=lambda r: (r.tenure_rho is not None and abs(r.tenure_rho) >= TENURE_RHO,
                                -np.nan_to_num(r.score, nan=-np.inf)))  # fmt: skip
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
        if r.tenure_rho is not None and abs(rho) >= TENURE_RHO:
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
        held_out = r.evaluated_on == "held-out users"
        ret, _ = pop.masks(held_out)
        x = by_key[r.key].modelled[ret]
        x = np.where(np.isnan(x), np.nanmean(x), x)
        sd = pop.sd_test if held_out else pop.sd
        fit = cox_univariate(sd, x, codes=by_key[r.key].codes_for(ret))
        r.ph_test_p = ph_test(sd, x, fit)
        if r.ph_test_p is not None and r.ph_test_p < 0.01:
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


def is_lifetime_total(r: CandidateResult) -> bool:
    return r.tenure_rho is not None and abs(r.tenure_rho) >= TENURE_RHO
