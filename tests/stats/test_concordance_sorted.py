"""Harrell's C for scores with many distinct values (users-table columns): counted exactly by
a dominance count over (score position, time key), equal to lifelines' concordance_index, ties
included, whatever the block size, chunking or grid bound."""

import numpy as np
import pytest
from lifelines.utils import concordance_index

from northstar_lab.stats import concordance as conc
from northstar_lab.stats.concordance import CONCORDANCE_MAX_VALUES, concordance
from northstar_lab.stats.grid import SurvivalData, levels, quantile_bins


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_many_distinct_scores_equal_lifelines(seed):
    rng = np.random.default_rng(seed)
    n = 6000
    t = rng.integers(0, 60, n).astype(float)  # many tied times: churns and censorings at t
    e = (rng.random(n) < 0.5).astype(float)
    score = np.round(rng.normal(size=n), 3)  # > 2,000 distinct values, some tied
    assert np.unique(score).size > CONCORDANCE_MAX_VALUES
    got = concordance(SurvivalData.from_arrays(t, e), score)
    assert got == pytest.approx(concordance_index(t, score, e), abs=1e-12)


def _hostile(rng, n):
    """Tied and float durations, tied scores, churn shares from 2% to 98%."""
    if rng.random() < 0.5:
        t = rng.integers(0, int(rng.integers(1, 40)), n).astype(float)
    else:
        t = rng.uniform(0, 100, n).round(int(rng.integers(0, 3)))
    e = rng.random(n) < rng.uniform(0.02, 0.98)
    e[0] = True
    score = rng.integers(0, int(rng.integers(1, 3 * n)), n).astype(float)
    return t, e.astype(float), score


def test_sorted_count_equals_lifelines_on_hostile_data():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(150):
        n = int(rng.integers(2, 500))
        t, e, score = _hostile(rng, n)
        sd = SurvivalData.from_arrays(t, e)
        codes = np.unique(score, return_inverse=True)[1]
        try:
            want = concordance_index(t, score, e)
        except ZeroDivisionError:  # lifelines: no admissible pairs
            with pytest.raises(ValueError, match="no comparable pairs"):
                conc.concordance_sorted(sd, codes)
            continue
        assert conc.concordance_sorted(sd, codes) == pytest.approx(want, abs=1e-12)
        checked += 1
    assert checked > 120


def test_codes_need_only_order_empty_levels_and_offsets_allowed():
    rng = np.random.default_rng(3)
    t, e, score = _hostile(rng, 800)
    sd = SurvivalData.from_arrays(t, e)
    dense = np.unique(score, return_inverse=True)[1]
    want = conc.concordance_sorted(sd, dense)
    assert conc.concordance_sorted(sd, 5 * dense + 1000) == want  # gaps between levels


def test_blocks_chunks_and_grid_bound_do_not_change_the_count(monkeypatch):
    rng = np.random.default_rng(11)
    n = 3000
    t, e, score = _hostile(rng, n)
    sd = SurvivalData.from_arrays(t, e)
    codes = np.unique(score, return_inverse=True)[1]
    want = concordance_index(t, score, e)
    monkeypatch.setattr(conc, "SORTED_CHUNK", 7)  # many chunks of churners
    assert conc.concordance_sorted(sd, codes) == pytest.approx(want, abs=1e-12)
    monkeypatch.setattr(conc, "SORTED_MAX_CELLS", 1000)  # forces blocks of hundreds of users
    assert conc.concordance_sorted(sd, codes) == pytest.approx(want, abs=1e-12)


def test_quantile_bins_from_codes_keep_order_and_balance():
    rng = np.random.default_rng(5)
    for values in (
        np.round(rng.normal(size=20_000), 3),  # many values, ties
        rng.exponential(size=5000),  # all distinct
        np.concatenate([np.zeros(4000), rng.exponential(size=6000)]),  # one value holds 40%
    ):
        uniq, codes = np.unique(values, return_inverse=True)
        for rows in (np.ones(values.size, bool), rng.random(values.size) < 0.3):
            bins, n_bins = quantile_bins(codes[rows], uniq.size)
            v = values[rows]
            assert n_bins <= 256 and bins.max() < n_bins
            order = np.argsort(v, kind="stable")
            assert np.all(np.diff(bins[order]) >= 0)  # bins follow the values
            for value in np.unique(v)[:: max(1, np.unique(v).size // 50)]:
                assert np.unique(bins[v == value]).size == 1  # a value is never split
            sizes = np.bincount(bins, minlength=n_bins)
            top = max(np.bincount(codes[rows]).max(), 1)
            assert sizes.max() <= top + 2 * v.size / 256 + 2  # a big value, plus one bin


def test_quantile_bins_with_few_codes_are_the_dense_codes():
    codes = np.array([7, 3, 3, 9, 7, 0])
    bins, n = quantile_bins(codes, 12)
    assert n == 4
    np.testing.assert_array_equal(bins, [2, 1, 1, 3, 2, 0])
    np.testing.assert_array_equal(levels(codes.astype(float))[0], bins)


def test_durations_with_more_distinct_times_than_int16_keys_hold_equal_lifelines():
    """Float durations with ~30k distinct values make 2·times keys beyond int16: the own-block
    comparison switches to int32 keys and the blocks grow to keep the grid bounded."""
    rng = np.random.default_rng(21)
    n = 30_000
    t = rng.uniform(0, 500, n).round(3)
    e = (rng.random(n) < 0.6).astype(float)
    score = np.round(rng.normal(size=n) - 0.002 * t, 2)  # tied scores, some signal
    sd = SurvivalData.from_arrays(t, e)
    assert 2 * sd.times.size >= 2**15
    codes = np.unique(score, return_inverse=True)[1]
    assert conc.concordance_sorted(sd, codes) == pytest.approx(
        concordance_index(t, score, e), abs=1e-12
    )
