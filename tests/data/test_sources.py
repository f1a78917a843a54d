"""One implementation, many engines: DuckDB files/globs/databases and a real local Spark."""

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from northstar_lab import cli
from northstar_lab.analysis import analyse
from northstar_lab.data import sources as engines
from northstar_lab.data.aggregate import sample_predicate
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "sample_data" / "events.parquet"
USERS = ROOT / "sample_data" / "users.csv"
SETTINGS = AnalysisSettings(n_bootstrap=20)


def comparable(ranking) -> dict:
    """Ranking JSON without what legitimately differs between engines (timings, source)."""
    d = ranking.to_dict()
    d.pop("timings")
    d["data"].pop("fingerprint")
    return d


@pytest.fixture(scope="module")
def duck_analysis():
    return analyse(load_inputs(str(EVENTS), str(USERS)), SETTINGS)


def test_parse_source_kinds(tmp_path):
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    assert engines.parse_source(str(EVENTS)).kind == "file"
    assert engines.parse_source(f"duckdb:///{db}").kind == "duckdb"
    assert engines.parse_source("spark://local[2]") == engines.Source("spark", "local[2]")
    assert engines.parse_source("spark://host:7077").location == "spark://host:7077"
    assert engines.parse_source("sc://host:15002").kind == "spark"
    assert "Spark" in engines.parse_source("sc://user:secret@host:15002").describe()
    assert "secret" not in engines.parse_source("sc://user:secret@host:15002").describe()
    with pytest.raises(InputError, match="Unknown source scheme 'foo://'"):
        engines.parse_source("foo://bar")
    with pytest.raises(InputError, match="file not found"):
        engines.parse_source(str(tmp_path / "missing.parquet"))
    with pytest.raises(InputError, match="DuckDB database file not found"):
        engines.parse_source(f"duckdb:///{tmp_path / 'nope.duckdb'}")


def test_parquet_glob_equals_single_file(tmp_path, duck_analysis):
    events = pd.read_parquet(EVENTS)
    folder = tmp_path / "events"
    folder.mkdir()
    for i, part in enumerate(events.iloc[i::3] for i in range(3)):
        part.to_parquet(folder / f"part-{i}.parquet", index=False, coerce_timestamps="us")
    got = analyse(load_inputs(str(folder / "*.parquet"), str(USERS)), SETTINGS)
    assert comparable(got.ranking) == comparable(duck_analysis.ranking)


def test_duckdb_database_tables_equal_files(tmp_path, duck_analysis):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE events AS SELECT * FROM read_parquet('{EVENTS}')")
    con.close()
    users = pd.read_csv(USERS)
    got = analyse(load_inputs(f"duckdb:///{db}", users, events_table="events"), SETTINGS)
    assert comparable(got.ranking) == comparable(duck_analysis.ranking)
    assert got.ranking.data.fingerprint["events"]["engine"] == "duckdb"
    assert str(tmp_path) not in json.dumps(got.ranking.data.fingerprint)


def test_bad_sources_exit_2_with_clear_messages(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE events AS SELECT 1 AS user_id, 'x' AS event")
    con.close()
    cases = [
        (["--source", "foo://x", "--events-table", "t"], "Unknown source scheme"),
        (["--source", f"duckdb:///{db}", "--events-table", "nope"], "table 'nope' not found"),
        (["--source", f"duckdb:///{db}", "--events-table", "events"], "no timestamp column"),
    ]
    for args, message in cases:
        code = cli.main(["rank", *args, "--bootstrap", "0", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2, args
        assert message in err
        assert "Traceback" not in err


def test_hash_sample_is_deterministic_and_reported():
    ids = pd.DataFrame({"user_id": [f"u{i:06d}" for i in range(20_000)]})
    import ibis

    t = ibis.memtable(ids)
    kept = t.filter(sample_predicate(t.user_id, 0.25)).to_pandas()["user_id"]
    again = t.filter(sample_predicate(t.user_id, 0.25)).to_pandas()["user_id"]
    assert sorted(kept) == sorted(again)
    assert 0.23 < len(kept) / len(ids) < 0.27
    import hashlib

    expected = {u for u in ids["user_id"] if hashlib.md5(u.encode()).hexdigest()[:8] < "40000000"}
    assert set(kept) == expected  # the rule is md5's first 8 hex digits: portable anywhere


def test_max_users_sample_reports_fraction_and_population(duck_analysis):
    small = AnalysisSettings(n_bootstrap=0, max_users=4000)
    got = analyse(load_inputs(str(EVENTS), str(USERS)), small)
    assert got.ranking.data.sample_fraction == pytest.approx(0.5)
    assert any("sample" in w for w in got.ranking.warnings)
    pop = got.ranking.data.population
    assert pop.n_users == duck_analysis.ranking.n_users
    assert pop.n_churned == duck_analysis.ranking.n_churned


# ------------------------------------------------------------------------------------------
# Apache Spark (local[2]); one session per test run, reused through engines.connect's cache.
# ------------------------------------------------------------------------------------------

SPARK = "spark://local[2]"


@pytest.fixture(scope="module")
def spark_analysis():
    pytest.importorskip("pyspark", reason="pip install -r requirements-spark.txt")
    return analyse(load_inputs(SPARK, str(USERS), events_table=str(EVENTS)), SETTINGS)


@pytest.mark.spark
def test_spark_per_user_figures_identical_to_duckdb(spark_analysis, duck_analysis):
    a = duck_analysis.frame.sort_values("user_id").reset_index(drop=True)
    b = spark_analysis.frame.sort_values("user_id").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.spark
def test_spark_ranking_identical_to_duckdb(spark_analysis, duck_analysis):
    assert comparable(spark_analysis.ranking) == comparable(duck_analysis.ranking)
    assert spark_analysis.ranking.data.fingerprint["events"]["engine"] == "spark"


@pytest.mark.spark
def test_spark_and_duckdb_sample_the_same_users(spark_analysis):
    small = AnalysisSettings(n_bootstrap=0, max_users=4000)
    on_spark = analyse(load_inputs(SPARK, str(USERS), events_table=str(EVENTS)), small)
    on_duck = analyse(load_inputs(str(EVENTS), str(USERS)), small)
    assert on_spark.ranking.data.sample_fraction == on_duck.ranking.data.sample_fraction
    assert list(on_spark.frame["user_id"]) == list(on_duck.frame["user_id"])
    assert on_spark.ranking.data.population == on_duck.ranking.data.population


@pytest.mark.spark
def test_spark_missing_table_and_column_are_clear(spark_analysis, capsys, tmp_path):
    code = cli.main(["rank", "--source", SPARK, "--events-table", "no_such_table", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "table 'no_such_table' not found" in err and "Traceback" not in err
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"user_id": ["a"], "event": ["x"]}).to_parquet(bad)
    code = cli.main(["rank", "--source", SPARK, "--events-table", str(bad), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "no timestamp column" in err


def test_spark_without_java_is_one_clear_message(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(engines.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="Spark needs a Java 17 runtime"):
        engines.spark_session("local[1]")
