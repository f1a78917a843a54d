"""Candidate rules (METHODS §2, §4): one imputed vector, '≥ k' only where it adds something."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from lifelines.utils import concordance_index

from northstar_lab.outcomes import landmark_outcomes
from northstar_lab.ranking.rank import rank_candidates

from .ranking.synthetic import column_candidate, quick_settings


def gappy_column(seed: int = 5, n: int = 3000):
    """A users-table column with 15% gaps; users who churn inside the window have high values,
    so the mean over all rows differs from the mean over the landmark users."""
    rng = np.random.default_rng(seed)
    x = rng.normal(10, 3, n)
    d = np.floor(rng.exponential(120 * np.exp(0.05 * (x - 10)), n))
    in_window = rng.random(n) < 0.25
    d[in_window] = rng.integers(0, 14, in_window.sum())
    x[in_window] += 8
    x[rng.random(n) < 0.15] = np.nan
    e = (d < 300).astype(float)
    d = np.minimum(d, 300)
    frame = pd.DataFrame({"a_days": np.full(n, 500.0)})
    oc = landmark_outcomes(frame, d, e, "simulated", window_days=14, horizon_days=90)
    return column_candidate("score_col", x), oc


def test_cox_and_concordance_see_one_imputed_vector_equal_to_lifelines():
    cand, oc = gappy_column()
    ret = oc.retention_mask
    x = cand.raw[ret]
    filled = np.where(np.isnan(x), np.nanmean(x), x)  # the landmark users' mean
    df = pd.DataFrame({"x": filled, "T": oc.duration, "E": oc.event})
    cph = CoxPHFitter().fit(df, "T", "E")
    beta = float(cph.params_["x"])
    res = rank_candidates([cand], oc, settings=quick_settings()).candidate("col:score_col")
    assert res.coef_per_unit == pytest.approx(beta, abs=1e-4)
    assert res.c_index == pytest.approx(
        concordance_index(df["T"], -beta * df["x"], df["E"]), abs=1e-9
    )
    assert res.c_plus == pytest.approx(concordance_index(df["T"], df["x"], df["E"]), abs=1e-9)
    assert res.n_imputed == int(np.isnan(x).sum()) > 200
    assert any(f"{res.n_imputed:,} of these" in w for w in res.warnings)


def test_imputation_fills_from_the_landmark_population_only():
    cand, oc = gappy_column()
    filled = cand.with_gaps_filled(oc.retention_mask)
    ret_mean = np.nanmean(cand.raw[oc.retention_mask])
    assert np.nanmean(cand.raw) > ret_mean + 0.5  # the two means differ in this population
    np.testing.assert_allclose(filled.raw[np.isnan(cand.raw)], ret_mean)
    assert filled.n_imputed == np.isnan(cand.raw).sum()
    assert cand.with_gaps_filled(np.zeros_like(oc.retention_mask)) is cand  # nothing to fill from


@pytest.fixture(scope="module")
def rossi_ranked():
    rossi = load_rossi()
    frame = pd.DataFrame({"a_days": np.full(len(rossi), 1000.0)})
    oc = landmark_outcomes(frame, rossi["week"].to_numpy(float), rossi["arrest"].to_numpy(float),
                           "duration and churn flag", window_days=0, horizon_days=30)  # fmt: skip
    cands = [column_candidate(c, rossi[c].to_numpy()) for c in ("fin", "age", "prio", "mar")]
    return rank_candidates(cands, oc, settings=quick_settings(window_days=0, horizon_days=30))


def test_no_at_least_version_of_a_column_with_two_values(rossi_ranked):
    keys = {c.key for c in rossi_ranked.candidates}
    assert "atleast:col:fin" not in keys and "atleast:col:mar" not in keys
    assert {"atleast:col:age", "atleast:col:prio"} & keys  # many-valued columns keep theirs
    fin = rossi_ranked.candidate("col:fin")
    assert fin.threshold == 1 and fin.threshold_figures is not None  # its own split still shown


def test_rossi_known_answers_hold_with_w_zero(rossi_ranked):
    """METHODS §7: one covariate at a time, Efron ties (lifelines and R agree)."""
    prio, age, fin = (rossi_ranked.candidate(f"col:{c}") for c in ("prio", "age", "fin"))
    assert prio.coef_per_unit == pytest.approx(0.100966, abs=1e-5)
    assert prio.coef_se == pytest.approx(0.026700, abs=1e-5)
    assert prio.c_index == pytest.approx(0.587936, abs=1e-5)
    assert prio.c_plus == pytest.approx(1 - 0.587936, abs=1e-5) and prio.is_guardrail
    assert age.coef_per_unit == pytest.approx(-0.072845, abs=1e-5)
    assert age.c_index == pytest.approx(0.613640, abs=1e-5) == pytest.approx(age.c_plus)
    assert fin.coef_per_unit == pytest.approx(-0.369069, abs=1e-5)
    assert fin.c_index == pytest.approx(0.545735, abs=1e-5)
    assert rossi_ranked.leader.key != "col:prio" and prio.rank > rossi_ranked.leader.rank
