"""The selection workshop: qualitative rubric, combined ordering, and words for the decision.

Evidence alone cannot choose a North Star: the seeds' qualitative criteria (reflects customer
value, leads revenue, actionable, understandable, hard to game) are scored 1–5 by the team. The
combined ordering is shown with its arithmetic so nobody has to trust a black box.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..candidates import Kind
from ..results import CandidateResult, RankingResult
from .model import (
    Decision,
    EvidenceSnapshot,
    InputMetric,
    MetricDefinition,
    RejectedAlternative,
    SignOff,
)

CRITERIA = {
    "customer_value": ("Reflects customer value", "Moves when customers get the product's value"),
    "leads_revenue": ("Leads revenue", "Rises before revenue does, not after"),
    "actionable": ("Actionable by the team", "Teams can move it with their own work"),
    "understandable": ("Understandable by everyone", "Anyone can explain it in one sentence"),
    "hard_to_game": ("Hard to game", "Pushing it up without adding value is hard"),
}
DEFAULT_CRITERIA_WEIGHTS = {k: 1.0 for k in CRITERIA}
DEFAULT_EVIDENCE_WEIGHT = 0.5


def default_shortlist(ranking: RankingResult, size: int = 4) -> list[str]:
    """The best candidates, one per redundancy group, skipping noise-level and lifetime traps."""
    keys, groups = [], set()
    for c in ranking.candidates:
        if c.noise_level or c.is_lifetime_total:
            continue
        if c.redundancy_group is not None:
            if c.redundancy_group in groups:
                continue
            groups.add(c.redundancy_group)
        keys.append(c.key)
        if len(keys) == size:
            break
    return keys or [c.key for c in ranking.candidates[:size]]


def default_rubric(ranking: RankingResult, keys: list[str]) -> pd.DataFrame:
    """One row per shortlisted candidate, every criterion at a neutral 3."""
    rows = [{"key": k, "candidate": ranking.candidate(k).name} for k in keys]
    df = pd.DataFrame(rows, columns=["key", "candidate"])
    for crit in CRITERIA:
        df[crit] = 3
    return df


def sync_rubric(rubric: pd.DataFrame, ranking: RankingResult, keys: list[str]) -> pd.DataFrame:
    """Rubric rows for the current shortlist, keeping every score already entered."""
    fresh = default_rubric(ranking, keys)
    if rubric is None or rubric.empty:
        return fresh
    kept = rubric.set_index("key")
    for i, key in enumerate(fresh["key"]):
        if key in kept.index:
            for crit in CRITERIA:
                fresh.loc[i, crit] = kept.loc[key, crit]
    return fresh


def combined_ordering(
    ranking: RankingResult,
    rubric: pd.DataFrame,
    criteria_weights: dict[str, float] | None = None,
    evidence_weight: float = DEFAULT_EVIDENCE_WEIGHT,
) -> pd.DataFrame:
    """Evidence and rubric on one 0–1 scale, combined with stated weights.

    evidence (0–1) = the candidate's score ÷ the best score on the shortlist (negative → 0);
    rubric (0–1) = (weighted mean of 1–5 scores − 1) ÷ 4;
    combined = evidence_weight·evidence + (1 − evidence_weight)·rubric.
    """
    cw = {**DEFAULT_CRITERIA_WEIGHTS, **(criteria_weights or {})}
    total_w = sum(max(w, 0.0) for w in cw.values()) or 1.0
    df = rubric.copy()
    scores = np.array([ranking.candidate(k).score for k in df["key"]], dtype=float)
    best = np.nanmax(scores) if len(scores) and np.nanmax(scores) > 0 else 1.0
    df["evidence_score"] = scores
    df["evidence"] = np.clip(np.nan_to_num(scores / best), 0, 1)
    crit = df[list(CRITERIA)].astype(float).clip(1, 5)
    df["rubric_mean"] = sum(crit[c] * max(cw[c], 0.0) for c in CRITERIA) / total_w
    df["rubric"] = (df["rubric_mean"] - 1) / 4
    w = float(np.clip(evidence_weight, 0, 1))
    df["combined"] = w * df["evidence"] + (1 - w) * df["rubric"]
    df = df.sort_values("combined", ascending=False, kind="stable").reset_index(drop=True)
    df["order"] = np.arange(1, len(df) + 1)
    return df


def rejection_reason(
    alt: CandidateResult, chosen: CandidateResult, rubric_row=None, chosen_rubric_row=None
) -> str:
    """Why `alt` lost to `chosen`, in words with numbers, pre-filled for the facilitator."""
    reasons = []
    if alt.noise_level:
        reasons.append(f"not distinguishable from noise (q {alt.q_value:.2g})")
    if alt.is_lifetime_total:
        reasons.append(f"a lifetime total in disguise (ρ {alt.tenure_rho:.2f} with tenure)")
    if alt.redundancy_group is not None and alt.redundancy_group == chosen.redundancy_group:
        reasons.append(f"redundant with {chosen.name} (|ρ| ≥ 0.9)")
    if alt.c_index < chosen.c_index - 0.005:
        reasons.append(f"weaker retention signal: C {alt.c_index:.2f} vs {chosen.c_index:.2f}")
    if alt.revenue_rho is not None:
        if abs(alt.revenue_rho) < 0.05:
            reasons.append(f"no revenue association (ρ {alt.revenue_rho:.2f})")
        elif chosen.revenue_rho is not None and alt.revenue_rho < chosen.revenue_rho - 0.02:
            reasons.append(
                f"weaker revenue association: ρ {alt.revenue_rho:.2f} vs {chosen.revenue_rho:.2f}"
            )
    if rubric_row is not None and chosen_rubric_row is not None:
        a, c = float(rubric_row["rubric_mean"]), float(chosen_rubric_row["rubric_mean"])
        if a < c - 0.05:
            reasons.append(f"scored lower in the workshop rubric ({a:.1f} vs {c:.1f} of 5)")
    if not reasons:
        reasons.append(
            f"evidence comparable (score {alt.score:.3f} vs {chosen.score:.3f}); the workshop "
            "preferred the chosen metric"
        )
    text = "; ".join(reasons)
    return text[0].upper() + text[1:]


def rejected_alternatives(
    ranking: RankingResult, chosen_key: str, keys: list[str], ordering: pd.DataFrame | None = None
) -> list[RejectedAlternative]:
    """Every other shortlisted candidate with a pre-filled reason and its key numbers."""
    chosen = ranking.candidate(chosen_key)
    rows = {} if ordering is None else {r["key"]: r for _, r in ordering.iterrows()}
    out = []
    for key in keys:
        if key == chosen_key:
            continue
        alt = ranking.candidate(key)
        out.append(
            RejectedAlternative(
                key=key,
                name=alt.name,
                reason=rejection_reason(alt, chosen, rows.get(key), rows.get(chosen_key)),
                evidence=evidence_numbers(alt),
            )
        )
    return out


def evidence_numbers(c: CandidateResult) -> dict:
    """The few numbers a rejected alternative carries in the record."""
    return {
        "rank": c.rank,
        "score": c.score,
        "c_index": c.c_index,
        "hazard_ratio": c.hazard_ratio,
        "hr_ci_low": c.hr_ci_low,
        "hr_ci_high": c.hr_ci_high,
        "revenue_rho": c.revenue_rho,
        "q_value": c.q_value,
        "p_first": c.p_first,
    }


def evidence_summary(ranking: RankingResult, chosen_key: str) -> str:
    """A plain-language paragraph of the evidence for the chosen metric (editable rationale)."""
    c = ranking.candidate(chosen_key)
    n_c = len(ranking.candidates)
    parts = [
        f"Among {n_c} candidate metrics measured in each user's first "
        f"{ranking.settings.window_days} days, {c.name} ranked {c.rank} "
        f"(score {c.score:.3f}).",
        f"Each standard deviation more went with a hazard of churning {c.hazard_ratio:.2f}× "
        f"(95% CI {c.hr_ci_low:.2f}–{c.hr_ci_high:.2f}; concordance {c.c_index:.2f}) among "
        f"{ranking.n_users:,} users, {ranking.n_churned:,} of whom churned.",
    ]
    if c.revenue_rho is not None:
        ci = ""
        if c.revenue_rho_ci_low is not None:
            ci = f" (95% CI {c.revenue_rho_ci_low:.2f}–{c.revenue_rho_ci_high:.2f})"
        parts.append(f"It is associated with later revenue: Spearman ρ {c.revenue_rho:.2f}{ci}.")
    f = c.threshold_figures
    if f:
        parts.append(
            f"On held-out users, those reaching {f.k:g} ({f.share_above:.0%} of them) were "
            f"still active {f.horizon_days:g} days after the window {f.retention_above:.0%} "
            f"of the time vs {f.retention_below:.0%} for the rest."
        )
    if c.p_first == c.p_first:  # NaN when no bootstrap was run
        parts.append(f"It ranked first in {c.p_first:.0%} of bootstrap resamples.")
    parts.append(
        "This is an association, not proof that moving the metric causes retention; confirm "
        "levers by experiment."
    )
    return " ".join(parts)


def definition_defaults(c: CandidateResult, window_days: int) -> dict:
    """Pre-filled definition fields for the chosen metric (edited by the facilitator)."""
    thing = c.event or c.column or c.name
    if c.kind == Kind.AT_LEAST and c.threshold is not None:
        numerator = f"New users who did {thing} at least {c.threshold:g} times in their first "
        numerator += f"{window_days} days"
        denominator = f"New users who signed up at least {window_days} days ago"
        meaning = f"Share of new users who reach {c.threshold:g}× {thing} in their first "
        meaning += f"{window_days} days."
    else:
        numerator = f"{c.name} (per new user)"
        denominator = f"New users who signed up at least {window_days} days ago"
        meaning = f"How much {thing} a new user does in their first {window_days} days."
    return {
        "name": c.name,
        "meaning": meaning,
        "numerator": numerator,
        "denominator": denominator,
        "time_window": f"First {window_days} days after signup, reported weekly by signup week",
        "exclusions": "Test and internal accounts",
    }


def evidence_snapshot(
    analysis,
    chosen_key: str,
    rejected_keys: list[str],
    rubric: pd.DataFrame | None = None,
    criteria_weights: dict[str, float] | None = None,
    evidence_weight: float = DEFAULT_EVIDENCE_WEIGHT,
    participants: list[dict] | None = None,
) -> EvidenceSnapshot:
    """Everything a decision record needs to render without the data: settings, fingerprint,
    the leaderboard, the data behind its charts and the workshop's scores.

    rubric.scores holds the scores the combined ordering used (the team's medians when people
    scored); rubric.participants every participant's own scores ([{"name", "scores": {key:
    {criterion: score}}}]), so the record keeps who thought what."""
    from ..evidence import snapshot as evidence

    ranking = analysis.ranking
    snapshot_rubric = {}
    if rubric is not None:
        ordering = combined_ordering(ranking, rubric, criteria_weights, evidence_weight)
        snapshot_rubric = {
            "scores": rubric.to_dict("records"),
            "criteria_weights": {**DEFAULT_CRITERIA_WEIGHTS, **(criteria_weights or {})},
            "evidence_weight": evidence_weight,
            "ordering": ordering[["key", "candidate", "evidence", "rubric", "combined"]].to_dict(
                "records"
            ),
        }
        if participants:
            snapshot_rubric["participants"] = [
                {"name": str(p["name"]), "scores": p["scores"]} for p in participants
            ]
    return EvidenceSnapshot(
        settings=ranking.settings.to_dict(),
        fingerprint=ranking.data.fingerprint,
        ranking=ranking.to_dict(),
        charts=evidence.snapshot_charts(analysis, [chosen_key, *rejected_keys]),
        rubric=snapshot_rubric,
    )


def build_decision(
    analysis,
    *,
    chosen_key: str,
    shortlist: list[str],
    title: str,
    definition: dict,
    rationale: str,
    reasons: dict[str, str],
    input_metrics: list[dict] = (),
    sign_offs: list[dict] = (),
    rubric: pd.DataFrame | None = None,
    criteria_weights: dict[str, float] | None = None,
    evidence_weight: float = DEFAULT_EVIDENCE_WEIGHT,
    participants: list[dict] | None = None,
    created_by: str = "",
) -> Decision:
    """The decision record from what the workshop entered: the chosen metric, its definition,
    every other shortlisted candidate as a rejected alternative with the reason given (or the
    pre-filled one), input metrics and sign-offs (blank rows dropped), and the evidence snapshot.
    """
    ordering = None
    if rubric is not None:
        ordering = combined_ordering(analysis.ranking, rubric, criteria_weights, evidence_weight)
    rejected = rejected_alternatives(analysis.ranking, chosen_key, shortlist, ordering)
    for r in rejected:
        r.reason = str(reasons.get(r.key) or r.reason).strip()
    fields = {f.name for f in dataclasses.fields(MetricDefinition)}
    return Decision(
        title=title.strip(),
        chosen_key=chosen_key,
        definition=MetricDefinition(
            **{k: str(v or "") for k, v in definition.items() if k in fields}
        ),
        rationale=rationale,
        rejected=rejected,
        evidence=evidence_snapshot(
            analysis,
            chosen_key,
            [r.key for r in rejected],
            rubric=rubric,
            criteria_weights=criteria_weights,
            evidence_weight=evidence_weight,
            participants=participants,
        ),
        created_by=created_by,
        input_metrics=[
            InputMetric(**{k: str(m.get(k) or "") for k in ("name", "kind", "owner", "definition")})
            for m in input_metrics
            if str(m.get("name") or "").strip()
        ],
        sign_offs=[
            SignOff(name=str(s["name"]).strip(), role=str(s.get("role") or ""))
            for s in sign_offs
            if str(s.get("name") or "").strip()
        ],
    )


# ---- the rubric as people score it ------------------------------------------------------------


def rubric_frame(
    ranking: RankingResult, keys: list[str], scores: dict[str, dict[str, float]] | None = None
) -> pd.DataFrame:
    """The rubric table `combined_ordering` reads: one row per key (key, candidate, one column
    per criterion), from {key: {criterion: score}}; criteria nobody scored are a neutral 3."""
    df = default_rubric(ranking, keys).astype({c: float for c in CRITERIA})
    for i, key in enumerate(df["key"]):
        for crit, value in (scores or {}).get(key, {}).items():
            if crit in CRITERIA:
                df.loc[i, crit] = float(value)
    return df


@dataclass
class Disagreement:
    """One (candidate, criterion) cell where the team's scores differ most."""

    key: str
    candidate: str
    criterion: str
    label: str
    low: int
    high: int
    spread: int
    lowest: list[str]
    highest: list[str]


@dataclass
class TeamRubric:
    """Every participant's scores, combined: the median per cell (the combined ordering uses
    it), the spread (highest − lowest score) and the cells with the widest disagreement.

    people: participant name → {key: {criterion: score}}; median/spread: rubric frames (key,
    candidate, criteria); n_scored: how many people scored each cell (frame of the same shape).
    """

    people: dict[str, dict[str, dict[str, int]]]
    median: pd.DataFrame
    spread: pd.DataFrame
    n_scored: pd.DataFrame
    disagreements: list[Disagreement]

    def people_frame(self) -> pd.DataFrame:
        """Long table: participant, key, candidate, then one column per criterion (blank =
        not scored yet)."""
        names = dict(zip(self.median["key"], self.median["candidate"], strict=True))
        rows = []
        for person, scores in self.people.items():
            for key in self.median["key"]:
                row = scores.get(key, {})
                rows.append(
                    {"participant": person, "key": key, "candidate": names[key],
                     **{c: row.get(c) for c in CRITERIA}}
                )  # fmt: skip
        return pd.DataFrame(rows, columns=["participant", "key", "candidate", *CRITERIA])

    def to_record(self) -> list[dict]:
        """Every participant's scores as the decision record keeps them."""
        return [{"name": n, "scores": s} for n, s in self.people.items()]


def team_rubric(
    ranking: RankingResult,
    keys: list[str],
    people: dict[str, dict[str, dict[str, float]]],
    top: int = 3,
) -> TeamRubric:
    """Combine participants' rubric scores (see `TeamRubric`).

    Cells no one scored are a neutral 3 with spread 0. Disagreements: cells scored by at least
    two people whose spread is ≥ 2 points, widest first (ties: more people, then rank order),
    at most `top`.
    """
    base = default_rubric(ranking, keys)
    median, spread, count = base.copy(), base.copy(), base.copy()
    cells = []
    for i, key in enumerate(base["key"]):
        for crit in CRITERIA:
            given = {p: s[key][crit] for p, s in people.items() if crit in s.get(key, {})}
            values = np.array(list(given.values()), dtype=float)
            median.loc[i, crit] = float(np.median(values)) if values.size else 3.0
            spread.loc[i, crit] = int(np.ptp(values)) if values.size else 0
            count.loc[i, crit] = int(values.size)
            if values.size >= 2 and np.ptp(values) >= 2:
                lo, hi = int(values.min()), int(values.max())
                cells.append(
                    Disagreement(
                        key=key,
                        candidate=base.loc[i, "candidate"],
                        criterion=crit,
                        label=CRITERIA[crit][0],
                        low=lo,
                        high=hi,
                        spread=hi - lo,
                        lowest=sorted(p for p, v in given.items() if v == lo),
                        highest=sorted(p for p, v in given.items() if v == hi),
                    )
                )
    order = {k: i for i, k in enumerate(keys)}
    cells.sort(key=lambda d: (-d.spread, -(len(d.lowest) + len(d.highest)), order[d.key]))
    clean = {p: {k: dict(v) for k, v in s.items() if k in order} for p, s in people.items()}
    median = median.astype({c: float for c in CRITERIA})
    return TeamRubric(clean, median, spread, count, cells[:top])


# ---- the record form: pre-filled words, what is required ---------------------------------------


def prefilled_fields(analysis, chosen_key: str) -> dict[str, str]:
    """The record form's pre-filled text for the chosen metric, from the current analysis:
    title, the definition's words and the rationale (see `session.PREFILLED`)."""
    ranking = analysis.ranking
    c = ranking.candidate(chosen_key)
    d = definition_defaults(c, analysis.settings.window_days)
    return {
        "title": f"North Star: {c.name}",
        **{
            k: d[k]
            for k in ("name", "meaning", "numerator", "denominator", "time_window", "exclusions")
        },  # fmt: skip
        "rationale": evidence_summary(ranking, chosen_key),
    }


REQUIRED = {
    "title": "a decision title",
    "name": "the metric's name",
    "owner": "an owner (who answers for the metric)",
    "baseline": "the current baseline (where the metric is today)",
    "target": "a target (where it should be, and by when)",
}


def record_problems(values: dict[str, str], sign_offs: list[dict]) -> list[str]:
    """What is missing before a workshop decision can be recorded, in words (empty = ready).

    A North Star without an owner, a baseline → target or anyone signing off is a wish, not a
    decision: all three are required here (the store itself only checks the record's shape).
    """
    missing = [what for f, what in REQUIRED.items() if not str(values.get(f) or "").strip()]
    milestone = str(values.get("milestone") or "").strip()
    if values.get("review_cadence") == "milestone" and not milestone:
        missing.append("the milestone that triggers the review")
    if not any(str(s.get("name") or "").strip() for s in sign_offs):
        missing.append("at least one sign-off (a name)")
    half = [
        i + 1
        for i, s in enumerate(sign_offs)
        if str(s.get("role") or "").strip() and not str(s.get("name") or "").strip()
    ]
    problems = [f"Missing: {', '.join(missing)}."] if missing else []
    if half:
        problems.append(f"Sign-off row {', '.join(map(str, half))} has a role but no name.")
    return problems


def amended(
    decision: Decision, definition: dict[str, str], rationale: str, reasons: dict[str, str]
) -> Decision:
    """A recorded decision with new words: definition fields, rationale and the reasons of its
    rejected alternatives (by key; blank keeps the old reason). Nothing else changes; the store
    records it as the next version (`DecisionStore.amend`)."""
    fields = {f.name for f in dataclasses.fields(MetricDefinition)}
    return dataclasses.replace(
        decision,
        definition=dataclasses.replace(
            decision.definition, **{k: str(v).strip() for k, v in definition.items() if k in fields}
        ),
        rationale=rationale,
        rejected=[
            dataclasses.replace(r, reason=str(reasons.get(r.key) or r.reason).strip())
            for r in decision.rejected
        ],
    )
