"""Outcomes on small hand-built logs: inactivity churn, censoring, landmark, as-of, ties."""

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from northstar_lab.data.aggregate import per_user_frame
from northstar_lab.data.columns import EventColumns
from northstar_lab.data.events import check_events, standard_events
from northstar_lab.errors import InputError
from northstar_lab.outcomes import (
    churn_from_activity,
    churn_from_cancellation,
    churn_from_duration,
    churn_from_last_active,
    landmark_outcomes,
    revenue_per_observed_month,
)

DAY = 86_400


def log(rows):
    """Events as (user, 'YYYY-MM-DD HH:MM', event[, value])."""
    df = pd.DataFrame(
        [(*r, None) if len(r) == 3 else r for r in rows],
        columns=["user_id", "timestamp", "event", "value"],
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="mixed")
    df["value"] = df["value"].astype(float)
    return df


def frame_of(events, *, as_of=None, gaps=(30,), users=None, window=14, horizon=90, rev=None):
    con = ibis.duckdb.connect()
    table = con.create_table("ev", events)
    std = standard_events(table, EventColumns("user_id", "timestamp", "event", "value"), "ev")
    check = check_events(std, "ev")
    uf = per_user_frame(
        std,
        check,
        window_days=window,
        horizon_days=horizon,
        gaps=gaps,
        as_of=as_of,
        revenue_event=rev,
        users=users,
    )
    return uf


@pytest.fixture(scope="module")
def toy():
    # a: active days 0, 1, 20, then silent 40+ days → churned at day 20 (gap 30)
    # b: active days 0 and 80 → churned at day 0 (first silence ≥ 30 days starts after day 0)
    # c: signed up 10 days before the data's end → not yet observable
    # d: active every 10 days until the end → censored at a − 30
    rows = [
        ("a", "2025-01-01 09:00", "login"),
        ("a", "2025-01-02 09:00", "lesson"),
        ("a", "2025-01-21 09:00", "lesson"),
        ("b", "2025-01-01 10:00", "login"),
        ("b", "2025-03-22 10:00", "login"),
        ("c", "2025-04-01 08:00", "login"),
    ]
    rows += [("d", str(pd.Timestamp("2025-01-05 12:00") + pd.Timedelta(days=10 * i)), "lesson")
             for i in range(10)]  # fmt: skip
    rows.append(("d", "2025-04-10 12:00", "login"))
    return log(rows)


def test_inactivity_churn_and_censoring(toy):
    uf = frame_of(toy, gaps=(7, 30))
    f = uf.data.set_index("user_id")
    assert uf.as_of == dt.date(2025, 4, 10)
    assert f.loc["a", "churn_day_g30"] == 20
    assert f.loc["a", "churn_day_g7"] == 1  # 1 → 20 is the first silence ≥ 7 days
    assert f.loc["b", "churn_day_g30"] == 0
    assert np.isnan(f.loc["d", "churn_day_g30"])  # never silent 30 days
    assert f.loc["d", "churn_day_g7"] == 0  # silent 10 days after day 0
    d, e, _ = churn_from_activity(uf.data, 30)
    by = dict(zip(uf.data.user_id, zip(d, e, strict=True), strict=True))
    a_days_d = f.loc["d", "a_days"]
    assert by["d"] == (a_days_d - 30, 0.0)  # censored at A − g − s
    assert by["a"] == (20.0, 1.0)
    # every detected churn happens on or before A − g: nothing is declared before it is visible
    churned = e == 1
    assert np.all(d[churned] <= uf.data["a_days"].to_numpy()[churned] - 30)


def test_landmark_exclusions_and_clock(toy):
    uf = frame_of(toy)
    d, e, src = churn_from_activity(uf.data, 30)
    oc = landmark_outcomes(uf.data, d, e, src, window_days=14, horizon_days=90)
    users = uf.data.user_id.to_numpy()
    kept = dict(zip(users[oc.retention_mask], zip(oc.duration, oc.event, strict=True), strict=True))
    assert set(kept) == {"a", "d"}
    assert oc.excluded == {"churned_in_window": 1, "not_yet_observable": 1}  # b, c
    assert kept["a"] == (20 - 14, 1.0)  # clock starts at the landmark
    assert np.all(oc.duration >= 0)


def test_as_of_cut_off_drops_later_events_and_censors(toy):
    uf = frame_of(toy, as_of=dt.date(2025, 2, 28))
    f = uf.data.set_index("user_id")
    assert "c" not in f.index  # signed up after the as-of date
    assert uf.counts["users_signed_up_after_as_of"] == 1
    assert uf.counts["events_after_as_of"] > 0
    # b's return on 2025-03-22 is after the as-of date: b is churned at day 0 either way,
    # but the user's last event seen is day 0
    assert f.loc["b", "last_day"] == 0
    # d is censored at (A − s) − 30 with A the end of 2025-02-28
    a_end = pd.Timestamp("2025-03-01")
    expected = np.floor((a_end - pd.Timestamp("2025-01-05 12:00")).total_seconds() / DAY)
    assert f.loc["d", "a_days"] == expected


def test_window_counts_exclude_later_behaviour(toy):
    uf = frame_of(toy)
    f = uf.data.set_index("user_id")
    names = {v: k for k, v in uf.event_columns.items() if k.startswith("count__")}
    # a did 'lesson' on day 1 (in window) and day 20 (outside)
    assert f.loc["a", names["lesson"]] == 1
    # d did 'lesson' on days 0 and 10 inside 14 days, 8 more after
    assert f.loc["d", names["lesson"]] == 2
    days = {v: k for k, v in uf.event_columns.items() if k.startswith("days__")}
    assert f.loc["d", days["lesson"]] == 2
    assert f.loc["a", "active_days"] == 2 and f.loc["a", "distinct_events"] == 2


def test_ties_many_users_same_day_are_counted_separately():
    rows = []
    for i in range(6):
        rows.append((f"u{i}", "2025-01-01 09:00", "login"))
        rows.append((f"u{i}", "2025-01-20 09:00", "login"))  # all churn on day 19
    rows.append(("z", "2025-01-01 09:00", "login"))
    rows.append(("z", "2025-06-30 09:00", "login"))
    uf = frame_of(log(rows))
    d, e, src = churn_from_activity(uf.data, 30)
    oc = landmark_outcomes(uf.data, d, e, src, window_days=14, horizon_days=90)
    assert oc.n_churned == 6
    assert np.sum(oc.duration == 5) == 6


def test_events_before_signup_are_counted_and_dropped():
    rows = [("a", "2025-01-01 09:00", "login"), ("a", "2025-01-05 09:00", "lesson"),
            ("a", "2025-01-08 09:00", "lesson"), ("b", "2025-01-02 09:00", "login"),
            ("b", "2025-05-02 09:00", "login")]  # fmt: skip
    signup = pd.Timestamp("2025-01-04").timestamp()
    users = pd.DataFrame({"user_id": ["a", "b"], "signup_sec": [signup, signup - 2 * DAY]})
    uf = frame_of(log(rows), users=users)
    assert uf.counts["events_before_signup"] == 1
    f = uf.data.set_index("user_id")
    names = {v: k for k, v in uf.event_columns.items() if k.startswith("count__")}
    assert f.loc["a", names["lesson"]] == 2
    assert f.loc["a", names["login"]] == 0  # a's only login was before the signup


def test_revenue_in_horizon_only_after_window():
    rows = [("a", "2025-01-01 09:00", "login"), ("a", "2025-01-05 09:00", "pay", 10.0),
            ("a", "2025-02-01 09:00", "pay", 20.0), ("a", "2025-05-30 09:00", "pay", 40.0),
            ("a", "2025-08-01 09:00", "login")]  # fmt: skip
    uf = frame_of(log(rows), rev="pay")
    f = uf.data.set_index("user_id")
    assert f.loc["a", "revenue_h"] == 20.0  # day 4 is in the window, day 149 after W + H
    assert "pay" not in uf.event_columns.values()  # revenue is never a candidate


def test_explicit_cancellation_and_duration_flag():
    s = pd.Timestamp("2025-01-01").timestamp()
    frame = pd.DataFrame(
        {
            "signup_sec": [s, s, s],
            "cancel_sec": [s + 40 * DAY + 3600, np.nan, s + 500 * DAY],
            "a_days": [200.0, 200.0, 200.0],
        }
    )
    d, e, _ = churn_from_cancellation(frame, s + 200.5 * DAY)
    assert list(d) == [40.0, 200.0, 200.0] and list(e) == [1.0, 0.0, 0.0]
    dur = pd.DataFrame({"duration_days": [3.0, 30.0], "churn_flag": [1.0, 0.0]})
    d, e, _ = churn_from_duration(dur)
    oc = landmark_outcomes(dur, d, e, "x", window_days=14, horizon_days=90)
    assert oc.excluded["churned_in_window"] == 1 and list(oc.duration) == [16.0]


def test_last_active_churn():
    s = pd.Timestamp("2025-01-01").timestamp()
    frame = pd.DataFrame(
        {
            "signup_sec": [s, s],
            "last_active_sec": [s + 50 * DAY, s + 190 * DAY],
            "a_days": [200.0, 200.0],
        }
    )
    d, e, _ = churn_from_last_active(frame, 30)
    assert list(d) == [50.0, 170.0] and list(e) == [1.0, 0.0]


def test_nobody_observable_is_a_clear_error():
    frame = pd.DataFrame({"a_days": [5.0, 6.0]})
    with pytest.raises(InputError, match="No user can enter"):
        landmark_outcomes(frame, np.array([2.0, 3.0]), np.array([1.0, 0.0]), "x",
                          window_days=14, horizon_days=90)  # fmt: skip


def test_revenue_per_month_divides_lifetime_totals():
    got = revenue_per_observed_month(np.array([100.0, 100.0]), np.array([30.44 * 4, 3.0]))
    assert got == pytest.approx([25.0, 100.0])


def test_nobody_at_the_landmark_says_why_with_counts():
    """An event log whose timestamps are one export time put every user on one day; the old
    words ("try a later as-of date") sent the analyst the wrong way."""
    frame = pd.DataFrame({"a_days": np.zeros(40)})
    with pytest.raises(InputError) as err:
        landmark_outcomes(frame, np.zeros(40), np.zeros(40), "activity", window_days=14,
                          horizon_days=90)  # fmt: skip
    text = str(err.value)
    assert "of 40 users, 0 churned in the first 14 days and 40 were followed for less" in text
    assert "export or load time" in text
    frame = pd.DataFrame({"a_days": np.full(40, 30.0)})
    d = np.r_[np.full(30, 3.0), np.full(10, 5.0)]
    e = np.r_[np.ones(30), np.zeros(10)]
    with pytest.raises(InputError) as err:
        landmark_outcomes(frame, d, e, "activity", window_days=14, horizon_days=90)
    assert "30 churned in the first 14 days and 10 were followed" in str(err.value)
    assert "shorter observation window, or a longer inactivity gap" in str(err.value)
