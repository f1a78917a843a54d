"""Thresholds ("aha moments"): at least k of something in the window (METHODS §4).

k is chosen on training users — the knee of the retention-vs-k curve, the smallest k that
captures ~80% of the plateau gain — and every figure is reported on held-out users, because a
threshold chosen and judged on the same users looks better than it is (Faraggi & Simon 1996).
Crossing a threshold is a predictive marker, not a proven lever.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..candidates import Candidate, Kind
from ..results import ThresholdFigures
from ..stats.cox import cox_direction
from ..stats.grid import SurvivalData, grid_counts
from .population import Population

MIN_SHARE, MAX_SHARE = 0.10, 0.90
KNEE_SHARE = 0.80
MAX_LEVELS = 60


def threshold_levels(raw: np.ndarray) -> np.ndarray:
    """Candidate k values: each observed value, or quantiles for near-continuous columns."""
    values = np.unique(raw[~np.isnan(raw)])
    if values.size <= MAX_LEVELS:
        return values
    return np.unique(np.quantile(raw, np.linspace(0.05, 0.95, 19), method="lower"))


def retention_by_threshold(
    raw: np.ndarray,
    duration: np.ndarray | None,
    event: np.ndarray | None,
    horizon: float,
    ks: np.ndarray,
    sd: SurvivalData | None = None,
) -> pd.DataFrame:
    """Kaplan–Meier retention at `horizon` for users at/above vs below each k, all k at once.

    Users are collapsed to a (time × level) grid; reverse cumulative sums over times give risk
    sets and over levels give the at/above group, so every k costs one array operation.
    Columns: k, share (at/above), n_above, retention_above, retention_below, difference.
    """
    sd = sd or SurvivalData.from_arrays(duration, event)
    level = np.searchsorted(ks, raw, side="right")  # users with level > m have raw ≥ ks[m]
    users, deaths = grid_counts(sd, level, ks.size + 1)
    at_risk = users[::-1].cumsum(axis=0)[::-1]  # users with T ≥ t, per level
    # above[:, m] sums levels m+1.. (raw ≥ ks[m]); below = total − above
    above_risk = at_risk[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    above_deaths = deaths[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    below_risk = at_risk.sum(axis=1, keepdims=True) - above_risk
    below_deaths = deaths.sum(axis=1, keepdims=True) - above_deaths
    within = sd.times <= horizon
    s_above = _km_product(above_deaths[within], above_risk[within])
    s_below = _km_product(below_deaths[within], below_risk[within])
    n_above = users.sum(axis=0)[::-1].cumsum()[::-1][1:]
    return pd.DataFrame(
        {
            "k": ks,
            "share": n_above / raw.size,
            "n_above": n_above,
            "retention_above": s_above,
            "retention_below": s_below,
            "difference": s_above - s_below,
        }
    )


def _km_product(deaths: np.ndarray, at_risk: np.ndarray) -> np.ndarray:
    """Π (1 − d/n) down the time axis; empty risk sets contribute a factor of 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - deaths / np.maximum(at_risk, 1), 1.0)
    return factor.prod(axis=0)


def knee_threshold(curve: pd.DataFrame, direction: float) -> float | None:
    """The smallest eligible k capturing ≥ 80% of the plateau gain in retention of the group.

    direction is +1 when more of the metric goes with longer retention (Cox β < 0), −1 otherwise;
    for a harmful metric the 'gain' is the drop, so the knee is still where the curve flattens.
    Only k leaving 10–90% of users on each side are eligible; None when no k is.
    """
    ok = curve[(curve["share"] >= MIN_SHARE) & (curve["share"] <= MAX_SHARE)]
    ok = ok[np.isfinite(ok["retention_above"])]
    if ok.empty:
        return None
    r = direction * ok["retention_above"].to_numpy()
    gain = r - r[0]
    plateau = gain.max()
    if plateau <= 0:
        return float(ok["k"].iloc[0])
    return float(ok["k"].to_numpy()[np.argmax(gain >= KNEE_SHARE * plateau)])


def threshold_figures(
    raw: np.ndarray,
    sd: SurvivalData,
    k: float,
    horizon: float,
    revenue_raw: np.ndarray | None = None,
    revenue: np.ndarray | None = None,
) -> ThresholdFigures | None:
    """KM retention at the horizon with CIs, log-rank, fixed-day difference test, ΔRMST (with
    SE) and revenue per user, for users at/above vs below k — from per-time counts
    (`groups.py`): the same numbers as lifelines (tested), without fitting lifelines models."""
    from ..stats import km as groups

    above = raw >= k
    if above.all() or not above.any():
        return None
    a, b = groups.group_curves(sd, above)
    _chi2, lr_p = groups.logrank(sd, above)
    r_a, se_a = a.rmst(horizon)
    r_b, se_b = b.rmst(horizon)
    s_a, s_b = a.survival_at(horizon), b.survival_at(horizon)
    rev_a = rev_b = None
    if revenue is not None and revenue_raw is not None and revenue.size:
        up = revenue_raw >= k
        rev_a = float(np.mean(revenue[up])) if up.any() else None
        rev_b = float(np.mean(revenue[~up])) if (~up).any() else None
    return ThresholdFigures(
        k=float(k),
        n_test=int(raw.size),
        n_above=int(above.sum()),
        share_above=float(above.mean()),
        retention_above=s_a,
        retention_above_ci=a.interval_at(horizon),
        retention_below=s_b,
        retention_below_ci=b.interval_at(horizon),
        retention_difference=s_a - s_b,
        retention_difference_p=groups.difference_at_p(a, b, horizon),
        logrank_p=lr_p,
        rmst_above=r_a,
        rmst_below=r_b,
        rmst_difference=r_a - r_b,
        rmst_difference_se=float(np.hypot(se_a, se_b)),
        revenue_above=rev_a,
        revenue_below=rev_b,
        horizon_days=float(horizon),
    )


def choose_threshold(cand: Candidate, pop: Population, settings) -> float | None:
    """k on training users only: knee of retention-at-horizon among users at/above k."""
    fixed = dict(settings.fixed_thresholds)
    if cand.key in fixed:
        return fixed[cand.key]
    tr = pop._indices["train"]
    if pop.sd_train.n < 20 or cand.kind == Kind.AT_LEAST or cand.n_imputed:
        return None  # a threshold through mean-filled values would split invented users
    raw = cand.raw.take(tr)
    if np.isnan(raw).any() or np.ptp(raw) == 0 or pop.sd_train.event.sum() == 0:
        return None
    direction = -cox_direction(pop.sd_train, cand.modelled.take(tr))
    if direction == 0:
        return None
    ks = threshold_levels(raw)
    ks = ks[ks > ks.min()]  # "at least the minimum" splits nobody
    if ks.size == 0:
        return None
    curve = retention_by_threshold(raw, None, None, pop.horizon, ks, sd=pop.sd_train)
    return knee_threshold(curve, direction)


def held_out_figures(cand: Candidate, pop: Population, k: float) -> ThresholdFigures | None:
    ret, rev = pop.index(held_out=True)
    return threshold_figures(
        cand.raw.take(ret),
        pop.sd_test,
        k,
        pop.horizon,
        revenue_raw=cand.raw.take(rev) if pop.has_revenue else None,
        revenue=pop.outcomes.revenue.take(rev) if pop.has_revenue else None,
    )
