"""Signup times in local time beside an event log in UTC: each user's first events then come
hours "before signup" and are dropped, cutting every window count short. The drop was counted
("2,493 events before the user's signup were dropped") but not explained; now the shift is
named with its offset (`coverage.signup_offset`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("offset")
    ev = pd.read_parquet(ROOT / "sample_data" / "events.parquet")
    users = pd.read_csv(ROOT / "sample_data" / "users.csv", parse_dates=["signup_at"])
    keep = users["user_id"].head(600)
    ev[ev["user_id"].isin(keep)].to_parquet(out / "events.parquet", index=False)
    return out, users[users["user_id"].isin(keep)].reset_index(drop=True)


def _warnings(files, shift: pd.Series | pd.Timedelta) -> list[str]:
    out, users = files
    shifted = users.assign(signup_at=users["signup_at"] + shift)
    shifted.to_csv(out / "users.csv", index=False)
    a = analyse(load_inputs(str(out / "events.parquet"), str(out / "users.csv")),
                AnalysisSettings(n_bootstrap=0))  # fmt: skip
    return a.ranking.warnings


@pytest.mark.parametrize(("hours", "words"), [(2, "UTC+2)"), (5.5, "UTC+5:30)")])
def test_signups_in_local_time_are_named_with_their_offset(files, hours, words):
    warnings = _warnings(files, pd.Timedelta(hours=hours))
    shifted = [w for w in warnings if "look like local time" in w]
    assert shifted and words in shifted[0]
    assert any("events before the user's signup were dropped" in w for w in warnings)


def test_signups_in_utc_say_nothing(files):
    assert not any("local time" in w for w in _warnings(files, pd.Timedelta(0)))


def test_browsing_days_before_signup_is_no_clock_shift(files):
    """Signups 1–20 days after the first visit (events before an account existed) are not a
    timezone: no one offset holds most of them."""
    rng = np.random.default_rng(5)
    days = pd.to_timedelta(rng.uniform(1, 20, len(files[1])), unit="D")
    assert not any("local time" in w for w in _warnings(files, pd.Series(days)))
