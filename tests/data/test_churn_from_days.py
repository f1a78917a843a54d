"""`churn_from_days` (vectorised over every user's sorted active days) against the rule written
out one user at a time (METHODS §1: signup is activity on day 0; churn at the last active day
before the first silence of ≥ g days; else at the last active day if the final silence reaches
the as-of date; else not churned)."""

from __future__ import annotations

import math

import numpy as np

from northstar_lab.data.aggregate import DAY_BITS, churn_from_days


def rule_for_one_user(days: list[int], a_days: int, g: int) -> float:
    """The churn day of one user by the rule, NaN when not churned."""
    if not days:
        return 0.0 if a_days >= g else math.nan  # never active: silent since signup
    if days[0] >= g:
        return 0.0
    for here, after in zip(days[:-1], days[1:], strict=True):
        if after - here >= g:
            return float(here)
    return float(days[-1]) if a_days - days[-1] >= g else math.nan


def population(rng, n: int):
    days = [sorted(set(rng.integers(0, 200, rng.integers(0, 9)).tolist())) for _ in range(n)]
    keys = np.array(
        sorted((row << DAY_BITS) | d for row, ds in enumerate(days) for d in ds), dtype=np.int64
    )
    return days, keys, rng.integers(0, 260, n)


def test_churn_days_follow_the_rule_for_every_user_and_gap():
    rng = np.random.default_rng(11)
    for _ in range(60):
        days, keys, a_days = population(rng, int(rng.integers(1, 80)))
        got = churn_from_days(keys, a_days, (7, 30, 61), window_days=14)
        for g in (7, 30, 61):
            want = [rule_for_one_user(ds, int(a), g) for ds, a in zip(days, a_days, strict=True)]
            np.testing.assert_array_equal(got[f"churn_day_g{g}"], want)
        np.testing.assert_array_equal(got["active_days"], [sum(d < 14 for d in ds) for ds in days])
        np.testing.assert_array_equal(got["last_day"], [ds[-1] if ds else 0 for ds in days])


def test_a_population_without_any_active_day_is_all_silent():
    got = churn_from_days(np.zeros(0, dtype=np.int64), np.array([5, 40]), (30,), window_days=14)
    np.testing.assert_array_equal(got["churn_day_g30"], [math.nan, 0.0])
    np.testing.assert_array_equal(got["active_days"], [0.0, 0.0])
