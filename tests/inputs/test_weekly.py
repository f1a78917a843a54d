"""Weekly product-level series (inputs/weekly.py): whole Monday weeks, the LMDI decomposition adds
up, the lag profile finds a one-week lead, the block bootstrap covers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from northstar_lab.inputs import weekly
from northstar_lab.inputs.define import InputSpec
from northstar_lab.inputs.measure import ANY


def test_weeks_start_on_monday_and_only_whole_weeks_are_kept():
    assert weekly.week_start(0) == dt.date(1970, 1, 5)
    assert all(weekly.week_start(w).weekday() == 0 for w in range(2860, 2880))
    counts = pd.DataFrame({"week": [2869, 2870, 2871], "event": ["*"] * 3, "n": [1.0] * 3})
    first, last = weekly.week_start(2869) + dt.timedelta(days=1), weekly.week_start(2871)
    assert weekly.whole_weeks(counts, first, last)["week"].tolist() == [2870]


def test_decomposition_adds_up_and_puts_growth_where_it_happened():
    users = pd.Series([100.0, 200.0, 200.0, 150.0])
    per_user = pd.Series([3.0, 3.0, 4.0, 4.4])
    d = weekly.decompose(users, per_user)
    np.testing.assert_allclose(d["from_users"] + d["from_per_user"], d["change"], atol=1e-9)
    assert d.loc[0, "from_users"] == pytest.approx(300.0) and d.loc[0, "from_per_user"] == 0
    assert d.loc[1, "from_users"] == 0 and d.loc[1, "from_per_user"] == pytest.approx(200.0)
    assert d.loc[2, "change"] == pytest.approx(150 * 4.4 - 800)


def _leading(n=80, seed=0):
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, 0.05, n + 1)
    x = pd.Series(np.exp(np.cumsum(shocks[1:])) * 100)
    y = pd.Series(np.exp(np.cumsum(np.r_[0, shocks[1:-1]] + rng.normal(0, 0.01, n))) * 500)
    return x, y  # y's weekly change is x's change one week earlier, plus noise


def test_lag_profile_finds_a_one_week_lead_with_a_ci_that_excludes_zero():
    x, y = _leading()
    prof = {lc.lag: lc for lc in weekly.lag_profile(x, y, seed=1)}
    assert set(prof) == set(range(-weekly.MAX_LAG, weekly.MAX_LAG + 1))
    lead = prof[1]
    assert lead.corr > 0.9 and lead.ci_low > 0.5 and lead.n_weeks == 78
    assert abs(prof[0].corr) < 0.4 and abs(prof[-1].corr) < 0.4


def test_block_bootstrap_ci_covers_zero_for_independent_series_most_of_the_time():
    rng = np.random.default_rng(2)
    covered = 0
    for rep in range(40):
        a, b = rng.normal(size=60), rng.normal(size=60)
        lo, hi = weekly.block_bootstrap_ci(a, b, n_boot=400, seed=rep)
        covered += lo <= 0 <= hi
    assert covered >= 32


def test_series_of_each_measure_and_breadth_times_depth():
    rows = pd.DataFrame(
        {
            "week": [1, 1, 1, 2, 2, 2],
            "event": ["a", "b", ANY, "a", "b", ANY],
            "n": [10.0, 5.0, 30.0, 12.0, 6.0, 40.0],
            "user_days": [6.0, 4.0, 20.0, 8.0, 5.0, 25.0],
            "users": [4.0, 3.0, 10.0, 4.0, 3.0, 12.0],
        }
    )
    counts = weekly.WeeklyCounts(rows)

    def spec(measure, event=None, den=None):
        return InputSpec(key="k", measure=measure, event=event, denominator=den)

    assert counts.series(spec("count", "a")).tolist() == [10, 12]
    assert counts.series(spec("days", "a")).tolist() == [6, 8]
    assert counts.series(spec("reached", "b")).tolist() == [3, 3]
    assert counts.series(spec("share", "b", "a")).tolist() == [0.5, 0.5]
    assert counts.series(spec("active_days")).tolist() == [20, 25]
    assert counts.series(spec("distinct_events")) is None
    users, per_user = counts.breadth_depth(spec("count", "a"))
    assert users.tolist() == [4, 4] and per_user.tolist() == [2.5, 3.0]
