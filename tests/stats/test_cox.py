"""Cox (Efron ties) and Harrell's concordance equal lifelines (and R) on known data, heavy ties,
frequency weights and float durations.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index

from northstar_lab.stats.concordance import concordance
from northstar_lab.stats.cox import CoxFit, cox_univariate
from northstar_lab.stats.grid import SurvivalData

from .conftest import expanded

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


def prepared(df: pd.DataFrame) -> SurvivalData:
    return SurvivalData.from_arrays(df["T"].to_numpy(), df["E"].to_numpy())


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


# --- perfect separation (METHODS §3.1) ----------------------------------------------------------


def separated_population(seed: int = 1, n: int = 1200, rare: int = 25):
    """A rare behaviour whose `rare` users never churn (all censored late), among users who
    mostly do: the partial likelihood rises without limit as β → −∞."""
    rng = np.random.default_rng(seed)
    t, c = np.floor(rng.exponential(100, n)), rng.uniform(50, 400, n)
    e, d = (t <= c).astype(float), np.minimum(t, c)
    x = np.zeros(n)
    x[:rare], e[:rare], d[:rare] = 1.0, 0.0, np.floor(rng.uniform(200, 400, rare))
    return d, e, x


def efron_loglik(d, e, x, beta: float) -> float:
    """Efron partial log-likelihood by its definition, one churn day at a time (slow, clear)."""
    eta, ll = beta * x, 0.0
    for t in np.unique(d[e == 1]):
        dead, risk = (d == t) & (e == 1), d >= t
        m, tied, at_risk = dead.sum(), np.exp(eta[dead]).sum(), np.exp(eta[risk]).sum()
        ll += eta[dead].sum() - sum(np.log(at_risk - j / m * tied) for j in range(m))
    return float(ll)


@pytest.mark.parametrize("collapsed", [False, True])
def test_separation_is_detected_with_lr_p_and_a_profile_bound(collapsed):
    d, e, x = separated_population()
    sd = SurvivalData.from_arrays(d, e)
    fit = cox_univariate(sd, x, codes=(x.astype(np.intp), 2) if collapsed else None)
    assert fit.separated and not fit.converged
    assert fit.p > 0.99  # what the Wald test says: useless here
    sup = efron_loglik(d, e, x, -60.0)
    assert fit.likelihood_ratio == pytest.approx(2 * (sup - efron_loglik(d, e, x, 0.0)), rel=1e-9)
    assert fit.lr_p < 1e-10
    # the bound is where the profile likelihood ratio reaches the 95% χ²₁ point
    assert 2 * (sup - efron_loglik(d, e, x, fit.beta_bound)) == pytest.approx(3.841459, abs=1e-6)
    assert fit.beta_bound < 0


def test_ordinary_fit_is_not_called_separated(rossi, rossi_sd):
    fit = cox_univariate(rossi_sd, rossi["prio"].to_numpy(float))
    assert fit.converged and not fit.separated and np.isnan(fit.beta_bound)
