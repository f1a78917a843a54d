"""Score SEs recorded by rank stability (METHODS §5.2): the exact joint bootstrap and its
influence-function approximation agree, and differences keep the candidates' correlation."""

import numpy as np
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.ranking import stability
from northstar_lab.settings import AnalysisSettings
from tests.decisions.test_revalidate_simulation import users_table


@pytest.fixture(scope="module")
def both():
    table = users_table(7)
    settings = AnalysisSettings(n_bootstrap=300)
    exact = analyse(load_inputs(users=table), settings).ranking
    mp = pytest.MonkeyPatch()
    mp.setattr(stability, "EXACT_BOOTSTRAP_MAX_USERS", 100)  # force the influence path
    try:
        approx = analyse(load_inputs(users=table), settings).ranking
    finally:
        mp.undo()
    return exact, approx


def test_the_two_paths_record_the_same_uncertainty(both):
    exact, approx = both
    assert "bootstrap" in exact.data.stability_method
    assert "influence" in approx.data.stability_method
    for c in exact.candidates[:6]:
        assert approx.candidate(c.key).score_se == pytest.approx(c.score_se, rel=0.25), c.key
    lead, twin = "col:lessons", "col:lesson_days"
    assert approx.score_diff_se(lead, twin) == pytest.approx(
        exact.score_diff_se(lead, twin), rel=0.3
    )


def test_a_difference_keeps_the_correlation(both):
    exact, _ = both
    lead, twin, other = "col:lessons", "col:lesson_days", "col:noise"
    se = exact.candidate(lead).score_se
    assert exact.score_diff_se(lead, twin) < 0.5 * se  # near-duplicates move together
    independent = (se**2 + exact.candidate(other).score_se ** 2) ** 0.5
    assert exact.score_diff_se(lead, other) == pytest.approx(independent, rel=0.3)


def test_influence_covariance_summed_in_blocks_equals_the_whole_matrix(monkeypatch):
    """ΨᵀΨ summed over blocks of users (so Ψ is never held whole) equals the dense product,
    with scores whose influence lives on different user subsets (all users, held-out users,
    revenue users) and blocks that cut through each subset."""
    rng = np.random.default_rng(8)
    n = 1000
    subsets = [np.flatnonzero(rng.random(n) < p) for p in (1.0, 0.5, 0.3)]
    parts, dense = [], np.zeros((4, n))
    for j in range(4):
        terms = []
        for rows in subsets[: 1 + j % 3]:
            w, psi = np.float32(rng.normal()), rng.normal(size=rows.size).astype(np.float32)
            terms.append((rows, w, psi))
            dense[j, rows] += w * psi
        parts.append(terms)
    monkeypatch.setattr(stability, "COV_BLOCK_VALUES", 4 * 37)  # blocks of 37 users
    got = stability._influence_cov(parts, n)
    np.testing.assert_allclose(got, dense @ dense.T, rtol=1e-5, atol=1e-5)
