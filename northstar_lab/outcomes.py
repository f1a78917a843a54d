"""Retention and revenue outcomes per user: churn, censoring, landmark (METHODS §1).

Input is one row per user in whole days since signup (from `aggregate.per_user_frame` or a
users table). Output is the survival clock started at the landmark W: T = D − W days, with
the reasons users were left out counted, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data.columns import name_words
from .durations import DAYS_PER_UNIT
from .errors import InputError

DAY = 86_400
DAYS_PER_MONTH = DAYS_PER_UNIT["months"]


@dataclass
class Outcomes:
    """Outcomes aligned with the rows of the per-user frame they came from.

    duration_since_signup: D, days from signup to churn (event=1) or to the end of follow-up.
    retention_mask: users in the landmark analysis; duration/event are only meaningful there.
    duration: T = D − W (days since the landmark); event: 1 churned, 0 right-censored.
    revenue / revenue_mask: the revenue outcome and who has it (full follow-up).
    """

    duration_since_signup: np.ndarray
    event_all: np.ndarray
    retention_mask: np.ndarray
    revenue: np.ndarray | None
    revenue_mask: np.ndarray
    window_days: int
    churn_source: str
    revenue_source: str | None
    excluded: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def duration(self) -> np.ndarray:
        """T = D − W for users in the landmark analysis (days since the landmark)."""
        return self.duration_since_signup[self.retention_mask] - self.window_days

    @property
    def event(self) -> np.ndarray:
        return self.event_all[self.retention_mask]

    @property
    def n_users(self) -> int:
        return int(self.retention_mask.sum())

    @property
    def n_churned(self) -> int:
        return int(self.event.sum())


def churn_from_activity(frame: pd.DataFrame, gap: int) -> tuple[np.ndarray, np.ndarray, str]:
    """D and E from inactivity: churned at the detected day, else censored at A − g − s.

    Follow-up ends g days before the as-of date because churn can only be declared after g
    silent days; that cut-off depends on signup only, so censoring is non-informative.
    """
    col = f"churn_day_g{gap}"
    if col not in frame:
        raise ValueError(f"per-user frame has no {col}; aggregate with gap {gap}")
    churn_day = frame[col].to_numpy(dtype=float)
    churned = ~np.isnan(churn_day)
    censor_at = frame["a_days"].to_numpy(dtype=float) - gap
    d = np.where(churned, churn_day, censor_at)
    return d, churned.astype(float), f"inactivity: no activity for {gap} days"


def churn_from_cancellation(
    frame: pd.DataFrame, a_end_sec: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, str]:
    """D and E from an explicit cancellation time (epoch s); cancellations after A are censored.

    The comparison with the as-of end is made in seconds: a cancellation an hour after the data
    ends was not known on the as-of date, even if it falls on the same whole day since signup.
    """
    a_days = frame["a_days"].to_numpy(dtype=float)
    cancel_sec = frame["cancel_sec"].to_numpy(float)
    cancel_day = np.floor((cancel_sec - frame["signup_sec"].to_numpy(float)) / DAY)
    churned = ~np.isnan(cancel_sec) & (cancel_sec < np.asarray(a_end_sec, float))
    d = np.where(churned, cancel_day, a_days)
    return d, churned.astype(float), "cancellation date"


def churn_from_duration(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """D and E given directly as a duration (days) and a churn flag."""
    return (
        frame["duration_days"].to_numpy(dtype=float),
        frame["churn_flag"].to_numpy(dtype=float),
        "duration and churn flag",
    )


def churn_from_last_active(frame: pd.DataFrame, gap: int) -> tuple[np.ndarray, np.ndarray, str]:
    """From a last-active time: churned at it if the user was then silent ≥ g days up to A.

    This sees only the last silence, not the first; users who lapsed and came back count as
    active. Documented as a weaker source than an event log.
    """
    a_days = frame["a_days"].to_numpy(dtype=float)
    last = np.floor((frame["last_active_sec"] - frame["signup_sec"]).to_numpy(float) / DAY)
    last = np.where(np.isnan(last), 0.0, np.maximum(last, 0.0))
    churned = (a_days - last) >= gap
    d = np.where(churned, last, a_days - gap)
    return d, churned.astype(float), f"last active date: silent for {gap} days"


def landmark_outcomes(
    frame: pd.DataFrame,
    d: np.ndarray,
    e: np.ndarray,
    churn_source: str,
    *,
    window_days: int,
    horizon_days: int,
    revenue: np.ndarray | None = None,
    revenue_source: str | None = None,
    revenue_needs_follow_up: bool = True,
) -> Outcomes:
    """Start the clock at the landmark W and count who is left out and why.

    Left out of retention: users who churned before W ("churned in window") and users whose
    follow-up ends before W ("not yet observable"). Revenue: the same landmark users, with full
    follow-up (a_days ≥ W + H) when the revenue is measured in the horizon; churned users count
    with what they paid. Users who churned inside the window never enter revenue figures:
    their window counts are cut short and their later revenue is 0, which would manufacture a
    revenue link for every activity metric (METHODS §1.4).
    """
    d = np.asarray(d, dtype=float)
    e = np.asarray(e, dtype=float)
    bad = np.isnan(d) | np.isnan(e)
    churned_in_window = (e == 1) & (d < window_days) & ~bad
    not_observable = (e == 0) & (d < window_days) & ~bad
    keep = ~bad & ~churned_in_window & ~not_observable
    excluded = {
        "churned_in_window": int(churned_in_window.sum()),
        "not_yet_observable": int(not_observable.sum()),
    }
    if bad.any():
        excluded["missing_outcome"] = int(bad.sum())
    if "a_days" in frame:
        full = frame["a_days"].to_numpy(dtype=float) >= window_days + horizon_days
    else:
        full = np.ones(len(frame), dtype=bool)
    rev_mask = np.zeros(len(frame), dtype=bool)
    if revenue is not None:
        revenue = np.asarray(revenue, dtype=float)
        rev_mask = keep & ~np.isnan(revenue) & (full if revenue_needs_follow_up else True)
        excluded["revenue_without_full_follow_up"] = int((keep & ~rev_mask).sum())
    if keep.sum() == 0:
        raise InputError(_nobody_words(d[~bad], excluded, window_days))
    return Outcomes(
        duration_since_signup=d,
        event_all=e,
        retention_mask=keep,
        revenue=revenue,
        revenue_mask=rev_mask,
        window_days=window_days,
        churn_source=churn_source,
        revenue_source=revenue_source,
        excluded=excluded,
    )


def revenue_per_observed_month(revenue: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Lifetime revenue ÷ observed months (at least one): lifetime totals grow with tenure."""
    months = np.maximum(np.asarray(d, float), DAYS_PER_MONTH) / DAYS_PER_MONTH
    return np.asarray(revenue, float) / months


#: Words that make a revenue column a rate (used as given; its scale does not move a rank
#: correlation) or a running total (divided by months observed, as it grows with tenure).
RATE_WORDS = frozenset({"monthly", "mrr", "arpu", "arppu", "weekly", "daily", "annual",
                        "yearly", "arr", "mo", "month", "week", "day", "year", "rate"})  # fmt: skip
TOTAL_WORDS = frozenset({"total", "lifetime", "ltv", "clv", "cltv", "cumulative", "sum",
                         "todate", "to_date", "overall", "all_time", "alltime"})  # fmt: skip


def revenue_kind_by_name(column: str) -> str | None:
    """'rate' when the name says a period ('revenue_per_month', 'Monthly Charge', 'MRR',
    'annualRevenue'), 'total' when it says a running total ('TotalCharges', 'LTV'), else None:
    the data must tell (`revenue_is_total`). A total word wins ('total monthly' does not occur;
    'Total Revenue' does)."""
    words = name_words(column)
    if words & TOTAL_WORDS:
        return "total"
    if words & RATE_WORDS or "per" in words:
        return "rate"
    return None


def _nobody_words(d: np.ndarray, excluded: dict[str, int], window_days: int) -> str:
    """Why no user reached the landmark, with the counts, and what to change: a log whose
    every event falls on one day (an export or load time in the timestamp column) is told
    apart from a window that is too long for the data."""
    churned, recent = excluded["churned_in_window"], excluded["not_yet_observable"]
    head = (
        f"No user can enter the retention analysis: of {churned + recent:,} users, {churned:,} "
        f"churned in the first {window_days} days and {recent:,} were followed for less "
        f"than {window_days} days without churning (signed up too recently)."
    )
    if d.size and np.nanmax(d) < 1:
        return (
            f"{head} No user was followed for even a day after signing up: check that the "
            "times are when each user acted — an event log whose timestamp column holds an "
            "export or load time puts every event on one day."
        )
    if recent >= churned:
        return f"{head} Use a later as-of date or a shorter observation window."
    return f"{head} Try a shorter observation window, or a longer inactivity gap for churn."
