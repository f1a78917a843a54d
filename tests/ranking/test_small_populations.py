"""Populations too small or too degenerate to rank say so in words (found by fuzzing small
tables and logs): fewer than MIN_USERS users, no pair of users that can be compared, and a
held-out half without churn (the '≥ k' version is then not offered, the rest is ranked)."""

from __future__ import annotations

import numpy as np
import pytest

from northstar_lab.errors import InputError
from northstar_lab.ranking.rank import MIN_USERS, rank_candidates
from northstar_lab.stats.concordance import comparable_pairs
from northstar_lab.stats.grid import SurvivalData

from .synthetic import count_candidate, outcomes_of, quick_settings


def test_fewer_users_than_a_ranking_needs_is_said_not_crashed():
    rng = np.random.default_rng(0)
    n = MIN_USERS - 1
    oc = outcomes_of(rng.integers(1, 100, n).astype(float), rng.integers(0, 2, n))
    cand = count_candidate("e", rng.poisson(2, n).astype(float))
    with pytest.raises(InputError, match=f"Only {n} users are in the retention analysis"):
        rank_candidates([cand], oc, settings=quick_settings())


def test_users_who_all_churned_on_the_last_day_cannot_be_compared():
    rng = np.random.default_rng(1)
    n = 40
    oc = outcomes_of(np.zeros(n), np.ones(n))  # everyone churned at the landmark
    assert comparable_pairs(SurvivalData.from_arrays(oc.duration, oc.event)) == 0
    cand = count_candidate("e", rng.poisson(2, n).astype(float))
    with pytest.raises(InputError, match="cannot be compared"):
        rank_candidates([cand], oc, settings=quick_settings())


def test_comparable_pairs_count_lifelines_pairs():
    sd = SurvivalData.from_arrays(np.array([1.0, 1, 2, 3, 3]), np.array([1, 0, 1, 1, 0]))
    # churner at 1: partners 2, 3, 3 and the one censored at 1; at 2: both 3s; at 3: the
    # one censored at 3
    assert comparable_pairs(sd) == 4 + 2 + 1


def test_a_held_out_half_without_churn_ranks_without_the_at_least_version():
    rng = np.random.default_rng(2)
    n = 60
    counts = rng.poisson(3, n).astype(float)
    event = np.zeros(n)
    train = np.arange(n) < n // 2
    event[np.flatnonzero(train)[:12]] = 1  # churn only among the training half
    oc = outcomes_of(rng.integers(1, 100, n).astype(float), event)
    res = rank_candidates([count_candidate("e", counts)], oc, settings=quick_settings(),
                          train=train)  # fmt: skip
    assert res.candidate("count:e").threshold is not None  # a k was chosen on the training half
    assert [r.key for r in res.candidates] == ["count:e"]
