"""Who enters which figure (METHODS §1.3–1.4): revenue uses the retention population.

Users who churned inside the window have their counts cut short and pay nothing later; if
they entered the revenue correlation, every activity metric would "predict" revenue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.outcomes import landmark_outcomes
from northstar_lab.ranking.rank import rank_candidates

from .synthetic import H, W, count_candidate, quick_settings


def null_with_in_window_churn(seed: int, n: int = 20_000, k: int = 6):
    """Churn and revenue independent of behaviour, but ~20% churn inside the 14-day window
    (their window counts stop at churn, their later revenue is 0)."""
    rng = np.random.default_rng(seed)
    churn_day = rng.exponential(65.0, n)
    follow_up = rng.uniform(W + H, 500, n)  # every user has the full revenue horizon
    alive_in_window = np.minimum(churn_day, W)
    cands = [
        count_candidate(
            f"e{j}", rng.poisson(rng.gamma(2.0, rng.uniform(0.1, 0.6), n) * alive_in_window)
        )
        for j in range(k)
    ]
    days_paid = np.clip(np.minimum(churn_day, W + H) - W, 0, None)
    payer = rng.random(n) < 0.4
    revenue = np.where(payer, np.round(days_paid / 30 * 19.0, 2), 0.0)
    d = np.floor(np.minimum(churn_day, follow_up))
    e = (churn_day <= follow_up).astype(float)
    frame = pd.DataFrame({"a_days": np.floor(follow_up)})
    oc = landmark_outcomes(frame, d, e, "simulated", window_days=W, horizon_days=H,
                           revenue=revenue, revenue_source="simulated")  # fmt: skip
    return cands, oc


@pytest.fixture(scope="module")
def null_revenue_runs():
    out = []
    for seed in (1, 2):
        cands, oc = null_with_in_window_churn(seed)
        out.append((oc, rank_candidates(cands, oc, settings=quick_settings())))
    return out


def test_revenue_users_are_landmark_users(null_revenue_runs):
    for oc, _ in null_revenue_runs:
        assert oc.excluded["churned_in_window"] > 2000  # the trap is there
        assert not (oc.revenue_mask & ~oc.retention_mask).any()


def test_null_revenue_rho_is_zero_despite_in_window_churn(null_revenue_runs):
    rhos = [c.revenue_rho for _, r in null_revenue_runs for c in r.candidates if c.kind == "count"]
    assert len(rhos) >= 12
    assert max(abs(r) for r in rhos) < 0.03, rhos


def short_follow_up(seed: int = 3, n: int = 3000):
    """45 days of follow-up after the landmark at most; the analyst asks for H = 90."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(3.0, n).astype(float)
    churn = rng.exponential(60 * np.exp(0.2 * np.log1p(x)), n)
    follow_up = rng.uniform(5, 45, n)
    d = W + np.floor(np.minimum(churn, follow_up))
    e = (churn <= follow_up).astype(float)
    frame = pd.DataFrame({"a_days": d})
    oc = landmark_outcomes(frame, d, e, "simulated", window_days=W, horizon_days=H)
    return [count_candidate("x", x)], oc


def test_horizon_never_past_the_longest_follow_up():
    cands, oc = short_follow_up()
    longest = float(oc.duration.max())
    assert longest < 45 < H
    r = rank_candidates(cands, oc, settings=quick_settings())
    assert r.data.horizon_days == longest
    f = r.candidate("count:x").threshold_figures
    assert f is not None and f.horizon_days == longest
    assert any(f"Horizon shortened from 90 days to {longest:g} days" in w for w in r.warnings)
    assert any(f"read {longest:g} days after day {W}" in n for n in r.notes)
