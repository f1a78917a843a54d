"""Time since the user's last action (recency) is the outcome read at the export, not a
behaviour that leads it. A users table's 'DaySinceLastOrder' (the Kaggle e-commerce churn
table) was ranked, as a guardrail with C 0.84, above every real behaviour; an order log whose
only times are 'days_since_prior_order' (Instacart) was refused with a plain "no timestamp
column", and mapping that column as the time said only "numbers that are not times"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.columns import counts_time_since_last
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings


@pytest.mark.parametrize(
    "name",
    ["days_since_prior_order", "DaySinceLastOrder", "Recency", "recency_days",
     "last_seen_days_ago", "time_since_last_login", "DaysSinceLastPurchase",
     "hours since previous session"],
)  # fmt: skip
def test_names_that_count_the_time_since_the_last_action(name):
    assert counts_time_since_last(name)


@pytest.mark.parametrize(
    "name",
    ["days_active_last_30", "days_since_signup", "LastLogin", "tenure", "agent",
     "orders_last_7_days", "SinceSignupDays"],
)  # fmt: skip
def test_names_that_do_not(name):
    assert not counts_time_since_last(name)


def _ecommerce(n: int = 2000, seed: int = 2) -> pd.DataFrame:
    """Months on book and a churn flag; engagement lowers churn; recency is long for churners
    (as an export makes it: it is how churn was told)."""
    rng = np.random.default_rng(seed)
    engagement = rng.normal(size=n)
    churn = (rng.random(n) < 1 / (1 + np.exp(1 + 0.8 * engagement))).astype(int)
    return pd.DataFrame({
        "CustomerID": np.arange(50_001, 50_001 + n), "Churn": churn,
        "Tenure": rng.integers(0, 61, n),
        "OrderCount": rng.poisson(np.exp(1 + 0.5 * engagement)),
        "DaySinceLastOrder": np.where(churn == 1, rng.integers(10, 60, n), rng.integers(0, 15, n)),
        "CashbackAmount": np.round(150 + 20 * rng.normal(size=n), 2),
    })  # fmt: skip


def test_recency_in_a_users_table_is_no_candidate_and_is_said():
    loaded = load_inputs(users=_ecommerce(), user_columns={"duration_unit": "months"})
    cols = loaded.users.columns
    assert set(cols.behaviour) == {"OrderCount", "CashbackAmount"}
    notes = [w for w in loaded.warnings if "'DaySinceLastOrder'" in w]
    assert len(notes) == 1 and "since the user's last activity" in notes[0]
    ranking = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
    assert ranking.candidates[0].column == "OrderCount"
    assert not any(c.column == "DaySinceLastOrder" for c in ranking.candidates)


def test_recency_chosen_as_behaviour_is_ranked_and_predicts_by_being_the_outcome():
    loaded = load_inputs(
        users=_ecommerce(),
        user_columns={"duration_unit": "months", "behaviour": ["DaySinceLastOrder", "OrderCount"]},
    )
    ranking = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
    recency = next(c for c in ranking.candidates if c.key == "col:DaySinceLastOrder")
    assert recency.hazard_ratio > 2 and recency.c_index > 0.8  # the leak, when asked for


def _orders(tmp_path) -> str:
    """Instacart's orders.csv: a per-user order number and days since the previous order."""
    rng = np.random.default_rng(1)
    rows, order_id = [], 1
    for user in range(1, 81):
        n = int(rng.integers(3, 12))
        for k in range(1, n + 1):
            gap = np.nan if k == 1 else float(rng.integers(1, 31))
            rows.append((order_id, user, "prior", k, int(rng.integers(0, 7)), gap))
            order_id += 1
    path = tmp_path / "orders.csv"
    names = ["order_id", "user_id", "eval_set", "order_number", "order_dow",
             "days_since_prior_order"]  # fmt: skip
    pd.DataFrame(rows, columns=names).to_csv(path, index=False)
    return str(path)


def test_an_order_log_with_only_relative_times_says_why_it_cannot_be_read(tmp_path):
    with pytest.raises(InputError) as err:
        load_inputs(_orders(tmp_path))
    msg = str(err.value)
    assert "no timestamp column found" in msg
    assert "'days_since_prior_order' counts the time since each user's previous row" in msg
    assert "no calendar in common" in msg and "a users table with each user's tenure" in msg


def test_the_relative_column_mapped_as_the_time_says_the_same(tmp_path):
    with pytest.raises(InputError) as err:
        load_inputs(
            _orders(tmp_path),
            event_columns={"timestamp": "days_since_prior_order", "one_event": "order"},
        )
    msg = str(err.value)
    assert "counts the time since each user's previous row" in msg
    assert "1970" not in msg  # not the generic "numbers that are not times"
