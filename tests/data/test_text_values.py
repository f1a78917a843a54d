"""An event log's value column written as text ('$1,049.00', '49,00'), read by the users
table's rule (`numbers.read_text_numbers`) in the engine (`textvalues.with_text_numbers`).

Before: each such value counted as missing, so revenue was zero for every user and the
revenue correlation of every candidate came out empty, with only a warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = AnalysisSettings(n_bootstrap=0, revenue_event="payment")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    ev = pd.read_parquet(ROOT / "sample_data" / "events.parquet")
    users = ev["user_id"].drop_duplicates().head(600)
    log = ev[ev["user_id"].isin(users)].reset_index(drop=True)
    paid = log["event"] == "payment"
    log.loc[paid[paid].index[::3], "value"] += 1000.25  # some amounts need a separator
    return log


def _revenue(path) -> tuple[np.ndarray, list[str]]:
    a = analyse(load_inputs(str(path)), SETTINGS)
    order = np.argsort(a.frame["user_id"].to_numpy())
    return a.frame["revenue_h"].to_numpy()[order], a.ranking.warnings


def _as_text(values: pd.Series, fmt) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else fmt(v))


@pytest.mark.parametrize(
    ("name", "fmt", "sep", "how"),
    [
        ("dollars", lambda v: f"${v:,.2f}", ",", "currency symbols and comma thousands"),
        ("euros", lambda v: f"{v:,.2f} €".replace(",", " ").replace(".", ","), ";",
         "currency symbols and spaces between thousands and decimal commas"),
        ("german", lambda v: f"{v:,.2f}".replace(",", "X").replace(".", ",").replace("X", "."),
         ";", "decimal commas"),
    ],
)  # fmt: skip
def test_money_text_gives_the_revenue_plain_numbers_give(log, tmp_path, name, fmt, sep, how):
    log.to_csv(tmp_path / "plain.csv", index=False)
    expected, _ = _revenue(tmp_path / "plain.csv")
    assert expected.sum() > 0
    text = log.assign(value=_as_text(log["value"], fmt))
    text.to_csv(tmp_path / f"{name}.csv", index=False, sep=sep)
    got, warnings = _revenue(tmp_path / f"{name}.csv")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    note = [w for w in warnings if "holds numbers written as text" in w]
    assert note and f"{name}.csv: column 'value'" in note[0] and how in note[0]
    assert not any("are not numbers" in w for w in warnings)


def test_values_in_no_one_style_keep_the_warning(log, tmp_path):
    mixed = log.assign(value=_as_text(log["value"], lambda v: f"${v:,.2f}"))
    mixed.loc[mixed["value"] != "", "value"] = mixed["value"].where(
        np.arange(len(mixed)) % 2 == 0, "n/a"
    )
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    got, warnings = _revenue(tmp_path / "mixed.csv")
    bad = [w for w in warnings if "are not numbers" in w]
    assert bad and "'n/a'" in bad[0] and "one style" in bad[0]


@pytest.mark.spark
def test_spark_reads_money_text_and_numeric_dates_as_duckdb_does(log, tmp_path):
    """The lookup of text numbers is a named view on Spark: a memtable's view was dropped once
    its Python object was collected, and the cached validation then failed with
    TABLE_OR_VIEW_NOT_FOUND. Serial and yyyymmdd dates use the engine's own functions."""
    pytest.importorskip("pyspark", reason="pip install -r requirements-spark.txt")
    hostile = log.assign(
        value=_as_text(log["value"], lambda v: f"${v:,.2f}"),
        timestamp=(log["timestamp"] - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1),
    )
    hostile.to_csv(tmp_path / "hostile.csv", index=False)
    ymd = log.assign(timestamp=log["timestamp"].dt.strftime("%Y%m%d").astype(int))
    ymd.to_csv(tmp_path / "ymd.csv", index=False)
    for name in ("hostile.csv", "ymd.csv"):
        path = str(tmp_path / name)
        duck = analyse(load_inputs(path), SETTINGS)
        spark = analyse(load_inputs("spark://local[2]", events_table=path), SETTINGS)
        a = duck.frame.sort_values("user_id").reset_index(drop=True)
        b = spark.frame.sort_values("user_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
        assert [c.key for c in duck.ranking.candidates] == [c.key for c in spark.ranking.candidates]
        assert a["revenue_h"].sum() > 0
