"""The bootstrap's C per resample equals lifelines' C on the resample written out as copies."""

import numpy as np
import pytest
from lifelines.utils import concordance_index

from northstar_lab.stats import bootstrap
from northstar_lab.stats.grid import SurvivalData


def _survival(rng, n):
    """Day-rounded durations with many ties, censoring before the first churn, churned and
    censored users at the same day: every tie rule of the pair count is exercised."""
    x = rng.negative_binomial(2, 0.4, n).astype(float)
    t = np.floor(rng.exponential(40 / (1 + 0.3 * x)))
    e = (rng.random(n) < 0.6).astype(float)
    t[:5], e[:5] = 0.0, 0.0  # censored at day 0, before any churn
    return x, t, e


@pytest.mark.parametrize("levels", ["counts", "continuous", "two"])
def test_resampled_c_equals_lifelines_on_the_copies(levels):
    rng = np.random.default_rng(3)
    x, t, e = _survival(rng, 800)
    if levels == "continuous":  # distinct values, below MAX_LEVELS (beyond it: quantile bins)
        x = x + np.round(rng.random(x.size), 1)
    elif levels == "two":
        x = (x >= 2).astype(float)
    w = bootstrap.poisson_weights(x.size, 6, seed=5)
    got = bootstrap.concordance_draws(SurvivalData.from_arrays(t, e), x, w)
    for b in range(w.shape[0]):
        rep = np.repeat(np.arange(x.size), w[b].astype(int))
        want = concordance_index(t[rep], x[rep], e[rep])
        assert got[b] == pytest.approx(want, abs=1e-12)


def test_chunks_of_resamples_give_the_same_draws(monkeypatch):
    rng = np.random.default_rng(4)
    x, t, e = _survival(rng, 500)
    sd = SurvivalData.from_arrays(t, e)
    w = bootstrap.poisson_weights(x.size, 40, seed=9)
    whole = bootstrap.concordance_draws(sd, x, w)
    monkeypatch.setattr(bootstrap, "CHUNK_CELLS", 1)  # one resample per chunk
    assert np.array_equal(bootstrap.concordance_draws(sd, x, w), whole)


def test_no_churn_gives_undefined_c():
    sd = SurvivalData.from_arrays(np.arange(10.0), np.zeros(10))
    draws = bootstrap.concordance_draws(sd, np.arange(10.0), np.ones((3, 10)))
    assert np.isnan(draws).all()
