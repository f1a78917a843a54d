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
