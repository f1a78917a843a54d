"""Where the data lives: parse a source string and connect the Ibis backend that holds it.

One implementation of the event-log work (see `aggregate.py`) runs on any of these engines:

- a file path or glob (CSV, CSV.gz, Parquet, `events/*.parquet`, JSON lines, a zip of them) —
  read by embedded DuckDB;
- `duckdb:///path/to.db` — tables in a DuckDB database file;
- `spark://local[2]` — a local Apache Spark session; `spark://host:7077` — a standalone cluster;
- `sc://host:port` — Spark Connect.

A connection string can carry credentials, so it is never stored: `Source.describe()` gives the
engine kind and what was read, which is what goes into a decision record or an export, and every
message passes through `redact_secrets`. DuckDB never downloads an extension (no network at run
time) and runs in UTC; a file the engine cannot read gets the cause from `diagnose`.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..redact import redact_secrets
from . import diagnose
from .excel import WORKBOOK_SUFFIXES, read_workbook

if TYPE_CHECKING:  # Ibis and DuckDB load when a source is opened, not with this module (the
    import ibis  # users-table path reads files with pandas and never needs an engine)

QUIET_LOG = Path(__file__).with_name("spark-log4j2.properties")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
FILE_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + JSON_SUFFIXES + WORKBOOK_SUFFIXES + (".zip",)
#: What a file is from its first bytes, when its name does not say (`diagnose.sniff`).
CONTENT_FORMATS = {"parquet": "parquet", "json": "json", "zip": "zip", "text": "csv",
                   "gzip": "csv"}  # fmt: skip


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
            return redact_secrets(f"file {Path(self.location).name}")
        if self.kind == "duckdb":
            return redact_secrets(f"DuckDB database {Path(self.location).name}")
        return "Spark (local)" if self.location.startswith("local") else "Spark (remote)"


def parse_source(text: str) -> Source:
    """Read a source string as typed by a user on the CLI or in the app."""
    text = str(text).strip()
    if not text:
        raise InputError("No data source given: pass a file path, duckdb:///file.db or spark://…")
    if text.startswith("duckdb://"):
        path = text[len("duckdb://") :]
        path = path[1:] if path.startswith("//") else path
        _check_duckdb_file(path)
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
            f"Unknown source scheme '{redact_secrets(scheme)[:40]}://'. Use a file path or glob, "
            "duckdb:///path/to.db, spark://local[2] or sc://host:port (Spark Connect)."
        )
    matches = glob.glob(text) if any(c in text for c in "*?[") else [text]
    if not matches or not all(Path(m).exists() for m in matches):
        raise InputError(f"{redact_secrets(text)}: {diagnose.FILE_NOT_FOUND}")
    return Source("file", text)


def _check_duckdb_file(path: str) -> None:
    """A duckdb:// path must be a DuckDB database file: say what it is instead when it is not
    (a folder, a SQLite database, a text file), before DuckDB tries to open it."""
    shown = redact_secrets(path) or "(empty path)"
    if not path or not Path(path).exists():
        raise InputError(f"DuckDB database file not found: {shown}")
    if Path(path).is_dir():
        raise InputError(
            f"{shown} is a folder, not a DuckDB database file. For a folder of Parquet files "
            "give the folder (or a glob like folder/*.parquet) as the source, without duckdb://."
        )
    kind = diagnose.sniff(path)
    if kind == "sqlite":
        raise InputError(
            f"{shown} is a SQLite database, not a DuckDB one. Export its tables to Parquet or "
            "CSV (sqlite3 FILE -header -csv 'SELECT * FROM events' > events.csv) and give "
            "those files, or copy them into a DuckDB database."
        )
    if kind not in ("duckdb", "empty"):
        raise InputError(
            f"{shown} is not a DuckDB database file (it looks like {_kind_words(kind)}). Give "
            "the file itself as the source (without duckdb://), or a .duckdb database."
        )


def _kind_words(kind: str) -> str:
    return {"parquet": "a Parquet file", "gzip": "a gzip file", "zip": "a ZIP archive",
            "xlsx": "an Excel workbook", "xls": "an Excel workbook", "json": "JSON text",
            "text": "a text file", "utf16": "UTF-16 text", "utf32": "UTF-32 text",
            "binary": "a binary file"}.get(kind, "another kind of file")  # fmt: skip


def file_format(path: str) -> str:
    """'csv', 'parquet', 'json' or 'zip' from a file name, glob or folder (a folder of Parquet
    files, as Spark and lakes write them); when the name does not say, from the first bytes."""
    if Path(path).is_dir():
        return "json" if _folder_suffix(path) == "json" else "parquet"
    low = path.lower()
    if low.endswith(PARQUET_SUFFIXES) or low.endswith("*"):
        return "parquet"
    if low.endswith(JSON_SUFFIXES):
        return "json"
    if low.endswith(WORKBOOK_SUFFIXES):
        return "excel"
    if low.endswith(".zip"):
        return "zip"
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    first = (glob.glob(path) or [path])[0] if any(c in path for c in "*?[") else path
    if Path(first).is_file():
        kind = diagnose.sniff(first)
        if kind in CONTENT_FORMATS:
            return CONTENT_FORMATS[kind]
    raise InputError(
        f"{redact_secrets(Path(path).name)}: unsupported file type. Use CSV (.csv, .csv.gz), "
        "Parquet (.parquet), JSON lines (.json, .jsonl, .json.gz), a zip of JSON lines or an "
        "Excel workbook (.xlsx)."
    )


def _folder_suffix(folder: str) -> str:
    """'json' for a folder of JSON-lines files (an unzipped Amplitude export), else 'parquet'."""
    names = [p.name.lower() for p in Path(folder).rglob("*") if p.is_file()][:1000]
    n_json = sum(n.endswith(JSON_SUFFIXES) for n in names)
    return "json" if n_json and n_json >= sum(n.endswith(PARQUET_SUFFIXES) for n in names) \
        else "parquet"  # fmt: skip


def unpacked_zip(path: str) -> list[str]:
    """The data files inside a zip (an Amplitude export: gzipped JSON lines in a folder),
    extracted once into a cache folder keyed by the zip's size, time and name.

    Members are written under numbered names (never their own paths, so a member called
    `../x` cannot escape the folder); the folder is renamed into place only when complete.
    """
    p = Path(path)
    st = p.stat()
    key = hashlib.sha256(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    root = Path(tempfile.gettempdir()) / "northstar_unzipped"
    folder = root / key[:20]
    if not folder.exists():
        try:
            _extract_data_members(p, root, folder)
        except zipfile.BadZipFile as exc:
            raise InputError(
                f"{redact_secrets(p.name)}: is not a readable zip archive ({exc}). Download it "
                "again."
            ) from exc
    files = sorted(str(f) for f in folder.iterdir())
    if not files:
        raise InputError(
            f"{redact_secrets(p.name)}: the zip holds no data files (.json.gz, .json, .csv, "
            ".parquet). Check it is the export itself."
        )
    return files


def _extract_data_members(zip_path: Path, root: Path, folder: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=root, prefix=".partial-"))
    try:
        with zipfile.ZipFile(zip_path) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            members = [m for m in members if m.filename.lower().endswith(FILE_SUFFIXES)]
            kinds = {file_format(m.filename) for m in members}
            if len(kinds) > 1:
                raise InputError(
                    f"{redact_secrets(zip_path.name)}: the zip mixes file types "
                    f"({', '.join(sorted(kinds))}); unzip it and give one kind of file."
                )
            for i, m in enumerate(members):
                suffix = "".join(Path(m.filename.lower()).suffixes[-2:])
                with z.open(m) as src, open(partial / f"{i:06d}{suffix}", "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        try:
            os.replace(partial, folder)
        except OSError:
            if not folder.exists():  # else another process finished the same zip first
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


_CONNECTIONS: dict[tuple[str, str], ibis.BaseBackend] = {}


def connect(source: Source) -> ibis.BaseBackend:
    """The Ibis backend for a source; Spark sessions are made once per process and reused."""
    key = (source.engine, source.location if source.kind != "file" else "")
    if key in _CONNECTIONS:
        return _CONNECTIONS[key]
    import ibis

    if source.kind == "spark":
        con = ibis.pyspark.connect(spark_session(source.location))
    else:
        con = _duckdb_connect(source.location if source.kind == "duckdb" else None)
    _CONNECTIONS[key] = con
    return con


def _duckdb_connect(database: str | None) -> ibis.BaseBackend:
    """A DuckDB connection (in memory, or a database file read-only), in UTC, with every
    engine error turned into a message about the file."""
    import ibis

    try:
        if database is None:
            con = ibis.duckdb.connect(**duckdb_config())
        else:
            con = ibis.duckdb.connect(database, read_only=True, **duckdb_config())
        con.raw_sql("SET TimeZone = 'UTC'")  # naive times mean UTC on every machine
    except Exception as exc:
        if database is None:  # only the settings can fail here
            raise InputError(
                f"DuckDB could not start: {diagnose.engine_text(exc)}. Check "
                "NORTHSTAR_DUCKDB_MEMORY (e.g. 4GB) and NORTHSTAR_DUCKDB_TMP (a writable folder)."
            ) from exc
        raise InputError(
            f"{redact_secrets(Path(database).name)}: DuckDB could not open it: "
            f"{diagnose.engine_text(exc)}. Check that it is a DuckDB database file written by "
            "DuckDB 1.x and not in use by another program."
        ) from exc
    return con


def duckdb_config() -> dict:
    """DuckDB's settings for every connection.

    Memory is capped at $NORTHSTAR_DUCKDB_MEMORY (default 2GB; it spills to disk beyond it) so
    that the engine and the statistics share a machine instead of fighting over it. 2GB, not
    4GB: DuckDB keeps what it took until the connection closes, and at 2M users the statistics
    need ~4 GB of their own; the 125M-event benchmark ran as fast at 2GB (bench/README.md).
    Extensions are never installed or loaded behind our back: that would be a download at run
    time (a SQLite file opened as DuckDB used to fetch the sqlite extension).
    """
    spill = Path(tempfile.gettempdir()) / "northstar_duckdb"
    return {
        "memory_limit": os.environ.get("NORTHSTAR_DUCKDB_MEMORY", "2GB"),
        # DuckDB spills to ./.tmp by default: never into the user's working directory
        "temp_directory": os.environ.get("NORTHSTAR_DUCKDB_TMP", str(spill)),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
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
        raise InputError(
            f"Could not start or reach Spark at {redact_secrets(master)}: "
            f"{diagnose.engine_text(exc)}"
        ) from exc
    return session


def open_table(
    con: ibis.BaseBackend,
    source: Source,
    table: str | None,
    label: str,
    json_columns: dict[str, str] | None = None,
    whole_file_types: bool = False,
) -> ibis.Table:
    """The named table, or the file itself, as an Ibis table; missing things get a clear error.

    json_columns: DuckDB types for the columns of a JSON file (a vendor export's layout).
    whole_file_types: a CSV's column types from every row, not DuckDB's sample of the first
    ~20,000 (a second read, after a value deep in the file did not fit the sampled type).
    """
    label = redact_secrets(label)
    try:
        if source.kind == "file":
            return read_file(con, source.location, json_columns, whole_file_types)
        if not table:
            raise InputError(f"{label}: name the table to read from {source.describe()}.")
        if source.kind == "spark" and _looks_like_path(table):
            return read_file(con, table)
        if table not in con.list_tables():
            shown = ", ".join(sorted(con.list_tables())[:20]) or "none"
            raise InputError(
                f"{label}: table '{redact_secrets(table)}' not found in {source.describe()}. "
                f"Tables there: {redact_secrets(shown)}."
            )
        return con.table(table)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{label}: could not read {source.describe()}: {diagnose.engine_text(exc)}"
        ) from exc


@contextmanager
def reading(source: Source, label: str):
    """Engine errors raised while a source is scanned become that source's InputError.

    DuckDB reads a file lazily: a bad line deep in a CSV or a truncated gzip surfaces only when
    the first query scans it, long after `read_file` returned.
    """
    import duckdb

    try:
        yield
    except InputError:
        raise
    except duckdb.Error as exc:
        if source.kind == "file":
            path = source.location
            first = (glob.glob(path) or [path])[0] if any(c in path for c in "*?[") else path
            raise diagnose.read_error(exc, first, redact_secrets(label), file_format(path)) from exc
        raise InputError(
            f"{redact_secrets(label)}: could not read {source.describe()}: "
            f"{diagnose.engine_text(exc)}"
        ) from exc


def is_json_source(source: Source) -> bool:
    """True for a JSON-lines file, folder or zip (read with a vendor layout's column types)."""
    if source.kind != "file":
        return False
    fmt = file_format(source.location)
    return fmt == "json" or (
        fmt == "zip" and file_format(unpacked_zip(source.location)[0]) == "json"
    )


def _looks_like_path(table: str) -> bool:
    """On Spark a 'table' may be a Parquet/CSV path or glob instead of a catalog name."""
    low = table.lower()
    return "/" in table or "*" in table or low.endswith(FILE_SUFFIXES) or Path(table).exists()


def read_file(
    con: ibis.BaseBackend,
    path: str,
    json_columns: dict[str, str] | None = None,
    whole_file_types: bool = False,
) -> ibis.Table:
    """Read CSV, Parquet, JSON lines or a zip of them through the connection's engine.

    A CSV is checked before reading (an Excel workbook, UTF-16 or NUL bytes would otherwise
    read as garbage or fail with a parser message); an engine error gets its cause.
    """
    name = redact_secrets(Path(path).name)
    single = not any(c in path for c in "*?[") and Path(path).is_file()
    if single and Path(path).stat().st_size == 0:
        raise InputError(f"{name}: the file is empty (0 bytes). Export it again with its header.")
    fmt = file_format(path)
    if single and fmt == "csv":
        problem = diagnose.csv_problem(path)
        if problem:
            raise InputError(f"{name}: {problem}")
    paths: str | list[str] = path
    if fmt == "zip":
        paths = unpacked_zip(path)
        fmt = file_format(paths[0])
    elif Path(path).is_dir() and con.name == "duckdb":  # DuckDB reads a folder through a glob
        paths = str(Path(path) / "**" / ("*.json*" if fmt == "json" else "*.parquet"))
    try:
        table = _read(con, paths, fmt, json_columns, whole_file_types)
    except InputError:
        raise
    except Exception as exc:
        raise diagnose.read_error(exc, path, name, fmt) from exc
    if fmt == "csv":
        problem = diagnose.single_column_problem(list(table.columns), name)
        if problem:
            raise problem
    return table


def _read(con, paths, fmt: str, json_columns, whole_file_types: bool = False) -> ibis.Table:
    if fmt == "parquet":
        return con.read_parquet(paths)
    if fmt == "excel":  # read in Python (a workbook holds at most ~1M rows), then registered
        frame = read_workbook(paths, redact_secrets(Path(paths).name))
        return register_in(con, frame, "northstar_workbook")
    if fmt == "json":
        if con.name != "duckdb":
            raise InputError("JSON files are read by DuckDB: give them as a file source.")
        if json_columns:
            return con.read_json(paths, columns=json_columns)
        return con.read_json(paths)
    if con.name != "duckdb":
        return con.read_csv(paths)
    from .headerless import sniffed  # a first line of data is not column names

    header = {} if sniffed(con, paths)[0] else {"header": False}
    if whole_file_types:
        return con.read_csv(paths, sample_size=-1, **header)
    return con.read_csv(paths, **header)


def is_csv_file(source: Source) -> bool:
    """A CSV file (or glob of them): its column types are guessed from a sample of rows."""
    return source.kind == "file" and file_format(source.location) == "csv"


def peek_columns(
    source_text: str,
    table: str | None = None,
    label: str | None = None,
    event_format: str | None = None,
) -> list[str]:
    """Column names of a file or table, without reading the data (for the mapping step).

    A vendor export (asked for, or recognised unless event_format is 'plain') gives the
    columns of the event log it becomes, which is what a column mapping refers to.
    """
    from . import formats
    from .names import clean_names

    source = parse_source(source_text)
    con = connect(source)
    columns = clean_names(
        open_table(con, source, table, source_label(source, table, label)).columns
    )[0]
    name = formats.check_format_name(event_format)
    if name is None and str(event_format or "").lower() != "plain":
        name = formats.recognise(columns)
    return formats.output_columns(name, columns) if name else columns


def source_label(source: Source, table: str | None, label: str | None = None) -> str:
    """The name messages use for what was read: the given label, the file's name or the
    table's, without credentials."""
    name = label or (Path(source.location).name if source.kind == "file" else table or "table")
    return redact_secrets(name)


def list_tables(source_text: str) -> list[str]:
    """Tables a database or Spark source offers (files have none)."""
    source = parse_source(source_text)
    if source.kind == "file":
        return []
    return sorted(connect(source).list_tables())


def register_frame(near, frame, prefix: str = "northstar"):
    """`frame` as a table in the engine that holds the Ibis table `near`, so that the engine
    can join it: a DuckDB temporary table (which a read-only database file still accepts) or
    a Spark view (Ibis' PySpark backend has no temporary tables). Named, so it lives as long
    as the session: the view of an Ibis memtable on Spark is dropped when the Python object
    is collected, while a cached plan that joins it may still run ("TABLE_OR_VIEW_NOT_FOUND")."""
    return register_in(near._find_backend(), frame, prefix)


def register_in(backend, frame, prefix: str = "northstar") -> ibis.Table:
    """`frame` as a named table of this backend (see `register_frame`)."""
    import uuid

    import ibis

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    if backend.name == "pyspark":
        return backend.create_view(name, ibis.memtable(frame), overwrite=True)
    return backend.create_table(name, frame, temp=True, overwrite=True)
