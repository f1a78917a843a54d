"""Lifetime totals in disguise (METHODS §2): caught robustly, with a measured false-positive rate.

A users-table column that is a total over each user's life "predicts" retention by
construction. The old test (|Spearman| with tenure ≥ 0.7) misses totals whose per-user rates
vary; the tenure elasticity among users still active (x/tenure behaves like a rate) catches
them, and almost never fires on columns measured in the first days, even for strong drivers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from northstar_lab.outcomes import landmark_outcomes
from northstar_lab.ranking.flags import lifetime_total_verdict
from northstar_lab.ranking.rank import rank_candidates
from northstar_lab.stats.tenure import tenure_evidence

from .synthetic import W, column_candidate, quick_settings

SCENARIOS = list(itertools.product((0.0, -0.5, -1.0, 0.5), (120, 365, 730), (-0.5, 0.0, 0.5)))


def users(rng, n: int, beta: float, spread_days: float):
    """Trait z (log-HR beta per SD), signups spread over `spread_days`, Weibull churn after the
    landmark, follow-up to the data's end: (z, days since signup at the end, D, E)."""
    z = rng.standard_normal(n)
    age = W + 6 + rng.uniform(0, spread_days, n)
    t = W + 200.0 * rng.weibull(0.8, n) / np.exp(beta * z) ** (1 / 0.8)
    return z, age, np.floor(np.minimum(t, age)), (t <= age).astype(float)


def early_window_columns(rng, z, age, spread, drift):
    """Columns measured in the first days: counts, skewed counts, a continuous score, a rare
    event, and a rate that is an exact (steep) function of the trait; with cohort drift."""
    cohort = drift * (age / spread - 0.5)
    n = z.size
    return {
        "poisson": rng.poisson(np.exp(1.0 + 0.8 * z + cohort)),
        "negbin": rng.poisson(np.exp(0.5 + 0.8 * z + cohort) * rng.gamma(0.7, 1 / 0.7, n)),
        "score": 30 + 5 * z + rng.normal(0, 3, n),
        "rare": rng.poisson(np.exp(-1.5 + z)),
        "steep": np.exp(1.5 * z),
    }


def lifetime_columns(rng, z, d):
    """Totals over each user's observed life: varied per-day rates, counts of events, and a
    sublinear total (activity slowing with age)."""
    rate = np.exp(1.2 * rng.standard_normal(z.size) + 0.3 * z)
    return {
        "rate_total": rate * d,
        "count_total": rng.poisson(rate * d / 10),
        "sublinear": rate * d**0.8,
    }


def verdicts(columns: dict, d, e, ret):
    out = {}
    for name, x in columns.items():
        ev = tenure_evidence(np.asarray(x, float)[ret], d[ret], e[ret])
        out[name] = (lifetime_total_verdict(ev.rho, ev.elasticity, ev.elasticity_low),
                     lifetime_total_verdict(ev.rho))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def rates():
    rng = np.random.default_rng(2026)
    genuine, totals = [], []
    for beta, spread, drift in SCENARIOS:
        z, age, d, e = users(rng, 1500, beta, spread)
        ret = d >= W
        genuine += verdicts(early_window_columns(rng, z, age, spread, drift), d, e, ret).values()
        totals += verdicts(lifetime_columns(rng, z, d), d, e, ret).values()
    return np.array(genuine), np.array(totals)


def test_false_positive_rate_on_early_window_columns_is_below_one_percent(rates):
    genuine, _ = rates
    assert len(genuine) == len(SCENARIOS) * 5 == 180
    assert genuine[:, 0].mean() <= 0.01, genuine[:, 0].mean()


def test_totals_are_caught_where_the_spearman_cut_off_misses_them(rates):
    _, totals = rates
    assert totals[:, 0].mean() >= 0.95, totals[:, 0].mean()
    assert totals[:, 1].mean() <= 0.6  # the old rule alone misses many of the same totals


def ranked_with_total(seed: int, total_of):
    """A protective early-window column and a lifetime total, ranked with observed tenure."""
    rng = np.random.default_rng(seed)
    n = 3000
    z, age, d, e = users(rng, n, -0.5, 540)
    early = rng.poisson(np.exp(1.0 + 0.6 * z)).astype(float)
    total = total_of(rng, d)
    frame = pd.DataFrame({"a_days": age})
    oc = landmark_outcomes(frame, d, e, "simulated", window_days=W, horizon_days=90)
    cands = [column_candidate("early", early), column_candidate("total", total)]
    return rank_candidates(cands, oc, settings=quick_settings(), observed_days=d)


def test_total_with_varied_rates_is_flagged_and_ranked_last():
    """Issue 10 §2: a total with varied rates had Spearman 0.65 with tenure and ranked #1."""
    r = ranked_with_total(7, lambda rng, d: np.exp(1.3 * rng.standard_normal(d.size)) * d)
    total = r.candidate("col:total")
    assert total.tenure_rho < 0.7  # the old cut-off would not fire
    assert total.is_lifetime_total and total.tenure_elasticity > 0.8
    assert total.c_index > r.candidate("col:early").c_index  # it would have won on its score
    assert r.leader.key == "col:early"
    assert total.rank > max(c.rank for c in r.candidates if not c.is_lifetime_total)
    assert "per-day rate" in total.warnings[0] and "LIFETIME" in total.flags


def test_total_charges_with_tenure_in_the_wrong_unit_is_still_flagged():
    """total_charges = monthly × tenure; tenure read as days although it was months: the
    elasticity is unit-free (log-scale shift), so the verdict does not move."""

    def total_charges(rng, d):
        monthly = rng.uniform(20, 110, d.size)
        return monthly * (d / 30.44)

    r = ranked_with_total(8, total_charges)
    assert r.candidate("col:total").is_lifetime_total
    rng = np.random.default_rng(8)
    z, age, d, e = users(rng, 3000, -0.5, 540)
    months = d / 30.44
    x = rng.uniform(20, 110, d.size) * months
    wrong = tenure_evidence(x, months, e)  # "days" that are months
    right = tenure_evidence(x, d, e)
    assert wrong.elasticity == pytest.approx(right.elasticity, abs=1e-9)
