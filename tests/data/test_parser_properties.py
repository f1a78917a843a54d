"""Property tests for the parsers at the data edge: random valid inputs never crash, and what they
return keeps its promises (ids as stable text, times in epoch seconds, flags as 0/1)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from northstar_lab.data.columns import USER_NAMES, normalise, recognise
from northstar_lab.data.flags import FALSE_WORDS, TRUE_WORDS, as_flag, most_flag_words
from northstar_lab.data.proposals import recognise_user_columns
from northstar_lab.data.users import parse_times, prepare_users, user_ids_as_text
from northstar_lab.errors import InputError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
datetimes = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1))


@SETTINGS
@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=40))
def test_integer_ids_become_the_same_text_as_float_and_string_ids(ids):
    as_int = user_ids_as_text(pd.Series(ids))
    as_float = user_ids_as_text(pd.Series(ids, dtype=float))
    as_text = user_ids_as_text(pd.Series([str(i) for i in ids]))
    assert list(as_int) == [str(i) for i in ids]
    if all(abs(i) < 2**53 for i in ids):  # floats hold these exactly
        assert list(as_float) == list(as_int)
    assert list(as_text) == list(as_int)


@SETTINGS
@given(st.lists(datetimes, min_size=1, max_size=30), st.sampled_from(["iso", "space", "date"]))
def test_parsed_times_are_utc_epoch_seconds(times, style):
    fmt = {"iso": "%Y-%m-%dT%H:%M:%S", "space": "%Y-%m-%d %H:%M:%S", "date": "%Y-%m-%d"}[style]
    text = pd.Series([t.strftime(fmt) for t in times])
    secs, bad = parse_times(text)
    assert not bad.any()
    want = [
        dt.datetime.strptime(t.strftime(fmt), fmt).replace(tzinfo=dt.timezone.utc).timestamp()
        for t in times
    ]
    np.testing.assert_allclose(secs.to_numpy(float), want)


@SETTINGS
@given(st.lists(st.one_of(datetimes.map(str), st.text(max_size=12), st.none()), max_size=30))
def test_parse_times_never_raises_and_flags_only_present_values(values):
    s = pd.Series(values, dtype=object)
    secs, bad = parse_times(s)
    assert len(secs) == len(bad) == len(s)
    present = s.notna() & (s.astype(str).str.strip() != "")
    assert not (bad & ~present).any()  # an empty cell is missing, never "not a date"
    assert secs[bad].isna().all()


@SETTINGS
@given(st.lists(st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS - {""})), min_size=1))
def test_flag_words_become_zero_or_one(words):
    s = pd.Series(words)
    flags = as_flag(s)
    words_read = s.str.strip().str.lower()
    if words_read.nunique() > most_flag_words(words_read):
        assert flags is None  # too many distinct words to be one flag column
        return
    assert flags is not None
    assert set(flags.unique()) <= {0.0, 1.0}
    assert list(flags) == [float(w in TRUE_WORDS) for w in words]


@SETTINGS
@given(st.text(max_size=30))
def test_normalised_names_are_snake_case(name):
    out = normalise(name)
    assert out == out.strip("_")
    assert all(c.isascii() and (c.isalnum() or c == "_") for c in out)
    assert normalise(out) == out  # idempotent


@SETTINGS
@given(st.permutations(["user_id", "signup_at", "cancelled_at", "plan", "tenure_days", "notes"]))
def test_recognition_uses_each_column_once_whatever_the_order(columns):
    found = recognise(list(columns), USER_NAMES)
    used = [c for c in found.values() if c]
    assert len(used) == len(set(used))
    assert found["user"] == "user_id" and found["signup"] == "signup_at"


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), datetimes, st.one_of(st.none(), datetimes)),
        min_size=1,
        max_size=25,
        unique_by=lambda r: r[0],
    )
)
def test_prepared_users_table_is_valid_or_a_clear_error(rows):
    df = pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "signup_at": [r[1].isoformat() for r in rows],
            "cancelled_at": [r[2].isoformat() if r[2] else None for r in rows],
        }
    )
    cols = recognise_user_columns(df)
    try:
        table = prepare_users(df, cols, "users.csv")
    except InputError as exc:  # cancellations before signups: said, with the rows
        assert "users.csv" in str(exc) and "before" in str(exc)
        assert any(r[2] is not None and r[2] < r[1] for r in rows)
        return
    frame = table.frame
    assert frame["user_id"].is_unique and len(frame) == len(rows)
    assert (
        frame["cancel_sec"].dropna() >= frame.loc[frame["cancel_sec"].notna(), "signup_sec"]
    ).all()
