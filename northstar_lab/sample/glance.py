"""The sample at a glance, for the Home page: who signed up, when and on which plan.

Read from the sample's users table alone (8,000 rows, milliseconds), so Home can show it
while the sample's analysis runs in the background; drawing it also has the browser load the
chart and table code the Candidates page needs before anyone clicks.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from ..evidence.charts import FIT_WIDTH, PALETTE, WIDTH


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


def signups_chart(by_month: pd.DataFrame) -> alt.Chart:
    """Signups per month, stacked by plan, in the evidence charts' palette and width."""
    plans = sorted(by_month["plan"].unique())
    title = alt.TitleParams("Signups per month, by plan", anchor="start",
                            subtitle=f"{int(by_month['users'].sum()):,} users")  # fmt: skip
    scale = alt.Scale(domain=plans, range=PALETTE[: max(len(plans), 1)])
    colour = alt.Color("plan:N", title="Plan", legend=alt.Legend(orient="bottom"), scale=scale)
    return (
        alt.Chart(by_month)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Signup month", axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("users:Q", title="Users"),
            color=colour,
            tooltip=["month:O", "plan:N", alt.Tooltip("users:Q", format=",")],
        )
        .properties(title=title, width=WIDTH, height=180, autosize=FIT_WIDTH)
    )
