"""The data behind every chart: small DataFrames computed from an `Analysis` or a ranking.

Charts (`charts.py`) are drawn from these frames only, never from an `Analysis`, so that a live
analysis and a decision record's stored snapshot (`snapshot_charts`) render the same way.

Populations, as in the ranking (METHODS §1, §4):
- retention figures use landmark users: the clock starts at day W ("days since day W");
- figures for a threshold k use **held-out** users, because k was chosen on the training half;
  the threshold explorer shows every k on all landmark users (or held-out users, on request);
- revenue is the outcome of `Outcomes.revenue` (e.g. revenue in days W to W+H) for users with
  full follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import Analysis
from ..candidates import Candidate, Kind, at_least_candidate, thresholded_key
from ..data.calendar import DAY, as_of_end_sec
from ..ranking import redundancy, score, thresholds
from ..results import RankingResult
from ..stats import km
from ..stats.cohorts import COHORT_COLUMNS, Z95, cohort_row, pool_inverse_variance

MIN_COHORT_EVENTS = 20
MIN_WEEK_USERS = 30
KM_COLUMNS = ["group", "time", "survival", "ci_low", "ci_high", "at_risk", "events"]
REVENUE_COLUMNS = ["group", "n", "mean_revenue", "ci_low", "ci_high", "median_revenue"]
EXPLORER_COLUMNS = [
    "k", "share", "n_above", "retention_above", "retention_below", "difference", "chosen",
]  # fmt: skip


CORRELATION_COLUMNS = [
    "a", "b", "a_label", "b_label", "rho", "abs_rho", "a_group", "b_group", "same_group",
]  # fmt: skip


WEEKLY_COLUMNS = ["week_start", "new_users", "reached", "share_reaching", "mean_value", "in_cv"]


@dataclass(frozen=True)
class ThresholdSplit:
    """How one ranked candidate splits users: `values ≥ k` is the "reached" group.

    For an at-least candidate ('atleast:…') `values` are the raw values of the metric it
    thresholds and k its threshold, so the groups are exactly its 0/1 split. `modelled` is the
    variable the ranking modelled (the 0/1 indicator for at-least candidates). k is None when no
    threshold was chosen.
    """

    key: str
    name: str
    values: np.ndarray
    modelled: np.ndarray
    k: float | None
    above_label: str
    below_label: str
    held_out_only: bool

    def reached(self) -> np.ndarray:
        """Bool per frame row: the user reached the threshold (or did it at all, without one)."""
        with np.errstate(invalid="ignore"):
            return self.values >= self.k if self.k is not None else self.values > 0


def threshold_labels(cand: Candidate, k: float, window_days: int) -> tuple[str, str]:
    """Legend words for users at/above and below k, e.g. 'lesson_completed ≥ 8×' / '< 8×'."""
    kt = f"{k:g}"
    if cand.kind == Kind.COUNT:
        return f"{cand.event} ≥ {kt}×", f"{cand.event} < {kt}×"
    if cand.kind == Kind.ACTIVE_DAYS:
        return f"{cand.event} on ≥ {kt} days", f"{cand.event} on < {kt} days"
    what = cand.column or short_name(cand.name, window_days)
    return f"{what} ≥ {kt}", f"{what} < {kt}"


def short_name(name: str, window_days: int) -> str:
    """A candidate's name without the ' in first W days' every candidate shares."""
    return name.replace(f" in first {window_days} days", "")


def resolve(an: Analysis, key: str) -> ThresholdSplit:
    """The candidate behind a ranking key (or name), with its values and threshold split.

    `Analysis.candidates` holds the base candidates only; at-least candidates are rebuilt from
    their base and the threshold the ranking chose, exactly as the ranking built them.
    """
    res = an.ranking.candidate(key)
    w = an.settings.window_days
    if res.kind == Kind.AT_LEAST:
        base = an.candidate(thresholded_key(res.key))
        cand = at_least_candidate(base, res.threshold, w)
        values, k, held_out_only = base.raw, float(res.threshold), True
    else:
        base = cand = an.candidate(res.key)
        values, held_out_only = base.raw, False
        k = None if res.threshold is None else float(res.threshold)
    above, below = threshold_labels(base, k, w) if k is not None else ("done it", "not done it")
    return ThresholdSplit(
        res.key, res.name, values.astype(float), cand.modelled, k, above, below, held_out_only
    )


def held_out_mask(an: Analysis) -> np.ndarray:
    """Bool per frame row: users the threshold was *not* chosen on (the analysis's own split)."""
    return ~an.train


def _labelled(df: pd.DataFrame, an: Analysis) -> pd.DataFrame:
    """Attach the settings a chart's words need (`DataFrame.attrs`; not part of the data)."""
    df.attrs.update(
        window_days=an.settings.window_days,
        horizon_days=an.settings.horizon_days,
        revenue_source=an.outcomes.revenue_source,
    )
    return df


def _landmark(an: Analysis, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, E) for frame rows in `mask` (a subset of landmark users): days since day W, churned."""
    oc = an.outcomes
    return oc.duration_since_signup[mask] - oc.window_days, oc.event_all[mask]


def overall_retention(an: Analysis) -> pd.DataFrame:
    """Kaplan–Meier retention of all users from signup (the Data page's curve).

    Columns: time (days since signup), survival (share still active), ci_low/ci_high (95%),
    at_risk (users still observed), events (churns at that day). Users whose follow-up ends
    before signup (negative duration: signed up within the inactivity gap) are left out.
    """
    oc = an.outcomes
    d, e = oc.duration_since_signup, oc.event_all
    ok = np.isfinite(d) & np.isfinite(e) & (d >= 0)
    return km.km_curve(d[ok], e[ok])


def km_by_threshold(an: Analysis, key: str) -> pd.DataFrame:
    """Kaplan–Meier retention of held-out landmark users at/above vs below the threshold.

    Columns: group (words, reached group first), time (days since day W), survival,
    ci_low/ci_high (95%), at_risk, events. Empty when the candidate has no threshold.
    """
    split = resolve(an, key)
    mask = an.outcomes.retention_mask & held_out_mask(an) & np.isfinite(split.values)
    if split.k is None or not mask.any():
        return _labelled(pd.DataFrame(columns=KM_COLUMNS), an)
    t, e = _landmark(an, mask)
    up = split.reached()[mask]
    parts = [
        km.km_curve(t[g], e[g]).assign(group=label)
        for g, label in ((up, split.above_label), (~up, split.below_label))
        if g.any()
    ]
    return _labelled(pd.concat(parts, ignore_index=True)[KM_COLUMNS], an)


def forest_table(ranking: RankingResult) -> pd.DataFrame:
    """The leaderboard as a table: hazard ratio of churn per SD with its 95% CI, in rank order.

    Columns: key, name, label (short name), rank, hazard_ratio, hr_ci_low, hr_ci_high (per SD
    of the modelled variable; < 1 = more of it, less churn), noise_level (q ≥ 0.05), q_value,
    window_verifiable, n, n_events, evaluated_on, score, c_index, c_plus (the C of "more ⇒
    stays longer" the score uses), is_guardrail, revenue_rho (NaN without a revenue outcome).
    From the ranking alone, so a stored ranking draws the same table.
    """
    w = ranking.settings.window_days
    rows = [
        {
            "key": c.key,
            "name": c.name,
            "label": short_name(c.name, w) + ("" if c.window_verifiable else " (window ?)"),
            "rank": c.rank,
            "hazard_ratio": c.hazard_ratio,
            "hr_ci_low": c.hr_ci_low,
            "hr_ci_high": c.hr_ci_high,
            "noise_level": c.noise_level,
            "q_value": c.q_value,
            "window_verifiable": c.window_verifiable,
            "n": c.n,
            "n_events": c.n_events,
            "evaluated_on": c.evaluated_on,
            "score": c.score,
            "c_index": c.c_index,
            "c_plus": c.c_plus,
            "is_guardrail": c.is_guardrail,
            "revenue_rho": np.nan if c.revenue_rho is None else c.revenue_rho,
        }
        for c in ranking.candidates
    ]
    return pd.DataFrame(rows).sort_values("rank", ignore_index=True)


def score_parts(table: pd.DataFrame, weights: tuple[float, float]) -> pd.DataFrame:
    """Add how each composite score splits into a retention part and a revenue part
    (`ranking.score.score_parts`, the score's one definition).

    Needs columns c_plus and revenue_rho; adds retention_part (signed: below 0 when more goes
    with churn), revenue_part (they sum to the score) and w_retention, w_revenue (the weights,
    normalised to sum 1).
    """
    retention, revenue = score.score_parts(table["c_plus"], table["revenue_rho"], weights)
    w_ret, w_rev = score.normalised_weights(weights)
    return table.assign(
        retention_part=retention, revenue_part=revenue, w_retention=w_ret, w_revenue=w_rev
    )


def score_table(ranking: RankingResult) -> pd.DataFrame:
    """`forest_table` with the score split by the ranking's own weights (`score_parts`)."""
    weights = ranking.settings.score_weights
    return score_parts(forest_table(ranking), weights)


def revenue_by_group(an: Analysis, key: str) -> pd.DataFrame:
    """Revenue per user of held-out revenue users at/above vs below the threshold.

    Revenue is `Outcomes.revenue` (its source says which days and units). Columns: group, n,
    mean_revenue, ci_low/ci_high (95% normal-approximation CI of the mean), median_revenue.
    Empty when there is no revenue outcome or no threshold.
    """
    oc, split = an.outcomes, resolve(an, key)
    mask = oc.revenue_mask & held_out_mask(an) & np.isfinite(split.values)
    if oc.revenue is None or split.k is None or not mask.any():
        return _labelled(pd.DataFrame(columns=REVENUE_COLUMNS), an)
    up = split.reached()[mask]
    df = pd.DataFrame({"group": np.where(up, split.above_label, split.below_label)})
    df["revenue"] = oc.revenue[mask]
    g = df.groupby("group", sort=False)["revenue"]
    out = g.agg(n="size", mean_revenue="mean", sd="std", median_revenue="median")
    half = Z95 * out["sd"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = out["mean_revenue"] - half, out["mean_revenue"] + half
    order = [x for x in (split.above_label, split.below_label) if x in out.index]
    return _labelled(out.loc[order].reset_index()[REVENUE_COLUMNS], an)


def threshold_explorer(an: Analysis, key: str, held_out: bool = False) -> pd.DataFrame:
    """Retention at the horizon for users at/above vs below every eligible k.

    On all landmark users (or only the held-out ones), via `thresholds.retention_by_threshold`.
    Eligible: k leaving 10–90% of users on each side; the chosen k is always included.
    Columns: k, share (share of users at/above k), n_above, retention_above, retention_below
    (share still active `horizon_days` after day W), difference (above − below), chosen.
    """
    split = resolve(an, key)
    mask = an.outcomes.retention_mask & np.isfinite(split.values)
    if held_out:
        mask &= held_out_mask(an)
    raw = split.values[mask]
    if raw.size == 0 or np.ptp(raw) == 0:
        return _labelled(pd.DataFrame(columns=EXPLORER_COLUMNS), an)
    t, e = _landmark(an, mask)
    ks = thresholds.threshold_levels(raw)
    ks = ks[ks > ks.min()]
    if split.k is not None:
        ks = np.union1d(ks, [split.k])
    curve = thresholds.retention_by_threshold(raw, t, e, float(an.settings.horizon_days), ks)
    curve["chosen"] = curve["k"] == split.k if split.k is not None else False
    eligible = curve["share"].between(thresholds.MIN_SHARE, thresholds.MAX_SHARE)
    return _labelled(curve[eligible | curve["chosen"]].reset_index(drop=True), an)


def cohort_labels(an: Analysis, by: str = "signup_month") -> pd.Series:
    """Cohort of each frame row: signup month ('2025-03') or the value of a segment column."""
    if by == "signup_month":
        if "signup_sec" not in an.frame:
            raise ValueError("signup_month cohorts need signup times (frame has no signup_sec)")
        return pd.to_datetime(an.frame["signup_sec"], unit="s").dt.strftime("%Y-%m")
    if by not in an.frame:
        raise ValueError(f"no column {by!r} in the per-user frame; segments: {segment_columns(an)}")
    return an.frame[by].astype("string").fillna("(missing)")


def segment_columns(an: Analysis) -> list[str]:
    """Columns of the per-user frame that can split users into segments (text columns)."""
    return [c for c in an.frame.columns if c != "user_id" and an.frame[c].dtype == object]


def cohort_hazard_ratios(
    an: Analysis, key: str, by: str = "signup_month", min_events: int = MIN_COHORT_EVENTS
) -> tuple[pd.DataFrame, dict]:
    """Cox log hazard ratio of churn per SD of the candidate in each cohort, and their pooling.

    x is standardised by its SD over the whole population, so every cohort's hazard ratio is
    "per SD" on the same scale and the pooled value is comparable to the leaderboard's. Landmark
    users (held-out users only for an at-least candidate, as in the ranking). Cohorts with fewer
    than `min_events` churns, or where the metric does not vary, are listed with included=False
    and a note, and left out of the pooling.

    Returns (table, summary). Table columns: cohort, n, events, log_hr, se, hazard_ratio,
    ci_low, ci_high (95%, HR scale), included, note. Summary: `pool_inverse_variance` plus by,
    min_events, n_skipped.
    """
    split = resolve(an, key)
    mask = an.outcomes.retention_mask & np.isfinite(split.modelled)
    if split.held_out_only:
        mask &= held_out_mask(an)
    x = split.modelled[mask]
    z = (x - x.mean()) / np.std(x, ddof=1)
    t, e = _landmark(an, mask)
    cohort = cohort_labels(an, by).to_numpy()[mask]
    rows = [cohort_row(name, t[m], e[m], z[m], min_events) for name, m in _groups(cohort)]
    table = pd.DataFrame(rows, columns=COHORT_COLUMNS)
    inc = table[table["included"]]
    summary = pool_inverse_variance(inc["log_hr"].to_numpy(float), inc["se"].to_numpy(float))
    summary.update(by=by, min_events=min_events, n_skipped=int((~table["included"]).sum()))
    return table, summary


def _groups(labels: np.ndarray):
    """(label, bool mask) per distinct label, in sorted order."""
    values, inverse = np.unique(labels.astype(str), return_inverse=True)
    return [(v, inverse == i) for i, v in enumerate(values)]


def weekly_series(
    an: Analysis, key: str, min_users: int = MIN_WEEK_USERS
) -> tuple[pd.DataFrame, dict]:
    """Per signup week: new users, share reaching the threshold, mean value in their window.

    Users whose W-day window is complete by the as-of date, all of them (also those who churned
    inside the window): it is the series a team would watch. Reaching = value ≥ k (value > 0
    without a threshold). week_start is the Monday of the signup week (UTC).

    Columns: week_start, new_users, reached, share_reaching, mean_value (mean raw value of the
    metric), in_cv (week has ≥ min_users new users). Summary: cv (SD / mean of share_reaching
    over in_cv weeks, ddof 1), sampling_cv (the CV binomial sampling alone would give with these
    week sizes: √mean(p̄(1−p̄)/n)/p̄ — a cv far above it means the metric moves), n_weeks, mean_share,
    label (what "reaching" means), min_users.
    """
    split = resolve(an, key)
    w = an.settings.window_days
    label = split.above_label if split.k is not None else f"{short_name(split.name, w)} > 0"
    empty = _labelled(pd.DataFrame(columns=WEEKLY_COLUMNS), an)
    if "signup_sec" not in an.frame:
        return empty, _weekly_summary(empty, label, min_users)
    signup = an.frame["signup_sec"].to_numpy(float)
    if "a_days" in an.frame:
        complete = an.frame["a_days"].to_numpy(float) >= w
    else:
        complete = signup + w * DAY <= as_of_end_sec(an.as_of)
    ok = complete & np.isfinite(split.values) & np.isfinite(signup)
    df = pd.DataFrame(
        {
            "week_start": pd.to_datetime(signup[ok], unit="s").to_period("W-SUN").start_time,
            "reached": split.reached()[ok].astype(int),
            "value": split.values[ok],
        }
    )
    out = df.groupby("week_start", sort=True).agg(
        new_users=("reached", "size"), reached=("reached", "sum"), mean_value=("value", "mean")
    )
    out["share_reaching"] = out["reached"] / out["new_users"]
    out["in_cv"] = out["new_users"] >= min_users
    out = _labelled(out.reset_index()[WEEKLY_COLUMNS], an)
    return out, _weekly_summary(out, label, min_users)


def _weekly_summary(weekly: pd.DataFrame, label: str, min_users: int) -> dict:
    used = weekly[weekly["in_cv"].astype(bool)]
    p, n = used["share_reaching"].to_numpy(float), used["new_users"].to_numpy(float)
    cv = sampling_cv = mean = float("nan")
    if p.size >= 2 and p.mean() > 0:
        mean = float(p.mean())
        cv = float(p.std(ddof=1) / mean)
        sampling_cv = float(np.sqrt(np.mean(mean * (1 - mean) / n)) / mean)
    return dict(
        cv=cv,
        sampling_cv=sampling_cv,
        n_weeks=int(p.size),
        mean_share=mean,
        label=label,
        min_users=min_users,
    )


def correlation_long(an: Analysis, keys: list[str]) -> pd.DataFrame:
    """Spearman ρ between candidates, in long form: the redundancy computation's own matrix
    (`ranking.redundancy`, same users, same rule), so the heatmap agrees with the groups.

    Columns: a, b (keys), a_label, b_label (short names), rho, abs_rho, a_group, b_group
    (the ranking's redundancy group: 'group 2', or 'none'), same_group.
    """
    if not keys:
        return pd.DataFrame(columns=CORRELATION_COLUMNS)
    splits = [resolve(an, k) for k in keys]
    rows = redundancy.redundancy_rows(an.outcomes.retention_mask, an.settings.seed)
    rho = redundancy.spearman_matrix([an.candidate(s.key).raw[rows] for s in splits])
    w = an.settings.window_days
    res = [an.ranking.candidate(s.key) for s in splits]
    ia, ib = (i.ravel() for i in np.meshgrid(range(len(keys)), range(len(keys)), indexing="ij"))
    group = np.array([_group_label(r.redundancy_group) for r in res])
    out = pd.DataFrame(
        {
            "a": [splits[i].key for i in ia],
            "b": [splits[i].key for i in ib],
            "a_label": [short_name(res[i].name, w) for i in ia],
            "b_label": [short_name(res[i].name, w) for i in ib],
            "rho": rho[ia, ib],
            "abs_rho": np.abs(rho[ia, ib]),
            "a_group": group[ia],
            "b_group": group[ib],
        }
    )
    out["same_group"] = (out["a_group"] != "none") & (out["a_group"] == out["b_group"])
    return out[CORRELATION_COLUMNS]


def _group_label(group: int | None) -> str:
    """'group 2' for the ranking's redundancy group, 'none' outside every group (text, so that
    a table with and without groups has one type)."""
    return "none" if group is None else f"group {group}"
