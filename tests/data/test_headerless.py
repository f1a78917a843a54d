"""Files with no header line (the Last.fm 1K listening log, Steam's 200k behaviours): their first
line used to become the column names ('user_000001', '2009-04-14T03:00:33Z'), so the first
event was lost and the error listed those values as "columns present" without saying why
none was recognised. Now the first line is data, the columns are numbered as DuckDB numbers
them (column0, column1, …), and the message shows what each holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.headerless import frame_header_is_data
from northstar_lab.data.load import load_inputs, read_users_file
from northstar_lab.data.sources import peek_columns
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

LASTFM_MAPPING = {"user": "column0", "timestamp": "column1", "event": "column3"}


def _listening_log(n_users: int = 120, seed: int = 3) -> pd.DataFrame:
    """user_000001, an ISO time with Z, a MusicBrainz id, an artist, an empty column, a track."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2009-01-01")
    rows = []
    for u in range(1, n_users + 1):
        start = base + pd.Timedelta(days=int(rng.integers(0, 60)))
        for k in range(int(rng.integers(1, 30))):
            t = start + pd.Timedelta(hours=float(rng.exponential(40)) * k)
            artist = str(rng.choice(["The Beatles", "Deep Dish", "Radiohead"]))
            mbid = "f1b1cf71-bd35-4e99-8624-24a6e15f133a"
            rows.append((f"user_{u:06d}", t.strftime("%Y-%m-%dT%H:%M:%SZ"), mbid, artist, "",
                         "Hey Jude"))  # fmt: skip
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "mbid", "event", "tid", "track"])


def _write_headerless(df: pd.DataFrame, path) -> None:
    df.to_csv(path, sep="\t", header=False, index=False)


def test_a_headerless_log_is_refused_with_what_each_column_holds(tmp_path):
    path = tmp_path / "userid-timestamp-artid-artname-traid-traname.tsv"
    _write_headerless(_listening_log(), path)
    with pytest.raises(InputError) as err:
        load_inputs(str(path), None)
    msg = str(err.value)
    assert "no header line" in msg and "column0 ('user_000001')" in msg, msg
    assert "column3 ('" in msg and "column4 (empty)" in msg
    assert msg.count("no user column found") == 0  # one message, not one per role
    cli, app = err.value.for_cli(), err.value.for_app()
    assert "--user-col columnN --timestamp-col columnN --event-name-col columnN" in cli
    assert "column mapping" in app and "--" not in app


def test_a_headerless_log_mapped_by_number_keeps_its_first_line_and_ranks_as_with_a_header(
    tmp_path,
):
    df = _listening_log()
    _write_headerless(df, tmp_path / "plays.tsv")
    df.to_csv(tmp_path / "plays_with_header.tsv", sep="\t", index=False)
    got = load_inputs(str(tmp_path / "plays.tsv"), None, event_columns=LASTFM_MAPPING)
    want = load_inputs(str(tmp_path / "plays_with_header.tsv"), None)
    assert sum(got.event_counts.values()) == len(df)  # the first line is an event, not names
    assert got.event_counts == want.event_counts
    assert any("no header line" in w and "column1 (" in w for w in got.warnings)
    assert not any("no header line" in w for w in want.warnings)
    s = AnalysisSettings(n_bootstrap=0, inactivity_days=14, horizon_days=30)
    a, b = analyse(want, s).frame, analyse(got, s).frame
    pd.testing.assert_frame_equal(a, b)


def test_the_mapping_step_sees_the_numbered_columns(tmp_path):
    _write_headerless(_listening_log(), tmp_path / "plays.tsv")
    assert peek_columns(str(tmp_path / "plays.tsv")) == [f"column{i}" for i in range(6)]


def test_a_headerless_log_with_only_the_event_unmapped_asks_for_it_alone(tmp_path):
    _write_headerless(_listening_log(), tmp_path / "plays.tsv")
    with pytest.raises(InputError) as err:
        load_inputs(str(tmp_path / "plays.tsv"), None,
                    event_columns={"user": "column0", "timestamp": "column1"})  # fmt: skip
    assert "holds the event name (--event-name-col columnN)" in err.value.for_cli()


def test_a_log_with_a_header_of_text_columns_keeps_it(tmp_path):
    """Every column text (times included): the sniffer has no evidence, the header stays."""
    df = pd.DataFrame({"user_id": ["a", "b", "a"], "ts": ["x1", "x2", "x3"],
                       "event": ["open", "open", "buy"]})  # fmt: skip
    df.to_csv(tmp_path / "log.csv", index=False)
    assert peek_columns(str(tmp_path / "log.csv")) == ["user_id", "ts", "event"]


def _behaviours(n: int = 400, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = rng.integers(1, 60, n)
    return pd.DataFrame({
        "user_id": rng.permutation(np.arange(151603712, 151603712 + n)),
        "sessions": rng.poisson(5, n), "tenure_weeks": weeks,
        "churned": (rng.random(n) < 0.4).astype(int),
    })  # fmt: skip


def test_a_headerless_users_table_is_refused_then_read_whole_when_mapped(tmp_path):
    df = _behaviours()
    path = tmp_path / "users.csv"
    df.to_csv(path, header=False, index=False)
    with pytest.raises(InputError) as err:
        load_inputs(None, str(path))
    msg = err.value.for_cli()
    assert "no header line" in msg and f"column0 ('{df.user_id.iloc[0]}')" in msg, msg
    assert "(--user-col columnN)" in msg
    mapping = {"user": "column0", "duration": "column2", "duration_unit": "weeks",
               "churn": "column3"}  # fmt: skip
    got = load_inputs(None, str(path), user_columns=mapping)
    assert len(got.users.frame) == len(df)  # the first user is a user, not the names
    assert any("no header line" in w for w in got.warnings)
    frame, notes = read_users_file(path, "users.csv")  # what the app's mapping step offers
    assert list(frame.columns) == [f"column{i}" for i in range(4)] and notes


@pytest.mark.parametrize(
    ("header", "rows", "is_data"),
    [
        (["user_id", "tenure", "churn"], [["a", 3, 1], ["b", 4, 0]], False),
        (["151603712", "Spore", "1.0"], [[151603713, "Dota 2", 79.9]], True),
        (["u000001", "2025-01-01 02:13:16", "free"], [["u2", "2025-01-02 03:00:00", "team"]],
         True),
        (["user", "plan"], [["a", "free"], ["b", "team"]], False),  # text only: no evidence
        (["id", "2024"], [[1, 5], [2, 6]], False),  # a typed column named as no value
        (["user", "2024", "2025"], [["a", 1, 2]], True),  # years over counts read as values
    ],
)  # fmt: skip
def test_a_header_is_data_when_its_names_read_as_their_columns_values(header, rows, is_data):
    frame = pd.DataFrame(rows, columns=header)
    assert frame_header_is_data(frame) is is_data


def test_a_users_table_whose_user_column_is_found_keeps_its_header(tmp_path):
    """Spend per year in columns named 2024 and 2025 reads as a header of data by the types
    alone; the user_id beside them says it is a header."""
    rng = np.random.default_rng(2)
    n = 300
    df = pd.DataFrame({"user_id": [f"c{i}" for i in range(n)],
                       "2024": rng.poisson(3, n), "2025": rng.poisson(3, n),
                       "tenure_days": rng.integers(30, 700, n),
                       "churned": (rng.random(n) < 0.3).astype(int)})  # fmt: skip
    df.to_csv(tmp_path / "wide.csv", index=False)
    got = load_inputs(None, str(tmp_path / "wide.csv"))
    assert got.users.columns.user == "user_id"
    assert len(got.users.frame) == n
    assert not any("no header line" in w for w in got.warnings)
