"""Product-level lead: the weekly series of each input and of the North Star (METHODS §9.3).

Series are product-wide per calendar week (Monday to Sunday, UTC; only whole weeks inside the
data): an event count is events that week, active days are user-days, "reached" is users doing
it that week, a share is the week's NUM events ÷ DEN events; the baselines use any event.

- **Lagged cross-correlation** of week-over-week changes in log (levels share a trend — signups
  grow — so levels would correlate whatever leads what): corr(Δlog input_t, Δlog NS_{t+L}) for
  L = −MAX_LAG…MAX_LAG; L > 0 means the input moves first. `lag_corr` is L = 1 (this week's
  change in the input vs next week's change in the North Star), with a moving-block bootstrap
  95% CI (blocks of ⌈m^{1/3}⌉ weeks keep the series' own autocorrelation).
- **Decomposition** of the North Star's week-over-week change where the tree is multiplicative:
  NS = users doing it × NS per such user (breadth × depth). With the logarithmic mean
  L(a, b) = (a − b) / (ln a − ln b), ΔNS = L·Δln users + L·Δln per-user exactly (LMDI), so the
  two bars of a week add up to its change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .define import ACTIVE_DAYS, COUNT, DAYS, REACHED, SHARE, TOTAL_EVENTS, InputSpec
from .measure import ANY, MONDAY_OFFSET_DAYS

MAX_LAG = 4
LEAD_LAG = 1
N_BOOT = 1000
MIN_WEEKS = 12


@dataclass
class LagCorrelation:
    """corr(Δlog input_t, Δlog NS_{t+lag}) with its block-bootstrap CI and the weeks used."""

    lag: int
    corr: float
    ci_low: float
    ci_high: float
    n_weeks: int


def week_start(week: int) -> dt.date:
    """The Monday that starts week number `week` (weeks since the epoch's first Monday)."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=7 * int(week) + MONDAY_OFFSET_DAYS)


def whole_weeks(counts: pd.DataFrame, first_day: dt.date, last_day: dt.date) -> pd.DataFrame:
    """The rows of weeks lying wholly within [first_day, last_day]."""
    starts = counts["week"].map(week_start)
    ends = starts + dt.timedelta(days=6)
    return counts[(starts >= first_day) & (ends <= last_day)]


class WeeklyCounts:
    """`measure.weekly_counts` rows as one table per value (weeks × event types)."""

    def __init__(self, counts: pd.DataFrame) -> None:
        self.weeks = pd.Index(sorted(counts["week"].unique()), name="week")
        self.tables = {
            v: counts.pivot_table(index="week", columns="event", values=v, aggfunc="sum")
            .reindex(self.weeks)
            .fillna(0.0)
            for v in ("n", "user_days", "users")
        }

    def __len__(self) -> int:
        return len(self.weeks)

    def col(self, value: str, event: str) -> pd.Series:
        table = self.tables[value]
        return table[event] if event in table else pd.Series(0.0, self.weeks)

    def series(self, spec: InputSpec) -> pd.Series | None:
        """The weekly product-level value of a measure (None where it has no weekly form)."""
        columns = [self.col(*c) for c in series_columns(spec)]
        if not columns:
            return None
        if spec.measure == SHARE:
            num, den = columns
            return num / den.where(den > 0)
        return columns[0]

    def breadth_depth(self, ns: InputSpec) -> tuple[pd.Series, pd.Series] | None:
        """NS = users doing it × NS per such user, per week (None unless NS sums over users)."""
        column = breadth_column(ns)
        if column is None:
            return None
        total, users = self.series(ns), self.col(*column)
        return users, total / users.where(users > 0)


def series_columns(spec: InputSpec) -> list[tuple[str, str]]:
    """The (value, event) columns of `measure.weekly_counts` a measure's weekly series is made
    of ([] where it has no weekly form); a share is the first over the second."""
    m = spec.measure
    if m == COUNT:
        return [("n", spec.event)]
    if m == DAYS:
        return [("user_days", spec.event)]
    if m == REACHED:
        return [("users", spec.event)]
    if m == SHARE:
        return [("n", spec.event), ("n", spec.denominator)]
    if m == ACTIVE_DAYS:
        return [("user_days", ANY)]
    if m == TOTAL_EVENTS:
        return [("n", ANY)]
    return []


def breadth_column(ns: InputSpec) -> tuple[str, str] | None:
    """The users column of the North Star's breadth × depth (None unless it sums over users)."""
    if ns.measure not in (COUNT, DAYS, ACTIVE_DAYS, TOTAL_EVENTS):
        return None
    return ("users", ANY if ns.measure in (ACTIVE_DAYS, TOTAL_EVENTS) else ns.event)


def needed_columns(specs: list[InputSpec], ns: InputSpec) -> set[tuple[str, str]]:
    """Every (value, event) column the series of `specs` and the North Star (with its breadth
    × depth) read: the engine counts those only (users and user-days cost a pass each)."""
    out = {c for s in [*specs, ns] for c in series_columns(s)}
    return out | ({breadth_column(ns)} - {None})


def log_changes(x: pd.Series) -> np.ndarray:
    """Week-over-week change of log x (NaN where a week or its predecessor is ≤ 0 or missing)."""
    v = x.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)
    return np.diff(logs)


def _pairs(dx: np.ndarray, dy: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(dx_t, dy_{t+lag}) over the t where both exist."""
    if lag >= 0:
        a, b = dx[: dx.size - lag], dy[lag:]
    else:
        a, b = dx[-lag:], dy[: dy.size + lag]
    ok = np.isfinite(a) & np.isfinite(b)
    return a[ok], b[ok]


def _rowwise_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))


def block_bootstrap_ci(a, b, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float]:
    """Moving-block bootstrap 95% CI of corr(a, b) for paired weekly series."""
    m = a.size
    if m < 4:
        return float("nan"), float("nan")
    length = max(2, int(np.ceil(m ** (1 / 3))))
    k = -(-m // length)
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, m - length + 1, size=(n_boot, k))
    idx = (starts[:, :, None] + np.arange(length)).reshape(n_boot, -1)[:, :m]
    r = _rowwise_corr(a[idx], b[idx])
    r = r[np.isfinite(r)]
    if r.size < n_boot // 2:
        return float("nan"), float("nan")
    lo, hi = np.quantile(r, [0.025, 0.975])
    return float(lo), float(hi)


def lag_profile(x: pd.Series, y: pd.Series, seed: int = 0, n_boot: int = N_BOOT):
    """LagCorrelation for every lag −MAX_LAG…MAX_LAG (weeks; > 0: the input moves first)."""
    dx, dy = log_changes(x), log_changes(y)
    out = []
    for lag in range(-MAX_LAG, MAX_LAG + 1):
        a, b = _pairs(dx, dy, lag)
        if a.size < MIN_WEEKS or a.std() == 0 or b.std() == 0:
            out.append(LagCorrelation(lag, float("nan"), float("nan"), float("nan"), int(a.size)))
            continue
        corr = float(np.corrcoef(a, b)[0, 1])
        lo, hi = block_bootstrap_ci(a, b, n_boot, seed + lag + MAX_LAG)
        out.append(LagCorrelation(lag, corr, lo, hi, int(a.size)))
    return out


def decompose(users: pd.Series, per_user: pd.Series) -> pd.DataFrame:
    """LMDI: the North Star's change from the week before, split into users and per-user parts.

    Columns: week, north_star, change, from_users, from_per_user (the last two sum to change).
    """
    total = users * per_user
    prev_u, prev_p, prev_t = users.shift(1), per_user.shift(1), total.shift(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dlog_t = np.log(total / prev_t)
        lmean = np.where(np.isclose(total, prev_t), total, (total - prev_t) / dlog_t)
        from_users = lmean * np.log(users / prev_u)
        from_per_user = lmean * np.log(per_user / prev_p)
    out = pd.DataFrame(
        {
            "week": total.index,
            "north_star": total.to_numpy(float),
            "change": (total - prev_t).to_numpy(float),
            "from_users": np.asarray(from_users, float),
            "from_per_user": np.asarray(from_per_user, float),
        }
    )
    return out.iloc[1:].reset_index(drop=True)
