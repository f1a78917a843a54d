"""A log rolled up per user, day and event ('user, date, event, count'; a warehouse's daily
activity table) was read as one event per row: 40 opens on a day counted once. With the count
column named as the events per row, the roll-up must rank exactly as the log it summarises."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.cli import main
from northstar_lab.data import rollup
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

SETTINGS = AnalysisSettings(n_bootstrap=0, inactivity_days=14, horizon_days=30)


def _raw_log(n_users: int = 400, seed: int = 21) -> pd.DataFrame:
    """Events at day precision (a roll-up keeps no time within the day). Users who open the
    app more times a day stay longer: the count, not the days, carries the signal."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        start = pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(rng.integers(0, 40)))
        rate = rng.gamma(2.0, 1.5)
        life = int(rng.exponential(15 + 12 * rate)) + 1
        for d in range(min(life, 120)):
            if rng.random() < 0.5:
                continue
            day = start + pd.Timedelta(days=d)
            for _ in range(int(rng.poisson(rate)) + 1):
                rows.append((f"u{u:04d}", day, "open", np.nan))
            if rng.random() < 0.1:
                rows.append((f"u{u:04d}", day, "payment", float(rng.choice([9.0, 19.0]))))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "value"])


def _rolled(log: pd.DataFrame) -> pd.DataFrame:
    return log.groupby(["user_id", "timestamp", "event"], as_index=False).agg(
        events=("event", "size"), value=("value", lambda v: v.sum(min_count=1))
    )


def test_a_rollup_ranks_exactly_as_the_log_it_summarises(tmp_path):
    log = _raw_log()
    log.to_parquet(tmp_path / "log.parquet")
    rolled = _rolled(log)
    rolled.to_csv(tmp_path / "daily.csv", index=False)
    want = load_inputs(str(tmp_path / "log.parquet"))
    got = load_inputs(str(tmp_path / "daily.csv"), event_columns={"count": "events"})
    assert len(rolled) < len(log)
    assert got.event_counts == want.event_counts
    assert f"{len(rolled):,} rows are {len(log):,} events" in " ".join(got.warnings)
    a, b = analyse(want, SETTINGS), analyse(got, SETTINGS)
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=False, rtol=1e-12)
    keys = [c.key for c in a.ranking.candidates]
    assert keys == [c.key for c in b.ranking.candidates]
    assert np.allclose([c.score for c in a.ranking.candidates],
                       [c.score for c in b.ranking.candidates], rtol=1e-9)  # fmt: skip


def test_without_the_count_a_rollup_counts_rows_and_the_warning_says_what_to_do(tmp_path):
    rolled = _rolled(_raw_log(150))
    rolled = rolled.rename(columns={"events": "count"})
    rolled.to_csv(tmp_path / "daily.csv", index=False)
    plain = load_inputs(str(tmp_path / "daily.csv"))
    assert sum(plain.event_counts.values()) == len(rolled)
    assert any("choose it as the events per row in the column mapping" in w
               for w in plain.warnings)  # fmt: skip
    counted = load_inputs(str(tmp_path / "daily.csv"), event_columns={"count": "count"})
    assert sum(counted.event_counts.values()) == rolled["count"].sum()
    assert not any("looks like a number of events per row" in w for w in counted.warnings)


def test_a_row_of_zero_events_is_no_activity(tmp_path):
    """A daily table writes a row per user and day, zeros included: a zero is not an active day."""
    df = pd.DataFrame({"user_id": ["a", "a", "a", "b"],
                       "date": ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01"],
                       "event": ["open"] * 4, "n": [2, 0, 1, 3]})  # fmt: skip
    df.to_csv(tmp_path / "d.csv", index=False)
    got = load_inputs(str(tmp_path / "d.csv"), event_columns={"count": "n"})
    assert got.event_counts == {"open": 6}
    assert got.check.max_ts.normalize() == pd.Timestamp("2025-01-03")


@pytest.mark.parametrize(
    ("values", "shown"),
    [([2, -1, 3], "-1"), ([2.0, 1.5, 3.0], "1.5"), ([2.0, None, 3.0], "empty")],
)
def test_counts_that_are_no_number_of_events_are_refused_with_examples(tmp_path, values, shown):
    df = pd.DataFrame({"user_id": ["a", "b", "c"], "date": ["2025-01-01"] * 3,
                       "event": ["open"] * 3, "n": values})  # fmt: skip
    df.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputError) as err:
        load_inputs(str(tmp_path / "d.csv"), event_columns={"count": "n"})
    msg = str(err.value)
    assert "column 'n' was given as the events per row, but 1 rows hold no whole number" in msg
    assert f"e.g. {shown}" in msg


def test_a_count_of_seconds_mapped_by_mistake_is_refused_before_it_is_expanded(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(rollup, "MAX_EVENTS", 1000)
    df = pd.DataFrame({"user_id": ["a", "b"], "date": ["2025-01-01"] * 2,
                       "event": ["listen"] * 2, "total_secs": [3600, 7200]})  # fmt: skip
    df.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(InputError, match="adds up to 10,800 events"):
        load_inputs(str(tmp_path / "d.csv"), event_columns={"count": "total_secs"})


def test_the_command_line_takes_the_count_column(tmp_path, capsys):
    _rolled(_raw_log(200)).to_csv(tmp_path / "daily.csv", index=False)
    out = tmp_path / "r.json"
    code = main(["rank", "--events", str(tmp_path / "daily.csv"), "--count-col", "events",
                 "--bootstrap", "0", "--quiet", "--json", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    result = json.loads(out.read_text())
    assert any("rows are" in w for w in result["warnings"])


def test_a_rollup_outside_duckdb_is_refused_with_what_to_do():
    import ibis

    table = ibis.memtable({"n": [1, 2]})
    with pytest.raises(InputError, match="is read by DuckDB"):
        rollup.check_counts(table, "n", "events", engine="pyspark")


def test_a_decision_on_a_rollup_is_revalidated_with_its_count_column(tmp_path):
    """Re-validation reads newer data with the recorded mapping: the count must come back,
    or the same data would re-rank as one event per row and 'cry wolf'."""
    _rolled(_raw_log(150)).to_csv(tmp_path / "daily.csv", index=False)
    first = load_inputs(str(tmp_path / "daily.csv"), event_columns={"count": "events"})
    assert first.fingerprint["events"]["columns"]["count"] == "events"
    again = load_inputs(str(tmp_path / "daily.csv"), recorded_columns=first.fingerprint)
    assert again.event_counts == first.event_counts
