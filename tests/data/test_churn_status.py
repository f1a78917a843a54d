"""A churn flag written as a status column: a CRM's 'Status' (Active / Cancelled), Stripe's
`subscription_status` (active, trialing, past_due, canceled, …). Before: neither was
recognised ("cannot tell who churned"), 'Status' was offered as a behaviour instead, and
mapped as the cancellation it read as "8000 values that are not dates"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar_lab.data.flags import as_flag
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(ROOT / "sample_data" / "users_summary.csv")


def _with_status(summary, tmp_path, name: str, words: dict[str, list[str]]) -> str:
    rng = np.random.default_rng(2)
    gone = summary["churned"] == "yes"
    status = np.where(gone, rng.choice(words["yes"], len(gone)), rng.choice(words["no"], len(gone)))
    frame = summary.drop(columns=["churned"]).assign(**{name: status})
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Status", {"yes": ["Cancelled"], "no": ["Active"]}),
        ("subscription_status", {"yes": ["canceled", "incomplete_expired"],
                                 "no": ["active", "trialing", "past_due", "unpaid", "paused"]}),
    ],
)  # fmt: skip
def test_a_status_column_is_the_churn_flag(summary, tmp_path, name, words):
    users = load_inputs(users=_with_status(summary, tmp_path, name, words)).users
    assert users.columns.churn == name
    assert name not in users.columns.behaviour
    expected = (summary["churned"] == "yes").astype(float).to_numpy()
    np.testing.assert_array_equal(users.frame["churn_flag"].to_numpy(), expected)


def test_a_status_of_other_words_is_not_a_churn_flag():
    assert as_flag(pd.Series(["gold", "silver", "active"])) is None


def test_a_flag_given_as_the_cancellation_says_so(summary, tmp_path):
    path = _with_status(summary, tmp_path, "Status", {"yes": ["Cancelled"], "no": ["Active"]})
    with pytest.raises(InputError) as err:
        load_inputs(users=path, user_columns={"cancel": "Status"})
    assert "column 'Status' holds a churn flag ('" in str(err.value)
    assert "not dates" not in str(err.value)
