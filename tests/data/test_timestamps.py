"""Event-log timestamps as spreadsheets export them ('13/04/2025 14:30', '04/13/2025 2:30 PM',
'Apr 13, 2025 14:30') are read in one format for the whole column, with a note; the
ranking equals the ISO log's. Values in two day/month orders, or in no known format, still
stop the analysis with examples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.data.timestamps import month_name_formats, numeric_formats
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = AnalysisSettings(n_bootstrap=0, revenue_event="payment")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    e = pd.read_parquet(ROOT / "sample_data" / "events.parquet")
    return e[e["user_id"].isin(sorted(e["user_id"].unique())[:400])].reset_index(drop=True)


def _ranked(log, tmp_path, fmt, name):
    e = log.copy()
    e["timestamp"] = e["timestamp"].dt.strftime(fmt)
    path = tmp_path / f"{name}.csv"
    e.to_csv(path, index=False)
    loaded = load_inputs(events=str(path))
    return loaded, analyse(loaded, SETTINGS).ranking


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M"),
        ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M %p"),
        ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M"),
        ("%b %d, %Y %H:%M", "%b %d, %Y %H:%M"),
    ],
)
def test_spreadsheet_timestamps_rank_like_iso(log, tmp_path, fmt, words):
    _, iso = _ranked(log, tmp_path, "%Y-%m-%d %H:%M", "iso")
    loaded, got = _ranked(log, tmp_path, fmt, "sheet")
    assert any(f"were read with the format {words}" in w for w in loaded.warnings)
    assert [r.key for r in got.candidates] == [r.key for r in iso.candidates]
    for a, b in zip(got.candidates, iso.candidates, strict=True):
        assert a.c_index == b.c_index and a.hazard_ratio == b.hazard_ratio


def test_two_day_month_orders_in_one_log_still_stop_with_examples(log, tmp_path):
    e = log.copy()
    dmy = e["timestamp"].dt.strftime("%d/%m/%Y %H:%M")
    mdy = e["timestamp"].dt.strftime("%m/%d/%Y %H:%M")
    e["timestamp"] = dmy.where(e.index % 2 == 0, mdy)
    path = tmp_path / "mixed.csv"
    e.to_csv(path, index=False)
    with pytest.raises(InputError, match="values that are not dates"):
        load_inputs(events=str(path))


def test_an_order_no_date_tells_is_read_month_first_and_said(log, tmp_path):
    e = log[log["timestamp"].dt.day <= 12].copy()
    e["timestamp"] = e["timestamp"].dt.strftime("%d/%m/%Y %H:%M")
    path = tmp_path / "early.csv"
    e.to_csv(path, index=False)
    loaded = load_inputs(events=str(path))
    assert any("read as month/day" in w for w in loaded.warnings)


def test_text_that_is_no_known_format_still_stops(log, tmp_path):
    e = log.copy()
    e["timestamp"] = "sometime " + e["timestamp"].dt.strftime("%Y%m%d")
    path = tmp_path / "odd.csv"
    e.to_csv(path, index=False)
    with pytest.raises(InputError, match="values that are not dates"):
        load_inputs(events=str(path))


def test_the_formats_tried_include_both_orders_and_month_names():
    assert "%d/%m/%Y %H:%M" in numeric_formats(day_first=True)
    assert "%m/%d/%Y %I:%M:%S %p" in numeric_formats(day_first=False)
    assert "%b %d, %Y %H:%M" in month_name_formats()
