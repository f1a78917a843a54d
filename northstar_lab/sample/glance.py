"""The sample at a glance, for the Home page: who signed up, when and on which plan.

Read from the sample's users table alone (8,000 rows, milliseconds), so Home can show it
while the sample's analysis runs in the background.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def signups_by_month(users_csv: str | Path) -> pd.DataFrame:
    """One row per (signup month, plan): `month` (YYYY-MM), `plan`, `users`."""
    users = pd.read_csv(users_csv, usecols=["signup_at", "plan"], dtype=str)
    users["month"] = users["signup_at"].str[:7]
    counts = users.groupby(["month", "plan"], sort=True).size()
    return counts.rename("users").reset_index()


def plan_table(by_month: pd.DataFrame) -> pd.DataFrame:
    """Users and share per plan, largest first (the table under the chart)."""
    plans = by_month.groupby("plan")["users"].sum().sort_values(ascending=False)
    return pd.DataFrame(
        {"plan": plans.index, "users": plans.to_numpy(), "share": plans.to_numpy() / plans.sum()}
    )
