"""Measuring (inputs/measure.py): window values are the ranking's own candidates, and the later
North Star, counted in the engine, equals pandas over the raw events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from northstar_lab.data.load import load_inputs
from northstar_lab.inputs import keyed, measure
from northstar_lab.inputs.define import parse_input

from .conftest import NORTH_STAR


def test_window_values_are_the_candidates_and_the_engine_agrees(small):
    a = small.analysis
    names = measure.event_names(a)
    assert {"goal_set", "streak_viewed", "lesson_completed"} <= set(names)
    log = keyed.keyed_log(small.loaded.events, measure.signup_frame(a.frame), a.as_of)
    wanted = [*names, measure.ANY]
    found = keyed.anchored_counts(
        log, np.arange(len(a.frame)), a.frame["signup_sec"].to_numpy(float),
        {"n": wanted, "days": wanted, "types": [measure.ANY]}, window_days=14,
        horizon_days=90, exclude_types=("payment",),
    )  # fmt: skip
    log.release()
    counts = measure.AnchorCounts.from_counts(found, log.names)
    for key in ("count:goal_set", "days:login", "reached:invite_sent",
                "share:lesson_completed/lesson_started", "baseline:active_days",
                "baseline:total_events", "baseline:distinct_events"):  # fmt: skip
        spec = parse_input(key, 14, names)
        want = measure.window_values(a, spec)
        got = counts.values(spec, measure.WINDOW)
        np.testing.assert_array_equal(np.nan_to_num(got, nan=-1), np.nan_to_num(want, nan=-1))
    np.testing.assert_array_equal(
        measure.window_values(a, parse_input("count:goal_set", 14, names)),
        a.candidate("count:goal_set").raw,
    )


def test_the_later_north_star_equals_pandas_over_the_events(small):
    a = small.analysis
    spec = parse_input(NORTH_STAR, 14, measure.event_names(a))
    later = measure.later_values(a, small.loaded, spec, 90)
    e = small.data.events.merge(small.data.users[["user_id", "signup_at"]], on="user_id")
    day = (e.timestamp - e.signup_at).dt.total_seconds() // 86400
    sel = (e.event == "lesson_completed") & (day >= 14) & (day < 104)
    want = e[sel].groupby("user_id").size().reindex(a.frame["user_id"], fill_value=0)
    np.testing.assert_array_equal(later, want.to_numpy(float))


def test_weekly_counts_equal_pandas(small):
    a = small.analysis
    rows = measure.weekly_counts(small.loaded, a.frame, ["goal_set"], a.as_of)
    e = small.data.events
    days = e.timestamp.astype("int64") // 86_400_000_000_000
    week = (days - measure.MONDAY_OFFSET_DAYS) // 7
    goal = e[e.event == "goal_set"].assign(week=week, day=days)
    want = goal.groupby("week").agg(n=("user_id", "size"), users=("user_id", "nunique"))
    got = rows[rows.event == "goal_set"].set_index("week")
    pd.testing.assert_series_equal(got.n, want.n.astype(float), check_names=False)
    pd.testing.assert_series_equal(got.users, want.users.astype(float), check_names=False)
    any_rows = rows[rows.event == measure.ANY].set_index("week")
    assert any_rows.n.sum() == len(e)


def test_anchors_at_any_time_are_counted_once_per_user_and_moment(small):
    """Anchors that are not signups, some at the same user and moment (counted once, read by
    each), equal pandas over the raw events: goal_set events in [0, W), login days in [W, W+H)."""
    a = small.analysis
    rng = np.random.default_rng(3)
    users = a.frame[["user_id", "signup_sec"]].sample(400, random_state=3)
    at = users["signup_sec"].to_numpy() + rng.integers(0, 5 * 86400, len(users))
    anchors = pd.DataFrame({"user_id": users["user_id"].astype(str), "anchor_sec": at})
    anchors = pd.concat([anchors, anchors.iloc[:100]], ignore_index=True)  # 100 twice
    anchors["anchor"] = np.arange(len(anchors))
    log = keyed.keyed_log(small.loaded.events, anchors.iloc[:0].assign(signup_sec=0.0),
                          a.as_of, anchors["user_id"])  # fmt: skip
    counts = keyed.anchored_counts(
        log, log.uids(anchors["user_id"]), anchors["anchor_sec"].to_numpy(float),
        {"n": ["goal_set"], "days": ["login"]}, window_days=14, horizon_days=90,
    )  # fmt: skip
    log.release()
    assert counts.n_distinct == 400
    got = measure.AnchorCounts.from_counts(counts, log.names)
    e = small.data.events.merge(anchors, on="user_id")
    e = e.assign(d=(e.timestamp.astype("int64") // 10**9 - e.anchor_sec) // 86400)
    goal = e[(e.event == "goal_set") & (e.d >= 0) & (e.d < 14)].groupby("anchor").size()
    login = e[(e.event == "login") & (e.d >= 14) & (e.d < 104)].groupby("anchor").d.nunique()
    for key, series, period in (("count:goal_set", goal, measure.WINDOW),
                                ("days:login", login, measure.LATER)):  # fmt: skip
        want = series.reindex(anchors["anchor"], fill_value=0).to_numpy(float)
        spec = parse_input(key, 14, measure.event_names(a))
        np.testing.assert_array_equal(got.values(spec, period), want)


def test_more_event_names_than_a_small_integer_holds(small, tmp_path):
    """40,000 extra event names that sort before 'goal_set' push its code past 32,767: the
    keyed log's type codes must not wrap (an int16 code did, silently, and counted another
    type's events as goal_set's)."""
    a = small.analysis
    users = a.frame[["user_id", "signup_sec"]].reset_index(drop=True)
    junk = pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy()[np.arange(40_000) % len(users)],
            "timestamp": pd.to_datetime(
                users["signup_sec"].to_numpy()[np.arange(40_000) % len(users)] + 1, unit="s"
            ),
            "event": [f"a_{i:05d}" for i in range(40_000)],
        }
    )
    events = pd.concat([small.data.events, junk], ignore_index=True)
    path = tmp_path / "many_names.parquet"
    events.to_parquet(path, index=False)
    loaded = load_inputs(str(path), str(small.folder / "users.csv"))
    log = keyed.keyed_log(loaded.events, users.astype({"user_id": str}), a.as_of)
    assert log.codes(["goal_set"])[0] > 2**15  # past what an int16 code holds
    anchors = users["signup_sec"].to_numpy(float)
    counts = keyed.anchored_counts(
        log, log.uids(users["user_id"]), anchors, {"n": ["goal_set"]},
        window_days=14, horizon_days=90,
    )  # fmt: skip
    log.release()
    got = measure.AnchorCounts.from_counts(counts, log.names)
    e = small.data.events.merge(users, on="user_id")
    e = e.assign(d=(e.timestamp.astype("int64") // 10**9 - e.signup_sec) // 86400)
    goal = e[(e.event == "goal_set") & (e.d >= 0) & (e.d < 14)].groupby("user_id").size()
    want = goal.reindex(users["user_id"], fill_value=0).to_numpy(float)
    spec = parse_input("count:goal_set", 14, measure.event_names(a))
    np.testing.assert_array_equal(got.values(spec, measure.WINDOW), want)
