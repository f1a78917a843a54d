"""Dates written as numbers ('03/04/2025') are read in one day/month order for the whole
column: read value by value, '03/04/2025' became March 4 beside '13/04/2025' as April 13."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.data.columns import UserColumns
from northstar_lab.data.users import date_order, prepare_users
from northstar_lab.errors import InputError


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["03/04/2025", "13/04/2025"], "day"),
        (["03.04.2025 10:30", "25.12.2024 08:00"], "day"),
        (["04/03/2025", "04/13/2025"], "month"),
        (["13/04/2025", "04/13/2025"], "mixed"),
        (["03/04/2025", "01/02/25"], "unknown"),
        (["2025-04-03", "2025-12-25T10:00:00"], None),  # ISO: no question
    ],
)
def test_date_order_is_read_off_the_column(values, order):
    assert date_order(pd.Series(values)) == order


def _users(signups):
    n = len(signups)
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)], "signup": signups,
                          "churned": [0] * n, "tenure_days": [30] * n})  # fmt: skip
    cols = UserColumns(user="user_id", signup="signup", churn="churned", duration="tenure_days")
    return frame, cols


def test_day_first_dates_are_all_read_day_first():
    frame, cols = _users(["03/04/2025", "13/04/2025", "01/02/2025"])
    table = prepare_users(frame, cols, "users.csv")
    got = pd.to_datetime(table.frame["signup_sec"], unit="s").dt.strftime("%Y-%m-%d").tolist()
    assert got == ["2025-04-03", "2025-04-13", "2025-02-01"]


def test_mixed_orders_are_refused_with_both_examples():
    frame, cols = _users(["13/04/2025", "04/13/2025", "01/02/2025"])
    with pytest.raises(InputError, match="mixes day/month and month/day") as err:
        prepare_users(frame, cols, "users.csv")
    assert "'13/04/2025'" in str(err.value) and "'04/13/2025'" in str(err.value)


def test_an_order_no_date_tells_is_read_month_first_with_a_note():
    frame, cols = _users(["03/04/2025", "01/02/2025"])
    table = prepare_users(frame, cols, "users.csv")
    assert pd.to_datetime(table.frame["signup_sec"].iloc[0], unit="s").month == 3
    assert any("no date tells whether it is day/month" in n for n in table.notes)
    assert np.isfinite(table.frame["signup_sec"]).all()
