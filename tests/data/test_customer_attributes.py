"""Columns that describe who the customer is (age, credit score, salary, where they live) are
not proposed as candidates: no product team can grow them (METHODS §2). A bank's
Churn_Modelling export offered `Age`, `CreditScore` and `EstimatedSalary` beside its
behaviours, and `Age` could rank first on data where older customers stay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.data.proposals import describes_the_customer
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings


@pytest.mark.parametrize(
    "name, attribute",
    [
        ("Age", True), ("Customer_Age", True), ("CreditScore", True), ("credit_score", True),
        ("EstimatedSalary", True), ("SeniorCitizen", True), ("Dependent_count", True),
        ("zip", True), ("YearOfBirth", True), ("Gender", True), ("country_code", True),
        ("account_age_days", False), ("age_days", False), ("page_views", False),
        ("usage", False), ("Balance", False), ("NumOfProducts", False),
        ("IsActiveMember", False), ("messages_sent", False), ("average_session", False),
    ],
)  # fmt: skip
def test_names_that_describe_the_customer(name, attribute):
    assert describes_the_customer(name) is attribute


def churn_modelling(n: int = 2500, seed: int = 11) -> pd.DataFrame:
    """The bank export's columns; older customers stay longer here, so Age would lead."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 92, n)
    active = rng.integers(0, 2, n)
    years = rng.exponential(4.0 * np.exp(0.04 * (age - 40) + 0.4 * active), n)
    follow = rng.uniform(1, 11, n)
    return pd.DataFrame({
        "RowNumber": np.arange(1, n + 1), "CustomerId": 15_600_000 + rng.permutation(n),
        "CreditScore": rng.integers(350, 850, n), "Geography": rng.choice(["France", "Spain"], n),
        "Gender": rng.choice(["Female", "Male"], n), "Age": age,
        "Tenure": np.floor(np.minimum(years, follow)).clip(0, 10).astype(int),
        "NumOfProducts": rng.integers(1, 5, n), "IsActiveMember": active,
        "EstimatedSalary": rng.uniform(11, 200_000, n).round(2),
        "Exited": (years <= follow).astype(int),
    })  # fmt: skip


def test_a_bank_export_ranks_behaviours_and_names_the_attributes_left_out():
    loaded = load_inputs(users=churn_modelling(), user_columns={"duration_unit": "years"})
    cols = loaded.users.columns
    assert set(cols.behaviour) == {"NumOfProducts", "IsActiveMember"}
    assert set(cols.segments) >= {"Geography", "Gender"}  # text traits stay segments
    notes = [w for w in loaded.warnings if "describe who the customer is" in w]
    assert len(notes) == 1
    assert "'CreditScore', 'Age', 'EstimatedSalary'" in notes[0]
    ranking = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
    assert ranking.candidates[0].key == "col:IsActiveMember"
    assert not any(c.column == "Age" for c in ranking.candidates)


def test_an_attribute_chosen_as_behaviour_is_ranked():
    loaded = load_inputs(
        users=churn_modelling(),
        user_columns={"duration_unit": "years", "behaviour": ["Age", "IsActiveMember"]},
    )
    ranking = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
    assert ranking.candidates[0].column == "Age"  # older customers stay: it leads when asked


def test_a_table_of_attributes_only_says_why_there_is_no_candidate():
    df = churn_modelling()[["CustomerId", "Age", "CreditScore", "Tenure", "Exited"]]
    loaded = load_inputs(users=df, user_columns={"duration_unit": "years"})
    with pytest.raises(InputError, match="so they were left out"):
        analyse(loaded, AnalysisSettings(n_bootstrap=0))
