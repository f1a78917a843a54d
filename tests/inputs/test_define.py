"""Input keys (inputs/define.py): parsing, the North Star as a measure, the default candidates."""

from __future__ import annotations

import numpy as np
import pytest

from northstar_lab.errors import InputError
from northstar_lab.inputs.define import (
    InputSpec,
    candidate_inputs,
    north_star_spec,
    parse_input,
    with_details,
)

EVENTS = ["lesson_started", "lesson_completed", "goal_set", "login"]


@pytest.mark.parametrize(
    "text, key, measure, kind",
    [
        ("goal_set", "count:goal_set", "count", "depth"),
        ("count:goal_set", "count:goal_set", "count", "depth"),
        ("days:login", "days:login", "days", "frequency"),
        ("reached:goal_set", "reached:goal_set", "reached", "breadth"),
        ("share:lesson_completed/lesson_started", "share:lesson_completed/lesson_started",
         "share", "efficiency"),
        ("baseline:active_days", "baseline:active_days", "active_days", "frequency"),
    ],
)  # fmt: skip
def test_keys_parse_to_measures_with_a_default_kind(text, key, measure, kind):
    spec = parse_input(text, 14, EVENTS)
    assert (spec.key, spec.measure, spec.kind) == (key, measure, kind)
    assert "first 14 days" in spec.name


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("count:nope", "'nope' is not in the event log"),
        ("share:goal_set", "two different events"),
        ("share:goal_set/goal_set", "two different events"),
        ("median:goal_set", "unknown measure"),
        ("baseline:lifetime", "unknown baseline"),
    ],
)
def test_bad_keys_say_what_to_write(text, words):
    with pytest.raises(InputError, match=words):
        parse_input(text, 14, EVENTS)


def test_the_north_star_from_a_candidate_key():
    assert north_star_spec("count:lesson_completed", 14, EVENTS).key == "count:lesson_completed"
    assert north_star_spec("atleast:count:lesson_completed", 14, EVENTS).measure == "count"
    assert north_star_spec("days:login", 14, EVENTS).measure == "days"
    assert north_star_spec("baseline:active_days", 14, EVENTS).measure == "active_days"
    with pytest.raises(InputError, match="users-table column"):
        north_star_spec("col:lessons_first_14d", 14, EVENTS)


def test_candidates_are_every_other_event_and_baseline():
    ns = north_star_spec("count:lesson_completed", 14, EVENTS)
    keys = [s.key for s in candidate_inputs(ns, EVENTS, 14)]
    assert "count:lesson_completed" not in keys and "days:lesson_completed" not in keys
    assert {"count:goal_set", "days:goal_set", "count:login", "baseline:active_days"} <= set(keys)
    assert len(keys) == 2 * 3 + 3
    active = north_star_spec("baseline:active_days", 14, EVENTS)
    assert "baseline:active_days" not in [s.key for s in candidate_inputs(active, EVENTS, 14)]


def test_details_are_checked_and_the_spec_round_trips():
    spec = with_details(parse_input("goal_set", 14, EVENTS), kind="frequency", owner="Growth",
                        target_low=0.8, target_high=1.0)  # fmt: skip
    assert InputSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(InputError, match="kind must be one of"):
        with_details(spec, kind="velocity")
    with pytest.raises(InputError, match="runs backwards"):
        with_details(spec, target_low=2, target_high=1)
    np.testing.assert_allclose(spec.modelled(np.array([0, 3])), np.log1p([0, 3]))
    share = parse_input("share:goal_set/login", 14, EVENTS)
    np.testing.assert_array_equal(share.modelled(np.array([0.5])), [0.5])
