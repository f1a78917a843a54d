"""Harrell's C for scores with many distinct values (users-table columns): counted exactly by
walking the distinct times, equal to lifelines' concordance_index, ties included."""

import numpy as np
import pytest
from lifelines.utils import concordance_index

from northstar_lab.stats.concordance import CONCORDANCE_MAX_VALUES, concordance
from northstar_lab.stats.grid import SurvivalData


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
