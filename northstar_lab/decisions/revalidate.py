"""Re-validate a recorded decision on newer data: does the choice still hold? (METHODS §5.6)

The recorded settings are re-used (with the recorded thresholds held fixed, so the metric judged
is the metric decided) and only the as-of date moves. The verdict rule, stated in every output:

- **overtaken by X** — X now ranks first and the chosen metric is no longer statistically tied
  with it (the bootstrap 95% interval of their score difference excludes 0);
- **weakened** — the chosen metric's hazard-ratio CI now includes 1 (no effect), or its q-value
  is ≥ 0.05, or its score fell below 75% of the recorded score, or it cannot be computed;
- **holds** — none of the above.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..candidates import Kind
from ..results import CandidateResult, RankingResult
from ..settings import AnalysisSettings
from .model import Decision, Revalidation

SCORE_KEEP = 0.75
RULE = (
    "Overtaken: another metric ranks first and the chosen one is not tied with it (bootstrap 95% "
    "interval of the score difference excludes 0). Weakened: the chosen metric's hazard-ratio CI "
    "includes 1, or q ≥ 0.05, or its score fell below 75% of the recorded score. Otherwise holds."
)


def recorded_settings(decision: Decision, as_of=None) -> AnalysisSettings:
    """The decision's settings with its thresholds fixed and a new as-of date (None = latest)."""
    settings = AnalysisSettings.from_dict(decision.evidence.settings)
    then = RankingResult.from_dict(decision.evidence.ranking)
    fixed = tuple(
        (c.key, float(c.threshold))
        for c in then.candidates
        if c.threshold is not None and c.kind != Kind.AT_LEAST
    )
    return dataclasses.replace(settings, as_of=as_of, fixed_thresholds=fixed)


def verdict(decision: Decision, now: RankingResult) -> tuple[str, str | None, str]:
    """(verdict, overtaken_by key, one-sentence summary) by the module's stated rule."""
    then = RankingResult.from_dict(decision.evidence.ranking)
    key = decision.chosen_key
    try:
        chosen_now = now.candidate(key)
    except KeyError:
        return (
            "weakened",
            None,
            (
                f"The chosen metric ({key}) could not be computed on the new data (its event or "
                "column is missing or constant)."
            ),
        )
    chosen_then = _maybe(then, key)
    leader = now.leader
    if leader.key != key and not chosen_now.tied_with_leader:
        return (
            "overtaken",
            leader.key,
            (
                f"Overtaken by {leader.name}: it now ranks first (score {leader.score:.3f} vs "
                f"{chosen_now.score:.3f}, P(first) {_pct(leader.p_first)}) and the chosen "
                "metric is no longer statistically tied with it."
            ),
        )
    reasons = []
    if chosen_now.hr_ci_low <= 1 <= chosen_now.hr_ci_high:
        reasons.append(
            f"its hazard-ratio CI now includes 1 ({chosen_now.hr_ci_low:.2f}–"
            f"{chosen_now.hr_ci_high:.2f})"
        )
    if not chosen_now.q_value < 0.05:
        reasons.append(f"it is not distinguishable from noise (q {chosen_now.q_value:.2g})")
    fell = (
        chosen_then is not None
        and np.isfinite(chosen_then.score)
        and chosen_then.score > 0
        and chosen_now.score < SCORE_KEEP * chosen_then.score
    )
    if fell:
        reasons.append(
            f"its score fell from {chosen_then.score:.3f} to {chosen_now.score:.3f} "
            f"(below {SCORE_KEEP:.0%} of the recorded score)"
        )
    if reasons:
        return "weakened", None, "Weakened: " + "; ".join(reasons) + "."
    return (
        "holds",
        None,
        (
            f"Holds: {chosen_now.name} ranks {chosen_now.rank} (score {chosen_now.score:.3f}, "
            f"C {chosen_now.c_index:.3f}, P(first) {_pct(chosen_now.p_first)})."
        ),
    )


def _pct(x) -> str:
    return "n/a" if x is None or x != x else f"{x:.0%}"


def _maybe(ranking: RankingResult, key: str) -> CandidateResult | None:
    try:
        return ranking.candidate(key)
    except KeyError:
        return None


def comparison_rows(decision: Decision, now: RankingResult) -> list[dict]:
    """Then vs now for the chosen metric, every rejected alternative, and the new leader."""
    then = RankingResult.from_dict(decision.evidence.ranking)
    keys = [decision.chosen_key] + [r.key for r in decision.rejected]
    if now.leader.key not in keys:
        keys.append(now.leader.key)
    rows = []
    for key in dict.fromkeys(keys):
        a, b = _maybe(then, key), _maybe(now, key)
        ref = b or a
        rows.append(
            {
                "key": key,
                "name": ref.name if ref else key,
                "role": "chosen"
                if key == decision.chosen_key
                else ("rejected" if any(r.key == key for r in decision.rejected) else "new leader"),
                **_side("then", a),
                **_side("now", b),
            }
        )
    return rows


def _side(prefix: str, c: CandidateResult | None) -> dict:
    fields = ("rank", "score", "c_index", "hazard_ratio", "hr_ci_low", "hr_ci_high",
              "revenue_rho", "q_value", "p_first")  # fmt: skip
    return {f"{prefix}_{f}": (getattr(c, f) if c else None) for f in fields}


def revalidate(decision: Decision, loaded, as_of=None, progress=None):
    """Re-run the recorded analysis on `loaded` (pipeline.LoadedData): (Revalidation, Analysis)."""
    from ..analysis import analyse

    settings = recorded_settings(decision, as_of)
    analysis = analyse(loaded, settings, progress)
    now = analysis.ranking
    v, by, summary = verdict(decision, now)
    reval = Revalidation(
        decision_id=int(decision.id) if decision.id is not None else 0,
        verdict=v,
        rule=RULE,
        summary=summary,
        comparison=comparison_rows(decision, now),
        fingerprint=loaded.fingerprint,
        settings=settings.to_dict(),
        ranking=now.to_dict(),
        overtaken_by=by,
    )
    from ..inputs.recheck import recheck_inputs  # each recorded input edge, re-checked

    reval.inputs = recheck_inputs(decision, analysis, loaded)
    return reval, analysis
