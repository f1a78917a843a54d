"""The inputs analysis as typed results, serialised to JSON from one place (`to_dict`/`from_dict`).

`InputEvidence` is one edge of the tree (one input's evidence); its `to_dict()` is what the CLI
writes per input and what a decision record keeps in `InputMetric.evidence`. `InputsResult` is the
whole analysis: the North Star as measured, every input's evidence, the cohort rows, the weekly
series and the experiments.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from ..results import jsonable, known_fields

#: the fields of an InputEvidence that the CLI's JSON promises (issue 13), in this order
CONTRACT_FIELDS = (
    "name",
    "kind",
    "owner",
    "lead_effect",
    "lead_ci_low",
    "lead_ci_high",
    "q_value",
    "cohort_i2",
    "same_sign_share",
    "lag_corr",
    "experiments_n",
    "experiment_corr",
    "verdict",
)


def _nan(x):
    return float("nan") if x is None else x


@dataclass
class InputEvidence:
    """One input's evidence that it leads the North Star (METHODS §9).

    lead_*: incremental effect, log(1 + later North Star) per SD of the input given the North
    Star's early level, HC1 95% CI; marginal_*: the same without the early level. cohort_*:
    inverse-variance pooling over signup months. lag_*: weekly product-level corr(Δlog input_t,
    Δlog NS_{t+1}) with its block-bootstrap CI. experiment_*: noise-corrected correlation of
    effects over experiment arms. verdict / experiment_verdict / edge: codes (`verdict.py`).
    """

    key: str
    name: str
    kind: str
    owner: str = ""
    definition: str = ""
    target_low: float | None = None
    target_high: float | None = None
    measure: str = ""
    transform: str = ""
    baseline_mean: float = float("nan")  # mean per user in the window (the users analysed)
    n_users: int = 0
    lead_effect: float = float("nan")
    lead_se: float = float("nan")
    lead_ci_low: float = float("nan")
    lead_ci_high: float = float("nan")
    p_value: float = float("nan")
    q_value: float = float("nan")
    marginal_effect: float = float("nan")
    marginal_ci_low: float = float("nan")
    marginal_ci_high: float = float("nan")
    marginal_q: float = float("nan")
    cohort_pooled: float = float("nan")
    cohort_i2: float = float("nan")
    same_sign_share: float = float("nan")
    n_cohorts: int = 0
    sign_flip: bool = False
    lag_corr: float | None = None
    lag_ci_low: float | None = None
    lag_ci_high: float | None = None
    lag_weeks: int = 0
    experiments_n: int = 0
    experiment_corr: float | None = None
    experiment_ci_low: float | None = None
    experiment_ci_high: float | None = None
    experiment_raw_corr: float | None = None
    experiment_slope: float | None = None
    experiment_moved_p: float | None = None
    verdict: str = "not_linked"
    experiment_verdict: str = "untested"
    edge: str = "none"
    verdict_text: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> InputEvidence:
        kw = known_fields(cls, d)
        for f in dataclasses.fields(cls):
            if f.type == "float" and f.name in kw:
                kw[f.name] = _nan(kw[f.name])
        return cls(**kw)

    def contract(self) -> dict:
        """The CLI's per-input fields first, then everything else."""
        d = self.to_dict()
        return {**{k: d[k] for k in CONTRACT_FIELDS}, **d}


@dataclass
class InputsResult:
    """The inputs analysis of one North Star (see the module docstring).

    weekly: {"rows": one per week (week_start, north_star, users, per_user, one column per
    input key), "lags": (key, lag, corr, ci_low, ci_high, n_weeks), "decomposition": (week,
    north_star, change, from_users, from_per_user)}. experiments: {"arms": ArmEffect rows,
    "correlations": EffectCorrelation rows, "n_assignments", "left_out", "notes"}.
    """

    north_star_key: str
    north_star: dict  # InputSpec.to_dict() of the North Star as measured
    window_days: int
    horizon_days: int
    as_of: str
    n_users: int
    excluded: dict[str, int]
    north_star_early_mean: float
    north_star_later_mean: float
    inputs: list[InputEvidence]
    cohorts: list[dict] = field(default_factory=list)
    weekly: dict = field(default_factory=dict)
    experiments: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def north_star_name(self) -> str:
        return str(self.north_star.get("name") or self.north_star_key)

    def evidence(self, key: str) -> InputEvidence:
        for e in self.inputs:
            if key in (e.key, e.name):
                return e
        raise KeyError(key)

    def to_dict(self) -> dict:
        d = jsonable(dataclasses.asdict(self))
        d["inputs"] = [e.contract() for e in self.inputs]
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kw)

    @classmethod
    def from_dict(cls, d: dict) -> InputsResult:
        kw = known_fields(cls, d)
        kw["inputs"] = [InputEvidence.from_dict(e) for e in d.get("inputs", [])]
        for k in ("north_star_early_mean", "north_star_later_mean"):
            kw[k] = _nan(kw.get(k))
        return cls(**kw)

    def summary_dict(self, keys: list[str] | None = None) -> dict:
        """What a decision record keeps: everything, with inputs, cohorts, weekly columns and
        experiment rows limited to `keys` (None = all)."""
        if keys is None:
            return self.to_dict()
        wanted = set(keys)
        d = self.to_dict()
        d["inputs"] = [e for e in d["inputs"] if e["key"] in wanted]
        d["cohorts"] = [r for r in d["cohorts"] if r.get("key") in wanted]
        weekly = dict(d.get("weekly") or {})
        base = {"week_start", "north_star", "users", "per_user"}
        weekly["rows"] = [
            {k: v for k, v in r.items() if k in base or k in wanted} for r in weekly.get("rows", [])
        ]
        weekly["lags"] = [r for r in weekly.get("lags", []) if r.get("key") in wanted]
        d["weekly"] = weekly
        exp = dict(d.get("experiments") or {})
        if exp:
            keep = wanted | {"__ns"}
            exp["arms"] = [r for r in exp.get("arms", []) if r.get("metric") in keep]
            exp["correlations"] = [r for r in exp.get("correlations", []) if r["metric"] in wanted]
        d["experiments"] = exp
        return d
