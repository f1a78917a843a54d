"""Lumen Learn's input-metrics chapter (sample/story.py): goals drive later lessons, streak views
ride along with lessons, past experiments moved both — and the original story is untouched."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from northstar_lab.sample import generate_product, spec
from northstar_lab.sample.simulate import events_frame, simulate_block

W = pd.Timedelta(days=14)
KEYS = ["user_id", "timestamp", "event"]


@pytest.fixture(scope="module")
def planted():
    return generate_product(5000, seed=13)


def _days(data) -> pd.DataFrame:
    e = data.events.merge(data.users[["user_id", "signup_at"]], on="user_id")
    e["day"] = (e.timestamp - e.signup_at).dt.total_seconds() // 86400
    return e


def _count(e: pd.DataFrame, event: str, lo: int, hi: int, index) -> pd.Series:
    sel = (e.event == event) & (e.day >= lo) & (e.day < hi)
    return e[sel].groupby("user_id").size().reindex(index, fill_value=0)


@pytest.mark.parametrize("null", [False, True])
def test_the_story_only_adds_events_at_times_the_user_already_had_one(null):
    s = spec.make_spec(2500, 17, "2025-01-01", 365, "2026-03-31", null, 0)
    s = dataclasses.replace(s, block_users=1000)
    with_story = events_frame(s, [simulate_block(s, b) for b in range(s.n_blocks)], 0, s.n_users)
    off = dataclasses.replace(s, input_story=False)
    without = events_frame(off, [simulate_block(off, b) for b in range(off.n_blocks)], 0, 2500)
    assert set(with_story.event) - set(without.event) == {"goal_set", "streak_viewed"}
    old_types = with_story[~with_story.event.isin(["goal_set", "streak_viewed"])]
    a, b = old_types[KEYS].value_counts(), without[KEYS].value_counts()
    both = pd.concat([a.rename("new"), b.rename("old")], axis=1).fillna(0)
    assert (both.new >= both.old).all()  # nothing removed or moved
    extra = both[both.new > both.old].reset_index()
    assert set(extra.event) <= {"lesson_completed"}
    if null:
        assert extra.empty  # goals add no lessons under null
    else:
        assert len(extra) > 100
    had = set(zip(without.user_id, without.timestamp, strict=True))
    new_rows = with_story[with_story.event.isin(["goal_set", "streak_viewed"])]
    assert all(k in had for k in zip(new_rows.user_id, new_rows.timestamp, strict=True))
    assert all(k in had for k in zip(extra.user_id, extra.timestamp, strict=True))


def test_goals_are_set_in_the_window_and_streak_views_come_with_lessons(planted):
    e = _days(planted)
    goals = e[e.event == "goal_set"]
    assert len(goals) > 1000 and (goals.day < 14).all()
    streak = e[e.event == "streak_viewed"]
    done = e[e.event == "lesson_completed"]
    lessons = set(zip(done.user_id, done.timestamp, strict=True))
    assert all(k in lessons for k in zip(streak.user_id, streak.timestamp, strict=True))
    truth = planted.truth["users"].set_index("user_id")
    np.testing.assert_array_equal(
        _count(e, "goal_set", 0, 14, truth.index).to_numpy(), truth.goals_first_14d.to_numpy()
    )


def _full_landmark(data) -> pd.Index:
    t = data.truth["users"]
    ok = (t.churn_at >= t.signup_at + W) & (
        t.signup_at + W + pd.Timedelta(days=90) <= data.truth["as_of"]
    )
    return pd.Index(t.user_id[ok])


def test_goals_drive_later_lessons_and_streak_views_do_not(planted):
    e = _days(planted)
    users = _full_landmark(planted)
    later = np.log1p(_count(e, "lesson_completed", 14, 104, users))
    early = _count(e, "lesson_completed", 0, 14, users)
    goals = _count(e, "goal_set", 0, 14, users)
    streak = _count(e, "streak_viewed", 0, 14, users)
    frame = pd.DataFrame({"later": later, "early": early, "goals": goals, "streak": streak})
    # within users with the same early lessons: goals go with more later lessons, streaks not
    within = frame.groupby("early")[["later", "goals", "streak"]].transform(lambda x: x - x.mean())
    assert np.corrcoef(within.goals, within.later)[0, 1] > 0.2
    assert abs(np.corrcoef(within.streak, within.later)[0, 1]) < 0.05
    assert np.corrcoef(frame.streak, frame.early)[0, 1] > 0.6  # but streaks ride along


def test_assignments_one_variant_per_user_and_experiment(planted):
    a = planted.assignments
    assert list(a.columns) == ["user_id", "experiment", "variant", "assigned_at"]
    assert set(a.experiment) == {e.name for e in spec.PAST_EXPERIMENTS}
    assert set(a.variant) == {"control", "treatment"}
    assert not a.duplicated(["user_id", "experiment"]).any()
    share = a.groupby("experiment").size() / len(planted.users)
    assert share.between(spec.ENROL_P - 0.05, spec.ENROL_P + 0.05).all()
    signup = planted.users.set_index("user_id").signup_at
    assert (a.assigned_at.to_numpy() == signup.reindex(a.user_id).to_numpy()).all()


def _z(values: pd.Series, rows: pd.DataFrame) -> float:
    """Treatment minus control mean over its standard error."""
    treated = rows.variant.to_numpy() == "treatment"
    x, y = values[rows.user_id[treated]], values[rows.user_id[~treated]]
    return float((x.mean() - y.mean()) / np.sqrt(x.var() / len(x) + y.var() / len(y)))


def test_the_goal_experiments_moved_goals_and_the_streak_experiments_streak_views(planted):
    e = _days(planted)
    users = planted.users.user_id
    goals = _count(e, "goal_set", 0, 14, users)
    streak = _count(e, "streak_viewed", 0, 14, users)
    lifts = {x.name: x for x in spec.PAST_EXPERIMENTS}
    for name, rows in planted.assignments.groupby("experiment"):
        lift = lifts[name]
        z_goal, z_streak = _z(goals, rows), _z(streak, rows)
        assert (z_goal > 5) if lift.goal_lift >= 0.5 else (abs(z_goal) < 4), (name, z_goal)
        if abs(lift.streak_lift) >= 0.8:
            assert z_streak * np.sign(lift.streak_lift) > 5, (name, z_streak)
        if lift.streak_lift == 0:
            assert abs(z_streak) < 4, (name, z_streak)


def test_null_later_lessons_are_unrelated_to_the_first_14_days():
    data = generate_product(5000, seed=13, null=True)
    e = _days(data)
    users = _full_landmark(data)
    later = _count(e, "lesson_completed", 14, 104, users)
    for event in ("lesson_completed", "goal_set", "video_watched", "login"):
        early = _count(e, event, 0, 14, users)
        assert abs(np.corrcoef(np.log1p(early), np.log1p(later))[0, 1]) < 0.05, event
    assert data.truth["goal_lessons_per_day"] == 0.0
