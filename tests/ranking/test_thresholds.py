"""The knee threshold (METHODS §4) on curves built by hand, and the curve itself against KM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from northstar_lab.ranking.thresholds import knee_threshold, retention_by_threshold


def curve(ks, shares, retention):
    return pd.DataFrame({"k": ks, "share": shares, "retention_above": retention})


def test_knee_is_the_smallest_k_with_80_percent_of_the_plateau_gain():
    # gains over k=1: 0, 0.05, 0.17, 0.19, 0.20 → 80% of 0.20 = 0.16 first reached at k=3
    c = curve([1, 2, 3, 4, 5], [0.9, 0.7, 0.5, 0.3, 0.1], [0.50, 0.55, 0.67, 0.69, 0.70])
    assert knee_threshold(c, +1) == 3


def test_knee_ignores_k_leaving_fewer_than_10_percent_on_a_side():
    # k=5 would be the knee (a jump to 0.90) but only 5% reach it, and k=1 leaves 95% above:
    # among k=2..4 the gains are 0, 0.02, 0.03, so 80% of 0.03 is first reached at k=4
    c = curve([1, 2, 3, 4, 5], [0.95, 0.8, 0.6, 0.4, 0.05], [0.40, 0.50, 0.52, 0.53, 0.90])
    assert knee_threshold(c, +1) == 4


def test_knee_for_a_harmful_metric_follows_the_drop():
    c = curve([1, 2, 3, 4], [0.8, 0.6, 0.4, 0.2], [0.70, 0.50, 0.45, 0.44])
    # drops over k=1: 0, 0.20, 0.25, 0.26; 80% of 0.26 = 0.208 is first reached at k=3
    assert knee_threshold(c, -1) == 3


def test_knee_none_without_eligible_k_and_first_k_without_gain():
    assert knee_threshold(curve([1, 2], [0.97, 0.95], [0.5, 0.6]), +1) is None
    assert knee_threshold(curve([1, 2, 3], [0.8, 0.5, 0.2], [0.6, 0.55, 0.5]), +1) == 1


def test_retention_by_threshold_equals_kaplan_meier_per_group():
    rng = np.random.default_rng(4)
    n = 800
    raw = rng.poisson(3, n).astype(float)
    t = np.floor(rng.exponential(60 * np.exp(0.1 * raw)))
    c = rng.uniform(10, 200, n)
    d, e = np.minimum(t, c), (t <= c).astype(float)
    ks = np.array([2.0, 4.0])
    got = retention_by_threshold(raw, d, e, 90.0, ks)
    for row in got.itertuples():
        up = raw >= row.k
        for mask, value in ((up, row.retention_above), (~up, row.retention_below)):
            km = KaplanMeierFitter().fit(d[mask], e[mask])
            assert value == pytest.approx(float(km.predict(90.0)), abs=1e-12)
        assert row.share == pytest.approx(up.mean())
