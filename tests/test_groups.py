"""Two-group figures from counts equal lifelines; the vectorised PH test equals lifelines'."""

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import (
    logrank_test,
    proportional_hazard_test,
    survival_difference_at_fixed_point_in_time_test,
)
from lifelines.utils import restricted_mean_survival_time

from northstar_lab.stats import km as groups
from northstar_lab.stats.cox import cox_direction, cox_univariate
from northstar_lab.stats.grid import SurvivalData
from northstar_lab.stats.ph import ph_test


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


def test_ph_test_equals_lifelines_without_tied_churn_times():
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=n)
    drift = 1 + (rng.random(n) < 0.5)
    t = rng.weibull(0.7, n) * 50 * np.exp(-0.5 * x * drift)
    e = (rng.random(n) < 0.7).astype(int)
    df = pd.DataFrame({"T": t, "E": e, "x": x})
    sd = SurvivalData.from_arrays(t, e)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = proportional_hazard_test(CoxPHFitter().fit(df, "T", "E"), df, time_transform="rank")
    assert ph_test(sd, x, cox_univariate(sd, x)) == pytest.approx(ref.p_value[0], abs=1e-5)


def test_ph_test_detects_a_drifting_effect():
    rng = np.random.default_rng(1)
    n = 20000
    x = rng.integers(0, 2, n).astype(float)
    early = rng.exponential(20, n) * np.where(x == 1, 0.4, 1.0)  # strong early protection
    t = np.floor(np.where(early < 30, early, 30 + rng.exponential(40, n)))
    e = np.ones(n)
    sd = SurvivalData.from_arrays(t, e)
    assert ph_test(sd, x, cox_univariate(sd, x)) < 1e-6


def test_cox_direction_is_the_sign_of_the_fit():
    rng = np.random.default_rng(2)
    for _ in range(25):
        x = rng.normal(size=400)
        t = np.floor(rng.exponential(30 * np.exp(0.1 * rng.normal() * x)))
        e = (rng.random(400) < 0.6).astype(int)
        sd = SurvivalData.from_arrays(t, e)
        assert cox_direction(sd, x) == np.sign(cox_univariate(sd, x).beta)
