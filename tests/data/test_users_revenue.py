"""A users table's revenue: a rate is read as given, a running total per observed month, by
its name when the name says which and by its values when it does not (METHODS §1.4).

Before, every revenue column not named like a rate was divided by months observed: a plain
`revenue` of monthly amounts was turned against tenure (short-tenure churners inflated), and
IBM's Telco v11 had its `Total Revenue` proposed over its `Monthly Charge`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse, users_table_revenue
from northstar_lab.data.load import load_inputs
from northstar_lab.outcomes import revenue_kind_by_name, revenue_per_observed_month
from northstar_lab.settings import AnalysisSettings


@pytest.mark.parametrize(
    "name, kind",
    [
        ("revenue_per_month", "rate"), ("Revenue per month", "rate"),
        ("RevenuePerMonth", "rate"), ("MonthlyCharges", "rate"), ("Monthly Charge", "rate"),
        ("MRR", "rate"), ("annualRevenue", "rate"), ("arpu", "rate"),
        ("TotalCharges", "total"), ("Total Revenue", "total"), ("LTV", "total"),
        ("revenue_to_date", "total"), ("lifetimeSpend", "total"),
        ("revenue", None), ("spend", None), ("Balance", None),
    ],
)  # fmt: skip
def test_the_name_says_rate_or_total_or_leaves_it_to_the_values(name, kind):
    assert revenue_kind_by_name(name) == kind


def _tenure(rng, n):
    """Days observed and churn flags: a third churned, the rest censored at varied ages."""
    d = rng.uniform(30, 900, n).round()
    e = (rng.random(n) < 0.35).astype(float)
    return d, e


def test_an_unnamed_monthly_amount_is_read_as_given():
    rng = np.random.default_rng(1)
    d, e = _tenure(rng, 3000)
    monthly = rng.choice([9.0, 19.0, 49.0], d.size)
    got, source = users_table_revenue(monthly, d, e, "revenue")
    np.testing.assert_array_equal(got, monthly)
    assert source.startswith("'revenue' from the users table, as given")
    assert "do not grow with tenure" in source and "Spearman ρ with tenure" in source


def test_an_unnamed_running_total_is_divided_by_months_observed():
    rng = np.random.default_rng(2)
    d, e = _tenure(rng, 3000)
    total = rng.choice([9.0, 19.0, 49.0], d.size) * d / 30.44
    got, source = users_table_revenue(total, d, e, "spend")
    np.testing.assert_allclose(got, revenue_per_observed_month(total, d), rtol=0, atol=1e-12)
    assert "its values grow with tenure" in source and "divided by months observed" in source


def test_names_decide_without_the_values():
    rng = np.random.default_rng(3)
    d, e = _tenure(rng, 500)
    total = d * 1.5  # grows with tenure, yet named as a rate: the name is the analyst's word
    got, source = users_table_revenue(total, d, e, "monthly_revenue")
    np.testing.assert_array_equal(got, total)
    assert source == "'monthly_revenue' from the users table, as given"
    got, source = users_table_revenue(total, d, e, "total_revenue")
    np.testing.assert_allclose(got, revenue_per_observed_month(total, d))
    assert "named as a total" in source


def telco_v11(path, n: int = 1200, seed: int = 8) -> None:
    """IBM's Telco customer churn v11 columns: 'Tenure in Months', 'Monthly Charge', 'Total
    Revenue', 'Customer Status' (Stayed / Churned / Joined) and 'Churn Label' (Yes / No)."""
    rng = np.random.default_rng(seed)
    months = rng.integers(1, 73, n)
    charge = rng.uniform(18, 118, n).round(2)
    churned = rng.random(n) < 0.27
    pd.DataFrame({
        "Customer ID": [f"{i:04d}-VHVEG" for i in range(n)],
        "Tenure in Months": months, "Number of Referrals": rng.poisson(1, n),
        "Monthly Charge": charge, "Total Revenue": (charge * months).round(2),
        "Customer Status": np.where(churned, "Churned", "Stayed"),
        "Churn Label": np.where(churned, "Yes", "No"),
    }).to_csv(path, index=False)  # fmt: skip


def test_telco_v11_takes_its_monthly_charge_as_revenue(tmp_path):
    path = tmp_path / "telco_customer_churn.csv"
    telco_v11(path)
    loaded = load_inputs(users=str(path))
    assert loaded.users.columns.revenue == "Monthly Charge"
    assert "Total Revenue" not in loaded.users.columns.behaviour
    an = analyse(loaded, AnalysisSettings(n_bootstrap=0))
    assert an.outcomes.revenue_source == "'Monthly Charge' from the users table, as given"
    monthly = pd.read_csv(path)["Monthly Charge"].to_numpy(float)
    mask = an.outcomes.revenue_mask
    np.testing.assert_array_equal(an.outcomes.revenue[mask], monthly[mask])
