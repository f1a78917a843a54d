"""Survival statistics for ranking candidate metrics against retention.

Durations are float days from the landmark (usually whole days); `event` is 1 when the user churned
at that duration and 0 when they were right-censored (still active when follow-up ended).

Two statistics are computed once per candidate and again in every bootstrap resample, so they are
vectorised here and tested to equal lifelines:

- `cox_univariate`: one-covariate Cox model with Efron ties (lifelines' `CoxPHFitter`).
- `concordance`: Harrell's C with lifelines' tie rules (`lifelines.utils.concordance_index`).

Both take optional *frequency weights*: a weight of k means k identical users, exactly as if the
rows were repeated k times. That makes Poisson(1) bootstrap weights and collapsed rows free, and it
is the definition the tests check against lifelines on row-expanded data.

`ph_test` (Grambsch–Therneau, rank time) is vectorised too. The descriptive wrappers
(Kaplan–Meier curves for charts, log-rank, RMST, retention at a fixed day) call lifelines; the
ranking's hot path uses their count-based twins in `groups.py`, tested equal to these. The RMST
standard error is computed here, because lifelines does not provide one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import (
    logrank_test,
    survival_difference_at_fixed_point_in_time_test,
)
from lifelines.utils import concordance_index, restricted_mean_survival_time
from scipy import stats

__all__ = [
    "CoxFit",
    "SurvivalData",
    "concordance",
    "cox_univariate",
    "km_curve",
    "logrank",
    "ph_test",
    "rmst",
    "survival_at",
    "survival_difference_p",
]

#: Scores with more distinct values than this leave the exact (time × value) grid of `concordance`.
CONCORDANCE_MAX_VALUES = 2000
#: Largest (distinct times × distinct values) grid `concordance` builds (16 MB per array).
CONCORDANCE_MAX_CELLS = 2_000_000

_COX_MAX_ITER = 50
_COX_TOL = 1e-10  # Newton step, in units of the standardised covariate
_COX_MAX_HALVINGS = 30
_COX_MIN_INFO_RATIO = 1e-10  # below this share of the null information: separation, not a fit


@dataclass(frozen=True, eq=False)
class SurvivalData:
    """Durations and events of one outcome, prepared once and shared by every candidate.

    Sorting durations is the costly part of a Cox fit or a concordance; doing it once per outcome
    instead of once per candidate (and per bootstrap resample) is where much of the speed comes
    from.

    `times` are the distinct durations (days, ascending); `time_index[i]` is user i's position in
    `times`; `deaths[j]` counts churn events at `times[j]`.
    """

    duration: np.ndarray
    event: np.ndarray
    times: np.ndarray = field(repr=False)
    time_index: np.ndarray = field(repr=False)
    deaths: np.ndarray = field(repr=False)

    @classmethod
    def from_arrays(cls, duration: np.ndarray, event: np.ndarray) -> SurvivalData:
        """Validate and index durations (days, ≥ 0, finite) and events (0/1 or bool)."""
        duration = np.asarray(duration, dtype=float)
        event_raw = np.asarray(event)
        if duration.ndim != 1 or event_raw.shape != duration.shape:
            raise ValueError(
                f"duration and event must be 1-D arrays of equal length, got shapes "
                f"{duration.shape} and {event_raw.shape}"
            )
        if duration.size == 0:
            raise ValueError("no users: duration is empty")
        if not np.all(np.isfinite(duration)) or duration.min() < 0:
            raise ValueError("durations must be finite and ≥ 0 days")
        if not np.all((event_raw == 0) | (event_raw == 1)):
            raise ValueError("event must contain only 0/1 (or False/True)")
        event_arr = event_raw.astype(np.int8)

        times, time_index = _index_times(duration)
        deaths = np.bincount(time_index, weights=event_arr, minlength=times.size)
        return cls(duration, event_arr, times, time_index, deaths)

    @property
    def n(self) -> int:
        """Number of users (rows)."""
        return int(self.duration.size)

    @cached_property
    def efron_ties(self) -> _EfronTies:
        """Efron's (time, l/d) entries for the unweighted deaths, built once per outcome."""
        return _EfronTies.from_deaths(self.deaths)


def _index_times(duration: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct durations and each user's index into them.

    Whole-day durations over a modest range are indexed with `bincount` in O(n); anything else
    falls back to a sort (`np.unique`).
    """
    lo, hi = duration.min(), duration.max()
    if hi - lo <= 4 * duration.size + 1024 and np.array_equal(duration, np.floor(duration)):
        offset = (duration - lo).astype(np.intp)
        present = np.bincount(offset) > 0
        rank = np.cumsum(present) - 1
        times = np.flatnonzero(present).astype(float) + lo
        return times, rank[offset]
    times, inverse = np.unique(duration, return_inverse=True)
    return times, inverse.astype(np.intp)


def _check_weights(weights: np.ndarray | None, n: int, *, integer: bool) -> np.ndarray | None:
    """Frequency weights: finite, ≥ 0, and (where the statistic needs it) whole numbers."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or w.min() < 0:
        raise ValueError("weights must be finite and ≥ 0")
    if integer and not np.array_equal(w, np.round(w)):
        raise ValueError(
            "weights are frequency weights (a weight of k = k identical users) and must be whole "
            "numbers, e.g. Poisson(1) bootstrap counts"
        )
    return w


def _check_covariate(x: np.ndarray, n: int, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


# --------------------------------------------------------------------------------------------
# Cox proportional hazards, one covariate, Efron ties
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoxFit:
    """One-covariate Cox model: log hazard ratio of churn per unit of the covariate.

    `beta < 0` means more of the covariate goes with a lower churn hazard (users stay longer).
    `se`, `z` and `p` are the Wald statistics lifelines reports; `loglik` is the Efron partial
    log-likelihood at `beta` and `loglik_null` at beta = 0. `n` and `n_events` count users and
    churn events (sums of frequency weights when weights are given).
    """

    beta: float
    se: float
    z: float
    p: float
    loglik: float
    loglik_null: float
    n: int
    n_events: int
    converged: bool

    @property
    def hazard_ratio(self) -> float:
        """exp(beta): multiplicative change in churn hazard per unit of the covariate."""
        return float(np.exp(self.beta))

    def ci(self, alpha: float = 0.05) -> tuple[float, float]:
        """Wald confidence interval of `beta` (log scale); exponentiate for the hazard ratio."""
        q = stats.norm.ppf(1 - alpha / 2)
        return self.beta - q * self.se, self.beta + q * self.se

    @property
    def likelihood_ratio(self) -> float:
        """2·(loglik − loglik_null), χ² with 1 degree of freedom under no association."""
        return 2.0 * (self.loglik - self.loglik_null)


@dataclass(frozen=True)
class _EfronTies:
    """One entry per churn event (per unit of frequency weight): its time and Efron fraction l/d.

    Efron's approximation subtracts l/d of the tied users' risk for the l-th of d tied deaths
    (l = 0..d−1). Listing those (time, l/d) pairs once turns every tied-time sum into one
    vectorised gather + sum, however many deaths share a day: O(total events), no loop over ties.
    """

    time: np.ndarray
    frac: np.ndarray

    @classmethod
    def from_deaths(cls, deaths: np.ndarray) -> _EfronTies:
        d = deaths.astype(np.int64)
        time = np.repeat(np.arange(d.size), d)
        start = np.cumsum(d) - d
        rank_in_tie = np.arange(time.size) - start[time]
        return cls(time, rank_in_tie / d[time])


def cox_univariate(
    sd: SurvivalData,
    x: np.ndarray,
    weights: np.ndarray | None = None,
    codes: tuple[np.ndarray, int] | None = None,
) -> CoxFit:
    """Fit a Cox model with one covariate by Newton–Raphson, Efron ties, as lifelines does.

    Equal to `CoxPHFitter().fit(df, 'T', 'E')`: 1e-9 on beta/se/loglik against lifelines run to
    convergence; against lifelines' defaults up to ~1e-6 on beta, because lifelines stops
    Newton–Raphson slightly before the maximum and this runs to it (the Efron score is ~0 here).
    The covariate is centred and scaled internally (results are invariant; the numerics are not).
    Each iteration costs a few `np.bincount` passes over users plus one pass over events; at
    1M users with whole-day durations a fit takes ~0.1 s.

    Parameters
    ----------
    sd: the outcome, from `SurvivalData.from_arrays`.
    x: the candidate metric per user, in its modelled units (e.g. log1p(count)).
    weights: optional whole-number frequency weights (e.g. Poisson(1) bootstrap counts); the fit
        equals lifelines on the row-expanded data. lifelines' own `weights_col` differs when
        weighted churn events tie (it uses the count of tied rows, not of tied users, in Efron's
        fractions), so it is not the reference here.
    codes: optional dense codes of x (0..L−1, ascending) and L. When x takes few values, users
        are first collapsed to (time, value, churned) cells with counts as weights, so every
        Newton step costs O(cells) instead of O(users). The likelihood is the same sum.

    Raises ValueError when x is constant or there are no churn events; a fit that does not
    converge (e.g. perfect separation) returns `converged=False` instead of raising.
    """
    x = _check_covariate(x, sd.n)
    w = _check_weights(weights, sd.n, integer=True)
    if codes is not None and w is None and codes[1] * sd.times.size <= 4 * sd.n:
        return _cox_collapsed(sd, x, *codes)
    e = sd.event
    wt = np.ones(sd.n) if w is None else w
    n_total, n_events = wt.sum(), float(wt @ e)
    if n_events == 0:
        raise ValueError("no churn events: the Cox model is not estimable")
    support = x if w is None else x[w > 0]
    if support.size == 0 or support.min() == support.max():
        raise ValueError("x is constant: a Cox model needs a covariate that varies")

    mean = float(wt @ x) / n_total
    scale = float(np.sqrt((wt @ (x - mean) ** 2) / n_total))
    z = (x - mean) / scale
    deaths = sd.deaths if w is None else np.bincount(sd.time_index, w * e, sd.times.size)
    likelihood = _EfronLikelihood(
        z=z,
        w=w,
        cell=2 * sd.time_index + e,
        n_times=sd.times.size,
        ties=sd.efron_ties if w is None else _EfronTies.from_deaths(deaths),
        death_z=float((wt * e) @ z),
    )
    return _cox_result(likelihood, scale, n_total, n_events)


def _cox_collapsed(sd: SurvivalData, x: np.ndarray, codes: np.ndarray, n_codes: int) -> CoxFit:
    """cox_univariate on (time, value, churned) cells weighted by their user counts."""
    if sd.event.sum() == 0:
        raise ValueError("no churn events: the Cox model is not estimable")
    if x.min() == x.max():
        raise ValueError("x is constant: a Cox model needs a covariate that varies")
    values = np.empty(n_codes)
    values[codes] = x
    cell = (sd.time_index * n_codes + codes) * 2 + sd.event
    counts = np.bincount(cell, minlength=2 * n_codes * sd.times.size)
    used = np.flatnonzero(counts)
    w = counts[used].astype(float)
    e = (used % 2).astype(np.int8)
    t = used // (2 * n_codes)
    xv = values[(used // 2) % n_codes]
    n_total = float(sd.n)
    mean = float(w @ xv) / n_total
    scale = float(np.sqrt((w @ (xv - mean) ** 2) / n_total))
    z = (xv - mean) / scale
    likelihood = _EfronLikelihood(
        z=z,
        w=w,
        cell=2 * t + e,
        n_times=sd.times.size,
        ties=sd.efron_ties,
        death_z=float((w * e) @ z),
    )
    return _cox_result(likelihood, scale, n_total, float(sd.event.sum()))


def _cox_result(likelihood, scale: float, n_total: float, n_events: float) -> CoxFit:
    """Newton–Raphson on a prepared likelihood, back on the covariate's own scale."""
    gamma, loglik, info, loglik_null, converged = _newton_raphson(likelihood)
    se = 1.0 / np.sqrt(info) / scale if np.isfinite(info) and info > 0 else np.inf
    beta = gamma / scale
    wald = beta / se
    return CoxFit(
        beta=float(beta),
        se=float(se),
        z=float(wald),
        p=float(stats.chi2.sf(wald**2, 1)) if np.isfinite(wald) else np.nan,
        loglik=float(loglik),
        loglik_null=float(loglik_null),
        n=int(round(n_total)),
        n_events=int(round(n_events)),
        converged=converged,
    )


@dataclass(frozen=True, eq=False)
class _EfronLikelihood:
    """Efron partial likelihood of one standardised covariate `z`, vectorised over users.

    Per distinct time, `np.bincount` over (time, churned) cells gives the sums of w·e^{γz},
    w·z·e^{γz}, w·z²·e^{γz}; reverse cumulative sums turn them into risk-set sums; the churned
    cells are the tied-death sums that Efron's fractions remove.
    """

    z: np.ndarray
    w: np.ndarray | None
    cell: np.ndarray  # 2 * time index + event
    n_times: int
    ties: _EfronTies
    death_z: float  # sum of w·z over churned users

    def __call__(self, gamma: float) -> tuple[float, float, float]:
        """(log-likelihood, score, information) at gamma."""
        eta = gamma * self.z
        shift = float(eta.max())  # factor out e^max so a large |gamma| cannot overflow
        phi = np.exp(eta - shift)
        if self.w is not None:
            phi *= self.w
        phi_z = phi * self.z
        sums = [
            np.bincount(self.cell, weights=v, minlength=2 * self.n_times).reshape(-1, 2)
            for v in (phi, phi_z, phi_z * self.z)
        ]
        risk = [np.cumsum((s[:, 0] + s[:, 1])[::-1])[::-1] for s in sums]
        f, t = self.ties.frac, self.ties.time
        denom = risk[0][t] - f * sums[0][t, 1]
        mean1 = (risk[1][t] - f * sums[1][t, 1]) / denom
        mean2 = (risk[2][t] - f * sums[2][t, 1]) / denom
        loglik = gamma * self.death_z - float(np.log(denom).sum()) - t.size * shift
        return loglik, self.death_z - float(mean1.sum()), float((mean2 - mean1**2).sum())


def _newton_raphson(
    likelihood: _EfronLikelihood,
) -> tuple[float, float, float, float, bool]:
    """Maximise the partial likelihood from gamma = 0, halving steps that lower it.

    Returns (gamma, loglik, information, loglik at 0, converged). Stops when the Newton step is
    below `_COX_TOL` standardised units, i.e. far tighter than lifelines' own stopping rule.
    """
    gamma = 0.0
    loglik, score, info = likelihood(gamma)
    loglik_null, info_null = loglik, info
    converged = False
    for _ in range(_COX_MAX_ITER):
        if not (np.isfinite(score) and np.isfinite(info) and info > 0):
            break
        step = score / info
        if abs(step) < _COX_TOL:
            converged = True
            break
        for _ in range(_COX_MAX_HALVINGS):
            new = likelihood(gamma + step)
            if np.isfinite(new[0]) and new[0] >= loglik - 1e-12 * abs(loglik):
                break
            step /= 2
        else:
            break
        gamma += step
        loglik, score, info = new
    # Information vanishing relative to gamma = 0 means the likelihood keeps rising towards an
    # asymptote (perfect separation): the step only looks small because the score underflowed.
    if not info > _COX_MIN_INFO_RATIO * info_null:
        converged = False
    return gamma, loglik, info, loglik_null, converged


# --------------------------------------------------------------------------------------------
# Harrell's concordance
# --------------------------------------------------------------------------------------------


def concordance(sd: SurvivalData, score: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Harrell's C of `score` as *predicted survival* (higher = expected to stay longer).

    Tie rules are lifelines' (`concordance_index(T, score, E)`): a pair is comparable when the
    shorter duration is a churn event; a churn at t and a censoring at t are comparable (the churn
    is shorter); two churns at the same t are not; equal scores count ½. Passing a hazard instead
    of a survival score silently returns 1 − C: use `-beta * x` from `cox_univariate`.

    Pair weights are w_i·w_j, so whole-number weights give the C of the row-expanded data.

    Paths, fastest first:
    - ≤ `CONCORDANCE_MAX_VALUES` distinct scores and a (time × value) grid of at most
      `CONCORDANCE_MAX_CELLS` cells: exact counting on the grid (typical: counts, whole days).
    - otherwise, unweighted: `lifelines.utils.concordance_index`.
    - otherwise, weighted: the score is cut into `CONCORDANCE_MAX_VALUES` quantile bins and counted
      on the grid. This is **approximate** (scores in one bin count as tied); it is meant for
      bootstrap resamples, whose spread it barely changes. If even that grid is too large (many
      distinct float durations), the rows are expanded by their weights and lifelines is called.

    Raises ValueError when no pair is comparable (e.g. no churn events).
    """
    score = _check_covariate(score, sd.n, "score")
    w = _check_weights(weights, sd.n, integer=False)
    values, value_index = np.unique(score, return_inverse=True)
    n_times = sd.times.size

    if values.size <= CONCORDANCE_MAX_VALUES and n_times * values.size <= CONCORDANCE_MAX_CELLS:
        return _concordance_grid(sd, value_index, values.size, w)
    if w is None:
        if not sd.event.any():
            raise ValueError("no comparable pairs: concordance needs at least one churn event")
        return float(concordance_index(sd.duration, score, sd.event))
    if values.size > CONCORDANCE_MAX_VALUES:
        edges = np.unique(np.quantile(score, np.linspace(0, 1, CONCORDANCE_MAX_VALUES + 1)[1:-1]))
        value_index = np.searchsorted(edges, score, side="right")
        if n_times * (edges.size + 1) <= CONCORDANCE_MAX_CELLS:
            return _concordance_grid(sd, value_index, edges.size + 1, w)
    w = _check_weights(w, sd.n, integer=True)
    reps = w.astype(np.int64)
    if not (sd.event.astype(bool) & (reps > 0)).any():
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    return float(
        concordance_index(
            np.repeat(sd.duration, reps), np.repeat(score, reps), np.repeat(sd.event, reps)
        )
    )


def _concordance_grid(
    sd: SurvivalData, value_index: np.ndarray, n_values: int, w: np.ndarray | None
) -> float:
    """Exact C from a (distinct time × distinct score) grid of user and churn counts.

    For churners at time j with score v, the comparable partners are everyone with a longer
    duration plus those censored at j; cumulative sums over scores split them into higher
    (concordant), equal (tied) and lower (discordant). Unweighted counts are kept as int64 so
    the ratio is bit-for-bit lifelines'.
    """
    n_times = sd.times.size
    cell = sd.time_index * n_values + value_index
    shape = (n_times, n_values)
    users = np.bincount(cell, weights=w, minlength=n_times * n_values).reshape(shape)
    churn_w = sd.event if w is None else w * sd.event
    churned = np.bincount(cell, weights=churn_w, minlength=n_times * n_values).reshape(shape)
    if w is None:
        users, churned = users.astype(np.int64), churned.astype(np.int64)

    longer = np.zeros_like(users)
    longer[:-1] = np.cumsum(users[::-1], axis=0)[::-1][1:]
    partners = longer + (users - churned)
    at_or_below = np.cumsum(partners, axis=1)
    higher = at_or_below[:, -1:] - at_or_below
    concordant = (churned * higher).sum()
    tied = (churned * partners).sum()
    discordant = (churned * (at_or_below - partners)).sum()
    pairs = concordant + tied + discordant
    if pairs == 0:
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    return float((concordant + tied / 2) / pairs)


# --------------------------------------------------------------------------------------------
# Kaplan–Meier, log-rank, RMST (lifelines, plus the RMST standard error)
# --------------------------------------------------------------------------------------------


def _arrays(duration, event) -> tuple[np.ndarray, np.ndarray]:
    """Durations (float days) and 0/1 events, validated as in `SurvivalData.from_arrays`."""
    sd = SurvivalData.from_arrays(duration, event)
    return sd.duration, sd.event.astype(int)


def _kmf(duration, event, weights=None, alpha: float = 0.05) -> KaplanMeierFitter:
    d, e = _arrays(duration, event)
    with warnings.catch_warnings():
        # lifelines warns that non-integer weights need robust variance; ours are frequency weights
        warnings.simplefilter("ignore", category=Warning)
        return KaplanMeierFitter(alpha=alpha).fit(d, e, weights=weights)


def km_curve(
    duration: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan–Meier retention curve for charts: one row per distinct duration (days).

    Columns: `time` (days), `survival` (share still retained), `ci_low`/`ci_high` (lifelines'
    exponential Greenwood interval at level 1 − alpha), `at_risk` and `events` (users still
    observed just before `time` and churn events at `time`; weighted when weights are given).
    The first row is always (time 0, survival 1); if users churn at day 0 a second row at time 0
    shows the drop, so a step chart stays honest.
    """
    kmf = _kmf(duration, event, weights, alpha)
    ci = kmf.confidence_interval_survival_function_
    table = kmf.event_table
    out = pd.DataFrame(
        {
            "time": kmf.survival_function_.index.to_numpy(dtype=float),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
            "at_risk": table["at_risk"].to_numpy(dtype=float),
            "events": table["observed"].to_numpy(dtype=float),
        }
    )
    if out["time"].iloc[0] != 0 or out["survival"].iloc[0] < 1:
        start = dict(time=0.0, survival=1.0, ci_low=1.0, ci_high=1.0, events=0.0)
        start["at_risk"] = out["at_risk"].iloc[0]
        out = pd.concat([pd.DataFrame([start], columns=out.columns), out], ignore_index=True)
    return out


def survival_at(
    duration: np.ndarray, event: np.ndarray, t: float, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Kaplan–Meier retention at day t with its (1 − alpha) CI, as lifelines reports them.

    The estimate is lifelines' `survival_function_at_times(t)` (a step function: the value at the
    last distinct duration ≤ t); the interval is read at the same step from lifelines' exponential
    Greenwood (log(−log S)) band.
    """
    kmf = _kmf(duration, event, alpha=alpha)
    s = float(kmf.survival_function_at_times(t).iloc[0])
    ci = kmf.confidence_interval_survival_function_.asof(t)
    return s, float(ci.iloc[0]), float(ci.iloc[1])


def _split(duration, event, group_bool) -> tuple[tuple, tuple]:
    d, e = _arrays(duration, event)
    g = np.asarray(group_bool).astype(bool)
    if g.shape != d.shape:
        raise ValueError("group_bool must have one entry per user")
    if g.all() or not g.any():
        raise ValueError("both groups must be non-empty to compare them")
    return (d[g], e[g]), (d[~g], e[~g])


def logrank(duration: np.ndarray, event: np.ndarray, group_bool: np.ndarray) -> tuple[float, float]:
    """Log-rank test of group_bool True vs False: (χ² with 1 df, p). lifelines' `logrank_test`."""
    (da, ea), (db, eb) = _split(duration, event, group_bool)
    res = logrank_test(da, db, event_observed_A=ea, event_observed_B=eb)
    return float(res.test_statistic), float(res.p_value)


def survival_difference_p(
    duration: np.ndarray, event: np.ndarray, group_bool: np.ndarray, t: float
) -> float:
    """p-value for equal retention at day t between the groups.

    lifelines' `survival_difference_at_fixed_point_in_time_test` (log(−log) transformed), which
    keeps its power when hazards cross and a log-rank test would not.
    """
    (da, ea), (db, eb) = _split(duration, event, group_bool)
    res = survival_difference_at_fixed_point_in_time_test(t, _kmf(da, ea), _kmf(db, eb))
    return float(res.p_value)


def rmst(duration: np.ndarray, event: np.ndarray, tau: float) -> tuple[float, float]:
    """Restricted mean survival time to day tau (days retained out of the first tau) and its SE.

    The mean is lifelines' `restricted_mean_survival_time(kmf, t=tau)`. The standard error is the
    Greenwood-type formula R's survfit prints (lifelines has none):
    Var = Σ_{t_j ≤ tau} A_j²·d_j / (n_j·(n_j − d_j)),  A_j = ∫_{t_j}^{tau} S(u) du,
    over churn times t_j with d_j churns among n_j at risk. When n_j = d_j everyone left churns,
    S drops to 0 so A_j = 0; the term is 0 (R sets d/(n(n−d)) to 0 there), not 0·∞.
    """
    d, e = _arrays(duration, event)
    if not tau > 0:
        raise ValueError(f"tau must be > 0 days, got {tau}")
    kmf = _kmf(d, e)
    mean = float(restricted_mean_survival_time(kmf, t=tau))

    times, index = np.unique(d, return_inverse=True)
    deaths = np.bincount(index, weights=e, minlength=times.size)
    at_risk = np.cumsum(np.bincount(index, minlength=times.size)[::-1])[::-1].astype(float)
    keep = (deaths > 0) & (times <= tau)
    t_j, d_j, n_j = times[keep], deaths[keep], at_risk[keep]
    s_after = np.cumprod(1 - d_j / n_j)  # S on [t_j, t_{j+1})
    widths = np.diff(np.append(t_j, tau))
    area_after = np.cumsum((s_after * widths)[::-1])[::-1]  # A_j
    survivors = n_j - d_j
    hazard_var = np.divide(d_j, n_j * survivors, out=np.zeros_like(d_j), where=survivors > 0)
    return mean, float(np.sqrt(np.sum(area_after**2 * hazard_var)))


def ph_test(sd: SurvivalData, x: np.ndarray, fit: CoxFit) -> float:
    """Grambsch–Therneau proportional-hazards test (rank time transform) for one covariate: p.

    The statistic is lifelines' `proportional_hazard_test(..., time_transform='rank')`:
    T = D·Var(β)·(Σ_k (g_k − ḡ)·r_k)² / Σ_k (g_k − ḡ)², with r_k the Schoenfeld residual of the
    k-th churn (Efron means over the risk set) and g_k its rank among churn times. One
    deliberate difference: churns on the same day share their mid-rank, so the result does not
    depend on the order of tied rows (lifelines numbers tied churns in its sort order). Without
    tied churn times the two are equal; vectorised, it runs on all users in milliseconds.
    """
    x = _check_covariate(x, sd.n)
    e = sd.event.astype(bool)
    phi = np.exp(fit.beta * (x - x.mean()))
    n_t = sd.times.size
    t = sd.time_index
    r0 = np.cumsum(np.bincount(t, phi, n_t)[::-1])[::-1]
    r1 = np.cumsum(np.bincount(t, phi * x, n_t)[::-1])[::-1]
    t0 = np.bincount(t[e], phi[e], n_t)
    t1 = np.bincount(t[e], (phi * x)[e], n_t)
    ties = sd.efron_ties
    f, ti = ties.frac, ties.time
    efron_mean = (r1[ti] - f * t1[ti]) / (r0[ti] - f * t0[ti])
    d = sd.deaths.astype(float)
    churn = d > 0
    m = np.zeros(n_t)
    m[churn] = np.bincount(ti, efron_mean, n_t)[churn] / d[churn]
    x_dead = np.bincount(t[e], x[e], n_t)
    before = np.cumsum(d) - d
    g = before + (d + 1) / 2  # mid-rank of the churns at each time
    g_bar = (d.sum() + 1) / 2
    s = float(np.sum(((g - g_bar) * (x_dead - d * m))[churn]))
    g2 = float(np.sum((d * (g - g_bar) ** 2)[churn]))
    if g2 <= 0 or not np.isfinite(fit.se):
        return float("nan")
    stat = d.sum() * fit.se**2 * s**2 / g2
    return float(stats.chi2.sf(stat, 1))


def cox_direction(sd: SurvivalData, x: np.ndarray) -> float:
    """The sign of the Cox estimate β̂ without fitting: the sign of the score U(0).

    The Efron log partial likelihood is concave in β, so β̂ lies on the side where it rises from
    0: sign(β̂) = sign(U(0)). One likelihood evaluation instead of a Newton–Raphson fit.
    """
    x = _check_covariate(x, sd.n)
    mean, scale = float(x.mean()), float(x.std())
    if scale == 0 or sd.event.sum() == 0:
        return 0.0
    z = (x - mean) / scale
    likelihood = _EfronLikelihood(
        z=z,
        w=None,
        cell=2 * sd.time_index + sd.event,
        n_times=sd.times.size,
        ties=sd.efron_ties,
        death_z=float(z[sd.event.astype(bool)].sum()),
    )
    return float(np.sign(likelihood(0.0)[1]))
