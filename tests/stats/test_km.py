"""Kaplan–Meier curves and the count-based two-group figures (retention at a day with its CI,
log-rank, fixed-day difference, RMST with R's SE) equal lifelines and R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import (
    logrank_test,
    survival_difference_at_fixed_point_in_time_test,
)
from lifelines.utils import restricted_mean_survival_time

from northstar_lab.stats import km as groups
from northstar_lab.stats.grid import SurvivalData
from northstar_lab.stats.km import difference_at_p, group_curves, km_curve, logrank

from .conftest import expanded


def _curves(t, e, g):
    return group_curves(SurvivalData.from_arrays(t, e), g)


def test_split_by_fin_known_answers(rossi):
    """Counts-based KM, log-rank, RMST (with R's SE) and the fixed-day test: METHODS §7."""
    t, e, g = rossi["T"].to_numpy(), rossi["E"].to_numpy(), rossi["fin"].to_numpy() == 1
    chi2, p = logrank(SurvivalData.from_arrays(t, e), g)
    assert chi2 == pytest.approx(3.8376, abs=1e-4)
    assert p == pytest.approx(0.0501, abs=1e-4)
    fin1, fin0 = _curves(t, e, g)
    for group, curve, s52, mean, se in ((~g, fin0, 0.6944, 44.833, 0.918),
                                        (g, fin1, 0.7778, 46.875, 0.793)):  # fmt: skip
        s = curve.survival_at(52)
        low, high = curve.interval_at(52)
        assert s == pytest.approx(s52, abs=1e-4)
        assert low < s < high
        kmf = KaplanMeierFitter().fit(t[group], e[group])
        assert s == pytest.approx(kmf.survival_function_at_times(52).iloc[0], abs=1e-12)
        np.testing.assert_allclose((low, high), kmf.confidence_interval_.loc[52.0], atol=1e-12)
        got_mean, got_se = curve.rmst(52)
        assert got_mean == pytest.approx(mean, abs=1e-3)
        assert got_mean == pytest.approx(restricted_mean_survival_time(kmf, t=52), abs=1e-9)
        assert got_se == pytest.approx(se, abs=1e-3)
    ref = survival_difference_at_fixed_point_in_time_test(
        52, KaplanMeierFitter().fit(t[g], e[g]), KaplanMeierFitter().fit(t[~g], e[~g])
    )
    assert difference_at_p(fin1, fin0, 52) == pytest.approx(ref.p_value, abs=1e-12)


def test_survival_at_between_event_times_is_a_step(rossi):
    t, e = rossi["T"].to_numpy(), rossi["E"].to_numpy()
    curve, _ = _curves(t, e, np.ones(t.size, bool))
    assert curve.survival_at(10.5) == curve.survival_at(10.0)


def test_rmst_when_everyone_left_churns():
    """n_j = d_j: S drops to 0, the term is 0 (as in R), and the SE stays finite."""
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 9.0])
    e = np.array([1, 0, 1, 1, 1, 1, 0])
    g = np.arange(t.size) < 6  # the last user is the other group
    curve, _ = _curves(t, e, g)
    mean, se = curve.rmst(6)
    # S = 1 on [0,1), 5/6 on [1,2), ·4/5 on [2,3), ·2/3 on [3,4), 0 from 4 (2 of 2 churn).
    assert mean == pytest.approx(1 + 5 / 6 + 2 / 3 + 4 / 9, abs=1e-12)
    assert np.isfinite(se) and se > 0


def test_km_curve_shape(ties):
    curve = km_curve(ties["T"], ties["E"])
    assert list(curve.columns) == ["time", "survival", "ci_low", "ci_high", "at_risk", "events"]
    assert (curve["time"].iloc[0], curve["survival"].iloc[0]) == (0.0, 1.0)
    assert curve["time"].is_monotonic_increasing
    assert (np.diff(curve["survival"]) <= 0).all()
    assert (curve["ci_low"] <= curve["survival"] + 1e-12).all()
    assert (curve["survival"] <= curve["ci_high"] + 1e-12).all()
    assert curve["events"].sum() == ties["E"].sum()
    assert curve["at_risk"].iloc[0] == len(ties)


@pytest.mark.parametrize("case", ["rossi", "ties", "all_churn", "day_zero"])
def test_km_curve_equals_lifelines(case, rossi, ties):
    """Estimate, exponential Greenwood interval, at-risk and events at every time."""
    if case == "rossi":
        t, e = rossi["T"].to_numpy(float), rossi["E"].to_numpy()
    elif case == "ties":
        t, e = ties["T"].to_numpy(float), ties["E"].to_numpy()
    elif case == "all_churn":  # S reaches 0: lifelines fills the interval with 1
        t, e = np.array([1.0, 2.0, 2.0, 3.0, 3.0]), np.array([1, 0, 1, 1, 1])
    else:
        t, e = np.array([0.0, 0.0, 1.0, 2.0, 5.0, 5.0]), np.array([1, 0, 1, 0, 1, 0])
    got = km_curve(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    want = kmf.survival_function_.iloc[:, 0]
    start = len(got) - len(want)  # our added (0, 1) row when churn happens on day 0
    assert start in (0, 1)
    got = got.iloc[start:].reset_index(drop=True)
    np.testing.assert_allclose(got["time"], want.index.to_numpy(float))
    np.testing.assert_allclose(got["survival"], want.to_numpy(), rtol=0, atol=1e-12)
    ci = kmf.confidence_interval_survival_function_
    np.testing.assert_allclose(got["ci_low"], ci.iloc[:, 0].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(got["ci_high"], ci.iloc[:, 1].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(got["at_risk"], kmf.event_table["at_risk"].to_numpy(float))
    np.testing.assert_allclose(got["events"], kmf.event_table["observed"].to_numpy(float))


def test_km_curve_with_churn_on_day_zero_starts_at_one():
    curve = km_curve(np.array([0.0, 0.0, 1.0, 2.0]), np.array([1, 0, 1, 1]))
    assert curve[["time", "survival"]].iloc[0].tolist() == [0.0, 1.0]
    assert curve[["time", "survival"]].iloc[1].tolist() == pytest.approx([0.0, 0.75])
    assert (np.diff(curve["survival"]) <= 0).all()


def test_km_curve_weights_equal_expansion(ties):
    small = ties[ties["w"] > 0]
    weighted = km_curve(small["T"], small["E"], weights=small["w"])
    big = expanded(ties)
    plain = km_curve(big["T"], big["E"])
    pd.testing.assert_frame_equal(weighted, plain, check_exact=False, rtol=1e-12)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    n = 4000
    x = rng.poisson(2, n)
    t = np.floor(rng.exponential(80 / (1 + 0.15 * x)))
    e = (rng.random(n) < 0.7).astype(float)
    return x, t, e


@pytest.mark.parametrize("horizon", [30.0, 45.5, 90.0])
def test_group_figures_equal_lifelines(data, horizon):
    x, t, e = data
    g = x >= 3
    a, b = groups.group_curves(SurvivalData.from_arrays(t, e), g)
    ka, kb = KaplanMeierFitter().fit(t[g], e[g]), KaplanMeierFitter().fit(t[~g], e[~g])
    assert a.survival_at(horizon) == pytest.approx(float(ka.predict(horizon)), abs=1e-12)
    assert b.survival_at(horizon) == pytest.approx(float(kb.predict(horizon)), abs=1e-12)
    np.testing.assert_allclose(
        a.interval_at(horizon), ka.confidence_interval_.asof(horizon).to_numpy(), atol=1e-12
    )
    ref = survival_difference_at_fixed_point_in_time_test(horizon, ka, kb)
    got = groups.difference_at_p(a, b, horizon)
    assert got == pytest.approx(ref.p_value, rel=1e-9)
    assert a.rmst(horizon)[0] == pytest.approx(
        restricted_mean_survival_time(ka, t=horizon), rel=1e-12
    )


def test_logrank_equals_lifelines(data):
    x, t, e = data
    g = x >= 2
    chi2, p = groups.logrank(SurvivalData.from_arrays(t, e), g)
    ref = logrank_test(t[g], t[~g], e[g], e[~g])
    assert chi2 == pytest.approx(ref.test_statistic, rel=1e-10)
    assert p == pytest.approx(ref.p_value, rel=1e-8)
