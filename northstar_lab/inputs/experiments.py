"""Past experiments: the treatment effect on each input and on the North Star, and how well an
input's effects predict the North Star's across experiments (METHODS §9.4).

An assignments table has one row per (user, experiment): user, experiment, variant, assigned_at.
Every assigned user counts in their arm (intention to treat) if their follow-up is complete
(assigned_at + W + H days ≤ the as-of date). Inputs are measured in days [0, W) since the
assignment, the North Star in days [W, W + H) since it: the same windows as the user-level lead,
anchored at the assignment instead of the signup.

Per arm (each non-control variant against the experiment's control) and metric: the difference in
means with a Welch 95% CI. Across the K arms, with effects x̂ (input) and ŷ (North Star), their
noise variances s²ₓ, s²ᵧ and noise covariance cₓᵧ (the same users measured twice:
cov_T(x, y)/n_T + cov_C(x, y)/n_C), the correlation of the true effects is estimated by the
method of moments, removing the noise:

    ρ = (cov(x̂, ŷ) − mean cₓᵧ) / √((var x̂ − mean s²ₓ)(var ŷ − mean s²ᵧ))

undefined when either corrected variance is ≤ 0, and not reported when no experiment moved the
input beyond noise (χ² of its effects over their SEs, p ≥ 0.05). Its 95% CI is the raw correlation's
Fisher-z interval (K − 3 degrees of freedom) corrected the same way. With few arms it is wide: the
number of arms it rests on is reported next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.calendar import DAY, as_of_end_sec
from ..data.columns import normalise, recognise
from ..data.users import read_dates, read_table
from ..errors import InputError, example_rows
from ..stats.dist import Z95, chi2_sf, norm_sf
from .define import InputSpec
from .measure import LATER, WINDOW, AnchorCounts
from .verdict import ALPHA, MIN_ARMS

ASSIGNMENT_NAMES = {
    "user": ["user_id", "userid", "uid", "user", "customer_id", "account_id", "distinct_id"],
    "experiment": [
        "experiment",
        "experiment_id",
        "experiment_name",
        "test",
        "test_name",
        "test_id",
        "experiment_key",
        "flag",
    ],
    "variant": ["variant", "arm", "group", "treatment", "bucket", "variation", "variant_name"],
    "assigned_at": [
        "assigned_at",
        "assignment_time",
        "assigned",
        "exposed_at",
        "exposure_time",
        "enrolled_at",
        "first_exposure",
        "timestamp",
        "ts",
        "time",
        "date",
    ],
}
CONTROL_NAMES = ("control", "ctrl", "baseline", "holdout", "a", "off", "false", "0")


@dataclass
class Assignments:
    """Validated assignments: user_id, experiment, variant, assigned_sec; the control variant of
    each experiment; what was left out and why."""

    frame: pd.DataFrame
    controls: dict[str, str]
    label: str
    notes: list[str]


def read_assignments(source, label: str | None = None, columns: dict | None = None) -> Assignments:
    """Read and validate an assignments table (path or DataFrame); every problem in one error."""
    if isinstance(source, pd.DataFrame):
        df, label = source, label or "assignments"
    else:
        label = label or str(source).rsplit("/", 1)[-1]
        df = read_table(source, label)
    cols = recognise(list(df.columns), ASSIGNMENT_NAMES)
    cols.update({k: v for k, v in (columns or {}).items() if v})
    missing = [role for role, c in cols.items() if c is None or c not in df.columns]
    if missing:
        raise InputError(
            f"{label}: cannot find the {', '.join(missing)} column(s). An assignments table needs "
            "user, experiment, variant and assigned_at columns; found "
            f"{', '.join(map(str, df.columns[:12]))}.",
            cli="Rename the columns, e.g. user_id, experiment, variant, assigned_at.",
            app="Rename the columns, e.g. user_id, experiment, variant, assigned_at.",
        )
    return _validated(df, cols, label)


def _validated(df: pd.DataFrame, cols: dict, label: str) -> Assignments:
    problems, notes = [], []
    read = read_dates(df[cols["assigned_at"]], cols["assigned_at"], label, problems, notes)
    if read is None:
        raise InputError.collect(problems)
    assigned_sec, unparsable = read
    bad = np.flatnonzero(unparsable.to_numpy())
    if bad.size:
        problems.append(
            f"{label}: column '{cols['assigned_at']}' has {bad.size:,} values that are not times "
            f"({example_rows(bad)}). Expected e.g. 2025-03-01 12:00:00."
        )
    blank = [r for r in ("user", "experiment", "variant") if df[cols[r]].isna().any()]
    for r in blank:
        rows = np.flatnonzero(df[cols[r]].isna().to_numpy())
        problems.append(f"{label}: column '{cols[r]}' is empty in {example_rows(rows)}.")
    if problems:
        raise InputError.collect(problems)
    frame = pd.DataFrame(
        {
            "user_id": df[cols["user"]].astype(str).to_numpy(),
            "experiment": df[cols["experiment"]].astype(str).to_numpy(),
            "variant": df[cols["variant"]].astype(str).to_numpy(),
            "assigned_sec": assigned_sec.to_numpy(float),
        }
    ).dropna(subset=["assigned_sec"])
    frame, dropped = _one_variant_per_user(frame)
    if dropped:
        notes.append(
            f"{label}: {dropped:,} users appear in more than one variant of an experiment and "
            "are left out of it."
        )
    controls = {}
    for exp, variants in frame.groupby("experiment")["variant"].unique().items():
        names = sorted(map(str, variants))
        if len(names) < 2:
            notes.append(f"{label}: experiment {exp!r} has one variant only and is left out.")
            continue
        named = [v for v in names if normalise(v) in CONTROL_NAMES]
        controls[exp] = named[0] if named else names[0]
        if not named:
            notes.append(
                f"{label}: experiment {exp!r} has no variant named 'control'; "
                f"{names[0]!r} is taken as the control."
            )
    frame = frame[frame["experiment"].isin(controls)].reset_index(drop=True)
    if frame.empty:
        raise InputError(f"{label}: no experiment has two variants to compare.")
    return Assignments(frame, controls, label, notes)


def _one_variant_per_user(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The first assignment of each (user, experiment); users seen in two variants dropped."""
    n_var = frame.groupby(["experiment", "user_id"])["variant"].transform("nunique")
    dropped = int(frame.loc[n_var > 1, ["experiment", "user_id"]].drop_duplicates().shape[0])
    kept = frame[n_var == 1].sort_values("assigned_sec", kind="stable")
    return kept.drop_duplicates(["experiment", "user_id"]).reset_index(drop=True), dropped


def followed_up(
    assignments: Assignments, *, window_days: int, horizon_days: int, as_of
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The assignments with full follow-up (assigned_at + W + H days ≤ the as-of end), and the
    counts of assignments left out."""
    a = assignments.frame
    a_end = as_of_end_sec(as_of)
    full = np.floor((a_end - a["assigned_sec"].to_numpy()) / DAY) >= window_days + horizon_days
    return a[full].reset_index(drop=True), {"without_full_follow_up": int((~full).sum())}


def assignment_values(
    kept: pd.DataFrame, counts: AnchorCounts, specs: list[InputSpec], ns: InputSpec
) -> pd.DataFrame:
    """Per assignment with full follow-up (`followed_up`): experiment, variant, each input (days
    [0, W) since assigned_at) and '__ns' (days [W, W + H)), from the counts anchored at each
    assignment (`keyed.anchored_counts`, the assignments in `kept`'s order)."""
    columns = {s.key: counts.values(s, WINDOW) for s in specs} | {"__ns": counts.values(ns, LATER)}
    return kept[["experiment", "variant"]].assign(**columns)


@dataclass
class ArmEffect:
    """One metric in one arm: treatment minus control mean, with a Welch 95% CI."""

    experiment: str
    variant: str
    control: str
    metric: str
    n_treatment: int
    n_control: int
    control_mean: float
    effect: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float


def _group_moments(values: pd.DataFrame, metrics: list[str]):
    """Per (experiment, variant): n, mean and variance of each metric, covariance with '__ns'.

    The arm of each row is found once (`ngroup`) and reused for the centring and the
    covariance (grouping again on the two name columns, and broadcasting the means back with
    `transform`, took most of the experiments' time for 800k assignments)."""
    g = values.groupby(["experiment", "variant"])
    n = g[metrics].count()
    mean = g[metrics].mean()
    var = g[metrics].var(ddof=1)
    arm = g.ngroup().to_numpy()  # row → position in the (sorted) group index of n, mean, var
    x = values[metrics].to_numpy(float)
    centred = x - mean.to_numpy(float)[arm]
    prod = pd.DataFrame(centred * centred[:, [metrics.index("__ns")]], columns=metrics)
    sums = prod.groupby(arm).sum().set_axis(mean.index)
    cov = sums / (n - 1).where(n > 1)
    return n, mean, var, cov


def arm_effects(values: pd.DataFrame, controls: dict[str, str], metrics: list[str]):
    """ArmEffect rows, and per arm the arrays (effect, variance, covariance with the North
    Star's effect) of every metric: dict arm → (effect, var, cov) over `metrics`."""
    metrics = [*metrics, "__ns"] if "__ns" not in metrics else metrics
    n, mean, var, cov = _group_moments(values, metrics)
    rows, arms = [], {}
    for exp, control in controls.items():
        if (exp, control) not in mean.index:
            continue
        for variant in sorted(v for e, v in mean.index if e == exp and v != control):
            t, c = (exp, variant), (exp, control)
            eff = mean.loc[t] - mean.loc[c]
            v = var.loc[t] / n.loc[t] + var.loc[c] / n.loc[c]
            cv = cov.loc[t] / n.loc[t] + cov.loc[c] / n.loc[c]
            arms[f"{exp} / {variant}"] = (eff, v, cv)
            for m in metrics:
                se = float(np.sqrt(v[m]))
                p = float(2 * norm_sf(abs(eff[m]) / se)) if se > 0 else float("nan")
                rows.append(
                    ArmEffect(
                        exp,
                        variant,
                        control,
                        m,
                        int(n.loc[t, m]),
                        int(n.loc[c, m]),
                        float(mean.loc[c, m]),
                        float(eff[m]),
                        se,
                        float(eff[m] - Z95 * se),
                        float(eff[m] + Z95 * se),
                        p,
                    )
                )
    return rows, arms


@dataclass
class EffectCorrelation:
    """How well an input's effects predict the North Star's across arms (noise removed)."""

    metric: str
    n_experiments: int
    corr: float | None
    ci_low: float | None
    ci_high: float | None
    raw_corr: float | None
    slope: float | None  # North Star effect per unit of input effect
    moved_p: float | None  # did any experiment move the input? (χ² of effects / SEs)
    note: str = ""


def _moments(x, y, sx2, sy2, cxy):
    """Observed and noise-corrected variances and covariance of the effects over arms."""
    k = x.size
    vx_obs, vy_obs = x.var(ddof=1), y.var(ddof=1)
    cov_obs = float(np.cov(x, y, ddof=1)[0, 1])
    return (
        vx_obs,
        vy_obs,
        cov_obs,
        vx_obs - sx2.mean(),
        vy_obs - sy2.mean(),
        cov_obs - cxy.mean(),
        k,
    )


def effect_correlation(metric: str, arms: dict) -> EffectCorrelation:
    """EffectCorrelation of `metric` with '__ns' over the arms (see the module docstring).

    The CI maps the raw correlation's Fisher-z 95% interval (K − 3 degrees of freedom) through
    the same noise correction, clipped to [−1, 1].
    """
    names = list(arms)
    x, sx2, cxy = (np.array([arms[a][i][metric] for a in names], float) for i in range(3))
    y, sy2 = (np.array([arms[a][i]["__ns"] for a in names], float) for i in range(2))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(sx2) & (sx2 > 0)
    x, y, sx2, sy2, cxy = x[ok], y[ok], sx2[ok], sy2[ok], np.nan_to_num(cxy[ok])
    k = int(ok.sum())
    if k < MIN_ARMS:
        return EffectCorrelation(
            metric,
            k,
            None,
            None,
            None,
            None,
            None,
            None,
            f"fewer than {MIN_ARMS} experiment arms where it was measured",
        )
    moved_p = float(chi2_sf(np.sum(x**2 / sx2), k))
    vx_obs, vy_obs, cov_obs, vx, vy, c, _ = _moments(x, y, sx2, sy2, cxy)
    raw = cov_obs / np.sqrt(vx_obs * vy_obs) if vx_obs > 0 and vy_obs > 0 else None
    if moved_p >= ALPHA:  # a correlation of noise with the North Star's effects means nothing
        return EffectCorrelation(
            metric, k, None, None, None, raw, None, moved_p, "no experiment moved it beyond noise"
        )
    if not (vx > 0 and vy > 0) or raw is None:
        return EffectCorrelation(
            metric,
            k,
            None,
            None,
            None,
            raw,
            None,
            moved_p,
            "the North Star's effects do not vary beyond noise",
        )

    def corrected(r: float) -> float:
        return float(
            np.clip((r * np.sqrt(vx_obs * vy_obs) - (cov_obs - c)) / np.sqrt(vx * vy), -1, 1)
        )

    z, half = np.arctanh(np.clip(raw, -0.999999, 0.999999)), Z95 / np.sqrt(max(k - 3, 1))
    corr = c / np.sqrt(vx * vy)
    note = (
        "the noise-corrected correlation exceeds ±1 (few experiments): shown as ±1"
        if abs(corr) > 1
        else ""
    )
    return EffectCorrelation(
        metric,
        k,
        float(np.clip(corr, -1, 1)),
        corrected(np.tanh(z - half)),
        corrected(np.tanh(z + half)),
        float(raw),
        float(c / vx),
        moved_p,
        note,
    )
