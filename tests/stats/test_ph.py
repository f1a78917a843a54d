"""The vectorised proportional-hazards test equals lifelines' (without tied churn times) and
detects a drifting effect.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import (
    proportional_hazard_test,
)

from northstar_lab.stats.cox import cox_direction, cox_univariate
from northstar_lab.stats.grid import SurvivalData
from northstar_lab.stats.ph import ph_test


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
