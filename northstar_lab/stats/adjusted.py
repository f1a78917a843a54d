"""Adjusted view: does a candidate still predict retention given plan, channel, cohort…?

METHODS §5: a multivariable Cox model of the candidate with the chosen covariates, and its
incremental value over a baseline of active days — the likelihood-ratio test
2(ℓ_full − ℓ_base) ~ χ²₁ on all users, and the gain in concordance on held-out users of models
fitted on the training half, with a bootstrap CI. lifelines fits these (a handful of models
per request, on at most 100k users), so the numbers are lifelines' own.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..candidates import Kind
from ..errors import InputError
from . import bootstrap
from .concordance import concordance
from .dist import chi2_sf
from .grid import SurvivalData

MAX_USERS = 100_000
SIGNUP_MONTH = "signup month"
MAX_LEVELS = 30


@dataclass
class AdjustedView:
    """The candidate given the covariates, and what it adds over active days."""

    key: str
    name: str
    covariates: list[str]
    n: int
    n_events: int
    hazard_ratio: float  # per SD of the modelled candidate, adjusted
    hr_ci_low: float
    hr_ci_high: float
    p_value: float
    hazard_ratio_unadjusted: float
    lr_statistic: float  # candidate added to active days + covariates
    lr_p: float
    c_base: float  # held-out concordance: active days + covariates
    c_full: float  # ... + candidate
    c_gain: float
    c_gain_ci: tuple[float, float]
    notes: list[str] = field(default_factory=list)
    evaluated_on: str = "all users"  # "held-out users" for a '≥ k' candidate (half the data)

    def to_dict(self) -> dict:
        return asdict(self)


def available_covariates(frame: pd.DataFrame, segments: tuple[str, ...]) -> list[str]:
    """Covariates a user can adjust for: segment columns, plus signup month when known."""
    out = [c for c in segments if c in frame]
    if "signup_sec" in frame:
        out.append(SIGNUP_MONTH)
    return out


def _design(an, covariates: list[str], rows: np.ndarray) -> pd.DataFrame:
    """One-hot covariates (rare levels pooled as 'other'), named safely for formulas."""
    parts = []
    for i, cov in enumerate(covariates):
        if cov == SIGNUP_MONTH:
            values = pd.to_datetime(an.frame["signup_sec"].to_numpy()[rows], unit="s")
            col = pd.Series(values.strftime("%Y-%m"))
        elif cov in an.frame:
            col = an.frame[cov].astype(str).iloc[rows].reset_index(drop=True)
        else:
            raise InputError(f"Cannot adjust for '{cov}': no such column in the users table.")
        keep = col.value_counts().index[:MAX_LEVELS]
        col = col.where(col.isin(keep), "other")
        dummies = pd.get_dummies(col, prefix=f"cov{i}", drop_first=True, dtype=float)
        parts.append(dummies.loc[:, dummies.std() > 0])
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=range(rows.size))


def _fit(df: pd.DataFrame, columns: list[str]):
    """A lifelines Cox fit (imported here: lifelines takes ~1 s to import, and the app asks
    this module for the covariates it offers long before anyone fits)."""
    from lifelines import CoxPHFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPHFitter(penalizer=0.0).fit(df[[*columns, "T", "E"]], "T", "E", batch_mode=True)


def warm_up() -> None:
    """Import lifelines and fit one small model, for a process that will fit adjusted views
    soon (the app's background child): its first view then costs what every later one does,
    instead of ~0.4 s more for lifelines' imports and first-call set-up."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200), "T": rng.exponential(size=200) + 0.1,
                       "E": rng.random(200) < 0.7})  # fmt: skip
    _fit(df, ["x"])


def adjusted_view(an, key: str, covariates: list[str], seed: int = 0, n_boot: int = 200):
    """The adjusted hazard ratio and incremental value of candidate `key` (see module doc).

    A '≥ k' candidate had k chosen on the training half, so its whole view rests on held-out
    users (as its leaderboard row does): the hazard ratio and likelihood ratio on them, and the
    concordance gain fitted on one random half of them and judged on the other.
    """
    cand = an.candidate(key)
    base = _active_days_baseline(an, key)
    oc = an.outcomes
    held_out = cand.kind == Kind.AT_LEAST
    population = oc.retention_mask & (~an.train if held_out else True)
    rows = np.flatnonzero(population)
    notes = []
    if held_out:
        notes.append(
            f"'≥ k' candidate: its k was chosen on the training half, so this view uses the "
            f"held-out half only ({rows.size:,} users): it rests on half the data."
        )
    if rows.size > MAX_USERS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_USERS, replace=False))
        notes.append(f"Fitted on a random {MAX_USERS:,}-user subsample of the landmark users.")
    x = cand.modelled[rows]
    x = np.where(np.isnan(x), np.nanmean(x), x)
    sd_x = float(np.std(x, ddof=1))
    df = _design(an, covariates, rows)
    cov_cols = list(df.columns)
    df["cand"] = (x - x.mean()) / sd_x
    df["T"] = oc.duration_since_signup[rows] - oc.window_days
    df["E"] = oc.event_all[rows]
    base_cols = list(cov_cols)
    if base is not None:
        b = base.modelled[rows]
        df["active_days"] = (b - b.mean()) / (b.std() or 1.0)
        base_cols.append("active_days")
    full_cols = [*base_cols, "cand"]
    adjusted = _fit(df, [*cov_cols, "cand"])
    unadjusted = _fit(df, ["cand"]) if cov_cols else adjusted  # no covariate: the same model
    full = _fit(df, full_cols)
    lr_base = _fit(df, base_cols).log_likelihood_ if base_cols else _null_loglik(df)
    lr = 2 * (full.log_likelihood_ - lr_base)
    summary = adjusted.summary.loc["cand"]
    fit_on = _fitting_half(an, rows, held_out, seed)
    c_base, c_full, gain, ci = _held_out_gain(fit_on, df, base_cols, full_cols, seed, n_boot)
    if key == "baseline:active_days":
        notes.append("The candidate is the active-days baseline itself: gain is over covariates.")
    elif base is None:
        notes.append("No active-days baseline (a users table): the gain is over covariates.")
    return AdjustedView(
        key=key,
        name=cand.name,
        covariates=list(covariates),
        n=int(rows.size),
        n_events=int(df["E"].sum()),
        hazard_ratio=float(np.exp(summary["coef"])),
        hr_ci_low=float(np.exp(summary["coef lower 95%"])),
        hr_ci_high=float(np.exp(summary["coef upper 95%"])),
        p_value=float(summary["p"]),
        hazard_ratio_unadjusted=float(np.exp(unadjusted.params_["cand"])),
        lr_statistic=float(lr),
        lr_p=float(chi2_sf(max(lr, 0.0), 1)),
        c_base=c_base,
        c_full=c_full,
        c_gain=gain,
        c_gain_ci=ci,
        notes=notes,
        evaluated_on="held-out users" if held_out else "all users",
    )


def _null_loglik(df: pd.DataFrame) -> float:
    """Partial log-likelihood with no covariates (β = 0), from a one-covariate fit's null."""
    from .cox import cox_univariate

    sd = SurvivalData.from_arrays(df["T"].to_numpy(), df["E"].to_numpy())
    return cox_univariate(sd, df["cand"].to_numpy()).loglik_null


def _active_days_baseline(an, key: str):
    """The active-days baseline to measure the gain over (None for itself, or without one)."""
    if key == "baseline:active_days":
        return None
    try:
        return an.candidate("baseline:active_days")
    except KeyError:  # a users table has no event-derived baseline
        return None


def _fitting_half(an, rows: np.ndarray, held_out: bool, seed: int) -> np.ndarray:
    """Which of `rows` the models are fitted on (the rest judge them): the training half, or,
    for a '≥ k' candidate already confined to held-out users, a seeded random half of them."""
    if not held_out:
        return an.train[rows]
    return np.random.default_rng(seed + 11).random(rows.size) < 0.5


def _held_out_gain(train, df, base_cols, full_cols, seed, n_boot):
    """Concordance on the users not in `train` of models fitted on `train`; bootstrap CI."""
    tr, te = df[train], df[~train]
    sd = SurvivalData.from_arrays(te["T"].to_numpy(), te["E"].to_numpy())
    scores = []
    for cols in (base_cols, full_cols):
        if cols:
            model = _fit(tr, cols)
            scores.append(-np.asarray(model.predict_log_partial_hazard(te[cols])).ravel())
        else:
            scores.append(np.zeros(len(te)))
    c = [concordance(sd, s) if np.ptp(s) > 0 else 0.5 for s in scores]
    users = bootstrap.ResampledUsers(sd, bootstrap.poisson_weights(len(te), n_boot, seed + 7))
    draws = [
        bootstrap.resampled_concordance(users, s) if np.ptp(s) > 0 else np.full(n_boot, 0.5)
        for s in scores
    ]
    diff = draws[1] - draws[0]
    lo, hi = np.nanquantile(diff, [0.025, 0.975])
    return float(c[0]), float(c[1]), float(c[1] - c[0]), (float(lo), float(hi))
