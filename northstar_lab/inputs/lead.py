"""User-level lead: does an input in the window predict the North Star later, beyond the North
Star's own early level? (METHODS §9.2)

For users in the landmark analysis with full follow-up (a_days ≥ W + H):

    log(1 + NS in days [W, W+H)) = a + b·z + controls(NS in [0, W)) + e

z is the input's modelled value (log(1 + x) for counts and days; 0/1 and shares as they are)
standardised to SD 1 over these users (cohorts too use this SD), so b is "log(1 + later North
Star) per SD of the input".
The controls are an indicator per level of the early North Star (each distinct value; with more
than LEVEL_GROUPS values, quantile groups plus log(1 + early NS) within them) and an indicator per
signup month, so the input is compared among users who started with the same North Star and
signed up in the same month (campaigns, seasonality and experiments running at the time move
inputs and the North Star alike). Least squares with HC1 (heteroskedasticity-robust) standard
errors. The *marginal* effect is the same regression with an intercept only.

Every input is fitted at once by Frisch–Waugh–Lovell: y and each input are residualised on the
controls once; then b = Σ r_z·r_y / Σ r_z² and the HC sandwich Σ r_z²·e² / (Σ r_z²)² are column
sums (the full model's OLS coefficient and HC0 variance, exactly; HC1 scales it by n / (n − k)).
Per signup-month cohort the same fit is repeated within the cohort and the cohorts are pooled by
inverse variance with I² and the share of cohorts with the pooled sign (`stats.cohorts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..stats.cohorts import pool_inverse_variance
from ..stats.dist import Z95, norm_sf

LEVEL_GROUPS = 50
MIN_COHORT_USERS = 100


@dataclass
class Fits:
    """Per input (columns of X): effect per SD, robust SE, two-sided p, users used."""

    effect: np.ndarray
    se: np.ndarray
    p: np.ndarray
    n: np.ndarray

    @property
    def ci(self) -> tuple[np.ndarray, np.ndarray]:
        return self.effect - Z95 * self.se, self.effect + Z95 * self.se


@dataclass
class LeadFits:
    """Everything the user-level lead reports, per input, aligned with the columns given."""

    incremental: Fits
    marginal: Fits
    sd: np.ndarray  # SD of the modelled input over the users used
    pooled: list[dict]  # pool_inverse_variance per input
    cohorts: list[dict] = field(default_factory=list)  # rows: column, cohort, n, effect, se


def level_controls(ns_early: np.ndarray, max_groups: int = LEVEL_GROUPS) -> np.ndarray:
    """The controls for the early North Star as an (n, k) matrix: an intercept and one indicator
    per distinct value but the first; with more than `max_groups` values, one per quantile
    group and log(1 + NS early) for the slope within groups."""
    x = np.asarray(ns_early, dtype=float)
    values = np.unique(x)
    if values.size <= max_groups:
        return np.column_stack([np.ones(x.size), group_indicators(x)])
    edges = np.unique(np.quantile(x, np.linspace(0, 1, max_groups + 1))[1:-1])
    codes = np.searchsorted(edges, x, side="right")
    return np.column_stack([np.ones(x.size), np.log1p(np.maximum(x, 0)), group_indicators(codes)])


def group_indicators(labels: np.ndarray) -> np.ndarray:
    """One 0/1 column per label but the first (the intercept stands for it)."""
    _, codes = np.unique(labels, return_inverse=True)
    out = np.zeros((labels.size, int(codes.max(initial=0))))
    rows = np.flatnonzero(codes > 0)
    out[rows, codes[rows] - 1] = 1.0
    return out


def partial_fits(y: np.ndarray, X: np.ndarray, Z: np.ndarray) -> Fits:
    """OLS of y on each column of X (one at a time) given the controls Z, with HC1 SEs; the
    effect is per unit of the column as given (lead_fits standardises first)."""
    n = y.size
    both = np.column_stack([y, X])
    coef, _, rank, _ = np.linalg.lstsq(Z, both, rcond=None)
    resid = both - Z @ coef
    ry, rx = resid[:, 0], resid[:, 1:]
    sxx = np.einsum("ij,ij->j", rx, rx)
    total = np.einsum("ij,ij->j", X - X.mean(axis=0), X - X.mean(axis=0))
    ok = (total > 0) & (sxx > 1e-9 * total)  # varies, and not (almost) a function of Z
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(ok, (rx.T @ ry) / sxx, np.nan)
        e = ry[:, None] - rx * np.nan_to_num(b)
        hc0 = np.einsum("ij,ij->j", rx * e, rx * e) / sxx**2
        se = np.where(ok, np.sqrt(hc0 * n / max(n - (rank + 1), 1)), np.nan)
        p = 2 * norm_sf(np.abs(b / se))
    return Fits(effect=b, se=se, p=p, n=np.full(X.shape[1], n))


def _by_missing(X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(columns, rows) groups: columns sharing one pattern of missing values, and the rows where
    all of them are present (shares are missing for users without the denominator event)."""
    missing = np.isnan(X)
    if not missing.any():
        return [(np.arange(X.shape[1]), np.ones(X.shape[0], dtype=bool))]
    groups: dict[bytes, list[int]] = {}  # a column's pattern, packed to bits, as its key
    for j in range(X.shape[1]):
        groups.setdefault(np.packbits(missing[:, j]).tobytes(), []).append(j)
    return [(np.array(cols), ~missing[:, cols[0]]) for cols in groups.values()]


def _fits(y, X, Z) -> Fits:
    """partial_fits for every missing-value group of columns, assembled in column order."""
    p = X.shape[1]
    out = Fits(*(np.full(p, np.nan) for _ in range(4)))
    for cols, rows in _by_missing(X):
        if rows.sum() < Z.shape[1] + 3:
            out.n[cols] = rows.sum()
            continue
        f = partial_fits(y[rows], X[np.ix_(rows, cols)], Z[rows])
        for name in ("effect", "se", "p", "n"):
            getattr(out, name)[cols] = getattr(f, name)
    return out


def lead_fits(*args, **kwargs) -> LeadFits:
    """The lead of every input (see `_lead_fits`), with BLAS limited to one thread.

    Some 50 least-squares fits of 166k rows on a busy 2-core machine: two BLAS threads took
    4.8–7.1 s where one took 1.2–1.4 s (threads spin waiting for a core; the ranking does the
    same, ranking/rank.py)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _lead_fits(*args, **kwargs)


def _lead_fits(
    y_later: np.ndarray,
    X: np.ndarray,
    ns_early: np.ndarray,
    cohort: np.ndarray | None = None,
    min_cohort_users: int = MIN_COHORT_USERS,
) -> LeadFits:
    """The lead of every input (columns of X, modelled values; NaN = not defined for that user)
    on the later North Star (raw counts; log(1 + ·) is taken here), given its early level.

    cohort: a label per user (signup month); cohorts with fewer than `min_cohort_users` users
    are left out of the pooling and reported with a note.
    """
    y = np.log1p(np.maximum(np.asarray(y_later, dtype=float), 0))
    X = np.asarray(X, dtype=float).reshape(y.size, -1)
    sd = np.nanstd(X, axis=0)
    # per SD over all users analysed, so that every cohort's effect is in the same unit
    X = (X - np.nanmean(X, axis=0)) / np.where(sd > 0, sd, 1.0)
    Z = level_controls(ns_early)
    if cohort is not None:
        Z = np.column_stack([Z, group_indicators(np.asarray(cohort))])
    incremental = _fits(y, X, Z)
    marginal = _fits(y, X, Z[:, :1])
    rows, pooled = [], []
    if cohort is not None:
        rows = _cohort_rows(y, X, Z, np.asarray(cohort), min_cohort_users)
    table = pd.DataFrame(rows, columns=["column", "cohort", "n", "effect", "se", "note"])
    column = table["column"].to_numpy(int)
    effect, se = table["effect"].to_numpy(float), table["se"].to_numpy(float)
    usable = np.isfinite(effect) & (se > 0)
    for j in range(X.shape[1]):
        sel = usable & (column == j)
        pooled.append(pool_inverse_variance(effect[sel], se[sel]))
    return LeadFits(incremental, marginal, sd, pooled, rows)


def _cohort_rows(y, X, Z, cohort, min_users: int) -> list[dict]:
    """The incremental fit within each cohort (a loop over cohorts, not users)."""
    rows = []
    labels, codes = np.unique(cohort, return_inverse=True)
    for c, label in enumerate(labels):
        sel = codes == c
        n = int(sel.sum())
        note = "" if n >= min_users else f"fewer than {min_users} users"
        f = _fits(y[sel], X[sel], Z[sel]) if not note else None
        for j in range(X.shape[1]):
            effect = float(f.effect[j]) if f is not None else np.nan
            se = float(f.se[j]) if f is not None else np.nan
            why = note or ("" if np.isfinite(effect) else "the input does not vary here")
            rows.append(dict(column=j, cohort=str(label), n=n, effect=effect, se=se, note=why))
    return rows
