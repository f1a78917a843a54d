"""Times written as numbers, in the event log and the users table: one rule
(`calendar.time_reading`) for spreadsheet serial dates (45658.25, what a date cell becomes when
a sheet is saved without its format), yyyymmdd dates and Unix times in any unit; numbers that
are none of these are refused by name instead of read as 1 January 1970.

Before: an event log with serial dates was read as Unix seconds (every event on 1970-01-01),
and the run ended in "No user can enter the retention analysis"; a yyyymmdd event log was read
as seconds of 1970 too; a users table with serial signup dates was refused as "not dates".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data import calendar
from northstar_lab.data.load import load_inputs
from northstar_lab.data.users import numeric_times
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

SETTINGS = AnalysisSettings(n_bootstrap=0, revenue_event="payment")
SERIAL_EPOCH = pd.Timestamp("1899-12-30")


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> pd.DataFrame:
    """600 users of the bundled sample, timestamps to the whole second."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    ev = pd.read_parquet(root / "sample_data" / "events.parquet")
    users = ev["user_id"].drop_duplicates().head(600)
    return ev[ev["user_id"].isin(users)].reset_index(drop=True)


def _serial(ts: pd.Series) -> pd.Series:
    return (ts - SERIAL_EPOCH) / pd.Timedelta(days=1)


def _ranked(path):
    a = analyse(load_inputs(str(path)), SETTINGS)
    return a, [r.key for r in a.ranking.candidates]


def test_serial_dates_in_an_event_log_rank_as_the_timestamps_they_are(log, tmp_path):
    log.to_csv(tmp_path / "plain.csv", index=False)
    serial = log.assign(timestamp=_serial(log["timestamp"]))
    serial.to_csv(tmp_path / "serial.csv", index=False)
    serial.to_parquet(tmp_path / "serial.parquet", index=False)
    plain, keys = _ranked(tmp_path / "plain.csv")
    for name in ("serial.csv", "serial.parquet"):
        got, got_keys = _ranked(tmp_path / name)
        assert got_keys == keys
        np.testing.assert_array_equal(
            got.frame["signup_sec"].to_numpy(), plain.frame["signup_sec"].to_numpy()
        )
        assert got.ranking.candidates[0].score == pytest.approx(
            plain.ranking.candidates[0].score, rel=1e-12
        )
        note = [w for w in got.ranking.warnings if "spreadsheet serial dates" in w]
        assert note and "read as 2025-01-01 to" in note[0] and "'timestamp'" in note[0]


def test_yyyymmdd_event_log_reads_dates_and_its_repeats_are_not_called_double_sent(log, tmp_path):
    ymd = log.assign(timestamp=log["timestamp"].dt.strftime("%Y%m%d").astype(int))
    ymd.to_csv(tmp_path / "ymd.csv", index=False)
    loaded = load_inputs(str(tmp_path / "ymd.csv"))
    assert loaded.check.dates_only
    assert loaded.check.min_ts == log["timestamp"].min().normalize()
    a = analyse(loaded, SETTINGS)
    warnings = a.ranking.warnings
    assert any("dates written as yyyymmdd" in w for w in warnings)
    repeat = [w for w in warnings if "repeat another row" in w]
    assert repeat and "dates without a time of day" in repeat[0]
    assert not any("double-sent events, set the analysis" in w for w in warnings)


def test_a_day_the_month_lacks_is_no_date_not_a_crash(log, tmp_path):
    ymd = log.assign(timestamp=log["timestamp"].dt.strftime("%Y%m%d").astype(int))
    ymd.loc[:4, "timestamp"] = 20250230
    ymd.to_csv(tmp_path / "ymd.csv", index=False)
    loaded = load_inputs(str(tmp_path / "ymd.csv"))
    assert loaded.check.dropped_missing == 5  # counted with the rows that lack a time


def test_a_timed_log_is_not_dates_only(log, tmp_path):
    log.to_csv(tmp_path / "plain.csv", index=False)
    assert not load_inputs(str(tmp_path / "plain.csv")).check.dates_only


@pytest.mark.parametrize("numbers", [np.arange(1000), np.linspace(0, 9e7, 1000)])
def test_numbers_that_are_no_times_are_refused_by_name(log, tmp_path, numbers):
    small = log.head(1000).assign(timestamp=numbers)
    small.to_csv(tmp_path / "small.csv", index=False)
    with pytest.raises(InputError) as err:
        load_inputs(str(tmp_path / "small.csv"))
    text = str(err.value)
    assert "small.csv: column 'timestamp' holds numbers from 0 to" in text
    assert "not times" in text and "1970" in text


def test_unix_milliseconds_still_read_with_their_note(log, tmp_path):
    ms = log.assign(timestamp=(log["timestamp"] - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1))
    ms.to_csv(tmp_path / "ms.csv", index=False)
    loaded = load_inputs(str(tmp_path / "ms.csv"))
    assert loaded.check.min_ts == log["timestamp"].min()
    assert any("Unix times in milliseconds" in w for w in loaded.warnings)


@pytest.mark.parametrize("whole", [False, True])
def test_serial_signup_dates_in_a_users_table(whole):
    stamps = pd.Series(
        pd.to_datetime(["2025-01-01 02:13:16", "2025-06-30 23:59:59", "2024-02-29 00:00:00"])
    )
    serial = _serial(stamps)
    if whole:
        serial = serial.round()
        stamps = stamps.dt.round("D")
    secs, bad, how = numeric_times(serial)
    assert how == "serial" and not bad.any()
    np.testing.assert_array_equal(secs.to_numpy(), (stamps - pd.Timestamp(0)).dt.total_seconds())


def test_the_reading_rule_keeps_the_ranges_apart():
    assert calendar.time_reading(45658.0, 46000.5, False) == "serial"
    assert calendar.time_reading(20250101, 20251231, True) == "yyyymmdd"
    assert calendar.time_reading(1.7e9, 1.8e9, False) == "s"
    assert calendar.time_reading(1.7e12, 1.8e12, False) == "ms"
    assert calendar.time_reading(1000, 45658, False) == "s"  # below 1970's serial: not dates
