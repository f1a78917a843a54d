"""Verdicts and words attached to each candidate: guardrails (more goes with churn), lifetime
totals in disguise, hazard ratios that drift over follow-up, small data, noise level (METHODS §2,
§3.4, §5.1, §6). Each rule is written here once; `CandidateResult.flags`, the ordering and the
warnings read them.
"""

from __future__ import annotations

import numpy as np

from ..results import CandidateResult
from ..stats.cox import cox_univariate
from ..stats.ph import ph_test
from ..stats.tenure import TenureEvidence, rank_tenure, tenure_evidence
from ..text import duration_words
from .population import Population

MIN_EVENTS = 50
TENURE_RHO = 0.7
TENURE_ELASTICITY, TENURE_ELASTICITY_LOW = 0.6, 0.3
PH_TOP = 5


#: What a guardrail is, in the words every output uses (section titles, the legend, warnings).
GUARDRAIL_WORDS = "more goes with churn: watch it, don't grow it"

#: The flag words shown beside a candidate (leaderboards, exports), in display order, and what
#: each means. Words, not emoji: they read on any projector and in any font.
FLAG_LEGEND = {
    "GUARDRAIL": f"{GUARDRAIL_WORDS} (a counter-metric, never ranked first)",
    "LIFETIME": "lifetime total in disguise, ranked last",
    "noise": "not distinguishable from noise (q ≥ 0.05)",
    "dup": "near-duplicate group n (|ρ| ≥ 0.9)",
    "window?": "users-table column, window not verifiable",
    "drift": "hazard ratio drifts over follow-up (read retention at the horizon and ΔRMST)",
    "bound": "perfect separation: the hazard ratio is a bound, p from the likelihood ratio",
}
PH_DRIFT_P = 0.01


def lifetime_total_verdict(
    tenure_rho: float | None, elasticity: float | None = None, elasticity_low: float | None = None
) -> bool:
    """A lifetime total in disguise (METHODS §2): a column that grows with how long users
    stayed, so it "predicts" retention by construction. Either its |Spearman| with observed
    tenure is ≥ 0.7, or, among users still active, it grows in proportion to the time since
    signup like a total of a per-day rate: tenure elasticity ≥ 0.6 with a 95% lower bound
    ≥ 0.3 (`stats.tenure`). Measured on simulated early-window columns, with drivers up to
    HR 0.37 per SD, the elasticity rule flags 0.1% of them and 97% of totals (METHODS §8)."""
    by_rank = tenure_rho is not None and abs(tenure_rho) >= TENURE_RHO
    by_rate = (
        elasticity is not None
        and elasticity_low is not None
        and elasticity >= TENURE_ELASTICITY
        and elasticity_low >= TENURE_ELASTICITY_LOW
    )
    return bool(by_rank or by_rate)


def guardrail_verdict(r: CandidateResult) -> bool:
    """More of it goes with more churn, beyond noise: a counter-metric, never a North Star
    (METHODS §5.1). The direction is the Cox sign; 'beyond noise' is the BH rule (q < 0.05), so
    a candidate that merely leans the wrong way is called noise, not a guardrail."""
    return r.direction == "more is worse" and not r.noise_level


def flag_words(r: CandidateResult) -> list[str]:
    """The candidate's flags, in `FLAG_LEGEND` order ('dup 2' names its group)."""
    words = []
    if r.is_guardrail:
        words.append("GUARDRAIL")
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
    if r.hr_bound:
        words.append("bound")
    return words


def separation_words(r: CandidateResult) -> str:
    """What perfect separation means for this candidate, with the bound and the honest p."""
    side = "below" if r.hr_bound == "upper" else "above"
    who = "none of the users with more of it churned" if side == "below" else (
        "the users with more of it all churned before the others"
    )  # fmt: skip
    return (
        f"Perfect separation: {who}, so the likelihood rises without limit and no finite hazard "
        f"ratio fits. The hazard ratio per SD is {side} {r.hazard_ratio:.3g} (95% profile "
        f"likelihood bound); p {r.p_value:.2g} is the likelihood-ratio test's (the Wald test "
        "cannot see separation)."
    )


def flag_legend() -> str:
    """One line explaining every flag word, for under a leaderboard."""
    return "Flags — " + " · ".join(f"{w}: {meaning}" for w, meaning in FLAG_LEGEND.items())


def assign_flags(results: list[CandidateResult]) -> None:
    """Set each result's flags from its verdicts (the last step of a ranking)."""
    for r in results:
        r.flags = flag_words(r)


def flag_guardrails(results: list[CandidateResult]) -> None:
    """Set `is_guardrail` (after the q-values) and say what it means where it is shown."""
    for r in results:
        r.is_guardrail = guardrail_verdict(r)
        if r.is_guardrail:
            r.warnings.insert(
                0,
                f"Guardrail: {GUARDRAIL_WORDS} (hazard ratio {r.hazard_ratio:.2f} per SD). "
                "A counter-metric, never a North Star.",
            )


def order_key(r: CandidateResult) -> tuple:
    """Where a candidate goes (METHODS §5.1): candidates to grow by score; then guardrails,
    the strongest counter-metric (lowest C of "more ⇒ stays longer") first; then lifetime
    totals in disguise, whatever their score (§2)."""
    if r.is_lifetime_total:
        return (2, -np.nan_to_num(r.score, nan=-np.inf))
    if r.is_guardrail:
        return (1, np.nan_to_num(r.c_plus, nan=np.inf))
    return (0, -np.nan_to_num(r.score, nan=-np.inf))


def order_results(results: list[CandidateResult]) -> None:
    """Sort by `order_key` and number the ranks (1 = the best candidate to grow)."""
    results.sort(key=order_key)
    for i, r in enumerate(results, start=1):
        r.rank = i


def flag_lifetime_totals(cands, results, ret, observed_days, event, known=frozenset()) -> None:
    """A users-table column that grows with tenure is a lifetime total in disguise (§2).

    observed_days / event: each user's observed tenure (days since signup) and churn flag, all
    rows. A '≥ k' version inherits the verdict of the column it thresholds: cutting a lifetime
    total at k does not make it any less a lifetime total. known: keys judged lifetime totals
    elsewhere (the main ranking, for its gap runs), which stay so.
    """
    by_key = {c.key: c for c in cands}
    obs = np.asarray(observed_days, float)[ret]
    ev = np.asarray(event, float)[ret]
    obs_ranks = rank_tenure(obs)
    evidence: dict[str, TenureEvidence] = {}  # a '≥ k' version reuses its column's
    for r in results:
        cand = by_key[r.key]
        if cand.window_verifiable:
            continue
        source = by_key.get(cand.threshold_of, cand)
        if source.key not in evidence:
            x = source.raw[ret]
            plain = not source.has_gaps and source.imputed is None
            codes = source.codes_for(ret) if plain else None  # ranks without a sort
            if source.imputed is not None:
                x = np.where(source.imputed[ret], np.nan, x)  # judge the values users have
            evidence[source.key] = tenure_evidence(x, obs, ev, obs_ranks, codes)
        ev_t = evidence[source.key]
        r.tenure_rho, r.tenure_elasticity = ev_t.rho, ev_t.elasticity
        by_evidence = lifetime_total_verdict(ev_t.rho, ev_t.elasticity, ev_t.elasticity_low)
        r.is_lifetime_total = by_evidence or r.key in known or source.key in known
        if by_evidence:
            r.warnings.insert(0, _lifetime_words(source.column or source.name, ev_t))


def _lifetime_words(column: str, ev: TenureEvidence) -> str:
    if ev.rho is not None and abs(ev.rho) >= TENURE_RHO:
        how = f"Spearman {ev.rho:.2f} with observed tenure"
    else:
        how = (
            f"among users still active it grows in proportion to the time since signup, like a "
            f"total of a per-day rate: tenure elasticity {ev.elasticity:.2f} (95% CI "
            f"{ev.elasticity_low:.2f}–{ev.elasticity_high:.2f}; a column counted in the first "
            "days has ≈ 0)"
        )
    return (
        f"Lifetime total in disguise: {column} grows with how long users stayed ({how}), so it "
        "predicts retention by construction. Ranked last; use a version counted in the first "
        "days instead."
    )


def check_proportional_hazards(cands, results, pop: Population) -> None:
    """Proportional-hazards test (Grambsch–Therneau, rank time) for the leading candidates,
    on all their users (`ph_test` is vectorised; lifelines' needs a subsample)."""
    by_key = {c.key: c for c in cands}
    for r in results[:PH_TOP]:
        if r.hr_bound:  # separation: no finite hazard ratio to test for drift
            continue
        held_out = r.held_out
        ret, _ = pop.masks(held_out)
        x = by_key[r.key].modelled[ret]  # gaps filled once, before fitting
        sd = pop.sd_test if held_out else pop.sd
        fit = cox_univariate(sd, x, codes=by_key[r.key].codes_for(ret))
        r.ph_test_p = ph_test(sd, x, fit)
        if r.ph_test_p is not None and r.ph_test_p < PH_DRIFT_P:
            r.warnings.append(
                "Hazard ratio drifts over follow-up (proportional-hazards test p "
                f"{r.ph_test_p:.3g}): read retention at {duration_words(pop.horizon, pop.unit)} "
                "after the landmark and ΔRMST instead of the hazard ratio."
            )


HALF_DATA_WORDS = "on the held-out half of users"


def add_candidate_warnings(r: CandidateResult, pop: Population) -> None:
    """The words beside a candidate. A '≥ k' candidate is judged on held-out users only (its
    k was chosen on the others), so its noise and tie verdicts say they rest on half the data."""
    half = f" ({HALF_DATA_WORDS}, n = {r.n:,})" if r.held_out else ""
    if r.noise_level:
        r.warnings.insert(0, f"Not distinguishable from noise (q {r.q_value:.2g}){half}.")
    if r.held_out:
        r.warnings.append(
            f"Judged {HALF_DATA_WORDS} (n = {r.n:,}; its k was chosen on the other half): its "
            "q-value, P(first) and any tie with the leader rest on half the data, so they are "
            "less certain than those of a candidate judged on all users."
        )
    if not r.window_verifiable:
        r.warnings.append(
            "Window not verifiable: a users-table column; North Star Lab cannot check that it "
            "was measured before the outcome."
        )
    if r.n_events < MIN_EVENTS:
        r.warnings.append(f"Only {r.n_events} churn events behind this estimate (< {MIN_EVENTS}).")
