"""Property tests for outcome derivation (METHODS §1): whatever valid per-user input comes in,
durations are never negative, a censored user is never counted as churned, every user is either
in the retention analysis or counted as left out, and nothing crashes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from northstar_lab.errors import InputError
from northstar_lab.outcomes import (
    churn_from_activity,
    churn_from_cancellation,
    churn_from_duration,
    churn_from_last_active,
    landmark_outcomes,
)

DAY = 86_400
S0 = 1_735_689_600.0  # 2025-01-01 UTC
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

windows = st.integers(min_value=0, max_value=30)
horizons = st.integers(min_value=1, max_value=200)
gaps = st.integers(min_value=1, max_value=60)


@st.composite
def activity_frames(draw):
    """Users with an age a_days ≥ 0 and, for some, a churn day no later than A − g."""
    n = draw(st.integers(min_value=1, max_value=40))
    gap = draw(gaps)
    a_days = np.array(draw(st.lists(st.integers(0, 800), min_size=n, max_size=n)), float)
    churn = []
    for a in a_days:
        visible = a - gap
        if visible >= 0 and draw(st.booleans()):
            churn.append(float(draw(st.integers(0, int(visible)))))
        else:
            churn.append(np.nan)
    return pd.DataFrame({"a_days": a_days, f"churn_day_g{gap}": churn}), gap


def check_outcomes(frame, d, e, w, h, revenue=None):
    """The promises of `landmark_outcomes` for any valid (D, E); None when nobody is left."""
    try:
        oc = landmark_outcomes(frame, d, e, "x", window_days=w, horizon_days=h, revenue=revenue)
    except InputError as exc:
        assert "No user can enter" in str(exc)
        return None
    assert np.all(oc.duration >= 0)  # the clock starts at the landmark, never before
    assert set(np.unique(oc.event)) <= {0.0, 1.0}
    left_out = sum(v for k, v in oc.excluded.items() if k != "revenue_without_full_follow_up")
    assert oc.n_users + left_out == len(frame)
    assert not (oc.revenue_mask & ~oc.retention_mask).any()  # revenue users are landmark users
    return oc


@SETTINGS
@given(activity_frames(), windows, horizons)
def test_activity_churn_never_negative_and_censored_never_churned(fg, w, h):
    frame, gap = fg
    d, e, _ = churn_from_activity(frame, gap)
    churn_day = frame[f"churn_day_g{gap}"].to_numpy()
    censored = np.isnan(churn_day)
    assert np.all(e[censored] == 0) and np.all(e[~censored] == 1)
    np.testing.assert_array_equal(d[censored], frame["a_days"].to_numpy()[censored] - gap)
    assert np.all(d[~censored] <= frame["a_days"].to_numpy()[~censored] - gap)
    oc = check_outcomes(frame, d, e, w, h)
    if oc is not None:  # a user whose follow-up ends before W is never in the analysis
        assert not (oc.retention_mask & (d < w)).any()


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 900), st.one_of(st.none(), st.integers(0, 1200))),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 1000),
    windows,
    horizons,
)
def test_cancellations_after_the_as_of_date_are_censored(rows, a_day, w, h):
    signup = S0 + np.array([r[0] for r in rows], float) * DAY
    cancel = np.array([np.nan if r[1] is None else r[1] for r in rows], float)
    cancel_sec = signup + cancel * DAY
    a_end = S0 + a_day * DAY
    keep = signup <= a_end
    if not keep.any():
        return
    signup, cancel_sec = signup[keep], cancel_sec[keep]
    frame = pd.DataFrame({"signup_sec": signup, "cancel_sec": cancel_sec})
    frame["a_days"] = np.floor((a_end - signup) / DAY)
    d, e, _ = churn_from_cancellation(frame, a_end)
    known = ~np.isnan(cancel_sec) & (cancel_sec < a_end)
    assert np.all(e[~known] == 0) and np.all(e[known] == 1)  # a later cancellation is unknown
    assert np.all(d >= 0) and np.all(d <= frame["a_days"].to_numpy())
    check_outcomes(frame, d, e, w, h, revenue=np.ones(len(frame)))


@SETTINGS
@given(
    st.lists(st.tuples(st.floats(0, 5000, allow_nan=False), st.booleans()), min_size=1,
             max_size=50),
    windows,
    horizons,
)  # fmt: skip
def test_duration_and_flag_outcomes_keep_their_promises(rows, w, h):
    frame = pd.DataFrame({"duration_days": [r[0] for r in rows],
                          "churn_flag": [float(r[1]) for r in rows]})  # fmt: skip
    d, e, _ = churn_from_duration(frame)
    oc = check_outcomes(frame, d, e, w, h)
    if oc is not None:
        churned = frame["churn_flag"].to_numpy()[oc.retention_mask] == 1
        np.testing.assert_array_equal(oc.event == 1, churned)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 600), st.one_of(st.none(), st.integers(0, 600))),
             min_size=1, max_size=40),
    gaps,
    windows,
)  # fmt: skip
def test_last_active_churn_is_never_before_signup_nor_after_the_gap(rows, gap, w):
    a_days = np.array([r[0] for r in rows], float)
    last = np.array([np.nan if r[1] is None else min(r[1], r[0]) for r in rows], float)
    frame = pd.DataFrame({"signup_sec": np.full(len(rows), S0), "a_days": a_days,
                          "last_active_sec": S0 + last * DAY})  # fmt: skip
    d, e, _ = churn_from_last_active(frame, gap)
    churned = e == 1
    assert np.all(d[churned] >= 0)
    assert np.all(a_days[churned] - d[churned] >= gap)  # silent for at least g days
    assert np.all(d[~churned] == a_days[~churned] - gap)  # censored at A − g
    check_outcomes(frame, d, e, w, 90)
