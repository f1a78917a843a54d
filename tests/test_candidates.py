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


# --- level tables: every per-user number read per level is the per-user number ---------------


def _count_candidate(raw):
    from northstar_lab.candidates import LOG1P, Candidate

    return Candidate(key="count:e", name="e: count in first 14 days", kind="count", event="e",
                     column=None, transform=LOG1P, raw=np.asarray(raw, float))  # fmt: skip


def test_level_table_keeps_fractions_and_large_whole_numbers():
    from northstar_lab.stats.grid import exact_levels

    for raw in ([0.5, 1.5, 1.0, 0.5], [3e6, 1.0, 3e6, 7.0], [2.0, 0.0, 2.0, 5.0]):
        codes, values = exact_levels(np.array(raw))
        np.testing.assert_array_equal(values[codes], raw)  # no value truncated or merged
        assert np.all(np.diff(values) > 0)


def test_modelled_per_level_is_log1p_per_user_bit_for_bit():
    rng = np.random.default_rng(2)
    raw = rng.negative_binomial(1, 0.05, 50_000).astype(float)
    cand = _count_candidate(raw)
    np.testing.assert_array_equal(cand.modelled, np.log1p(raw))
    gappy = raw.copy()
    gappy[::7] = np.nan
    np.testing.assert_array_equal(_count_candidate(gappy).modelled, np.log1p(gappy))


def test_at_least_from_known_levels_equals_the_per_user_cut():
    from northstar_lab.candidates import at_least_candidate
    from northstar_lab.stats.grid import exact_levels

    rng = np.random.default_rng(4)
    raw = rng.poisson(2.0, 20_000).astype(float)
    for k in (1.0, 3.0, 0.0, 50.0):  # a real cut, everyone above, no one above
        base = _count_candidate(raw)
        base.level_table  # noqa: B018 - as after ranking the base: its levels are known
        binary = at_least_candidate(base, k, 14)
        assert binary.known_levels is not None
        np.testing.assert_array_equal(binary.raw, (raw >= k).astype(float))
        want_codes, want_values = exact_levels(binary.raw)
        np.testing.assert_array_equal(binary.levels[0], want_codes)
        np.testing.assert_array_equal(binary.level_values, want_values)
        assert binary.n_distinct == np.unique(binary.raw).size


def test_level_summary_equals_the_per_user_mean_sd_and_share():
    from northstar_lab.ranking.rank import _level_summary

    rng = np.random.default_rng(6)
    raw = rng.poisson(1.2, 30_000).astype(float)
    cand = _count_candidate(raw)
    rows = np.flatnonzero(rng.random(raw.size) < 0.4)
    got = _level_summary(cand.codes_for(rows), cand.level_values, cand.level_modelled)
    x = np.log1p(raw[rows])
    assert got.sd_x == pytest.approx(np.std(x, ddof=1), rel=1e-12)
    assert got.mean_raw == pytest.approx(raw[rows].mean(), rel=1e-12)
    assert got.share_nonzero == np.count_nonzero(raw[rows]) / rows.size


def test_threshold_levels_from_counts_equal_numpy_lower_quantiles():
    from northstar_lab.ranking.thresholds import MAX_LEVELS, QUANTILES, threshold_levels

    rng = np.random.default_rng(8)
    for raw in (np.round(rng.lognormal(size=7_001), 2), rng.poisson(3.0, 5000).astype(float)):
        values = np.unique(raw)
        want = (
            values
            if values.size <= MAX_LEVELS
            else np.unique(np.quantile(raw, QUANTILES, method="lower"))
        )
        np.testing.assert_array_equal(threshold_levels(raw), want)


def test_a_column_of_a_matrix_is_kept_contiguous_with_the_same_values():
    """matrix[:, j] is a strided view; a candidate keeps one contiguous copy of it (every pass
    over the users would otherwise touch a cache line per user) and never writes to it."""
    matrix = np.random.default_rng(2).poisson(3.0, (500, 7)).astype(float)
    view = matrix[:, 3]
    assert not view.flags.c_contiguous
    cand = _count_candidate(view)
    assert cand.raw.flags.c_contiguous
    np.testing.assert_array_equal(cand.raw, matrix[:, 3])
    whole = np.ascontiguousarray(view)
    assert _count_candidate(whole).raw is whole  # no copy of what is contiguous already
