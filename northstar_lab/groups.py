"""Two-group survival figures from per-time counts, vectorised (no lifelines in the hot path).

Kaplan–Meier retention at a day with lifelines' exponential-Greenwood interval, the log-rank
test, the fixed-time difference test (Klein et al. 2007, log(−log) scale, as lifelines'
`survival_difference_at_fixed_point_in_time_test`) and RMST with its SE — all from the counts of
users and churns per distinct duration in each group. Computed once per candidate on held-out
users; the tests check every figure against lifelines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .survival import SurvivalData

Z95 = stats.norm.ppf(0.975)


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
        log_s = np.log(s)
        spread = Z95 * np.sqrt(v) / log_s
        return float(np.exp(-np.exp(np.log(-log_s) - spread))), float(
            np.exp(-np.exp(np.log(-log_s) + spread))
        )

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
    return chi2, float(stats.chi2.sf(chi2, 1))


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
    return float(stats.chi2.sf(clog**2 / denom, 1))
