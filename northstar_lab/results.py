"""Result objects: small dataclasses with plain fields, serialised to JSON from one place.

The CLI's --json, the app's leaderboard and the decision record's evidence snapshot all read
these; `to_dict` / `from_dict` are the only (de)serialisers.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any


def jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf become null, NumPy scalars become Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
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


@dataclass
class CandidateResult:
    """Everything measured about one candidate (see README "Reading the leaderboard").

    hazard_ratio (and CI) is per 1 SD of the modelled variable; coef_per_unit is the log hazard
    ratio per unit of it (`transform` says what that is). c_index is Harrell's C of the
    predicted survival −β·x: the direction comes from the Cox sign and is reported in
    `direction`, never chosen as max(C, 1 − C). Threshold figures are from held-out users.
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
    tied_with_leader: bool = False
    threshold: float | None = None
    threshold_figures: dict | None = None
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
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return jsonable(self)

    @classmethod
    def from_dict(cls, d: dict) -> CandidateResult:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: (float("nan") if v is None and _is_float_field(k) else v) for k, v in d.items()}
        return cls(**{k: v for k, v in kw.items() if k in names})


_FLOAT_FIELDS = {
    f.name
    for f in dataclasses.fields(CandidateResult)
    if f.type == "float" and isinstance(f.default, float)
}


def _is_float_field(name: str) -> bool:
    return name in _FLOAT_FIELDS


@dataclass
class RankingResult:
    """A whole ranking: the population, the settings, the candidates ordered by rank (1 = best)."""

    n_users: int
    n_churned: int
    excluded: dict[str, int]
    settings: dict
    data: dict
    candidates: list[CandidateResult]
    excluded_candidates: list[dict] = field(default_factory=list)
    redundancy_groups: list[list[str]] = field(default_factory=list)
    gap_sensitivity: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = jsonable(dataclasses.asdict(self))
        d["candidates"] = [c.to_dict() for c in self.candidates]
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)

    @classmethod
    def from_dict(cls, d: dict) -> RankingResult:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["candidates"] = [CandidateResult.from_dict(c) for c in d.get("candidates", [])]
        return cls(**kw)

    def candidate(self, key: str) -> CandidateResult:
        """The candidate with this key (or name)."""
        for c in self.candidates:
            if key in (c.key, c.name):
                return c
        raise KeyError(key)

    @property
    def leader(self) -> CandidateResult:
        return self.candidates[0]
