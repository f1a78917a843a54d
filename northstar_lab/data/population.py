"""All users, kept in the engine: the one-row-per-user expression and landmark survival counts.

When the statistics run on a sample of users (`max_users`), the population figures — how many
users reach a leader's threshold and their retention at the horizon — are still computed on
every user. This module builds that per-user table as an unexecuted Ibis expression over the
cells of `logcells.cells` and counts (group, T, E) rows from it, so only those counts leave
the engine. `aggregate.collect_users` computes the same rows for the users that come to Python
(tested equal in tests/data/test_events.py).
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from ..errors import InputError
from . import daybits
from .daybits import REVENUE, WINDOW


def user_expr(cells, signups, *, names, window_days, horizon_days, revenue_event, gaps):
    """The one-row-per-user expression, kept in the engine (not executed): group-bys over the
    cells (window figures, revenue, activity gaps) joined to the signups by uid, then churn per
    gap. It feeds the population figures computed on all users in the engine when the
    statistics use a sample; `aggregate.collect_users` gives the same rows for the users that
    come to Python (tested equal)."""
    frame = signups.select("uid", "user_id", "signup_sec", "a_days")
    parts = [_window_figures(cells, names, window_days), _active_days(cells, gaps, window_days)]
    if revenue_event:
        parts.append(revenue_per_user(cells, revenue_event, window_days, horizon_days))
    for part in parts:
        frame = frame.left_join(part, "uid").drop("uid_right")
    if not revenue_event:
        frame = frame.mutate(revenue_h=ibis.literal(0.0))
    # event types used in the window, among the candidate types (the revenue event is not one)
    used = [(frame[f"count__{i}"].coalesce(0) > 0).cast("int64") for i in range(len(names))]
    distinct = sum(used[1:], used[0]) if used else ibis.literal(0)
    frame = frame.mutate(distinct_events=distinct.cast("float64"))
    last = frame.last_day.coalesce(0)
    churn = {}
    for g in gaps:
        # Signing up is activity on day 0: a first event ≥ g days later is a silence from day 0.
        # Then the first silence of ≥ g days between active days; else the final silence, if it
        # reaches the as-of date.
        from_signup = ibis.ifelse(frame.first_day >= g, 0, ibis.null("int64"))
        final = ibis.ifelse(frame.a_days - last >= g, last, ibis.null("int64"))
        churn[f"churn_day_g{g}"] = from_signup.coalesce(frame[f"inner_gap_g{g}"]).coalesce(final)
    return frame.mutate(**churn).drop("first_day", *[f"inner_gap_g{g}" for g in gaps])


def _window_figures(cells, names: list[str], window_days: int) -> ibis.Table:
    """Per user, from the window's cells: count__i and days__i per candidate event type (a cell
    is one block of days of one type, holding n events, its days as bits) and all events in
    the window (any name). Sums are cast to float64: DuckDB sums BIGINT into HUGEINT, which
    pandas holds as objects."""
    win = cells.filter(cells.kind == WINDOW)
    win = win.mutate(days=daybits.bit_count(win.bits))
    aggs = {}
    for i, name in enumerate(names):
        is_e = win.event == name
        aggs[f"count__{i}"] = win.n.sum(where=is_e).cast("float64")
        aggs[f"days__{i}"] = win.days.sum(where=is_e).cast("float64")
    aggs["total_events"] = win.n.sum().cast("float64")
    return win.group_by("uid").aggregate(**aggs)


def revenue_per_user(cells, revenue_event: str, window_days: int, horizon_days: int) -> ibis.Table:
    """Revenue per user: the revenue event's values in whole days [W, W + H) since signup, the
    same day arithmetic as everything else (METHODS §1.4; deviation 5 for the boundary)."""
    in_h = (cells.slot >= window_days) & (cells.slot < window_days + horizon_days)
    rev = cells.filter((cells.kind == REVENUE) & in_h)  # slot: the day (after the window)
    return rev.group_by("uid").aggregate(revenue_h=rev.value.sum().cast("float64"))


def _active_days(cells, gaps: tuple[int, ...], window_days: int) -> ibis.Table:
    """Per user, from the distinct active days: active days in the window, first and last day,
    and for each gap g the last active day before the first silence of ≥ g days between two
    active days. (The silences before the first and after the last active day are handled by
    the caller, which knows a_days.) Counting days here avoids distinct-counts elsewhere.
    """
    days = daybits.days_in_engine(daybits.day_blocks(cells))
    w = ibis.window(group_by=days.uid, order_by=days.d)
    days = days.mutate(gap=days.d.lead().over(w) - days.d)
    aggs = {f"inner_gap_g{g}": days.d.min(where=days.gap >= g) for g in gaps}
    aggs["active_days"] = (days.d < window_days).sum().cast("float64")
    aggs["first_day"] = days.d.min()
    aggs["last_day"] = days.d.max()
    return days.group_by("uid").aggregate(**aggs)


def population_retention(
    population: ibis.Table,
    *,
    gap: int,
    window_days: int,
    horizon_days: int,
    column: str | None = None,
    k: float | None = None,
) -> pd.DataFrame:
    """Landmark survival counts for all users, aggregated in the engine.

    Returns one row per (group, T, E) with the number of users: group is True for users with
    `column` ≥ k (all False without a column). Only these counts leave the engine; Kaplan–Meier
    curves and counts are computed from them in Python (`survival.km_from_counts`).
    """
    churn = population[f"churn_day_g{gap}"]
    churned = churn.notnull()
    d = churned.ifelse(churn, population.a_days - gap)
    rows = population.mutate(T=d - window_days, E=churned.cast("int8"))
    rows = rows.filter(rows["T"] >= 0)
    group = (rows[column].coalesce(0) >= k) if column else ibis.literal(False)
    rows = rows.mutate(group=group)
    out = rows.group_by(["group", "T", "E"]).aggregate(n=rows.count()).to_pandas()
    return out.sort_values(["group", "T", "E"]).reset_index(drop=True)


def check_finite_revenue(revenue: np.ndarray, user_ids: pd.Series, event: str) -> None:
    """Revenue must be finite: an 'inf' among the revenue event's values (a number to every
    engine) would make means and shares of revenue infinite or undefined downstream."""
    bad = ~np.isfinite(revenue)
    if bad.any():
        examples = ", ".join(repr(str(u)) for u in user_ids[bad].head(3))
        raise InputError(
            f"The revenue event '{event}' has infinite values in the event log's value column "
            f"for {int(bad.sum()):,} users (e.g. user {examples}). Revenue needs finite "
            "amounts: fix or remove those rows, or choose another revenue event."
        )
