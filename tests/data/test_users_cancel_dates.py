"""Cancellation columns as billing and CRM exports write them: named 'cancelled_on' and the
like, and dated without a time of day, so a same-day cancellation reads as before a signup
timed that afternoon. Before: the first was not recognised ("cannot tell who churned") and the
second refused the table ("'churn_date' is before 'signup_at' in 107 rows. Fix those dates")."""

from __future__ import annotations

import pandas as pd
import pytest

from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError


def _table(tmp_path, name: str, cancels: list[str]) -> str:
    n = len(cancels)
    frame = pd.DataFrame({
        "user_id": [f"c{i}" for i in range(n)],
        "signup_at": ["2025-01-06 14:00:00"] * n,
        name: cancels,
        "lessons": range(n),
    })  # fmt: skip
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("name", ["cancelled_on", "churned_on", "terminated_at", "deleted_at"])
def test_cancellation_names_are_recognised(tmp_path, name):
    loaded = load_inputs(users=_table(tmp_path, name, ["2025-02-01", "", "2025-03-01"]))
    assert loaded.users.columns.cancel == name


def test_a_same_day_cancellation_dated_without_a_time_is_at_signup(tmp_path):
    path = _table(tmp_path, "churn_date", ["2025-01-06", "2025-01-20", ""])
    users = load_inputs(users=path).users
    frame = users.frame
    assert frame.loc[0, "cancel_sec"] == frame.loc[0, "signup_sec"]  # 0 days, not −14 hours
    assert frame.loc[1, "cancel_sec"] == pd.Timestamp("2025-01-20").timestamp()
    assert any("1 users who cancelled on their signup day" in n for n in users.notes)


def test_a_cancellation_days_before_signup_is_still_refused(tmp_path):
    with pytest.raises(InputError, match="'churn_date' is before 'signup_at' in 1 rows"):
        load_inputs(users=_table(tmp_path, "churn_date", ["2025-01-05", "2025-01-20", ""]))


def test_a_timed_cancellation_before_signup_is_still_refused(tmp_path):
    with pytest.raises(InputError, match="is before 'signup_at' in 1 rows"):
        load_inputs(users=_table(tmp_path, "churn_date", ["2025-01-06 09:00:00", "", ""]))
