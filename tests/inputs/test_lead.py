"""The user-level lead (inputs/lead.py): exact OLS and HC1 against statsmodels, the controls,
missing shares, cohorts, and calibration under the null."""

from __future__ import annotations

import numpy as np
import pytest

from northstar_lab.inputs.lead import group_indicators, lead_fits, level_controls, partial_fits


def _data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    ns = rng.poisson(3, n)
    driver = rng.poisson(1.0, n)
    rider = rng.binomial(ns, 0.4)  # a function of the early North Star, plus noise
    later = rng.poisson(np.exp(0.3 * np.log1p(ns) + 0.25 * np.log1p(driver)))
    return ns, driver, rider, later


def test_partial_fits_equal_statsmodels_ols_with_hc1():
    sm = pytest.importorskip("statsmodels.api")
    ns, driver, rider, later = _data()
    y = np.log1p(later)
    Z = level_controls(ns)
    X = np.column_stack([np.log1p(driver), np.log1p(rider)])
    fit = partial_fits(y, X, Z)
    for j in range(2):
        ref = sm.OLS(y, np.column_stack([Z, X[:, j]])).fit(cov_type="HC1")
        assert fit.effect[j] == pytest.approx(ref.params[-1], rel=1e-9)
        assert fit.se[j] == pytest.approx(ref.bse[-1], rel=1e-9)
        assert fit.p[j] == pytest.approx(ref.pvalues[-1], rel=1e-6, abs=1e-300)


def test_level_controls_one_group_per_value_or_quantile_groups():
    x = np.array([0, 0, 1, 2, 2, 5])
    Z = level_controls(x)
    assert Z.shape == (6, 1 + 3)  # intercept, indicators of 1, 2, 5
    np.testing.assert_array_equal(Z[:, 1:], [[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 1, 0],
                                             [0, 1, 0], [0, 0, 1]])  # fmt: skip
    many = np.arange(1000)
    assert level_controls(many, max_groups=20).shape[1] == 2 + 19
    np.testing.assert_array_equal(group_indicators(np.array(["b", "a", "b"])), [[1], [0], [1]])


def test_the_driver_leads_the_rider_does_not():
    ns, driver, rider, later = _data(20000, seed=1)
    X = np.column_stack([np.log1p(driver), np.log1p(rider)])
    fits = lead_fits(later, X, ns)
    inc, mar = fits.incremental, fits.marginal
    assert inc.p[0] < 1e-10 and inc.effect[0] > 0.05
    assert inc.p[1] > 0.001 and abs(inc.effect[1]) < 0.02
    assert mar.p[1] < 1e-10 and mar.effect[1] > 0.05  # it moves with the North Star
    # effects are per SD of the modelled input
    assert fits.sd[0] == pytest.approx(np.log1p(driver).std())


def test_a_share_missing_for_some_users_is_fitted_on_the_users_who_have_it():
    ns, driver, _, later = _data(3000, seed=2)
    share = np.where(driver > 0, np.minimum(ns, driver) / np.maximum(driver, 1), np.nan)
    X = np.column_stack([np.log1p(driver), share])
    fits = lead_fits(later, X, ns)
    have = ~np.isnan(share)
    alone = lead_fits(later[have], share[have, None], ns[have])
    assert fits.incremental.n[1] == have.sum() and fits.incremental.n[0] == 3000
    assert fits.incremental.effect[1] == pytest.approx(alone.incremental.effect[0], rel=1e-9)


def test_an_input_that_is_the_north_star_gets_no_effect():
    ns, _, _, later = _data(2000, seed=3)
    fits = lead_fits(later, np.column_stack([np.log1p(ns), np.zeros(2000)]), ns)
    assert np.isnan(fits.incremental.effect).all()


def test_cohorts_pool_with_i2_and_same_sign_share():
    ns, driver, rider, later = _data(12000, seed=4)
    cohort = np.repeat(np.array([f"2025-{m:02d}" for m in range(1, 13)]), 1000)
    X = np.column_stack([np.log1p(driver), np.log1p(rider)])
    fits = lead_fits(later, X, ns, cohort)
    driver_pool, rider_pool = fits.pooled
    assert driver_pool["n_cohorts"] == 12 and driver_pool["same_sign_share"] >= 11 / 12
    assert driver_pool["i2"] < 0.5  # one true effect: the spread is chance
    assert driver_pool["pooled_log_hr"] == pytest.approx(fits.incremental.effect[0], abs=0.02)
    assert len(fits.cohorts) == 24 and {r["n"] for r in fits.cohorts} == {1000}
    small = lead_fits(later[:1050], X[:1050], ns[:1050], cohort[:1050])
    notes = {r["cohort"]: r["note"] for r in small.cohorts}
    assert notes["2025-02"] == "fewer than 100 users" and notes["2025-01"] == ""


def test_null_p_values_are_calibrated():
    rng = np.random.default_rng(5)
    n, k = 3000, 200
    ns = rng.poisson(2, n)
    later = rng.poisson(np.exp(0.3 * np.log1p(ns)))
    X = np.log1p(rng.poisson(1.0, (n, k)))
    p = lead_fits(later, X, ns).incremental.p
    assert 0.02 <= (p < 0.05).mean() <= 0.09
