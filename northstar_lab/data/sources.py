"""Where the data lives: parse a source string and connect the Ibis backend that holds it.

One implementation of the event-log work (see `aggregate.py`) runs on any of these engines:

- a file path or glob (CSV, CSV.gz, Parquet, `events/*.parquet`) — read by embedded DuckDB;
- `duckdb:///path/to.db` — tables in a DuckDB database file;
- `spark://local[2]` — a local Apache Spark session; `spark://host:7077` — a standalone cluster;
- `sc://host:port` — Spark Connect.

A connection string can carry credentials, so it is never stored: `Source.describe()` gives the
engine kind and what was read, which is what goes into a decision record or an export.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ibis

from ..errors import InputError

QUIET_LOG = Path(__file__).with_name("spark-log4j2.properties")
FILE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".parquet", ".pq")


@dataclass(frozen=True)
class Source:
    """A parsed source. kind is 'file', 'duckdb' or 'spark'; location never leaves the process."""

    kind: str
    location: str

    @property
    def engine(self) -> str:
        """The engine that runs the work: 'duckdb' or 'spark'."""
        return "spark" if self.kind == "spark" else "duckdb"

    def describe(self) -> str:
        """A credential-free description safe for records and exports."""
        if self.kind == "file":
            return f"file {Path(self.location).name}"
        if self.kind == "duckdb":
            return f"DuckDB database {Path(self.location).name}"
        return "Spark (local)" if self.location.startswith("local") else "Spark (remote)"


def parse_source(text: str) -> Source:
    """Read a source string as typed by a user on the CLI or in the app."""
    text = str(text).strip()
    if not text:
        raise InputError("No data source given: pass a file path, duckdb:///file.db or spark://…")
    if text.startswith("duckdb://"):
        path = text[len("duckdb://") :]
        path = path[1:] if path.startswith("//") else path
        if not path or not Path(path).exists():
            raise InputError(f"DuckDB database file not found: {path or '(empty path)'}")
        return Source("duckdb", path)
    if text.startswith("spark://"):
        master = text[len("spark://") :]
        if not master:
            raise InputError("spark:// needs a master, e.g. spark://local[2]")
        return Source("spark", master if master.startswith("local") else "spark://" + master)
    if text.startswith("sc://"):
        return Source("spark", text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise InputError(
            f"Unknown source scheme '{scheme}://'. Use a file path or glob, "
            "duckdb:///path/to.db, spark://local[2] or sc://host:port (Spark Connect)."
        )
    matches = glob.glob(text) if any(c in text for c in "*?[") else [text]
    if not matches or not all(Path(m).exists() for m in matches):
        raise InputError(
            f"{text}: file not found. Check the path (globs like events/*.parquet work)."
        )
    return Source("file", text)


def file_format(path: str) -> str:
    """'csv' or 'parquet' from a file name, glob or folder (a folder of Parquet files, as Spark
    and lakes write them), so a .txt export still gets a clear error."""
    if Path(path).is_dir():
        return "parquet"
    low = path.lower()
    if low.endswith((".parquet", ".pq")) or low.endswith("*"):
        return "parquet"
    if low.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".gz")):
        return "csv"
    raise InputError(
        f"{Path(path).name}: unsupported file type. Use CSV (.csv, .csv.gz) or Parquet (.parquet)."
    )


_CONNECTIONS: dict[tuple[str, str], ibis.BaseBackend] = {}


def connect(source: Source) -> ibis.BaseBackend:
    """The Ibis backend for a source; Spark sessions are made once per process and reused."""
    key = (source.engine, source.location if source.kind != "file" else "")
    if key in _CONNECTIONS:
        return _CONNECTIONS[key]
    if source.kind == "duckdb":
        con = ibis.duckdb.connect(source.location, read_only=True, **duckdb_config())
    elif source.kind == "spark":
        con = ibis.pyspark.connect(spark_session(source.location))
    else:
        con = ibis.duckdb.connect(**duckdb_config())
    _CONNECTIONS[key] = con
    return con


def duckdb_config() -> dict:
    """DuckDB's memory cap (it spills to disk beyond it): $NORTHSTAR_DUCKDB_MEMORY, default 4GB,
    so that the engine and the statistics share a machine instead of fighting over it."""
    spill = Path(tempfile.gettempdir()) / "northstar_duckdb"
    return {
        "memory_limit": os.environ.get("NORTHSTAR_DUCKDB_MEMORY", "4GB"),
        # DuckDB spills to ./.tmp by default: never into the user's working directory
        "temp_directory": os.environ.get("NORTHSTAR_DUCKDB_TMP", str(spill)),
    }


def spark_session(master: str):
    """A Spark session for a master URL or a Spark Connect URL, with one clear error per failure.

    The session time zone is pinned to UTC so that timestamps mean the same on every engine.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InputError(
            "Spark support is not installed: pip install -r requirements-spark.txt"
        ) from exc
    if not master.startswith("sc://") and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise InputError(
            "Spark needs a Java 17 runtime and none was found (no JAVA_HOME, no `java` on PATH). "
            "Install one (e.g. apt-get install openjdk-17-jre-headless) or use DuckDB."
        )
    builder = SparkSession.builder.config("spark.sql.session.timeZone", "UTC")
    # pandas writes Parquet timestamps in nanoseconds, which Spark refuses: read them as
    # integers instead (standard_events converts them), also over Spark Connect (a SQL conf)
    builder = builder.config("spark.sql.legacy.parquet.nanosAsLong", "true")
    try:
        if master.startswith("sc://"):
            session = builder.remote(master).getOrCreate()
        else:
            session = (
                builder.master(master)
                .appName("northstar-lab")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "8")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={QUIET_LOG}")
                .config("spark.driver.memory", os.environ.get("NORTHSTAR_SPARK_MEMORY", "4g"))
                .getOrCreate()
            )
            session.sparkContext.setLogLevel("ERROR")
    except InputError:
        raise
    except Exception as exc:  # JVM and gRPC errors: one line, not a stack trace
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"Could not start or reach Spark at {master}: {first[:300]}") from exc
    return session


def open_table(con: ibis.BaseBackend, source: Source, table: str | None, label: str) -> ibis.Table:
    """The named table, or the file itself, as an Ibis table; missing things get a clear error."""
    try:
        if source.kind == "file":
            return _read_file(con, source.location)
        if not table:
            raise InputError(f"{label}: name the table to read from {source.describe()}.")
        if source.kind == "spark" and _looks_like_path(table):
            return _read_file(con, table)
        if table not in con.list_tables():
            shown = ", ".join(sorted(con.list_tables())[:20]) or "none"
            raise InputError(
                f"{label}: table '{table}' not found in {source.describe()}. Tables there: {shown}."
            )
        return con.table(table)
    except InputError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{label}: could not read {source.describe()}: {first[:300]}") from exc


def _looks_like_path(table: str) -> bool:
    """On Spark a 'table' may be a Parquet/CSV path or glob instead of a catalog name."""
    low = table.lower()
    return "/" in table or "*" in table or low.endswith(FILE_SUFFIXES) or Path(table).exists()


def _read_file(con: ibis.BaseBackend, path: str) -> ibis.Table:
    """Read CSV/Parquet through the connection's engine; an empty file is the user's problem."""
    name = Path(path).name
    single = not any(c in path for c in "*?[") and Path(path).is_file()
    if single and Path(path).stat().st_size == 0:
        raise InputError(f"{name}: the file is empty (0 bytes). Export it again with its header.")
    fmt = file_format(path)
    if Path(path).is_dir() and con.name == "duckdb":  # DuckDB reads a folder through a glob
        path = str(Path(path) / "**" / "*.parquet")
    try:
        if fmt == "parquet":
            return con.read_parquet(path)
        return con.read_csv(path)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: could not be read as {fmt.upper()}: {first[:300]}") from exc


def peek_columns(source_text: str, table: str | None = None, label: str | None = None) -> list[str]:
    """Column names of a file or table, without reading the data (for the mapping step)."""
    source = parse_source(source_text)
    con = connect(source)
    name = label or (Path(source.location).name if source.kind == "file" else table or "table")
    return list(open_table(con, source, table, name).columns)


def list_tables(source_text: str) -> list[str]:
    """Tables a database or Spark source offers (files have none)."""
    source = parse_source(source_text)
    if source.kind == "file":
        return []
    return sorted(connect(source).list_tables())
