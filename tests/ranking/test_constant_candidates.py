"""Candidates that do not vary among the users in the retention analysis are set aside, with
the value they share, and never fitted (a Cox model needs a covariate that varies)."""

from __future__ import annotations

import numpy as np

from northstar_lab.ranking.rank import rank_candidates

from .synthetic import column_candidate, count_candidate, outcomes_of, quick_settings


def test_constant_and_empty_columns_are_excluded_with_their_value():
    rng = np.random.default_rng(4)
    n = 600
    x = rng.poisson(3, n).astype(float)
    days, event = np.floor(rng.exponential(80, n)), (rng.random(n) < 0.7).astype(float)
    days[:50] = -5  # churned inside the window: not in the retention analysis
    event[:50] = 1.0
    oc = outcomes_of(days, event)
    assert oc.retention_mask[:50].sum() == 0 and oc.retention_mask[50:].all()
    same_for_kept = np.where(np.arange(n) < 50, 9.0, 2.0)  # varies only among left-out users
    with_gaps = np.where(np.arange(n) % 3 == 0, np.nan, 4.0)  # one value where there is one
    nothing = np.full(n, np.nan)
    cands = [
        count_candidate("lesson", x),
        column_candidate("plan_seats", same_for_kept),
        column_candidate("region_code", with_gaps),
        column_candidate("never_filled", nothing),
    ]
    result = rank_candidates(cands, oc, settings=quick_settings())
    reasons = {e.key: e.reason for e in result.excluded_candidates}
    assert reasons == {
        "col:plan_seats": "the same value (2) for every user",
        "col:region_code": "the same value (4) for every user",
        "col:never_filled": "the same value (missing) for every user",
    }
    assert [r.key for r in result.candidates if not r.key.startswith("atleast:")] == [
        "count:lesson"
    ]


def test_the_revenue_outcome_under_another_name_is_excluded_not_crowned():
    """A users-table copy of the revenue column ('Umsatz €' beside 'revenue_per_month') led the
    ranking with revenue ρ +1.00: its revenue score was the outcome against itself. A driver
    of revenue that is not the revenue itself (ρ ≈ 0.9) is still ranked."""
    rng = np.random.default_rng(11)
    n = 3000
    drive = rng.poisson(4, n).astype(float)
    days = np.floor(rng.exponential(60 * (1 + drive / 4), n))
    event = (rng.random(n) < 0.8).astype(float)
    revenue = np.round(10 * drive + rng.gamma(2, 5, n), 2)
    oc = outcomes_of(days, event, revenue=revenue)
    near = revenue + rng.normal(0, 6, n)  # a strong revenue driver, not revenue itself
    cands = [
        count_candidate("lesson", drive),
        column_candidate("Umsatz €", revenue * 0.93),  # the same money in another currency
        column_candidate("spend_signal", near),
    ]
    result = rank_candidates(cands, oc, settings=quick_settings())
    reasons = {e.key: e.reason for e in result.excluded_candidates}
    assert set(reasons) == {"col:Umsatz €"}
    assert reasons["col:Umsatz €"].startswith("the revenue outcome itself under another name")
    assert "ρ 1.000" in reasons["col:Umsatz €"]
    ranked = {r.key: r for r in result.candidates}
    assert "col:spend_signal" in ranked and ranked["col:spend_signal"].revenue_rho < 0.99
    assert result.candidates[0].key != "col:Umsatz €"


def test_spearman_rho_alone_equals_the_one_with_influence():
    from northstar_lab.stats.influence import SpearmanTarget, spearman_influence, spearman_rho

    rng = np.random.default_rng(3)
    y = rng.gamma(2, 3, 500).round(1)
    codes = rng.integers(0, 7, 500).astype(np.int32)
    target = SpearmanTarget(y)
    assert spearman_rho(target, (codes, 7)) == spearman_influence(None, target, (codes, 7))[0]


def test_who_churned_under_another_name_is_excluded_not_crowned():
    """A users-table 'status_code' that is 1 for users still customers led a ranking with
    "kept 100% vs 34%": the churn outcome measured against itself."""
    rng = np.random.default_rng(12)
    n = 3000
    drive = rng.poisson(4, n).astype(float)
    days = np.floor(rng.exponential(60 * (1 + drive / 4), n))
    event = (rng.random(n) < 0.7).astype(float)
    oc = outcomes_of(days, event)
    still_customer = 1.0 - oc.event_all  # the outcome, as a column
    cands = [count_candidate("lesson", drive), column_candidate("status_code", still_customer)]
    result = rank_candidates(cands, oc, settings=quick_settings())
    reasons = {e.key: e.reason for e in result.excluded_candidates}
    assert set(reasons) == {"col:status_code"}
    assert reasons["col:status_code"].startswith("the churn outcome itself under another name")
    assert "ρ -1.000" in reasons["col:status_code"]
    assert result.candidates[0].key == "count:lesson"
