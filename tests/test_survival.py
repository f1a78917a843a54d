"""Survival statistics equal lifelines (and R) on known data, heavy ties, weights and floats."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi
from lifelines.statistics import (
    survival_difference_at_fixed_point_in_time_test,
)
from lifelines.utils import concordance_index, restricted_mean_survival_time

from northstar_lab.stats.concordance import concordance
from northstar_lab.stats.cox import CoxFit, cox_univariate
from northstar_lab.stats.grid import SurvivalData
from northstar_lab.stats.km import difference_at_p, group_curves, km_curve, logrank

ROSSI_COVARIATES = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
# lifelines stops Newton–Raphson a little early (up to ~1e-6 on beta with its defaults, ~1e-8 with
# these options); cox_univariate runs to the maximum, checked against `efron_by_hand` below.
TIGHT = {"precision": 1e-14, "r_precision": 1e-16}


def efron_by_hand(beta: float, x: np.ndarray, t: np.ndarray, e: np.ndarray) -> tuple[float, float]:
    """Efron log-likelihood and score from the textbook definition, one tied time at a time."""
    loglik, score = 0.0, 0.0
    phi = np.exp(beta * x)
    for time in np.unique(t[e == 1]):
        risk, dead = t >= time, (t == time) & (e == 1)
        d = int(dead.sum())
        loglik += beta * x[dead].sum()
        score += x[dead].sum()
        for k in range(d):
            denom = phi[risk].sum() - k / d * phi[dead].sum()
            loglik -= np.log(denom)
            score -= ((phi * x)[risk].sum() - k / d * (phi * x)[dead].sum()) / denom
    return loglik, score


def lifelines_cox(df: pd.DataFrame, **kwargs) -> CoxPHFitter:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPHFitter().fit(df, "T", "E", **kwargs)


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return load_rossi().rename(columns={"week": "T", "arrest": "E"})


@pytest.fixture(scope="module")
def rossi_sd(rossi) -> SurvivalData:
    return SurvivalData.from_arrays(rossi["T"].to_numpy(), rossi["E"].to_numpy())


def synthetic(seed: int, n: int, whole_days: bool) -> pd.DataFrame:
    """Users with log1p(Poisson count) that protects against churn; random censoring."""
    rng = np.random.default_rng(seed)
    x = np.log1p(rng.poisson(rng.gamma(1.0, 2.0, n)))
    churn = rng.exponential(20 * np.exp(0.4 * x))
    censor = rng.uniform(0, 80, n)
    t = np.minimum(churn, censor)
    if whole_days:
        t = np.minimum(np.floor(t), 60)
    e = ((churn <= censor) & (t < 60 if whole_days else True)).astype(int)
    w = rng.poisson(1.0, n).astype(float)
    return pd.DataFrame({"T": t, "E": e, "x": x, "w": w})


@pytest.fixture(scope="module")
def ties() -> pd.DataFrame:
    return synthetic(seed=7, n=5000, whole_days=True)


@pytest.fixture(scope="module")
def floats() -> pd.DataFrame:
    return synthetic(seed=11, n=1500, whole_days=False)


def expanded(df: pd.DataFrame) -> pd.DataFrame:
    """Each row repeated by its frequency weight: what weights are defined to mean."""
    return df.loc[df.index.repeat(df["w"].astype(int))].drop(columns="w")


def prepared(df: pd.DataFrame) -> SurvivalData:
    return SurvivalData.from_arrays(df["T"].to_numpy(), df["E"].to_numpy())


# ---------------------------------------------------------------------------------------------
# Cox, Rossi
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("covariate", ROSSI_COVARIATES)
def test_cox_equals_lifelines_on_rossi(rossi, rossi_sd, covariate):
    x = rossi[covariate].to_numpy(dtype=float)
    fit = cox_univariate(rossi_sd, x)
    frame = rossi[["T", "E", covariate]]
    default = lifelines_cox(frame)
    tight = lifelines_cox(frame, fit_options=TIGHT)
    assert fit.converged
    for ref, tol in ((default, 1e-5), (tight, 1e-7)):
        row = ref.summary.loc[covariate]
        assert fit.beta == pytest.approx(row["coef"], abs=tol)
        assert fit.se == pytest.approx(row["se(coef)"], abs=tol)
        assert fit.p == pytest.approx(row["p"], abs=tol)
        assert fit.z == pytest.approx(row["z"], abs=10 * tol)
        low, high = fit.ci()
        assert np.exp(low) == pytest.approx(row["exp(coef) lower 95%"], abs=tol)
        assert np.exp(high) == pytest.approx(row["exp(coef) upper 95%"], abs=tol)
        assert fit.hazard_ratio == pytest.approx(row["exp(coef)"], abs=tol)
        assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=1e-8)
    assert fit.loglik_null == pytest.approx(tight._ll_null_, abs=1e-9)
    loglik, score = efron_by_hand(fit.beta, x, rossi["T"].to_numpy(), rossi["E"].to_numpy())
    assert fit.loglik == pytest.approx(loglik, abs=1e-9)
    assert abs(score) < 1e-8  # the maximum itself, not just close to lifelines
    assert fit.likelihood_ratio == pytest.approx(
        tight.log_likelihood_ratio_test().test_statistic, abs=1e-8
    )
    assert (fit.n, fit.n_events) == (432, 114)

    c = concordance(rossi_sd, -fit.beta * x)
    assert c == pytest.approx(concordance_index(rossi["T"], -fit.beta * x, rossi["E"]), abs=1e-12)
    assert c == pytest.approx(tight.concordance_index_, abs=1e-12)


@pytest.mark.parametrize(
    ("covariate", "beta", "se", "c"),
    [
        ("prio", 0.100966, 0.026700, 0.587936),
        ("age", -0.072845, 0.020790, 0.613640),
        ("fin", -0.369069, 0.189722, 0.545735),
    ],
)
def test_cox_known_answers_rossi(rossi, rossi_sd, covariate, beta, se, c):
    """METHODS §7: lifelines 0.30.3 and R survival 3.5.3 agree on these."""
    x = rossi[covariate].to_numpy(dtype=float)
    fit = cox_univariate(rossi_sd, x)
    assert fit.beta == pytest.approx(beta, abs=1e-5)
    assert fit.se == pytest.approx(se, abs=1e-5)
    assert concordance(rossi_sd, -fit.beta * x) == pytest.approx(c, abs=1e-5)


# ---------------------------------------------------------------------------------------------
# Cox and concordance: heavy ties, weights, float durations
# ---------------------------------------------------------------------------------------------


def test_heavy_ties_cox_equals_lifelines(ties):
    sd = prepared(ties)
    assert sd.times.size <= 61 and sd.deaths.max() > 100  # Efron's tie correction matters here
    fit = cox_univariate(sd, ties["x"].to_numpy())
    frame = ties[["T", "E", "x"]]
    for ref, tol in ((lifelines_cox(frame), 1e-6), (lifelines_cox(frame, fit_options=TIGHT), 1e-9)):
        assert fit.beta == pytest.approx(ref.params_["x"], abs=tol)
        assert fit.se == pytest.approx(ref.standard_errors_["x"], abs=tol)
        assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=tol)
    assert fit.converged and fit.beta < 0


def test_heavy_ties_concordance_is_exact(ties):
    sd = prepared(ties)
    for score in (-ties["x"].to_numpy(), ties["x"].to_numpy(), np.round(ties["x"].to_numpy())):
        assert concordance(sd, score) == pytest.approx(
            concordance_index(ties["T"], score, ties["E"]), abs=1e-12
        )


def test_frequency_weights_equal_row_expansion(ties):
    sd = prepared(ties)
    x, w = ties["x"].to_numpy(), ties["w"].to_numpy()
    assert (w == 0).any() and (w > 1).any()
    big = expanded(ties)
    fit = cox_univariate(sd, x, weights=w)
    ref = lifelines_cox(big, fit_options=TIGHT)
    assert fit.beta == pytest.approx(ref.params_["x"], abs=1e-9)
    assert fit.se == pytest.approx(ref.standard_errors_["x"], abs=1e-9)
    assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=1e-7)
    assert (fit.n, fit.n_events) == (len(big), int(big["E"].sum()))
    score = -x
    assert concordance(sd, score, weights=w) == pytest.approx(
        concordance_index(big["T"], -big["x"], big["E"]), abs=1e-12
    )


def test_weights_equal_lifelines_weights_col_when_churners_have_weight_one(ties):
    """lifelines' weights_col agrees with frequency weights unless weighted churns tie.

    (With weight > 1 on tied churners lifelines/R divide Efron's fractions by the number of tied
    rows, not tied users; the row-expansion test above is the reference for that case.)
    """
    sd = prepared(ties)
    w = np.where(ties["E"] == 1, 1.0, ties["w"] + 1.0)
    fit = cox_univariate(sd, ties["x"].to_numpy(), weights=w)
    ref = lifelines_cox(ties.assign(w=w), weights_col="w", fit_options=TIGHT)
    assert fit.beta == pytest.approx(ref.params_["x"], abs=1e-9)
    assert fit.se == pytest.approx(ref.standard_errors_["x"], abs=1e-9)


def test_zero_weights_equal_dropping_rows(ties):
    sd = prepared(ties)
    keep = ties["w"].to_numpy() > 0
    w = keep.astype(float)
    kept = ties[keep]
    fit, ref = (
        cox_univariate(sd, ties["x"].to_numpy(), w),
        cox_univariate(prepared(kept), kept["x"]),
    )
    assert fit.beta == pytest.approx(ref.beta, abs=1e-12)
    assert fit.se == pytest.approx(ref.se, abs=1e-12)
    c = concordance(sd, -ties["x"].to_numpy(), w)
    assert c == pytest.approx(concordance(prepared(kept), -kept["x"].to_numpy()), abs=1e-12)


def test_float_durations_agree(floats):
    sd = prepared(floats)
    assert sd.times.size == len(floats)  # no ties at all
    x = floats["x"].to_numpy()
    fit = cox_univariate(sd, x)
    ref = lifelines_cox(floats[["T", "E", "x"]], fit_options=TIGHT)
    assert fit.beta == pytest.approx(ref.params_["x"], abs=1e-9)
    assert fit.se == pytest.approx(ref.standard_errors_["x"], abs=1e-9)
    assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=1e-8)
    assert concordance(sd, -x) == pytest.approx(
        concordance_index(floats["T"], -x, floats["E"]), abs=1e-12
    )
    w = floats["w"].to_numpy()
    big = expanded(floats)
    assert concordance(sd, -x, w) == pytest.approx(
        concordance_index(big["T"], -big["x"], big["E"]), abs=1e-12
    )


def test_concordance_many_distinct_scores(floats, ties):
    """Past 2,000 distinct scores: lifelines (unweighted), exact expansion or quantile bins."""
    rng = np.random.default_rng(3)
    score = rng.normal(size=len(floats))
    sd = prepared(floats)
    assert concordance(sd, score) == concordance_index(floats["T"], score, floats["E"])
    big = expanded(floats.assign(s=score))
    assert concordance(sd, score, floats["w"].to_numpy()) == pytest.approx(
        concordance_index(big["T"], big["s"], big["E"]), abs=1e-12
    )
    score = ties["x"].to_numpy() + rng.normal(scale=0.01, size=len(ties))
    big = expanded(ties.assign(s=score))
    approx = concordance(prepared(ties), score, ties["w"].to_numpy())
    assert approx == pytest.approx(concordance_index(big["T"], big["s"], big["E"]), abs=1e-3)


def test_concordance_tie_rules_by_hand():
    # churn at 2 vs censored at 2: comparable; churns both at 3: not comparable.
    t = np.array([2.0, 2.0, 3.0, 3.0, 5.0])
    e = np.array([1, 0, 1, 1, 0])
    s = np.array([1.0, 2.0, 2.0, 3.0, 3.0])
    sd = SurvivalData.from_arrays(t, e)
    assert concordance(sd, s) == concordance_index(t, s, e)
    assert concordance(sd, -s) == pytest.approx(1 - concordance(sd, s))


# ---------------------------------------------------------------------------------------------
# Cox: errors and edge cases
# ---------------------------------------------------------------------------------------------


def test_constant_x_raises(rossi_sd):
    with pytest.raises(ValueError, match="constant"):
        cox_univariate(rossi_sd, np.full(rossi_sd.n, 3.0))


def test_no_events_raises():
    sd = SurvivalData.from_arrays(np.arange(10.0), np.zeros(10))
    with pytest.raises(ValueError, match="no churn events"):
        cox_univariate(sd, np.arange(10.0))
    with pytest.raises(ValueError, match="comparable"):
        concordance(sd, np.arange(10.0))


def test_bad_inputs_raise(rossi_sd):
    with pytest.raises(ValueError, match="≥ 0"):
        SurvivalData.from_arrays(np.array([1.0, -1.0]), np.array([1, 0]))
    with pytest.raises(ValueError, match="0/1"):
        SurvivalData.from_arrays(np.array([1.0, 2.0]), np.array([1, 2]))
    with pytest.raises(ValueError, match="whole"):
        cox_univariate(rossi_sd, np.arange(rossi_sd.n, dtype=float), np.full(rossi_sd.n, 0.5))
    with pytest.raises(ValueError, match="NaN"):
        cox_univariate(rossi_sd, np.full(rossi_sd.n, np.nan))


def test_protective_covariate_has_negative_beta_and_concordance_above_half():
    rng = np.random.default_rng(5)
    x = rng.poisson(3, 3000).astype(float)
    t = np.ceil(rng.exponential(10 * np.exp(0.8 * x)))
    sd = SurvivalData.from_arrays(np.minimum(t, 90), (t < 90).astype(int))
    fit = cox_univariate(sd, x)
    assert isinstance(fit, CoxFit) and fit.converged
    assert fit.beta < 0 and fit.p < 1e-10
    assert concordance(sd, -fit.beta * x) > 0.5


def test_perfect_separation_reports_not_converged():
    x = np.repeat([1.0, 0.0], 50)
    t = np.concatenate([np.arange(1.0, 51), np.arange(101.0, 151)])
    fit = cox_univariate(SurvivalData.from_arrays(t, np.ones(100)), x)
    assert not fit.converged
    assert fit.beta > 5


# ---------------------------------------------------------------------------------------------
# Kaplan–Meier, log-rank, RMST, fixed-day difference, PH test
# ---------------------------------------------------------------------------------------------


def _curves(t, e, g):
    return group_curves(SurvivalData.from_arrays(t, e), g)


def test_split_by_fin_known_answers(rossi):
    """Counts-based KM, log-rank, RMST (with R's SE) and the fixed-day test: METHODS §7."""
    t, e, g = rossi["T"].to_numpy(), rossi["E"].to_numpy(), rossi["fin"].to_numpy() == 1
    chi2, p = logrank(SurvivalData.from_arrays(t, e), g)
    assert chi2 == pytest.approx(3.8376, abs=1e-4)
    assert p == pytest.approx(0.0501, abs=1e-4)
    fin1, fin0 = _curves(t, e, g)
    for group, curve, s52, mean, se in ((~g, fin0, 0.6944, 44.833, 0.918),
                                        (g, fin1, 0.7778, 46.875, 0.793)):  # fmt: skip
        s = curve.survival_at(52)
        low, high = curve.interval_at(52)
        assert s == pytest.approx(s52, abs=1e-4)
        assert low < s < high
        kmf = KaplanMeierFitter().fit(t[group], e[group])
        assert s == pytest.approx(kmf.survival_function_at_times(52).iloc[0], abs=1e-12)
        np.testing.assert_allclose((low, high), kmf.confidence_interval_.loc[52.0], atol=1e-12)
        got_mean, got_se = curve.rmst(52)
        assert got_mean == pytest.approx(mean, abs=1e-3)
        assert got_mean == pytest.approx(restricted_mean_survival_time(kmf, t=52), abs=1e-9)
        assert got_se == pytest.approx(se, abs=1e-3)
    ref = survival_difference_at_fixed_point_in_time_test(
        52, KaplanMeierFitter().fit(t[g], e[g]), KaplanMeierFitter().fit(t[~g], e[~g])
    )
    assert difference_at_p(fin1, fin0, 52) == pytest.approx(ref.p_value, abs=1e-12)


def test_survival_at_between_event_times_is_a_step(rossi):
    t, e = rossi["T"].to_numpy(), rossi["E"].to_numpy()
    curve, _ = _curves(t, e, np.ones(t.size, bool))
    assert curve.survival_at(10.5) == curve.survival_at(10.0)


def test_rmst_when_everyone_left_churns():
    """n_j = d_j: S drops to 0, the term is 0 (as in R), and the SE stays finite."""
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 9.0])
    e = np.array([1, 0, 1, 1, 1, 1, 0])
    g = np.arange(t.size) < 6  # the last user is the other group
    curve, _ = _curves(t, e, g)
    mean, se = curve.rmst(6)
    # S = 1 on [0,1), 5/6 on [1,2), ·4/5 on [2,3), ·2/3 on [3,4), 0 from 4 (2 of 2 churn).
    assert mean == pytest.approx(1 + 5 / 6 + 2 / 3 + 4 / 9, abs=1e-12)
    assert np.isfinite(se) and se > 0


def test_km_curve_shape(ties):
    curve = km_curve(ties["T"], ties["E"])
    assert list(curve.columns) == ["time", "survival", "ci_low", "ci_high", "at_risk", "events"]
    assert (curve["time"].iloc[0], curve["survival"].iloc[0]) == (0.0, 1.0)
    assert curve["time"].is_monotonic_increasing
    assert (np.diff(curve["survival"]) <= 0).all()
    assert (curve["ci_low"] <= curve["survival"] + 1e-12).all()
    assert (curve["survival"] <= curve["ci_high"] + 1e-12).all()
    assert curve["events"].sum() == ties["E"].sum()
    assert curve["at_risk"].iloc[0] == len(ties)


def test_km_curve_with_churn_on_day_zero_starts_at_one():
    curve = km_curve(np.array([0.0, 0.0, 1.0, 2.0]), np.array([1, 0, 1, 1]))
    assert curve[["time", "survival"]].iloc[0].tolist() == [0.0, 1.0]
    assert curve[["time", "survival"]].iloc[1].tolist() == pytest.approx([0.0, 0.75])
    assert (np.diff(curve["survival"]) <= 0).all()


def test_km_curve_weights_equal_expansion(ties):
    small = ties[ties["w"] > 0]
    weighted = km_curve(small["T"], small["E"], weights=small["w"])
    big = expanded(ties)
    plain = km_curve(big["T"], big["E"])
    pd.testing.assert_frame_equal(weighted, plain, check_exact=False, rtol=1e-12)
