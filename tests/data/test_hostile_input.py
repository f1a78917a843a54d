"""Hostile and broken input at the data edge (issue 11): names with control characters are
cleaned where they are read, credentials never leave the process, a duckdb:// path that is not a
DuckDB database is exit 2, and a file that cannot be read says why.

Every fixture is written here. Names with control characters make vl-convert abort the process
(SIGABRT), so the chart test renders in a subprocess and asserts it survived.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from northstar_lab import cli
from northstar_lab.analysis import analyse
from northstar_lab.data import sources
from northstar_lab.data.load import load_inputs
from northstar_lab.data.names import clean_event_names, clean_name, clean_names
from northstar_lab.data.users import read_table
from northstar_lab.errors import InputError
from northstar_lab.redact import redact_secrets
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = AnalysisSettings(n_bootstrap=0)
#: What may never survive into a name: the characters that abort vl-convert, the rest of C0/C1
#: and DEL (terminal escapes start with them), and tab / line breaks (names are one line).
FORBIDDEN = {chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]} | {"\ufffe", "\uffff"}
HOSTILE_NAMES = {
    "lesson_completed": "lesson\x00completed",
    "login": "\x1b]8;;https://evil.example\x07login\x1b]8;;\x07",
    "lesson_started": "lesson\x0bstarted\x0c",
    "video_watched": "video\x01\x02\x03\x04\x05\x06\x07\x08watched",
    "course_browsed": "course\x0e\x0f\x10\x11\x12\x13\x14\x15browsed",
    "quiz_taken": "quiz\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1ftaken",
    "settings_changed": "settings\tchanged\r\n\x7f\x9b2J",
    "note_created": "[click me](https://evil.example/phish)",  # Markdown is text: unchanged
}
SECRET = "hunter2"


def strings_in(obj) -> list[str]:
    """Every string (keys and values) in a JSON-like structure."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in strings_in(v)]
    return []


def forbidden_in(texts) -> list[str]:
    return [t for t in texts if FORBIDDEN & set(t)]


@pytest.fixture(scope="module")
def sample_events() -> pd.DataFrame:
    e = pd.read_parquet(ROOT / "sample_data" / "events.parquet")
    return e[e["user_id"].isin(sorted(e["user_id"].unique())[:500])].reset_index(drop=True)


@pytest.fixture(scope="module")
def hostile_log(sample_events, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "events.parquet"
    sample_events.assign(event=sample_events["event"].replace(HOSTILE_NAMES)).to_parquet(path)
    return path


# --- names from data are data ------------------------------------------------------------------


def test_clean_name_rules():
    assert clean_name("lesson\x00completed") == "lesson\ufffdcompleted"
    assert clean_name("settings\tchanged\r\n") == "settings changed  "
    assert clean_name("a\u2028b") == "a b"
    assert clean_name("plain name é ✓") == "plain name é ✓"
    assert clean_name("[x](https://e.example)") == "[x](https://e.example)"
    assert clean_names(["a\x00", "a\x01", "a"]) == (["a\ufffd", "a\ufffd (2)", "a"], 2)
    every = "".join(sorted(FORBIDDEN))
    assert not FORBIDDEN & set(clean_name(every))


def test_event_names_are_cleaned_where_they_are_read(hostile_log):
    loaded = load_inputs(str(hostile_log))
    assert not forbidden_in(loaded.event_counts)
    assert "lesson\ufffdcompleted" in loaded.event_counts
    assert "[click me](https://evil.example/phish)" in loaded.event_counts
    assert "events.parquet: 7 event names contained control characters" in loaded.warnings[0]
    engine_names = loaded.events.select("event").distinct().to_pandas()["event"]
    assert not forbidden_in(engine_names.dropna())
    ranking = analyse(loaded, SETTINGS).ranking
    assert not forbidden_in(strings_in(ranking.to_dict()))
    assert any("lesson\ufffdcompleted" in c.name for c in ranking.candidates)


def test_hostile_names_render_a_chart_without_aborting(hostile_log):
    """vl-convert aborts the whole process on such names: render in a child and check it lived."""
    script = textwrap.dedent(f"""
        from northstar_lab.analysis import analyse
        from northstar_lab.data.load import load_inputs
        from northstar_lab.evidence.charts import forest_chart
        from northstar_lab.evidence.tables import forest_table
        from northstar_lab.report.render import chart_svg
        from northstar_lab.settings import AnalysisSettings
        loaded = load_inputs({str(hostile_log)!r})
        ranking = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
        svg = chart_svg(forest_chart(forest_table(ranking)))
        print("svg", len(svg), "lesson\\ufffdcompleted" in svg)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-1] == "True"


def test_names_the_scan_left_in_the_engine_are_cleaned_too():
    """A validation scan that brings back only the most frequent names leaves a tail unseen."""
    log = ibis.memtable({"event": ["ok", "ok", "rare\x00name"]})
    std, counts, warnings = clean_event_names(log, {"ok": 2}, "log.csv", has_tail=True)
    assert sorted(std.to_pandas()["event"]) == ["ok", "ok", "rare\ufffdname"]
    assert counts == {"ok": 2} and warnings == []
    same, _, _ = clean_event_names(log, {"ok": 2}, "log.csv")
    assert same is log  # nothing seen, nothing left: no regex over the rows


def test_csv_values_with_nul_bytes_are_cleaned(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"user_id,timestamp,event\nu1,2025-01-01 10:00:00,a\x00b\nu2,2025-01-02,ok\n")
    loaded = load_inputs(str(path))
    assert loaded.event_counts == {"a\ufffdb": 1, "ok": 1}
    assert "events.csv: 1 event name contained control characters" in loaded.warnings[0]


def test_event_log_column_names_are_cleaned_and_still_recognised(sample_events, tmp_path):
    path = tmp_path / "events.parquet"
    sample_events.rename(columns={"event": "event\x07", "user_id": "user\x00id"}).to_parquet(path)
    loaded = load_inputs(str(path))
    assert loaded.event_columns.user == "user\ufffdid"
    assert loaded.event_columns.event == "event\ufffd"
    assert "events.parquet: 2 column names contained control characters" in loaded.warnings[0]
    with pytest.raises(InputError) as err:
        load_inputs(str(path), event_columns={"value": "nope"})
    assert not forbidden_in([str(err.value)])


def test_users_table_names_and_segment_values_are_cleaned(sample_events):
    users = pd.read_csv(ROOT / "sample_data" / "users.csv")
    users = users[users["user_id"].isin(sample_events["user_id"])].copy()
    users["lessons\x01planned"] = [i % 7 for i in range(len(users))]  # (1..n is a row number)
    users = users.rename(columns={"plan": "plan\x07"})
    users["plan\x07"] = users["plan\x07"].replace({"pro": "pro\x00\x1b[31m"})
    loaded = load_inputs(str(ROOT / "sample_data" / "events.parquet"), users)
    frame = loaded.users.frame
    assert "lessons\ufffdplanned" in loaded.users.columns.behaviour
    assert "plan\ufffd" in loaded.users.columns.segments
    assert not forbidden_in(frame.columns)
    assert not forbidden_in(frame["plan\ufffd"].unique())
    assert "pro\ufffd\ufffd[31m" in set(frame["plan\ufffd"])
    notes = " ".join(loaded.warnings)
    assert "users: 2 column names contained control characters" in notes
    assert "users: 1 segment value contained control characters" in notes


# --- secrets never leave the process ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("s3a://AKIAXYZ:hunter2/with+slash@bucket/events/", "s3a://***@bucket/events/"),
        ("spark://admin:hunter2@host:7077", "spark://***@host:7077"),
        ("postgresql://u:hunter2@db.example/prod", "postgresql://***@db.example/prod"),
        ("postgresql://u:p@ss:hunter2@db/x", "postgresql://***@db/x"),
        ("https://b.s3.amazonaws.com/e.parquet?AWSAccessKeyId=AKIA1&Expires=9&Signature=hunter2",
         "https://b.s3.amazonaws.com/e.parquet?AWSAccessKeyId=***&Expires=9&Signature=***"),
        ("s3://b/e.parquet?X-Amz-Credential=hunter2&X-Amz-Security-Token=hunter2",
         "s3://b/e.parquet?X-Amz-Credential=***&X-Amz-Security-Token=***"),
        ("sc://host:15002/;token=hunter2;user_id=ann", "sc://host:15002/;token=***;user_id=ann"),
        ("host=db user=ann password=hunter2 dbname=x", "host=db user=ann password=*** dbname=x"),
        ("duckdb:///w.duckdb?password=hunter2", "duckdb:///w.duckdb?password=***"),
        ("sample_data/events.parquet", "sample_data/events.parquet"),
    ],
)  # fmt: skip
def test_redact_secrets(text, shown):
    assert redact_secrets(text) == shown
    assert SECRET not in redact_secrets(f"error: could not read {text!r} (see {text})")


def _run(capsys, *args) -> tuple[int, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def test_secrets_in_error_messages_of_every_source(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    cases = [
        ("--source", f"duckdb:///{tmp_path}/no.duckdb?password={SECRET}", "--events-table", "e"),
        ("--source", f"duckdb:///{db}", "--events-table", f"s3a://AKIA:{SECRET}@bucket/events/"),
        ("--source", f"postgresql://ann:{SECRET}@db.example/prod", "--events-table", "e"),
        ("--events", f"https://bucket.example/e.parquet?AWSAccessKeyId=AKIA&Signature={SECRET}"),
        ("--events", f"{tmp_path}/s3a:/AKIA:{SECRET}@bucket/e.parquet"),
    ]  # fmt: skip
    for args in cases:
        code, text = _run(capsys, "rank", *args, "--bootstrap", "0")
        assert code == 2, text
        assert SECRET not in text, text
        assert "Traceback" not in text


def test_spark_errors_never_echo_the_master_url(monkeypatch):
    """The JVM's own message repeats the master URL it failed to reach; ours must not."""
    import pyspark.sql

    class Refusing:
        def __getattr__(self, _name):
            return lambda *a, **k: self

        def getOrCreate(self):  # noqa: N802 (pyspark's name)
            raise RuntimeError(f"Could not connect to spark://admin:{SECRET}@10.0.0.9:7077\nat …")

    monkeypatch.setattr(pyspark.sql.SparkSession, "builder", Refusing())
    with pytest.raises(InputError) as err:
        sources.spark_session(f"spark://admin:{SECRET}@10.0.0.9:7077")
    assert "Could not start or reach Spark at spark://***@10.0.0.9:7077" in str(err.value)
    assert SECRET not in str(err.value)
    assert sources.parse_source(f"sc://h:15002/;token={SECRET}").describe() == "Spark (remote)"


def test_secrets_in_table_and_file_names_stay_out_of_the_ranking(sample_events, tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.register("ev", sample_events)
    users = pd.read_csv(ROOT / "sample_data" / "users.csv")
    con.register("us", users[users["user_id"].isin(sample_events["user_id"])])
    con.execute(f'CREATE TABLE "events?password={SECRET}" AS SELECT * FROM ev')
    con.execute(f'CREATE TABLE "s3a://AKIA:{SECRET}@lake/users" AS SELECT * FROM us')
    con.close()
    out = tmp_path / "ranking.json"
    code, text = _run(
        capsys, "rank", "--source", f"duckdb:///{db}",
        "--events-table", f"events?password={SECRET}",
        "--users-table", f"s3a://AKIA:{SECRET}@lake/users", "--bootstrap", "0", "--json", str(out),
    )  # fmt: skip
    assert code == 0, text
    assert SECRET not in text
    ranking = out.read_text(encoding="utf-8")
    assert SECRET not in ranking
    fp = json.loads(ranking)["data"]["fingerprint"]
    assert fp["events"]["table"] == "events?password=***"
    assert fp["users"]["table"] == fp["users"]["label"] == "s3a://***@lake/users"
    presigned = tmp_path / f"events.parquet?X-Amz-Signature={SECRET}"  # as wget names a download
    sample_events.to_parquet(presigned)
    loaded = load_inputs(str(presigned))
    assert SECRET not in json.dumps(loaded.fingerprint) + " ".join(loaded.warnings)
    assert loaded.fingerprint["events"]["source"] == "file events.parquet?X-Amz-Signature=***"
    assert loaded.check.label == "events.parquet?X-Amz-Signature=***"


# --- duckdb:// that is not a DuckDB database ----------------------------------------------------


EXTENSIONS = Path.home() / ".duckdb" / "extensions"


def test_duckdb_source_that_is_not_a_database_is_exit_2(tmp_path, capsys):
    before = sorted(EXTENSIONS.glob("**/sqlite*"))
    text = tmp_path / "notes.db"
    text.write_text("hello\n")
    lite = tmp_path / "app.sqlite"
    sqlite3.connect(lite).execute("CREATE TABLE events (user_id, ts, event)").connection.close()
    folder = tmp_path / "folder.duckdb"
    folder.mkdir()
    expected = {text: "is not a DuckDB database file (it looks like a text file)",
                lite: "is a SQLite database, not a DuckDB one",
                folder: "is a folder, not a DuckDB database file"}  # fmt: skip
    for path, message in expected.items():
        code, out = _run(
            capsys, "rank", "--source", f"duckdb:///{path}", "--events-table", "events"
        )
        assert code == 2, out
        assert message in out
        assert "internal error" not in out
    assert sorted(EXTENSIONS.glob("**/sqlite*")) == before  # nothing was downloaded


def test_every_duckdb_connection_refuses_extension_downloads(tmp_path):
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    for source in (sources.Source("duckdb", str(db)), sources.Source("file", "x.csv")):
        con = sources.connect(source)
        settings = con.raw_sql(
            "SELECT current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions'), current_setting('TimeZone')"
        ).fetchone()
        assert settings == (False, False, "UTC")


def test_numeric_microsecond_timestamps_are_read(tmp_path):
    """A plain log with Unix µs times (GA4-style) used to crash DuckDB ('us' unit)."""
    e = pd.DataFrame({"user_id": ["a", "b"], "event": ["x", "y"],
                      "timestamp": [1740800000_123456, 1740900000_000000]})  # fmt: skip
    e.to_parquet(tmp_path / "us.parquet")
    loaded = load_inputs(str(tmp_path / "us.parquet"))
    assert loaded.check.min_ts == pd.Timestamp("2025-03-01 03:33:20")
    assert loaded.check.max_ts == pd.Timestamp("2025-03-02 07:20:00")


# --- a file that cannot be read says why --------------------------------------------------------


HEADER = "user_id,timestamp,event,signup_at\n"
ROW = "u1,2025-01-01 10:00:00,x,2025-01-01\n"


def _xlsx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")


def _truncated_gzip(path: Path) -> None:
    data = gzip.compress((HEADER + ROW * 200_000).encode())
    path.write_bytes(data[: int(len(data) * 0.9)])


LATIN1 = HEADER + ROW * 10 + "u2,2025-01-02,caf\xe9,2025-01-02\n"
QUOTED = '"user_id,timestamp,event"\n' + '"u1,2025-01-01,x"\n' * 5
BROKEN = {
    "latin1.csv": (lambda p: p.write_bytes(LATIN1.encode("latin-1")),
                   ["is not UTF-8 text", "Save it as UTF-8"]),
    "quoted.csv": (lambda p: p.write_text(QUOTED),
                   ["was read as a single column 'user_id,timestamp,event'"]),
    "cut.csv.gz": (_truncated_gzip, ["gzip file that ends mid-stream", "Download or copy it"]),
    "excel.csv": (_xlsx, ["is an Excel workbook (.xlsx) named as a CSV", "CSV UTF-8"]),
    "old.csv": (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000),
                ["is an old-style Excel workbook (.xls)"]),
    "long.csv": (lambda p: p.write_text(HEADER + "u1,2025-01-01," + "x" * 10_000_000 + ",d\n"),
                 ["has a line of 10.0 MB", "quote opens and never closes"]),
    "utf16.csv": (lambda p: p.write_bytes((HEADER + ROW * 5).encode("utf-16")),
                  ["is UTF-16 text, and only UTF-8 is read"]),
    "utf16le.csv": (lambda p: p.write_bytes((HEADER + ROW * 5).encode("utf-16-le")),
                    ["is UTF-16 text, and only UTF-8 is read"]),
    "nul.csv": (lambda p: p.write_bytes(b"\x00" * 5000 + b"\n" + ROW.encode()),
                ["has NUL bytes in its first line"]),
    "notgz.csv.gz": (lambda p: p.write_text(HEADER + ROW), ["is named .gz but is not gzip"]),
    "ragged.csv": (lambda p: p.write_text(HEADER + ROW * 3000 + "u1,2025-01-01,x,d,extra\n"),
                   ["has a row (line 3,002) with 5 values where the header has 4"]),
}  # fmt: skip


READERS = [
    (name, reader)
    for name in sorted(BROKEN)
    for reader in ("event log (DuckDB)", "users table (pandas)")
    if not (name == "long.csv" and reader.startswith("users"))  # pandas has no line limit
]


@pytest.mark.parametrize(("name", "reader"), READERS)
def test_unreadable_files_say_why(tmp_path, name, reader):
    write, phrases = BROKEN[name]
    path = tmp_path / name
    write(path)
    with pytest.raises(InputError) as err:
        if reader.startswith("event"):
            load_inputs(str(path))
        else:
            read_table(path)
    message = str(err.value)
    assert message.startswith(f"{name}: "), message
    for phrase in phrases:
        assert phrase in message, message
    assert "\x00" not in message and len(message) < 900, message
    assert "Original Line" not in message and "xxxxxxxxxx" not in message


def test_semicolon_users_table_is_read_by_its_delimiter(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("user_id;signup_at;plan\nu1;2025-01-01;pro\nu2;2025-01-03;free\n")
    df = read_table(path)
    assert list(df.columns) == ["user_id", "signup_at", "plan"]
    assert df["plan"].tolist() == ["pro", "free"]


def test_a_path_that_matches_no_file_is_said_so_not_called_a_bad_parquet(tmp_path):
    """Spark reports a missing path as [PATH_NOT_FOUND] in a message that also says 'parquet';
    the cause is the path, not the file's format (found running bench_cells on Spark)."""
    from northstar_lab.data.diagnose import read_error

    spark_said = RuntimeError(
        "[PATH_NOT_FOUND] Path does not exist: file:/data/*.parquet. SQLSTATE: 42K03"
    )
    err = read_error(spark_said, tmp_path / "*.parquet", "*.parquet", "parquet")
    assert str(err).startswith("*.parquet: file not found. Check the path")
    assert "not a Parquet file" not in str(err)


# --- infinite numbers: 'inf' is a number to pandas and to every engine, and to no statistic ---


def _users_with(tmp_path, **columns) -> Path:
    n = 60
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)],
                          "tenure_days": [float(10 + i) for i in range(n)],
                          "churned": [i % 2 for i in range(n)],
                          "logins": [float(i % 7) for i in range(n)],
                          "spend": [float(i) for i in range(n)]})  # fmt: skip
    for col, (row, value) in columns.items():
        frame[col] = frame[col].astype(object)
        frame.loc[row, col] = value
    path = tmp_path / "users.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("logins", "inf", "behaviour column 'logins' has 1 infinite value (row"),
        ("logins", "-inf", "behaviour column 'logins' has 1 infinite value (row"),
        ("spend", "-inf", "revenue column 'spend' has 1 infinite value (row"),
        ("tenure_days", "inf", "column 'tenure_days' must be a non-negative number of days"),
    ],
)
def test_infinite_numbers_in_a_users_table_are_named(tmp_path, capsys, column, value, words):
    path = _users_with(tmp_path, **{column: (7, value)})
    code = cli.main(["rank", "--users", str(path), "--duration-col", "tenure_days",
                     "--event-col", "churned", "--revenue-col", "spend", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "users.csv" in err
    assert "internal error" not in err and "Traceback" not in err


def test_infinite_revenue_values_in_an_event_log_are_named(sample_events, tmp_path, capsys):
    log = sample_events.copy()  # 500 users of the sample
    paid = log.index[log["event"] == "payment"][:20]
    log.loc[paid, "value"] = float("inf")
    path = tmp_path / "events.parquet"
    log.to_parquet(path)
    code = cli.main(["rank", "--events", str(path), "--revenue-event", "payment",
                     "--window-days", "14", "--horizon-days", "90", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "revenue event 'payment' has infinite values" in err and "e.g. user '" in err
    assert "internal error" not in err


def test_event_values_that_are_not_numbers_are_counted_and_shown(sample_events, tmp_path, capsys):
    log = sample_events.copy()
    paid = log["event"] == "payment"
    log["value"] = log["value"].map(lambda v: "" if pd.isna(v) else f"${v:,.2f}")
    # '$49.00' alone is read as 49 (tests/data/test_text_values.py); with 'n/a' among them the
    # column has no one style, and every value of it is named instead of guessed
    log.loc[paid[paid].index[-1], "value"] = "n/a"
    path = tmp_path / "events.csv"
    log.to_csv(path, index=False)
    args = ["--revenue-event", "payment", "--window-days", "14", "--bootstrap", "0"]
    code = cli.main(["rank", "--events", str(path), *args])
    words = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert f"{int(paid.sum()):,} values in the value column are not numbers (e.g. '$" in words
    assert "(payment)" in words and "any revenue in them is missing" in words


def _log_csv(log: pd.DataFrame) -> pd.DataFrame:
    e = log.copy()
    e["timestamp"] = pd.to_datetime(e["timestamp"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return e


def test_a_value_far_down_that_does_not_fit_the_sampled_type_is_read_again(sample_events, tmp_path):
    """DuckDB guesses a CSV's types from its first ~20,000 rows; 'n/a' in row 30,000 of a
    numeric value column used to stop the analysis later with an internal error."""
    e = _log_csv(sample_events)
    e = pd.concat([e] * (40_000 // len(e) + 1), ignore_index=True)  # past DuckDB's sample
    e["value"] = e["value"].astype(object)
    late = e.index[(e["event"] == "payment") & (e.index > 30_000)][:4]
    e.loc[late, "value"] = "n/a"
    path = tmp_path / "late.csv"
    e.to_csv(path, index=False)
    loaded = load_inputs(events=str(path))
    assert any("4 values in the value column are not numbers (e.g. 'n/a'" in w
               for w in loaded.warnings)  # fmt: skip


def test_a_repeated_header_line_is_named(sample_events, tmp_path):
    e = _log_csv(sample_events)
    path = tmp_path / "joined.csv"
    half = len(e) // 2
    with open(path, "w") as f:
        e.iloc[:half].to_csv(f, index=False)
        e.iloc[half:].to_csv(f, index=False)  # a second file's header, joined on
    with pytest.raises(InputError, match="1 value that is not a date") as err:
        load_inputs(events=str(path))
    assert "looks like the header line repeated" in str(err.value)


def _numbered(ids: pd.Series) -> pd.Series:
    return ids.str.replace("u", "", regex=False).astype(int)


def test_float_user_ids_in_the_log_meet_whole_number_ids_in_the_users_table(
    sample_events, tmp_path
):
    """pandas writes an id column with a gap as floats (42.0); the users table says 42."""
    log = sample_events.copy()
    log["user_id"] = _numbered(log["user_id"]).astype(float)
    log.loc[log.index[:2], "user_id"] = float("nan")
    users = pd.read_csv(ROOT / "sample_data" / "users.csv")
    users = users[users["user_id"].isin(sample_events["user_id"])].copy()
    users["user_id"] = _numbered(users["user_id"])
    log.to_parquet(tmp_path / "events.parquet")
    users.to_csv(tmp_path / "users.csv", index=False)
    loaded = load_inputs(events=str(tmp_path / "events.parquet"), users=str(tmp_path / "users.csv"))
    an = analyse(loaded, SETTINGS)
    assert an.ranking.n_users > 0.8 * len(users)  # matched: most users pass the landmark


def test_a_log_and_users_table_with_no_user_in_common_say_so(sample_events, tmp_path):
    users = pd.read_csv(ROOT / "sample_data" / "users.csv")
    users = users[users["user_id"].isin(sample_events["user_id"])].copy()
    users["user_id"] = "x" + users["user_id"]
    sample_events.to_parquet(tmp_path / "events.parquet")
    users.to_csv(tmp_path / "users.csv", index=False)
    loaded = load_inputs(events=str(tmp_path / "events.parquet"), users=str(tmp_path / "users.csv"))
    with pytest.raises(InputError, match="No user of the event log events.parquet is in the"):
        analyse(loaded, SETTINGS)


def test_a_users_table_mostly_without_events_is_warned(sample_events, tmp_path):
    users = pd.read_csv(ROOT / "sample_data" / "users.csv")  # 8,000 users; the log holds 500
    sample_events.to_parquet(tmp_path / "events.parquet")
    users.to_csv(tmp_path / "users.csv", index=False)
    loaded = load_inputs(events=str(tmp_path / "events.parquet"), users=str(tmp_path / "users.csv"))
    words = " ".join(analyse(loaded, SETTINGS).ranking.warnings)
    assert "7,500 of the 8,000 users in the users table have no event in events.parquet" in words
    matching = users[users["user_id"].isin(sample_events["user_id"])]
    matching.to_csv(tmp_path / "users.csv", index=False)
    loaded = load_inputs(events=str(tmp_path / "events.parquet"), users=str(tmp_path / "users.csv"))
    assert "have no event in" not in " ".join(analyse(loaded, SETTINGS).ranking.warnings)


# --- churn flags written as floats: 0.0/1.0 is how pandas and Spark write a flag with a gap ---


def _churn_table(churned) -> pd.DataFrame:
    n = len(churned)
    rng = np.random.default_rng(9)
    return pd.DataFrame({"user_id": [f"u{i}" for i in range(n)],
                         "tenure_days": rng.integers(5, 400, n).astype(float),
                         "churned": churned,
                         "logins": rng.poisson(4, n).astype(float)})  # fmt: skip


def test_a_churn_flag_written_as_floats_ranks_like_the_integers(tmp_path):
    flags = [int(i % 3 == 0) for i in range(300)]
    as_ints = tmp_path / "ints.csv"
    as_floats = tmp_path / "floats.csv"
    _churn_table(flags).to_csv(as_ints, index=False)
    _churn_table([float(f) for f in flags]).to_csv(as_floats, index=False)
    assert "1.0" in as_floats.read_text().splitlines()[1]  # the file says 0.0/1.0
    out = []
    for path in (as_ints, as_floats):
        loaded = load_inputs(users=str(path))
        np.testing.assert_array_equal(loaded.users.frame["churn_flag"], np.array(flags, float))
        out.append(analyse(loaded, AnalysisSettings(window_days=0, n_bootstrap=20)).ranking)
    assert [c.key for c in out[0].candidates] == [c.key for c in out[1].candidates]
    assert out[0].candidates[0].hazard_ratio == out[1].candidates[0].hazard_ratio


def test_an_empty_churn_flag_names_its_rows_and_what_to_write(tmp_path, capsys):
    flags = [float(i % 3 == 0) for i in range(300)]
    flags[4] = flags[41] = np.nan
    path = tmp_path / "users.csv"
    _churn_table(flags).to_csv(path, index=False)
    assert cli.main(["rank", "--users", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "churn column 'churned' is empty for 2 users (rows 5, 42)" in err
    assert "Fill in 1 for users who churned and 0 for those still active" in err
    assert "'nan'" not in err and "Traceback" not in err


def test_a_churn_column_of_other_numbers_is_still_refused(tmp_path):
    path = tmp_path / "users.csv"
    _churn_table([float(i % 3) for i in range(300)]).to_csv(path, index=False)  # 0, 1, 2
    with pytest.raises(InputError, match=r"or churned/stayed; found '0.0', '1.0', '2.0'"):
        load_inputs(users=str(path))


# --- event names with spaces around them: one event, shown alike ---------------------------------


def test_event_names_with_spaces_around_them_are_one_event(sample_events, tmp_path):
    """'video_watched ' beside 'video_watched' (sloppy tracking, an export's padding) were two
    candidates that look identical on every page. They are one event, and the trim is said."""
    clean = tmp_path / "clean.parquet"
    spaced = tmp_path / "spaced.parquet"
    sample_events.to_parquet(clean)
    log = sample_events.copy()
    rows = (log["event"] == "video_watched") & (np.arange(len(log)) % 2 == 0)
    log.loc[rows, "event"] = " video_watched  "
    log.to_parquet(spaced)
    a, b = load_inputs(str(clean)), load_inputs(str(spaced))
    assert b.event_counts == a.event_counts
    assert any("began or ended with spaces (e.g. ' video_watched  ')" in w for w in b.warnings)
    ra, rb = (analyse(x, SETTINGS).ranking for x in (a, b))
    assert [c.key for c in rb.candidates] == [c.key for c in ra.candidates]
    assert [c.hazard_ratio for c in rb.candidates] == [c.hazard_ratio for c in ra.candidates]


def test_churn_words_of_crm_exports_are_flags(tmp_path):
    """Stayed/Churned (Telco's Customer Status), Current/Left, Existing/Lost."""
    for stay, leave in (("Stayed", "Churned"), ("current", "left"), ("Existing", "Lost")):
        flags = [i % 3 == 0 for i in range(300)]
        path = tmp_path / f"{stay}.csv"
        _churn_table([leave if f else stay for f in flags]).to_csv(path, index=False)
        loaded = load_inputs(users=str(path))
        np.testing.assert_array_equal(loaded.users.frame["churn_flag"], np.array(flags, float))


def test_a_users_table_joined_from_two_files_names_the_repeated_header(tmp_path):
    """Two exports joined with `cat` repeat the header as a row; every column then reads as
    text, and the refusal listed each column's 'values that are not dates' instead."""
    users = pd.read_csv(ROOT / "sample_data" / "users_summary.csv").head(300)
    path = tmp_path / "joined.csv"
    path.write_text(users.iloc[:120].to_csv(index=False) + users.iloc[120:].to_csv(index=False))
    with pytest.raises(InputError) as err:
        read_table(path)
    assert str(err.value) == (
        "joined.csv: row 121 repeats the header line (files joined together?): remove those "
        "lines and load it again."
    )
    users.to_csv(path, index=False)
    assert len(read_table(path)) == 300  # one header: read as before
