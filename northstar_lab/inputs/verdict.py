"""The verdict on each edge of the tree, by one stated rule (METHODS §9.5).

Observational (user level):
- **leads** — the incremental effect has q < 0.05, is positive, and (with ≥ 3 cohorts) at least
  two thirds of the signup cohorts share its sign;
- **inconsistent** — as above, but fewer than two thirds of the cohorts share the sign;
- **negative** — q < 0.05 and more of it early goes with less of the North Star later;
- **moves with** — the incremental effect is not distinguishable from noise (q ≥ 0.05), but the
  marginal one is (q < 0.05): it moves with the North Star, it does not lead it;
- **not linked** — neither is distinguishable from noise.

Experiments, when given (they speak about causes; the rest is association):
- **confirmed** — the noise-corrected correlation of effects is ≥ 0.5 and its CI excludes 0;
- **not confirmed** — experiments moved it (χ² of its effects, p < 0.05) and the North Star did
  not move in step; **did not move** — no experiment moved it; **too few** — fewer than 4 arms.

The edge drawn in the tree: *confirmed* when experiments confirm it (whatever the association
says); *leads* when it leads and experiments do not contradict it; *weak* when it leads only
inconsistently, moves with the North Star, or leads but experiments do not confirm it; *none*
otherwise (not linked, or more of it goes with less of the North Star).
"""

from __future__ import annotations

ALPHA = 0.05
MIN_SAME_SIGN = 2 / 3
MIN_COHORTS = 3
MIN_EXPERIMENT_CORR = 0.5
MIN_ARMS = 4

LEAD_WORDS = {
    "leads": "leads the North Star: users with more of it early do more of the North Star "
    "later, beyond their own early level",
    "inconsistent": "leads the North Star on average, but not consistently across signup cohorts",
    "negative": "more of it early goes with less of the North Star later",
    "moves_with": "moves with the North Star, does not lead it",
    "not_linked": "no detectable link with the North Star later",
}
EDGES = ("confirmed", "leads", "weak", "none")


def _finite(x) -> bool:
    return x is not None and x == x


def lead_verdict(q, effect, marginal_q, same_sign_share, n_cohorts) -> str:
    """The observational verdict code (see the module docstring)."""
    if _finite(q) and q < ALPHA and _finite(effect):
        if effect < 0:
            return "negative"
        if (
            n_cohorts >= MIN_COHORTS
            and _finite(same_sign_share)
            and same_sign_share < MIN_SAME_SIGN
        ):
            return "inconsistent"
        return "leads"
    if _finite(marginal_q) and marginal_q < ALPHA:
        return "moves_with"
    return "not_linked"


def experiment_verdict(n_arms, corr, ci_low, moved_p) -> str:
    """The experiments' verdict code: untested, too_few, did_not_move, confirmed, not_confirmed."""
    if not n_arms:
        return "untested"
    if n_arms < MIN_ARMS or not _finite(moved_p):
        return "too_few"
    if moved_p >= ALPHA:
        return "did_not_move"
    if _finite(corr) and corr >= MIN_EXPERIMENT_CORR and _finite(ci_low) and ci_low > 0:
        return "confirmed"
    return "not_confirmed"


def edge_strength(lead: str, experiments: str) -> str:
    """confirmed / leads / weak / none, for drawing the edge."""
    if experiments == "confirmed":
        return "confirmed"
    if lead == "leads":
        return "weak" if experiments == "not_confirmed" else "leads"
    if lead in ("inconsistent", "moves_with"):
        return "weak"
    return "none"


def verdict_text(lead: str, experiments: str, n_arms, corr) -> str:
    """The verdict in words, experiments last (they speak about causes)."""
    words = LEAD_WORDS[lead] + " (association)"
    rho = f"ρ {corr:+.2f}" if _finite(corr) else "ρ not estimable"
    if experiments == "confirmed":
        words += f"; experiments agree: moving it moved the North Star ({rho} over {n_arms} arms)"
    elif experiments == "not_confirmed":
        words += (
            f"; experiments that moved it did not move the North Star in step ({rho} over "
            f"{n_arms} arms)"
        )
    elif experiments == "did_not_move":
        words += f"; none of the {n_arms} experiment arms moved it"
    elif experiments == "too_few":
        words += "; too few experiments to tell"
    return words[0].upper() + words[1:] + "."
