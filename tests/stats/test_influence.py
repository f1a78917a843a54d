"""Influence-function stability is the bootstrap's first order (derivatives, variances)."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from northstar_lab.stats import bootstrap, influence
from northstar_lab.stats.concordance import concordance
from northstar_lab.stats.grid import SurvivalData


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = 3000
    x = rng.negative_binomial(2, 0.4, n).astype(float)
    t = np.floor(rng.exponential(60 / (1 + 0.3 * x)))
    e = (rng.random(n) < 0.7).astype(float)
    y = rng.exponential(10, n) * (1 + x)
    y[rng.random(n) < 0.3] = 0.0  # many tied zeros, like revenue
    return x, SurvivalData.from_arrays(t, e), y, rng


def test_concordance_point_estimate_is_exact(data):
    x, sd, _, _ = data
    c, _ = influence.concordance_influence(sd, -x)
    assert c == pytest.approx(concordance(sd, -x), abs=1e-12)


def test_concordance_influence_is_the_derivative_of_weighted_c(data):
    x, sd, _, rng = data
    _, psi = influence.concordance_influence(sd, -x)
    delta = rng.standard_normal(x.size)
    eps = 1e-6
    c0 = bootstrap.concordance_draws(sd, -x, np.ones((1, x.size)))[0]
    c1 = bootstrap.concordance_draws(sd, -x, (1 + eps * delta)[None, :])[0]
    assert (c1 - c0) / eps == pytest.approx(delta @ psi, rel=1e-5)


def test_spearman_influence_is_the_derivative_of_weighted_midrank_rho(data):
    x, _, y, rng = data
    target = influence.SpearmanTarget(y)
    rho, psi = influence.spearman_influence(x, target)
    assert rho == pytest.approx(spearmanr(x, y)[0], abs=1e-12)
    delta = rng.standard_normal(x.size)
    eps = 1e-6
    w = (1 + eps * delta)[None, :]
    r1 = bootstrap.spearman_draws(x, bootstrap.RankedOutcome(y, w))[0]
    assert (r1 - rho) / eps == pytest.approx(delta @ psi, rel=1e-5)


def test_variances_agree_with_the_exact_poisson_bootstrap(data):
    x, sd, y, _ = data
    _, psi_c = influence.concordance_influence(sd, -x)
    _, psi_r = influence.spearman_influence(x, influence.SpearmanTarget(y))
    w = bootstrap.poisson_weights(x.size, 1500, 11).astype(float)
    c_draws = bootstrap.concordance_draws(sd, -x, w)
    r_draws = bootstrap.spearman_draws(x, bootstrap.RankedOutcome(y, w))
    # 1500 resamples estimate a variance to about ±7% (1 SE); allow 3 SE
    assert psi_c @ psi_c == pytest.approx(c_draws.var(), rel=0.2)
    assert psi_r @ psi_r == pytest.approx(r_draws.var(), rel=0.2)


def test_score_draws_reproduce_the_covariance():
    rng = np.random.default_rng(3)
    psi = rng.standard_normal((500, 3)) / 100
    draws = influence.score_draws_from_cov(np.array([0.2, 0.1, 0.0]), psi.T @ psi, 20000, 1)
    # 20,000 draws estimate a covariance entry to about ±0.0005 here
    np.testing.assert_allclose(np.cov(draws, rowvar=False), psi.T @ psi, atol=2e-3)
    np.testing.assert_allclose(draws.mean(axis=0), [0.2, 0.1, 0.0], atol=8e-3)  # 5 SE


def test_ranking_switches_to_influence_above_the_exact_limit(monkeypatch):
    """Both stability methods run through rank_candidates and give the same verdicts."""
    from northstar_lab.analysis import analyse
    from northstar_lab.data.load import load_inputs
    from northstar_lab.ranking import stability
    from northstar_lab.settings import AnalysisSettings

    loaded = load_inputs("sample_data/events.parquet", "sample_data/users.csv")
    settings = AnalysisSettings(n_bootstrap=300)
    exact = analyse(loaded, settings).ranking
    monkeypatch.setattr(stability, "EXACT_BOOTSTRAP_MAX_USERS", 100)
    approx = analyse(loaded, settings).ranking
    assert "bootstrap" in exact.data.stability_method
    assert "influence" in approx.data.stability_method
    assert exact.leader.key == approx.leader.key
    assert approx.leader.p_first == pytest.approx(exact.leader.p_first, abs=0.05)
    for a, b in zip(exact.candidates[:10], approx.candidates[:10], strict=True):
        assert a.key == b.key
        assert a.revenue_rho_ci_low == pytest.approx(b.revenue_rho_ci_low, abs=0.015)
        assert a.revenue_rho_ci_high == pytest.approx(b.revenue_rho_ci_high, abs=0.015)
