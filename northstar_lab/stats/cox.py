"""One-covariate Cox proportional hazards with Efron ties, vectorised (METHODS §3.1).

Equal to lifelines' `CoxPHFitter` (tested to 1e-9 against lifelines run to convergence). Newton–
Raphson over per-day sums: `np.bincount` of e^{γz}, z·e^{γz}, z²·e^{γz} per (time, churned) cell,
reverse cumulative sums for risk sets, Efron's fractions per tied day.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

from .dist import chi2_ppf, chi2_sf, norm_ppf
from .grid import SurvivalData, check_covariate, check_weights

_COX_MAX_ITER = 50
_COX_TOL = 1e-10  # Newton step, in units of the standardised covariate
_COX_MAX_HALVINGS = 30
_COX_MIN_INFO_RATIO = 1e-10  # below this share of the null information: separation, not a fit


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
    separated: bool = False
    beta_bound: float = float("nan")

    # separated: the partial likelihood is monotone (perfect separation: e.g. none of the users
    # who did a rare thing churned), so β̂ is ±∞, the Wald SE is useless and `p` is ~1. Read
    # `lr_p` and the bound instead: beta_bound is the finite end of the 95% profile-likelihood
    # interval, {β: 2(ℓ_sup − ℓ(β)) ≤ 3.84}, which runs from beta_bound to ±∞ (the sign of beta).

    @property
    def hazard_ratio(self) -> float:
        """exp(beta): multiplicative change in churn hazard per unit of the covariate."""
        return float(np.exp(self.beta))

    def ci(self, alpha: float = 0.05) -> tuple[float, float]:
        """Wald confidence interval of `beta` (log scale); exponentiate for the hazard ratio."""
        q = norm_ppf(1 - alpha / 2)
        return self.beta - q * self.se, self.beta + q * self.se

    @property
    def likelihood_ratio(self) -> float:
        """2·(loglik − loglik_null), χ² with 1 degree of freedom under no association."""
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def lr_p(self) -> float:
        """p of the likelihood-ratio test (valid under separation, where Wald's is not)."""
        return float(chi2_sf(max(self.likelihood_ratio, 0.0), 1))


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
    x = check_covariate(x, sd.n)
    w = check_weights(weights, sd.n, integer=True)
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
        cell=sd.status_cell,
        n_times=sd.times.size,
        deaths=deaths,
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
    w, e, t, xv = collapse_users(sd, codes, n_codes, values)
    return cox_weighted_cells(w, e, t, xv, sd.times.size, sd.deaths, float(sd.event.sum()))


def collapse_users(sd: SurvivalData, codes: np.ndarray, n_codes: int, values: np.ndarray):
    """Users counted per occupied (time, level, churned) cell: (w users, e, time index t,
    value xv) per cell, the frequency-weighted form of the same Efron likelihood."""
    cell = (sd.time_index * n_codes + codes) * 2 + sd.event
    counts = np.bincount(cell, minlength=2 * n_codes * sd.times.size)
    used = np.flatnonzero(counts)
    w = counts[used].astype(float)
    e = (used % 2).astype(np.int8)
    t = used // (2 * n_codes)
    xv = values[(used // 2) % n_codes]
    return w, e, t, xv


def cox_weighted_cells(w, e, t, xv, n_times: int, deaths, n_events: float) -> CoxFit:
    """The Cox fit on (time index t, churned e, value xv) cells of w users each: the covariate
    standardised with the weighted mean and SD (for a well-scaled Newton–Raphson), the Efron
    likelihood built once, the result back on the covariate's scale. The one home of this step
    for user-level collapsed fits (`_cox_collapsed`) and engine-side cells (`cells.cox_cells`).
    """
    n_total = float(w.sum())
    mean = float(w @ xv) / n_total
    scale = float(np.sqrt((w @ (xv - mean) ** 2) / n_total))
    z = (xv - mean) / scale
    likelihood = _EfronLikelihood(
        z=z,
        w=w,
        cell=2 * t + e,
        n_times=n_times,
        deaths=deaths,
        death_z=float((w * e) @ z),
    )
    return _cox_result(likelihood, scale, n_total, n_events)


def _cox_result(likelihood, scale: float, n_total: float, n_events: float) -> CoxFit:
    """Newton–Raphson on a prepared likelihood, back on the covariate's own scale."""
    gamma, loglik, info, loglik_null, converged, separated = _newton_raphson(likelihood)
    se = 1.0 / np.sqrt(info) / scale if np.isfinite(info) and info > 0 else np.inf
    beta = gamma / scale
    wald = beta / se
    bound = _profile_bound(likelihood, gamma, loglik) / scale if separated else float("nan")
    return CoxFit(
        beta=float(beta),
        se=float(se),
        z=float(wald),
        p=float(chi2_sf(wald**2, 1)) if np.isfinite(wald) else np.nan,
        loglik=float(loglik),
        loglik_null=float(loglik_null),
        n=int(round(n_total)),
        n_events=int(round(n_events)),
        converged=converged,
        separated=separated,
        beta_bound=float(bound),
    )


CHI2_95 = float(chi2_ppf(0.95, 1))


def _profile_bound(likelihood: _EfronLikelihood, gamma: float, loglik_sup: float) -> float:
    """The finite end of the 95% profile-likelihood interval under separation (standardised
    units): where the log-likelihood has fallen 3.84/2 below its supremum, on the side of 0.

    The likelihood is concave and rises towards sign(gamma)·∞, so the set {ℓ ≥ ℓ_sup − 1.92}
    is a half-line; its end is found by stepping towards (and past) 0, then bisection.
    """
    target = loglik_sup - CHI2_95 / 2
    inner, outer = gamma, 0.0  # ℓ(inner) ≥ target; find outer with ℓ(outer) < target
    step = 1.0
    while likelihood(outer)[0] >= target and step < 1e3:
        outer -= np.sign(gamma) * step
        step *= 2
    for _ in range(80):
        mid = 0.5 * (inner + outer)
        inner, outer = (mid, outer) if likelihood(mid)[0] >= target else (inner, mid)
        if abs(outer - inner) < 1e-9:
            break
    return 0.5 * (inner + outer)


@dataclass(frozen=True, eq=False)
class _EfronLikelihood:
    """Efron partial likelihood of one standardised covariate `z`, vectorised over users.

    Per distinct time, `np.bincount` over (time, churned) cells gives the sums of w·e^{γz},
    w·z·e^{γz}, w·z²·e^{γz}; reverse cumulative sums turn them into risk-set sums; the churned
    cells are the tied-death sums that Efron's fractions remove, summed over the tied churns
    in closed form (`EfronSums`).
    """

    z: np.ndarray
    w: np.ndarray | None
    cell: np.ndarray  # 2 * time index + event
    n_times: int
    deaths: np.ndarray  # (frequency-weighted) churns per time
    death_z: float  # sum of w·z over churned users

    @cached_property
    def _ties(self) -> tuple[np.ndarray, EfronSums, float]:
        churn = np.flatnonzero(self.deaths > 0)
        d = self.deaths[churn].astype(float)
        return churn, EfronSums(d), float(d.sum())

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
        churn, efron, n_events = self._ties
        parts = []
        for r, s in zip(risk, sums, strict=True):
            parts += [r[churn], s[churn, 1]]
        log_terms, mean, var = efron(*parts)
        loglik = gamma * self.death_z - log_terms - n_events * shift
        return loglik, self.death_z - mean, var


@dataclass(frozen=True)
class EfronSums:
    """Efron's sums over the l = 0..d−1 tied churns of each time, in closed form.

    With R the risk-set sum and D the tied churns' sum of e^{γz} at a time with d churns,
    Efron's terms are 1/(R − (l/d)·D) = (d/D)/(a − l), a = R·d/D. Their sums over l are
    digamma/trigamma differences and the log terms a log-gamma difference:
    Σ 1/(a−l) = ψ(a+1) − ψ(a−d+1), Σ 1/(a−l)² = ψ'(a−d+1) − ψ'(a+1),
    Σ log(a−l) = lnΓ(a+1) − lnΓ(a−d+1). So each iteration costs O(distinct times), not
    O(churn events). For x = a − d + 1 ≥ 20 the differences use asymptotic series written
    so that nothing cancels (log1p of d/x), which keeps ~1e-15 relative accuracy where two
    digammas of 10⁶ would differ in their 7th digit; below it scipy's functions are exact.
    """

    d: np.ndarray  # churns at each time with churns (frequency-weighted, whole numbers)

    def __call__(self, r0, d0, r1, d1, r2, d2) -> tuple[float, float, float]:
        """(Σ log terms, Σ Efron means of z, Σ Efron variances of z) over all tied times."""
        d = self.d
        x1 = (r0 - d0) * d / d0 + 1.0  # a − d + 1 ≥ 1 (the survivors' share of the risk set)
        log_sum, s1, s2 = _tie_series(x1, d)
        scale = d / d0
        log_terms = float(np.sum(d * np.log(d0 / d) + log_sum))
        s1 = s1 * scale
        s2 = s2 * scale**2
        b1, b2 = d1 / d0, d2 / d0
        a1, a2 = r1 - b1 * r0, r2 - b2 * r0
        mean = float(np.sum(a1 * s1 + d * b1))
        var = float(np.sum(a2 * s1 + d * b2 - (a1**2 * s2 + 2 * a1 * b1 * s1 + d * b1**2)))
        return log_terms, mean, var


def _tie_series(x1: np.ndarray, d: np.ndarray):
    """Σ_{j<d} log(x1+j), Σ 1/(x1+j) and Σ 1/(x1+j)² for each (x1, d): see EfronSums."""
    x2 = x1 + d
    big = x1 >= 20.0
    log_sum = np.empty_like(x1)
    s1 = np.empty_like(x1)
    s2 = np.empty_like(x1)
    lo, hi = x1[big], x2[big]
    r = d[big] / lo
    inv_lo, inv_hi = 1.0 / lo, 1.0 / hi
    # lnΓ(hi) − lnΓ(lo) = d·ln(hi) + (lo − ½)·ln(hi/lo) − d + Stirling corrections
    corr = (
        (inv_hi - inv_lo) / 12
        - (inv_hi**3 - inv_lo**3) / 360
        + (inv_hi**5 - inv_lo**5) / 1260
        - (inv_hi**7 - inv_lo**7) / 1680
    )
    log_sum[big] = d[big] * np.log(hi) + (lo - 0.5) * np.log1p(r) - d[big] + corr
    # ψ(hi) − ψ(lo) = ln(hi/lo) − (1/hi − 1/lo)/2 − (1/hi² − 1/lo²)/12 + (1/hi⁴ − 1/lo⁴)/120 − …
    s1[big] = (
        np.log1p(r)
        - (inv_hi - inv_lo) / 2
        - (inv_hi**2 - inv_lo**2) / 12
        + (inv_hi**4 - inv_lo**4) / 120
        - (inv_hi**6 - inv_lo**6) / 252
        + (inv_hi**8 - inv_lo**8) / 240
    )
    # ψ'(lo) − ψ'(hi) = (1/lo − 1/hi) + (1/lo² − 1/hi²)/2 + (1/lo³ − 1/hi³)/6 − (…⁵)/30 + (…⁷)/42
    s2[big] = (
        d[big] * inv_lo * inv_hi
        + (inv_lo**2 - inv_hi**2) / 2
        + (inv_lo**3 - inv_hi**3) / 6
        - (inv_lo**5 - inv_hi**5) / 30
        + (inv_lo**7 - inv_hi**7) / 42
        - (inv_lo**9 - inv_hi**9) / 30
    )
    small = ~big
    lo, hi = x1[small], x2[small]
    log_sum[small] = special.gammaln(hi) - special.gammaln(lo)
    s1[small] = special.digamma(hi) - special.digamma(lo)
    s2[small] = special.polygamma(1, lo) - special.polygamma(1, hi)
    return log_sum, s1, s2


def _newton_raphson(
    likelihood: _EfronLikelihood,
) -> tuple[float, float, float, float, bool, bool]:
    """Maximise the partial likelihood from gamma = 0, halving steps that lower it.

    Returns (gamma, loglik, information, loglik at 0, converged, separated). Stops when the
    Newton step is below `_COX_TOL` standardised units, i.e. far tighter than lifelines' own
    stopping rule. `separated`: the information vanished relative to gamma = 0, i.e. the
    likelihood keeps rising towards an asymptote (a monotone likelihood: perfect separation).
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
    separated = not info > _COX_MIN_INFO_RATIO * info_null
    if separated:
        converged = False
    return gamma, loglik, info, loglik_null, converged, bool(separated and gamma != 0)


def cox_direction(sd: SurvivalData, x: np.ndarray, codes=None, level_x=None) -> float:
    """The sign of the Cox estimate β̂ without fitting: the sign of the score U(0).

    The Efron log partial likelihood is concave in β, so β̂ lies on the side where it rises from
    0: sign(β̂) = sign(U(0)). One likelihood evaluation instead of a Newton–Raphson fit.
    codes (dense codes of x and their number) with level_x (x's value per level): the users
    are counted into (time, level, churned) cells first when the grid is small, and x may be
    None; the score is the same sum.
    """
    if codes is not None and codes[1] * sd.times.size <= 4 * sd.n:
        w, e, t, xv = collapse_users(sd, codes[0], codes[1], level_x)
        cell = 2 * t + e
    else:
        x = check_covariate(level_x[codes[0]] if x is None else x, sd.n)
        w, xv, cell = None, x, sd.status_cell
    wt = np.ones(xv.size) if w is None else w
    n_total = float(wt.sum())
    mean = float(wt @ xv) / n_total
    scale = float(np.sqrt((wt @ (xv - mean) ** 2) / n_total))
    if scale == 0 or sd.event.sum() == 0:
        return 0.0
    z = (xv - mean) / scale
    likelihood = _EfronLikelihood(
        z=z,
        w=w,
        cell=cell,
        n_times=sd.times.size,
        deaths=sd.deaths,
        death_z=float(z[sd.event.astype(bool)].sum()) if w is None else float((w * e) @ z),
    )
    return float(np.sign(likelihood(0.0)[1]))
