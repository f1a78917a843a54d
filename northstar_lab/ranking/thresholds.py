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


QUANTILES = np.linspace(0.05, 0.95, 19)


def threshold_levels(raw: np.ndarray) -> np.ndarray:
    """Candidate k values: each observed value, or quantiles for near-continuous columns."""
    values, counts = np.unique(raw[~np.isnan(raw)], return_counts=True)
    return threshold_levels_of_counts(values, counts)


def threshold_levels_of_counts(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`threshold_levels` from the distinct values (ascending) and their user counts: each
    value, or beyond MAX_LEVELS the 5%, 10%, …, 95% quantiles, each an observed value (the
    order statistic at ⌊q·(n − 1)⌋, numpy's 'lower' quantile), without a per-user sort."""
    present = counts > 0
    values, counts = values[present], counts[present]
    if values.size <= MAX_LEVELS:
        return values
    position = np.floor((counts.sum() - 1) * QUANTILES).astype(np.int64)
    return np.unique(values[np.searchsorted(np.cumsum(counts), position, side="right")])


def retention_by_threshold(
    raw: np.ndarray,
    duration: np.ndarray | None,
    event: np.ndarray | None,
    horizon: float,
    ks: np.ndarray,
    sd: SurvivalData | None = None,
) -> pd.DataFrame:
    """Kaplan–Meier retention at `horizon` for users at/above vs below each k, all k at once.

    Columns: k, share (at/above), n_above, retention_above, retention_below, difference.
    """
    sd = sd or SurvivalData.from_arrays(duration, event)
    level = np.searchsorted(ks, raw, side="right")  # users with level > m have raw ≥ ks[m]
    return retention_by_level(sd, level, horizon, ks)


def retention_by_level(
    sd: SurvivalData, level: np.ndarray, horizon: float, ks: np.ndarray
) -> pd.DataFrame:
    """`retention_by_threshold` from each user's level m (raw ≥ ks[m−1], < ks[m]).

    Users are collapsed to a (time × level) grid; reverse cumulative sums over times give risk
    sets and over levels give the at/above group, so every k costs one array operation.
    """
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
            "share": n_above / level.size,
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
    above: np.ndarray,
    sd: SurvivalData,
    k: float,
    horizon: float,
    revenue_above: np.ndarray | None = None,
    revenue: np.ndarray | None = None,
) -> ThresholdFigures | None:
    """KM retention at the horizon with CIs, log-rank, fixed-day difference test, ΔRMST (with
    SE) and revenue per user, for users at/above (`above`, per user of `sd`) vs below k — from
    per-time counts (`km.py`): the same numbers as lifelines (tested), without fitting
    lifelines models. revenue_above marks the revenue users at/above k."""
    from ..stats import km as groups

    if above.all() or not above.any():
        return None
    a, b = groups.group_curves(sd, above)
    _chi2, lr_p = groups.logrank(sd, above)
    r_a, se_a = a.rmst(horizon)
    r_b, se_b = b.rmst(horizon)
    s_a, s_b = a.survival_at(horizon), b.survival_at(horizon)
    rev_a = rev_b = None
    if revenue is not None and revenue_above is not None and revenue.size:
        up = revenue_above
        rev_a = float(np.mean(revenue[up])) if up.any() else None
        rev_b = float(np.mean(revenue[~up])) if (~up).any() else None
    return ThresholdFigures(
        k=float(k),
        n_test=int(above.size),
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
    """k on training users only: knee of retention-at-horizon among users at/above k.

    Read per level: the training users' level counts give the candidate k values, the Cox
    direction is scored on (time, level) cells, and each user's threshold group is one gather
    of a per-level lookup."""
    fixed = dict(settings.fixed_thresholds)
    if cand.key in fixed:
        return fixed[cand.key]
    tr = pop._indices["train"]
    if pop.sd_train.n < 20 or cand.kind == Kind.AT_LEAST or cand.n_imputed:
        return None  # a threshold through mean-filled values would split invented users
    if cand.has_gaps or pop.sd_train.event.sum() == 0:
        return None
    codes, n_levels = cand.codes_for(tr)
    counts = np.bincount(codes, minlength=n_levels)
    if np.count_nonzero(counts) < 2:
        return None
    direction = -cox_direction(pop.sd_train, None, (codes, n_levels), cand.level_modelled)
    if direction == 0:
        return None
    values = cand.level_values
    ks = threshold_levels_of_counts(values, counts)
    ks = ks[ks > ks.min()]  # "at least the minimum" splits nobody
    if ks.size == 0:
        return None
    level = np.searchsorted(ks, values, side="right")[codes]
    curve = retention_by_level(pop.sd_train, level, pop.horizon, ks)
    return knee_threshold(curve, direction)


def held_out_figures(cand: Candidate, pop: Population, k: float) -> ThresholdFigures | None:
    """The threshold figures of k on the held-out users (never the ones k was chosen on)."""
    ret, rev = pop.index(held_out=True)
    at_least = cand.level_values >= k
    revenue = pop.held_out_revenue
    return threshold_figures(
        at_least[cand.codes_for(ret)[0]],
        pop.sd_test,
        k,
        pop.horizon,
        revenue_above=at_least[cand.codes_for(rev)[0]] if revenue is not None else None,
        revenue=revenue,
    )
