"""Home's look at the sample counts every user once, by signup month and plan."""

import pandas as pd

from northstar_lab.sample.glance import plan_table, signups_by_month, signups_chart


def test_signups_by_month_and_plan_count_every_user_once():
    users = pd.read_csv("sample_data/users.csv")
    by_month = signups_by_month("sample_data/users.csv")
    assert by_month["users"].sum() == len(users) == 8000
    assert by_month["month"].is_monotonic_increasing
    want = users.assign(month=users["signup_at"].str[:7]).groupby(["month", "plan"]).size()
    got = by_month.set_index(["month", "plan"])["users"]
    pd.testing.assert_series_equal(got, want, check_names=False)
    plans = plan_table(by_month)
    assert plans["users"].tolist() == users["plan"].value_counts().tolist()
    assert abs(plans["share"].sum() - 1) < 1e-12
    spec = signups_chart(by_month).to_dict()
    assert "8,000 users" in str(spec["title"])
