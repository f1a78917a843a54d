"""What a decision record holds: the chosen North Star, why, what lost and why, who signed.

Plain dataclasses; `to_dict`/`from_dict` are the only (de)serialisers, used by the store, the
exports and the app. The evidence snapshot carries everything the rationale page and the exports
draw, so they render without the original data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..results import jsonable

CADENCES = ("monthly", "quarterly", "milestone")
INPUT_KINDS = ("breadth", "depth", "frequency", "efficiency")
VERDICTS = ("holds", "weakened", "overtaken")


@dataclass
class MetricDefinition:
    """The chosen metric in words a whole company can use."""

    name: str
    meaning: str = ""  # one sentence, plain language
    numerator: str = ""
    denominator: str = ""
    time_window: str = ""
    exclusions: str = ""
    owner: str = ""
    baseline: str = ""
    target: str = ""
    review_cadence: str = "quarterly"  # monthly | quarterly | milestone
    milestone: str = ""  # when review_cadence == 'milestone': e.g. "Series B close"


@dataclass
class InputMetric:
    """A driver of the North Star the teams can move (breadth, depth, frequency, efficiency).

    key: the measured input (`northstar_lab.inputs`: 'count:goal_set', 'share:a/b', …); empty
    for an input written in words only (every record before input evidence existed).
    target_low / target_high: the target range, in the input's own units (per new user in the
    window). evidence: `InputEvidence.to_dict()` — the lead of this input on the North Star as
    measured when it was recorded (empty when it was not measured).
    """

    name: str
    kind: str = "depth"
    owner: str = ""
    definition: str = ""
    key: str = ""
    target_low: float | None = None
    target_high: float | None = None
    evidence: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> InputMetric:
        """From a record or a table row: text fields as text, targets as numbers or None."""
        kw = _known(cls, d)
        for k in ("name", "kind", "owner", "definition", "key"):
            if k in kw:
                kw[k] = "" if kw[k] is None or kw[k] != kw[k] else str(kw[k])
        if not kw.get("kind"):
            kw.pop("kind", None)  # a blank kind takes the default
        for k in ("target_low", "target_high"):
            kw[k] = _number_or_none(kw.get(k))
        kw["evidence"] = dict(kw.get("evidence") or {})
        return cls(**kw)


@dataclass
class RejectedAlternative:
    """A candidate that lost, with the reason in words and the numbers behind it."""

    key: str
    name: str
    reason: str
    evidence: dict = field(default_factory=dict)


@dataclass
class SignOff:
    name: str
    role: str = ""


@dataclass
class EvidenceSnapshot:
    """The analysis as it was: settings, data fingerprint, leaderboard and chart data.

    ranking: `RankingResult.to_dict()`; charts: chart name → list of row dicts (the data behind
    each chart, rebuilt into Altair charts by `charts.py`); rubric: the workshop scores.
    """

    settings: dict
    fingerprint: dict
    ranking: dict
    charts: dict = field(default_factory=dict)
    rubric: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # InputsResult.summary_dict(): the inputs analysis


@dataclass
class Decision:
    """A recorded North Star decision. id/version/created_at are set by the store."""

    title: str
    chosen_key: str
    definition: MetricDefinition
    rationale: str
    rejected: list[RejectedAlternative]
    evidence: EvidenceSnapshot
    input_metrics: list[InputMetric] = field(default_factory=list)
    sign_offs: list[SignOff] = field(default_factory=list)
    created_by: str = ""
    id: int | None = None
    version: int = 1
    supersedes: int | None = None
    created_at: str | None = None
    amendment_note: str = ""

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> Decision:
        d = dict(d)
        d["definition"] = MetricDefinition(**_known(MetricDefinition, d["definition"]))
        d["rejected"] = [
            RejectedAlternative(**_known(RejectedAlternative, r)) for r in d["rejected"]
        ]
        d["evidence"] = EvidenceSnapshot(**_known(EvidenceSnapshot, d["evidence"]))
        d["input_metrics"] = [InputMetric.from_dict(m) for m in d.get("input_metrics", [])]
        d["sign_offs"] = [SignOff(**_known(SignOff, s)) for s in d.get("sign_offs", [])]
        return cls(**_known(cls, d))


@dataclass
class Standing:
    """Where one candidate stood in one ranking (the decision's, or the re-run's)."""

    rank: int | None = None
    score: float | None = None
    c_index: float | None = None
    hazard_ratio: float | None = None
    hr_ci_low: float | None = None
    hr_ci_high: float | None = None
    revenue_rho: float | None = None
    p_first: float | None = None  # None: no stability resamples
    tied_with_leader: bool | None = None  # None: unknown (no stability resamples)

    @classmethod
    def from_dict(cls, d: dict | None) -> Standing | None:
        return None if d is None else cls(**_known(cls, d))


@dataclass
class ComparisonRow:
    """One candidate then (at the decision) vs now, as the re-validation judged it (METHODS §5.6).

    then / now: where it stood in each ranking (None: not in that ranking). What the verdict
    compares is `quantity`: for the chosen metric its "score"; for any other candidate its
    "advantage", its score minus the chosen metric's in the same ranking (> 0 = ahead of it).
    value_then / value_now are that quantity, `change` = value_now − value_then, with its standard
    error and the interval the rule used (`ci_level`: 0.99 for the chosen metric; for
    alternatives the Bonferroni per-comparison level, so their intervals hold simultaneously at
    99%). `significant` is None when no uncertainty was measured; `finding` says the judgement
    in words; `uncertainty` names any approximation behind the SE.
    """

    key: str
    name: str = ""
    role: str = ""  # chosen | twin | rejected | new leader | then leader | alternative
    then: Standing | None = None
    now: Standing | None = None
    quantity: str = "score"  # score | advantage
    value_then: float | None = None
    value_now: float | None = None
    change: float | None = None
    change_se: float | None = None
    change_ci_low: float | None = None
    change_ci_high: float | None = None
    ci_level: float | None = None
    significant: bool | None = None
    finding: str = ""
    uncertainty: str = ""

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> ComparisonRow:
        kw = _known(cls, d)
        for side in ("then", "now"):
            if isinstance(kw.get(side), dict) or kw.get(side) is None:
                kw[side] = Standing.from_dict(kw.get(side) or _legacy_side(d, side))
        return cls(**kw)


def _legacy_side(d: dict, side: str) -> dict | None:
    """A row recorded before `ComparisonRow` existed kept {"then_rank": …, "now_score": …}."""
    prefix = f"{side}_"
    kw = {k[len(prefix) :]: v for k, v in d.items() if k.startswith(prefix)}
    return kw if any(v is not None for v in kw.values()) else None


@dataclass
class Revalidation:
    """One re-run of a decision's analysis on newer data, with its verdict and the rule used.

    comparison: the chosen metric, its near-duplicates, the rejected alternatives and the
    leaders, then vs now (`ComparisonRow`). same_data: the data fingerprint and as-of date equal
    the decision's (None: recorded before this was checked). twins: keys of the chosen metric's
    redundancy group (never said to overtake it). level: the verdict's interval level.
    uncertainty: how the standard errors of the changes were obtained, in words.
    """

    decision_id: int
    verdict: str  # holds | weakened | overtaken
    rule: str
    summary: str
    comparison: list[ComparisonRow]
    fingerprint: dict
    settings: dict
    ranking: dict
    overtaken_by: str | None = None
    id: int | None = None
    run_at: str | None = None
    same_data: bool | None = None
    twins: list[str] = field(default_factory=list)
    level: float | None = None
    uncertainty: str = ""
    inputs: list[dict] = field(default_factory=list)  # inputs.recheck: one row per input edge

    def __post_init__(self) -> None:
        self.comparison = [
            ComparisonRow.from_dict(r) if isinstance(r, dict) else r for r in self.comparison
        ]

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> Revalidation:
        return cls(**_known(cls, d))


def _number_or_none(value) -> float | None:
    """A finite number, or None for blanks, NaN and text that is not a number."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if x == x and abs(x) != float("inf") else None


def _known(cls, d: dict) -> dict:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in d.items() if k in names}
