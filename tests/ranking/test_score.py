"""The composite score and the multiple-testing rule (METHODS §5.1, §3.6), by hand."""

from __future__ import annotations

import numpy as np
import pytest

from northstar_lab.ranking.score import (
    bh_qvalues,
    normalised_weights,
    retention_strength,
    score_gradient,
    score_of,
    score_parts,
)


def test_score_is_signed_retention_plus_floored_revenue():
    c_plus = np.array([0.60, 0.40, 0.55, 0.50])
    rho = np.array([0.10, 0.30, -0.20, np.nan])
    got = score_of(c_plus, rho, (0.6, 0.4))
    want = [0.6 * 0.2 + 0.4 * 0.1, 0.6 * -0.2 + 0.4 * 0.3, 0.6 * 0.1 + 0.0, 0.0]
    np.testing.assert_allclose(got, want, atol=1e-12)
    ret, rev = score_parts(c_plus, rho, (0.6, 0.4))
    np.testing.assert_allclose(ret + rev, got)
    assert rev[2] == 0.0  # a negative ρ is floored at 0, not subtracted


def test_more_is_worse_scores_below_zero_on_retention():
    assert retention_strength(0.3) == pytest.approx(-0.4)
    assert retention_strength(0.5) == 0.0 and retention_strength(1.0) == 1.0


def test_weights_are_normalised_and_revenue_absent_means_retention_alone():
    assert normalised_weights((3, 2)) == pytest.approx((0.6, 0.4))
    np.testing.assert_allclose(score_of([0.6], [0.5], (3, 2)), score_of([0.6], [0.5], (0.6, 0.4)))
    np.testing.assert_allclose(score_of([0.6], [np.nan], (0.6, 0.4)), [0.2])  # no revenue
    np.testing.assert_allclose(score_of([0.6], [np.nan], (0.0, 1.0)), [0.0])
    np.testing.assert_allclose(score_of([0.6], [0.5], (0.0, 1.0)), [0.5])


def test_score_gradient_matches_finite_differences():
    for w, has_rev in (((0.6, 0.4), True), ((0.6, 0.4), False), ((1.0, 3.0), True)):
        d_c, d_rho = score_gradient(w, has_rev)
        rho = 0.2 if has_rev else np.nan
        base = score_of([0.6], [rho], w)[0]
        assert (score_of([0.6 + 1e-6], [rho], w)[0] - base) / 1e-6 == pytest.approx(d_c, rel=1e-6)
        if has_rev:
            up = score_of([0.6], [rho + 1e-6], w)[0]
            assert (up - base) / 1e-6 == pytest.approx(d_rho, rel=1e-6)


def test_bh_qvalues_by_hand_with_nan_kept():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.20])
    q = bh_qvalues(p)
    # sorted p 0.01, 0.03, 0.04, 0.20 (m = 4): 0.04, 0.0533, 0.0533, 0.20
    np.testing.assert_allclose(q[[0, 2, 1, 4]], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])
    assert np.isnan(q[3])
