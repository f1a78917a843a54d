"""Zero-padded user ids ('000123'), as CRM and billing exports write customer numbers: the users
table keeps them as written (`users.ids_as_written`), as DuckDB keeps them in an event log.

Before: pandas read the users table's ids as the numbers 123, DuckDB read the event log's as
the text '000123', and two plain CSVs of the same users stopped with "No user of the event log
is in the users table".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.data.users import ids_as_written, read_table
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def padded(tmp_path_factory) -> Path:
    """300 users of the sample with ids '000001'…, as an event log (CSV, Parquet with text ids,
    Parquet with integer ids) and a users table (CSV)."""
    out = tmp_path_factory.mktemp("padded")
    ev = pd.read_parquet(ROOT / "sample_data" / "events.parquet")
    users = pd.read_csv(ROOT / "sample_data" / "users.csv")
    keep = users["user_id"].head(300)
    ev = ev[ev["user_id"].isin(keep)].assign(user_id=lambda d: d["user_id"].str[1:])
    users = users[users["user_id"].isin(keep)].assign(user_id=lambda d: d["user_id"].str[1:])
    ev.to_csv(out / "events.csv", index=False)
    ev.to_parquet(out / "events_text.parquet", index=False)
    ev.assign(user_id=ev["user_id"].astype(int)).to_parquet(out / "events_int.parquet", index=False)
    users.to_csv(out / "users.csv", index=False)
    return out


@pytest.mark.parametrize("events", ["events.csv", "events_text.parquet", "events_int.parquet"])
def test_padded_ids_match_across_files(padded, events):
    loaded = load_inputs(str(padded / events), str(padded / "users.csv"))
    a = analyse(loaded, AnalysisSettings(n_bootstrap=0))
    assert a.ranking.n_users > 0
    assert len(a.frame) == 300  # every user of the table, each with its events
    assert (a.frame["total_events"] > 0).all()


def test_the_users_table_alone_keeps_its_ids_as_written(padded):
    loaded = load_inputs(users=str(padded / "users.csv"))
    assert loaded.users.frame["user_id"].iloc[0] == "000001"


def test_ids_without_padding_keep_the_numbers_read(tmp_path):
    frame = pd.DataFrame({"id": [7, 42, 1000], "x": [1.5, 2.5, 3.5]})
    frame.to_csv(tmp_path / "u.csv", index=False)
    df = read_table(tmp_path / "u.csv")
    assert ids_as_written(df, tmp_path / "u.csv", "id") is df  # nothing lost: unchanged


def test_padded_ids_in_a_semicolon_file_with_gaps_elsewhere(tmp_path):
    (tmp_path / "u.csv").write_text("x;id\n1,5;007\n;042\n3;100\n")
    df = read_table(tmp_path / "u.csv")
    assert df["id"].tolist() == [7, 42, 100]  # what pandas made of them
    out = ids_as_written(df, tmp_path / "u.csv", "id")
    assert out["id"].tolist() == ["007", "042", "100"]
    pd.testing.assert_series_equal(out["x"], df["x"])  # other columns keep what pandas read
