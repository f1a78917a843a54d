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
    predicted survival −β·x: the direction comes from the Cox sign and is reported in
    `direction`, never chosen as max(C, 1 − C). Threshold figures are from held-out users.
    `is_lifetime_total`, `is_guardrail` and `flags` are the verdicts of `ranking.flags`, set once
    by the ranking (a guardrail is a counter-metric: it can never lead, METHODS §5.1).
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
    q_value: float = float("nan")
    c_index: float = float("nan")
    direction: str = ""
    revenue_rho: float | None = None
    revenue_rho_ci_low: float | None = None
    revenue_rho_ci_high: float | None = None
    p_first: float = float("nan")  # NaN when no bootstrap was run
    median_rank: float | None = None
    tied_with_leader: bool | None = None  # None: no stability information (bootstrap 0)
    threshold: float | None = None
    threshold_figures: ThresholdFigures | None = None
    evaluated_on: str = "all users"
    n: int = 0
    n_events: int = 0
    n_revenue: int = 0
    sd: float = float("nan")
    share_nonzero: float = float("nan")
    mean_raw: float = float("nan")
    window_verifiable: bool = True
    ph_test_p: float | None = None
    tenure_rho: float | None = None
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
        if "is_lifetime_total" not in d or "flags" not in d:  # recorded before they existed
            from .ranking.flags import flag_words, lifetime_total_verdict

            res.is_lifetime_total = lifetime_total_verdict(res.tenure_rho)
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
class PopulationFigures:
    """Counts and retention on all users, when the statistics used a hash sample of them."""

    sample_fraction: float
    n_users: int
    n_churned: int
    retention_at_horizon: float | None
    by_threshold: list[ThresholdPopulation] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict) -> PopulationFigures:
        kw = known_fields(cls, d)
        kw["by_threshold"] = [
            ThresholdPopulation(**known_fields(ThresholdPopulation, b))
            for b in kw.get("by_threshold", [])
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

    #: fields left out of the JSON when they do not apply (None), as before they were typed
    _OMIT_WHEN_NONE = ("sample_fraction", "event_types", "signup_min", "signup_max", "population")

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
    """The top of the ranking re-run with another inactivity gap (METHODS §1.5)."""

    gap_days: int
    n_users: int | None = None
    n_churned: int | None = None
    top: list[str] = field(default_factory=list)
    top_names: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        d = jsonable(dataclasses.asdict(self))
        if self.error is not None:
            return {"gap_days": self.gap_days, "error": self.error}
        return {k: v for k, v in d.items() if k != "error"}


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
        kw["gap_sensitivity"] = [
            GapRun(**known_fields(GapRun, g)) for g in d.get("gap_sensitivity", [])
        ]
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
        return self.candidates[0]

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
