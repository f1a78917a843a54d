"""Redundancy groups (METHODS §3.7): |Spearman| ≥ 0.9, connected components, one matrix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from northstar_lab.ranking.redundancy import redundancy_groups, spearman_matrix
from northstar_lab.results import CandidateResult

from .synthetic import count_candidate


def test_spearman_matrix_equals_scipy_with_ties():
    rng = np.random.default_rng(2)
    cols = [rng.poisson(2, 500).astype(float), rng.poisson(5, 500).astype(float)]
    cols.append(cols[0] + rng.poisson(0.3, 500))
    got = spearman_matrix(cols)
    want = stats.spearmanr(np.column_stack(cols))[0]
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert np.all(np.diag(got) == 1.0) and np.array_equal(got, got.T)


def test_groups_are_connected_components_strongest_first_with_warnings():
    rng = np.random.default_rng(3)
    n = 2000
    a = rng.poisson(6, n).astype(float)
    chain = [a, a + rng.poisson(0.2, n), a + rng.poisson(0.4, n)]  # a ~ b ~ c (transitive)
    other = rng.poisson(6, n).astype(float)
    twin = other * 2
    cands = [count_candidate(f"c{i}", x) for i, x in enumerate([*chain, other, twin])]
    results = [CandidateResult(c.key, c.name, c.kind, c.event, None, c.transform)
               for c in cands]  # fmt: skip
    for r, s in zip(results, [0.1, 0.3, 0.2, 0.5, 0.4], strict=True):
        r.score = s
    groups = redundancy_groups(cands, results, np.ones(n, bool), seed=0)
    assert groups == [["count:c3", "count:c4"], ["count:c1", "count:c2", "count:c0"]]
    assert [r.redundancy_group for r in results] == [2, 2, 2, 1, 1]
    assert any("Near-duplicate" in w and "c4" in w for w in results[3].warnings)


def test_no_group_below_the_cut_off():
    rng = np.random.default_rng(5)
    x = rng.normal(size=3000)
    y = 0.8 * x + 0.6 * rng.normal(size=3000)  # ρ ≈ 0.79
    cands = [count_candidate("x", np.exp(x)), count_candidate("y", np.exp(y))]
    results = [CandidateResult(c.key, c.name, c.kind, c.event, None, c.transform, score=0.1)
               for c in cands]  # fmt: skip
    assert redundancy_groups(cands, results, np.ones(3000, bool), seed=0) == []
    assert spearman_matrix([c.raw for c in cands])[0, 1] == pytest.approx(0.78, abs=0.03)
