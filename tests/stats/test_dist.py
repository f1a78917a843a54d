"""The distribution helpers equal scipy.stats, which the library no longer imports."""

import numpy as np
import pytest
from scipy import stats

from northstar_lab.stats import dist


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(11)


def test_normal_quantile_and_tail(rng):
    p, z = rng.random(500), rng.normal(0, 4, 500)
    np.testing.assert_allclose(dist.norm_ppf(p), stats.norm.ppf(p), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dist.norm_sf(z), stats.norm.sf(z), rtol=1e-12, atol=0)
    assert abs(dist.Z95 - 1.959963984540054) < 1e-15


@pytest.mark.parametrize("df", [1, 2, 7, 30])
def test_chi2_tail_and_quantile(rng, df):
    x, q = rng.exponential(5, 500), rng.uniform(0.001, 0.999, 500)
    np.testing.assert_allclose(dist.chi2_sf(x, df), stats.chi2.sf(x, df), rtol=1e-12, atol=0)
    np.testing.assert_allclose(dist.chi2_ppf(q, df), stats.chi2.ppf(q, df), rtol=1e-12)


def test_average_ranks_with_ties(rng):
    x = rng.integers(0, 15, 400).astype(float)
    assert np.array_equal(dist.rankdata(x), stats.rankdata(x))
    y = rng.random(50)
    assert np.array_equal(dist.rankdata(y), stats.rankdata(y))


def test_benjamini_hochberg(rng):
    p = np.concatenate([rng.random(80) ** 4, [0.0, 1.0, 0.5, 0.5]])
    np.testing.assert_allclose(dist.bh_adjust(p), stats.false_discovery_control(p), rtol=1e-15)


def test_ranks_from_codes_equal_rankdata_with_empty_levels():
    rng = np.random.default_rng(4)
    values = rng.integers(0, 40, 3000).astype(float) / 7
    uniq, codes = np.unique(values, return_inverse=True)
    want = stats.rankdata(values)
    np.testing.assert_array_equal(dist.ranks_of_codes(codes, uniq.size), want)
    sparse = 3 * codes + 2  # gaps between levels, as a subset's codes have
    np.testing.assert_array_equal(dist.ranks_of_codes(sparse, 3 * uniq.size + 2), want)
