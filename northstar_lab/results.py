"""Result objects: small dataclasses with plain fields, serialised to JSON from one place.

The CLI's --json, the app's leaderboard and the decision record's evidence snapshot all read
these; `to_dict` / `from_dict` are the only (de)serialisers, and every record read back goes
through `from_dict`, so a field is read by name and type, never by `.get("x", default)`.
Records written by older versions load: missing fields take their defaults, unknown ones are
ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .candidates import Kind, thresholded_key
from .settings import AnalysisSettings


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf become null, NumPy scalars become Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        return jsonable(to_dict() if to_dict else dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def known_fields(cls, d: dict) -> dict:
    """The entries of `d` that are fields of dataclass `cls` (newer records may carry more)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def _nan_if_none(cls, d: dict) -> dict:
    """JSON null back to NaN for float fields that default to NaN (NaN is not JSON)."""
    floats = {
        f.name
        for f in dataclasses.fields(cls)
        if f.type == "float" and isinstance(f.default, float)
    }
    return {k: (float("nan") if v is None and k in floats else v) for k, v in d.items()}


@dataclass
class ThresholdFigures:
    """Every figure for one chosen k, measured on held-out users (METHODS §4).

    Retention is the share still active `horizon_days` after day W, with 95% CIs; ΔRMST in days
    retained out of the first `horizon_days` after W; revenue per user in the revenue horizon.
    """

    k: float
    n_test: int
    n_above: int
    share_above: float
    retention_above: float
    retention_above_ci: tuple[float, float]
    retention_below: float
    retention_below_ci: tuple[float, float]
    retention_difference: float
    retention_difference_p: float
    logrank_p: float
    rmst_above: float
    rmst_below: float
    rmst_difference: float
    rmst_difference_se: float
    revenue_above: float | None
    revenue_below: float | None
    horizon_days: float

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> ThresholdFigures:
        kw = known_fields(cls, d)
        for name in ("retention_above_ci", "retention_below_ci"):
            kw[name] = tuple(float("nan") if v is None else v for v in kw.get(name) or (None, None))
        nan = float("nan")
        return cls(**{f.name: nan for f in dataclasses.fields(cls)} | kw)


@dataclass
class CandidateResult:
    """Everything measured about one candidate (see README "Reading the leaderboard").

    hazard_ratio (and CI) is per 1 SD of the modelled variable; coef_per_unit is the log hazard
    ratio per unit of it (`transform` says what that is). c_index is Harrell's C of the
    predicted survival −β·x (lifelines' number: how well the candidate separates who stays, in
    the direction the Cox fit points, reported in `direction`). c_plus is the C of "more of x ⇒
    stays longer", fixed before looking at the data: the score uses it, so a candidate where
    more goes with churn scores below 0 on retention (METHODS §5.1). Threshold figures are from
    held-out users. `is_lifetime_total`, `is_guardrail` and `flags` are the verdicts of
    `ranking.flags`, set once by the ranking (a guardrail is a counter-metric: it never leads).
    """

    key: str
    name: str
    kind: str
    event: str | None
    column: str | None
    transform: str
    rank: int = 0
    score: float = float("nan")
    hazard_ratio: float = float("nan")
    hr_ci_low: float = float("nan")
    hr_ci_high: float = float("nan")
    coef_per_unit: float = float("nan")
    coef_se: float = float("nan")
    p_value: float = float("nan")
    p_method: str = "Wald"  # "likelihood ratio" under perfect separation (METHODS §3.1)
    hr_bound: str | None = None  # "upper"/"lower": hazard_ratio is a bound (separation)
    q_value: float = float("nan")
    c_index: float = float("nan")
    c_plus: float = float("nan")  # C of "more ⇒ stays longer" (the score's, METHODS §5.1)
    direction: str = ""
    revenue_rho: float | None = None
    revenue_rho_ci_low: float | None = None
    revenue_rho_ci_high: float | None = None
    p_first: float = float("nan")  # NaN when no bootstrap was run
    median_rank: float | None = None
    tied_with_leader: bool | None = None  # None: no stability information (bootstrap 0)
    score_ci_low: float | None = None  # 95% interval of the score from the stability draws
    score_ci_high: float | None = None
    threshold: float | None = None
    threshold_figures: ThresholdFigures | None = None
    evaluated_on: str = "all users"
    n: int = 0
    n_events: int = 0
    n_revenue: int = 0
    sd: float = float("nan")
    share_nonzero: float = float("nan")
    mean_raw: float = float("nan")
    n_imputed: int = 0  # users of this candidate's population whose missing value was filled
    window_verifiable: bool = True
    ph_test_p: float | None = None
    tenure_rho: float | None = None
    tenure_elasticity: float | None = None  # slope of log x on log tenure, users still active
    redundancy_group: int | None = None
    noise_level: bool = False
    is_lifetime_total: bool = False
    is_guardrail: bool = False  # more of it goes with more churn: watch it, don't grow it
    flags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: SE of the score over the rank-stability draws (None: none were made), METHODS §5.2
    score_se: float | None = None
    #: SE of (this score − that candidate's score) for each of the leading candidates, by key,
    #: from the same joint draws: what re-validation needs to judge a change in an advantage
    score_diff_se: dict[str, float] | None = None

    @property
    def held_out(self) -> bool:
        """Measured on held-out users only (a '≥ k' candidate, whose k was chosen on the rest)."""
        return self.evaluated_on == "held-out users"

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> CandidateResult:
        kw = _nan_if_none(cls, known_fields(cls, d))
        if kw.get("threshold_figures"):
            kw["threshold_figures"] = ThresholdFigures.from_dict(kw["threshold_figures"])
        res = cls(**kw)
        if not math.isfinite(res.p_first):  # no stability was measured: a tie is unknown
            res.tied_with_leader = None
        if "c_plus" not in d and math.isfinite(res.c_index):  # recorded before it existed
            res.c_plus = res.c_index if res.direction != "more is worse" else 1.0 - res.c_index
        if "is_guardrail" not in d or "is_lifetime_total" not in d or "flags" not in d:
            from .ranking.flags import flag_words, guardrail_verdict, lifetime_total_verdict

            if "is_lifetime_total" not in d:
                res.is_lifetime_total = lifetime_total_verdict(res.tenure_rho)  # ρ was all
            if "is_guardrail" not in d:  # a recorded verdict is kept as it was recorded
                res.is_guardrail = guardrail_verdict(res)
            if "flags" not in d:
                res.flags = flag_words(res)
        return res


@dataclass
class ThresholdPopulation:
    """Retention at the horizon on *all* users at/above vs below a leader's threshold."""

    key: str
    k: float
    n_above: int
    retention_above: float | None
    retention_below: float | None


@dataclass
class PopulationStatistics:
    """A leader's Cox, C and retention on *all* users, from the engine's survival cells.

    The ranking's own formulas on (day, value, churned) cells instead of users
    (`data/cells.py`); `cells` counts the rows that left the engine.
    """

    key: str
    column: str
    n: int
    n_events: int
    cells: int
    hazard_ratio: float  # per SD of the modelled variable
    hr_ci_low: float
    hr_ci_high: float
    coef_per_unit: float
    p_value: float
    c_index: float  # of the predicted survival −β·x, as the ranking reads it
    retention_at_horizon: float


@dataclass
class PopulationFigures:
    """Counts and retention on all users, when the statistics used a hash sample of them."""

    sample_fraction: float
    n_users: int
    n_churned: int
    retention_at_horizon: float | None
    by_threshold: list[ThresholdPopulation] = field(default_factory=list)
    statistics: list[PopulationStatistics] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict) -> PopulationFigures:
        kw = known_fields(cls, d)
        kw["by_threshold"] = [
            ThresholdPopulation(**known_fields(ThresholdPopulation, b))
            for b in kw.get("by_threshold", [])
        ]
        kw["statistics"] = [
            PopulationStatistics(**known_fields(PopulationStatistics, s))
            for s in kw.get("statistics", [])
        ]
        return cls(**kw)


@dataclass
class DataInfo:
    """What the ranking was computed on: as-of date, data fingerprint, sizes, method used."""

    as_of: str | None = None
    fingerprint: dict = field(default_factory=dict)
    n_frame: int = 0
    sample_fraction: float | None = None
    event_types: int | None = None
    signup_min: str | None = None
    signup_max: str | None = None
    stability_method: str | None = None
    population: PopulationFigures | None = None
    duration_unit: str | None = None  # a users table's duration unit; None = days
    horizon_days: float | None = None  # the horizon used (shortened to the follow-up if needed)
    # exact duplicate rows among the events that count; above 20M events an estimate from
    # every k-th user (the data warnings say so, METHODS §1.1)
    duplicate_events: int | None = None

    #: fields left out of the JSON when they do not apply (None), as before they were typed
    _OMIT_WHEN_NONE = ("sample_fraction", "event_types", "signup_min", "signup_max", "population",
                       "duration_unit", "horizon_days", "duplicate_events")  # fmt: skip

    def to_dict(self) -> dict:
        d = jsonable(dataclasses.asdict(self))
        return {k: v for k, v in d.items() if not (v is None and k in self._OMIT_WHEN_NONE)}

    @classmethod
    def from_dict(cls, d: dict) -> DataInfo:
        kw = known_fields(cls, d or {})
        if kw.get("population"):
            kw["population"] = PopulationFigures.from_dict(kw["population"])
        return cls(**kw)


@dataclass
class GapRun:
    """The ranking re-run with another inactivity gap (METHODS §1.5), every flag applied.

    top / top_names: the first five candidates to grow (guardrails and lifetime totals never
    count); ranks: every candidate's rank in that run, by key (effect sizes only, so there are
    no '≥ k' versions: `RankingResult.gap_moves` reads them through the count they threshold).
    """

    gap_days: int
    n_users: int | None = None
    n_churned: int | None = None
    top: list[str] = field(default_factory=list)
    top_names: list[str] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict:
        d = jsonable(dataclasses.asdict(self))
        if self.error is not None:
            return {"gap_days": self.gap_days, "error": self.error}
        return {k: v for k, v in d.items() if k != "error"}

    @classmethod
    def from_dict(cls, d: dict) -> GapRun:
        """Inverse of to_dict; records from before `ranks` existed load with none."""
        kw = known_fields(cls, d)
        kw["ranks"] = {str(k): int(v) for k, v in (kw.get("ranks") or {}).items()}
        return cls(**kw)


@dataclass
class GapMove:
    """One of the ranking's leaders and where it lands for each inactivity gap (None: not
    ranked in that run). `via` names the count a '≥ k' leader thresholds, whose rank is shown."""

    key: str
    name: str
    rank: int
    gap_ranks: dict[int, int | None]
    via: str | None = None


@dataclass
class ExcludedCandidate:
    """A candidate that could not be ranked, with the reason in words."""

    key: str
    name: str
    reason: str


@dataclass
class RankingResult:
    """A whole ranking: the population, the settings, the candidates ordered by rank (1 = best)."""

    n_users: int
    n_churned: int
    excluded: dict[str, int]
    settings: AnalysisSettings
    data: DataInfo
    candidates: list[CandidateResult]
    excluded_candidates: list[ExcludedCandidate] = field(default_factory=list)
    redundancy_groups: list[list[str]] = field(default_factory=list)
    gap_sensitivity: list[GapRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["settings"] = self.settings.to_dict()
        d["data"] = self.data.to_dict()
        return jsonable(d)

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)

    @classmethod
    def from_dict(cls, d: dict) -> RankingResult:
        kw = known_fields(cls, d)
        kw["settings"] = AnalysisSettings.from_dict(d.get("settings") or {})
        kw["data"] = DataInfo.from_dict(d.get("data") or {})
        kw["candidates"] = [CandidateResult.from_dict(c) for c in d.get("candidates", [])]
        kw["excluded_candidates"] = [
            ExcludedCandidate(**known_fields(ExcludedCandidate, c))
            for c in d.get("excluded_candidates", [])
        ]
        kw["gap_sensitivity"] = [GapRun.from_dict(g) for g in d.get("gap_sensitivity", [])]
        return cls(**kw)

    def candidate(self, key: str) -> CandidateResult:
        """The candidate with this key (or name)."""
        for c in self.candidates:
            if key in (c.key, c.name):
                return c
        raise KeyError(key)

    def find(self, key: str) -> CandidateResult | None:
        """The candidate with this key (or name), or None."""
        try:
            return self.candidate(key)
        except KeyError:
            return None

    @property
    def leader(self) -> CandidateResult:
        """The best candidate to grow: the first of `leaders`, or (when every candidate is a
        guardrail or a lifetime total, so none can be grown) the first in the ordering."""
        leaders = self.leaders
        return leaders[0] if leaders else self.candidates[0]

    def gap_moves(self, top: int = 5) -> list[GapMove]:
        """How the top `top` candidates to grow move for the inactivity gaps of
        `gap_sensitivity` (g = 7, 14, 28): what the CLI, the app and the export show."""
        runs = [g for g in self.gap_sensitivity if g.error is None]
        out = []
        for c in self.leaders[:top]:
            base = thresholded_key(c.key) if c.kind == Kind.AT_LEAST else None
            look = base or c.key
            ranks = {g.gap_days: g.ranks.get(look) for g in runs}
            out.append(GapMove(c.key, c.name, c.rank, ranks, via=base))
        return out

    @property
    def leaders(self) -> list[CandidateResult]:
        """Candidates that could be a North Star, best first: neither guardrails (more goes
        with churn) nor lifetime totals in disguise (METHODS §2, §5.1)."""
        return [c for c in self.candidates if not (c.is_guardrail or c.is_lifetime_total)]

    @property
    def guardrails(self) -> list[CandidateResult]:
        """Counter-metrics: more of them goes with more churn. Watch them, don't grow them;
        strongest first (METHODS §5.1)."""
        return [c for c in self.candidates if c.is_guardrail and not c.is_lifetime_total]

    @property
    def lifetime_totals(self) -> list[CandidateResult]:
        """Users-table columns that grow with tenure: ranked last, never a North Star (§2)."""
        return [c for c in self.candidates if c.is_lifetime_total]

    def score_diff_se(self, a: str, b: str) -> float | None:
        """SE of score(a) − score(b) from this ranking's joint stability draws, when recorded
        (one of the two is among the leading candidates whose differences are kept)."""
        ca, cb = self.find(a), self.find(b)
        if ca is None or cb is None:
            return None
        for x, y in ((ca, cb), (cb, ca)):
            if x.score_diff_se and y.key in x.score_diff_se:
                return x.score_diff_se[y.key]
        return None
