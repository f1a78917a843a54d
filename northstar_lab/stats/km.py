"""Kaplan–Meier retention, log-rank, the fixed-day difference test and RMST (METHODS §3.3).

`km_curve` (lifelines' estimator and interval, computed here, for charts) gives a whole
curve. The two-group figures of the ranking's hot path come from per-time counts
(`GroupCurve`): retention at a day with lifelines' exponential-Greenwood interval, the log-rank
test, the fixed-time difference test (Klein et al. 2007, log(−log) scale, as lifelines'
`survival_difference_at_fixed_point_in_time_test`) and RMST with its SE (lifelines has no RMST
test; the SE is R's survfit formula). Tests check every figure against lifelines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .dist import Z95, chi2_sf, norm_ppf
from .grid import SurvivalData


def _arrays(duration, event) -> tuple[np.ndarray, np.ndarray]:
    """Durations (float days) and 0/1 events, validated as in `SurvivalData.from_arrays`."""
    sd = SurvivalData.from_arrays(duration, event)
    return sd.duration, sd.event.astype(int)


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

    Computed here rather than by lifelines' `KaplanMeierFitter` (the tests check it equals
    lifelines): importing lifelines takes about a second, and this is the first chart a
    person waits for. Timeline, estimate and interval follow lifelines: the timeline starts at
    0, S = exp(Σ log((n − d)/n)), and an undefined interval (S = 1 before any churn) is
    filled with 1, as lifelines fills it.
    """
    d, e = _arrays(duration, event)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=float)
    times, index = np.unique(d, return_inverse=True)
    users = np.bincount(index, weights=w, minlength=times.size)
    deaths = np.bincount(index, weights=w * e, minlength=times.size)
    if times[0] > 0:  # lifelines' timeline starts at 0
        times, users, deaths = (np.concatenate([[0.0], a]) for a in (times, users, deaths))
    at_risk = np.cumsum(users[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.exp(np.cumsum(np.log(at_risk - deaths) - np.log(at_risk)))
        var = deaths / (at_risk * (at_risk - deaths))
        cum_sq = np.cumsum(np.where(np.isinf(var), 0.0, var))
        low, high = exponential_greenwood(survival, cum_sq, norm_ppf(1 - alpha / 2))
    out = pd.DataFrame(
        {
            "time": times,
            "survival": survival,
            "ci_low": np.nan_to_num(low, nan=1.0),
            "ci_high": np.nan_to_num(high, nan=1.0),
            "at_risk": at_risk,
            "events": deaths,
        }
    )
    if out["time"].iloc[0] != 0 or out["survival"].iloc[0] < 1:
        start = dict(time=0.0, survival=1.0, ci_low=1.0, ci_high=1.0, events=0.0)
        start["at_risk"] = out["at_risk"].iloc[0]
        out = pd.concat([pd.DataFrame([start], columns=out.columns), out], ignore_index=True)
    return out


def exponential_greenwood(survival, cum_sq, z: float = Z95):
    """lifelines' interval for S on the log(−log S) scale, from Greenwood's Σ d/(n(n − d)):
    exp(−exp(log(−log S) ∓ z·√V / log S)). NaN where S is 0 or 1 (callers fill those)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(survival)
        spread = z * np.sqrt(cum_sq) / log_s  # < 0, since log S < 0
        return np.exp(-np.exp(np.log(-log_s) - spread)), np.exp(-np.exp(np.log(-log_s) + spread))


@dataclass(frozen=True)
class GroupCurve:
    """One group's Kaplan–Meier ingredients on the shared time grid (only its own times count)."""

    times: np.ndarray  # distinct durations present in the group (days, ascending)
    at_risk: np.ndarray
    deaths: np.ndarray
    survival: np.ndarray  # S just after each time
    cum_sq: np.ndarray  # Σ d/(n(n − d)) up to each time (Greenwood)

    @classmethod
    def from_counts(cls, times, users, deaths) -> GroupCurve:
        present = users > 0
        t, u, d = times[present], users[present].astype(float), deaths[present].astype(float)
        at_risk = np.cumsum(u[::-1])[::-1]
        survivors = at_risk - d
        s = np.cumprod(1.0 - d / at_risk)
        var = np.divide(d, at_risk * survivors, out=np.zeros_like(d), where=survivors > 0)
        return cls(t, at_risk, d, s, np.cumsum(var))

    def survival_at(self, t: float) -> float:
        """Step value at the last time ≤ t (1 before the first)."""
        i = np.searchsorted(self.times, t, side="right") - 1
        return 1.0 if i < 0 else float(self.survival[i])

    def greenwood_at(self, t: float) -> float:
        """lifelines interpolates the cumulative Greenwood sum linearly over its timeline
        (which starts at 0): reproduced here so the intervals and tests agree exactly."""
        grid = np.concatenate([[0.0], self.times]) if self.times[0] > 0 else self.times
        vals = np.concatenate([[0.0], self.cum_sq]) if self.times[0] > 0 else self.cum_sq
        return float(np.interp(t, grid, vals))

    def interval_at(self, t: float) -> tuple[float, float]:
        """Exponential Greenwood (log(−log S)) 95% interval at the step containing t."""
        i = np.searchsorted(self.times, t, side="right") - 1
        if i < 0:
            return 1.0, 1.0
        s, v = float(self.survival[i]), float(self.cum_sq[i])
        if not 0 < s < 1:
            return (s, s) if s == 0 else (1.0, 1.0)
        low, high = exponential_greenwood(s, v)
        return float(low), float(high)

    def rmst(self, tau: float) -> tuple[float, float]:
        """∫₀^τ S(u) du and its SE: Var = Σ_{t_j ≤ τ} A_j² d_j/(n_j(n_j − d_j))."""
        keep = self.times <= tau
        t, s = self.times[keep], self.survival[keep]
        edges = np.concatenate([[0.0], t, [tau]])
        levels = np.concatenate([[1.0], s])
        mean = float(np.sum(levels * np.diff(edges)))
        churn = self.deaths[keep] > 0
        t_j, d_j, n_j, s_j = t[churn], self.deaths[keep][churn], self.at_risk[keep][churn], s[churn]
        widths = np.diff(np.append(t_j, tau))
        area_after = np.cumsum((s_j * widths)[::-1])[::-1]
        survivors = n_j - d_j
        hv = np.divide(d_j, n_j * survivors, out=np.zeros_like(d_j), where=survivors > 0)
        return mean, float(np.sqrt(np.sum(area_after**2 * hv)))


def group_curves(sd: SurvivalData, group: np.ndarray) -> tuple[GroupCurve, GroupCurve]:
    """Curves for group True and group False from one pass of bincounts."""
    n_t = sd.times.size
    g = np.asarray(group, dtype=bool)
    ev = sd.event.astype(float)
    users_a = np.bincount(sd.time_index[g], minlength=n_t)
    users_b = np.bincount(sd.time_index[~g], minlength=n_t)
    deaths_a = np.bincount(sd.time_index[g], weights=ev[g], minlength=n_t)
    deaths_b = sd.deaths - deaths_a
    return (
        GroupCurve.from_counts(sd.times, users_a, deaths_a),
        GroupCurve.from_counts(sd.times, users_b, deaths_b),
    )


def logrank(sd: SurvivalData, group: np.ndarray) -> tuple[float, float]:
    """Log-rank χ² (1 df) and p for group True vs False (hypergeometric variance, as lifelines)."""
    n_t = sd.times.size
    g = np.asarray(group, dtype=bool)
    users = np.bincount(sd.time_index, minlength=n_t).astype(float)
    users_a = np.bincount(sd.time_index[g], minlength=n_t).astype(float)
    deaths_a = np.bincount(sd.time_index[g], weights=sd.event[g].astype(float), minlength=n_t)
    n = np.cumsum(users[::-1])[::-1]
    n_a = np.cumsum(users_a[::-1])[::-1]
    d = sd.deaths.astype(float)
    churn = d > 0
    n, n_a, d, deaths_a = n[churn], n_a[churn], d[churn], deaths_a[churn]
    expected = d * n_a / n
    var = np.divide(d * (n_a / n) * (1 - n_a / n) * (n - d), n - 1, out=np.zeros_like(d),
                    where=n > 1)  # fmt: skip
    chi2 = float((deaths_a.sum() - expected.sum()) ** 2 / var.sum()) if var.sum() > 0 else 0.0
    return chi2, float(chi2_sf(chi2, 1))


def difference_at_p(a: GroupCurve, b: GroupCurve, t: float) -> float:
    """p of the fixed-time difference test on the log(−log S) scale (lifelines' formula)."""
    sa, sb = a.survival_at(t), b.survival_at(t)
    if not (0 < sa < 1 and 0 < sb < 1):
        return float("nan")
    va, vb = a.greenwood_at(t), b.greenwood_at(t)
    clog = np.log(-np.log(sa)) - np.log(-np.log(sb))
    denom = va / np.log(sa) ** 2 + vb / np.log(sb) ** 2
    if denom <= 0:
        return float("nan")
    return float(chi2_sf(clog**2 / denom, 1))
