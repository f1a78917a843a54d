"""Settings validation (scikit-learn style: name the bad value and the valid ones, collect all)."""

from __future__ import annotations

import datetime as dt

import pytest

from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings


def test_every_problem_is_collected_into_one_error():
    with pytest.raises(InputError) as info:
        AnalysisSettings(window_days=-1, inactivity_days=0, horizon_days=0, n_bootstrap=-5,
                         threshold_split="odd", max_users=10, score_weights=(-1.0, 1.0),
                         revenue_event="pay", revenue_col="rev")  # fmt: skip
    problems = info.value.problems
    assert len(problems) == 8, problems
    text = str(info.value)
    for fragment in ("window_days must be ≥ 0 (≥ 1 for an event log), got -1",
                     "inactivity_days must be ≥ 1, got 0", "horizon_days must be ≥ 1, got 0",
                     "n_bootstrap must be ≥ 0, got -5", "'random' or 'cohort', got 'odd'",
                     "max_users must be ≥ 1000, got 10", "score_weights must be two non-negative",
                     "either revenue_event or revenue_col"):  # fmt: skip
        assert fragment in text, fragment


def test_window_zero_is_a_users_table_setting():
    s = AnalysisSettings(window_days=0)
    s.check_for_data(has_event_log=False)
    with pytest.raises(InputError, match="≥ 1 for an event log"):
        s.check_for_data(has_event_log=True)
    AnalysisSettings(window_days=1).check_for_data(has_event_log=True)


def test_round_trip_and_unknown_keys_ignored():
    s = AnalysisSettings(
        as_of=dt.date(2026, 3, 31),
        candidates=("a", "b"),
        fixed_thresholds=(("count:x", 3.0),),
        include_revenue_event=True,
    )
    d = s.to_dict()
    assert AnalysisSettings.from_dict(d) == s
    assert AnalysisSettings.from_dict({**d, "from_the_future": 1}) == s
    old = {k: v for k, v in d.items() if k != "include_revenue_event"}  # an older record
    assert AnalysisSettings.from_dict(old).include_revenue_event is False
