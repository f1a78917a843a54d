"""Read and validate the inputs of an analysis: an event log (file, glob or engine table, or a
vendor's export) and/or a one-row-per-user table. `load_inputs` collects problems and
fingerprints the data; nothing big comes into Python (the events stay an Ibis table in their
engine). This is the edge where names enter, so names are cleaned here (`names`) and every label
and fingerprint is free of credentials (`redact_secrets`).
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError
from ..redact import redact_secrets
from ..settings import AnalysisSettings
from . import excel, exportrows, headerless, names, sources
from .columns import with_recorded
from .proposals import recognise_user_columns
from .users import UsersTable, ids_as_written, prepare_users, read_table

if TYPE_CHECKING:  # the event-log modules load the engine (~0.3 s): only when there is a log
    import ibis

    from .columns import EventColumns
    from .events import EventCheck
    from .formats import FormatReport

Progress = Callable[[str, float], None]

REVENUE_EVENT_NAMES = (
    "payment", "purchase", "order", "order_completed", "revenue", "invoice_paid",
    "subscription_payment", "charge", "transaction",
)  # fmt: skip


@dataclass
class LoadedData:
    """Validated inputs. `events` is an Ibis table in its engine (nothing big is in Python)."""

    events: ibis.Table | None
    check: EventCheck | None
    event_columns: EventColumns | None
    event_counts: dict[str, int]
    users: UsersTable | None
    source: sources.Source | None
    fingerprint: dict
    warnings: list[str] = field(default_factory=list)
    event_format: FormatReport | None = None  # a recognised vendor export
    notes: list[str] = field(default_factory=list)  # how the data was read (not warnings)

    @property
    def has_values(self) -> bool:
        return bool(self.event_columns and self.event_columns.value)


def file_sha256(path: str | Path) -> str:
    """Content hash of a file (or of every data file in a glob or folder, in name order; a
    folder's bookkeeping files such as _SUCCESS and .crc are not data)."""
    h = hashlib.sha256()
    pattern = str(path)
    folder = Path(pattern).is_dir()
    if folder:
        pattern = str(Path(pattern) / "**" / "*")
    paths = sorted(glob.glob(pattern, recursive=True)) if any(c in pattern for c in "*?[") \
        else [pattern]  # fmt: skip
    paths = [p for p in paths if Path(p).is_file()]
    if folder:
        paths = [p for p in paths if p.lower().endswith(sources.FILE_SUFFIXES)]
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def load_inputs(
    events: str | None = None,
    users: str | pd.DataFrame | None = None,
    *,
    events_table: str | None = None,
    users_table: str | None = None,
    event_columns: dict | None = None,
    user_columns: dict | None = None,
    events_label: str | None = None,
    users_label: str | None = None,
    event_format: str | None = None,
    progress: Progress | None = None,
    recorded_columns: dict | None = None,
) -> LoadedData:
    """Read and validate an event log (file, glob or engine source) and/or a users table.

    events: a file path/glob, or a source string (duckdb:///…, spark://…, sc://…) with
    events_table naming the table. users: a file path, a DataFrame, or (with a database or Spark
    source) None plus users_table. event_format: a vendor export ('amplitude', 'mixpanel',
    'posthog', 'segment', 'ga4'), 'plain' for none, or None to recognise it from the columns.
    Explicit column mappings override recognised names (after a vendor export is mapped).
    recorded_columns: a decision's fingerprint ({"events": {"columns": …}, "users": …}):
    newer data is read with the decision's mapping where its columns are still there
    (re-validation), then explicit mappings on top.
    """
    say = progress or (lambda _m, _f: None)
    if events is None and users is None and users_table is None:
        raise InputError("Nothing to analyse: give an event log, a users table, or both.")
    fingerprint: dict = {}
    source = std = check = cols = report = None
    counts: dict[str, int] = {}
    warnings: list[str] = []
    if events is not None:
        from .eventlog import read_event_log

        say("Opening the event log", 0.02)
        source = sources.parse_source(events)
        label = sources.source_label(source, events_table, events_label)
        with sources.reading(source, label):
            report, read_warnings, cols, std, check = read_event_log(
                source, events_table, label, event_format, event_columns, say,
                recorded=((recorded_columns or {}).get("events") or {}).get("columns"),
            )  # fmt: skip
        has_tail = getattr(check, "n_event_types", 0) > len(check.event_counts)
        std, check.event_counts, name_warnings = names.clean_event_names(
            std, check.event_counts, label, has_tail
        )
        counts = check.event_counts
        warnings += read_warnings + name_warnings + check.warnings
        fingerprint["events"] = _events_fingerprint(source, events_table, check, counts, report)
        fingerprint["events"]["columns"] = {k: v for k, v in asdict(cols).items() if v}
    users_obj = None
    if users is not None or users_table is not None:
        say("Reading the users table", 0.08)
        # ids as written in the file, unless the event log holds them as numbers too
        as_written = check is None or not check.numeric_user_ids
        recorded = ((recorded_columns or {}).get("users") or {}).get("columns")
        users_obj = _load_users(
            users, users_table, source, users_label, user_columns, as_written, recorded
        )
        fingerprint["users"] = _users_fingerprint(users, users_table, users_obj)
        fingerprint["users"]["columns"] = recorded_user_columns(users_obj.columns)
        warnings += users_obj.notes
    return LoadedData(
        events=std,
        check=check,
        event_columns=cols,
        event_counts=counts,
        users=users_obj,
        source=source,
        fingerprint=fingerprint,
        warnings=warnings,
        event_format=report,
        notes=report.sentences() if report else [],
    )


def recorded_user_columns(cols) -> dict:
    """The users table's mapping as the record keeps it (roles, unit), for re-validation."""
    out = dict(cols.roles())
    if cols.duration_unit:
        out["duration_unit"] = cols.duration_unit
    return out


def _load_users(users, users_table, source, label, user_columns, as_written=True,
                recorded=None) -> UsersTable:  # fmt: skip
    """The users table from a frame, a file or an engine table, with clean column names; a
    CSV's user ids as written in it (`ids_as_written`) when `as_written`."""
    sheet: list[str] = []  # which sheet of a workbook was read
    if isinstance(users, pd.DataFrame):
        df, label = users, redact_secrets(label or "users")
    elif users is not None:
        label = redact_secrets(label or Path(users).name)
        df, sheet = read_users_file(users, label, user_columns, recorded)
        workbook = excel.is_workbook(users)
        as_written = as_written and not workbook  # a workbook's cells, not CSV text
    else:
        if source is None or source.kind == "file":
            raise InputError(
                "A users table name needs a database or Spark source to read it from.",
                cli="Give one with --source.",
                app="Connect to DuckDB or Spark on the Data page first.",
            )
        label = redact_secrets(label or users_table)
        con = sources.connect(source)
        df = sources.open_table(con, source, users_table, label).to_pandas()
    df, renamed = names.clean_frame_columns(df, label)
    explicit = with_recorded(user_columns, recorded, list(df.columns))
    cols = recognise_user_columns(df, **explicit)
    if as_written and users is not None and not isinstance(users, pd.DataFrame) and cols.user in df:
        df = ids_as_written(df, users, cols.user)
    table = prepare_users(df, cols, label)
    table.notes[:0] = sheet + renamed
    return table


def read_users_file(
    path: str | Path, label: str, user_columns: dict | None = None, recorded: dict | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """A users file as a frame, with notes on how it was read (a workbook's sheet, a file
    without a header). The app's mapping step reads it here too, so the columns it offers
    are the ones the analysis reads."""
    df = read_table(path, label)
    if excel.is_workbook(path):
        return df, excel.sheet_notes(path, label)
    notes = []
    if not str(path).lower().endswith((".parquet", ".pq")):
        _, skip, above = exportrows.lines_above_header(path)
        notes += [exportrows.above_header_note(label, above, skip)] if skip else []
    if _first_line_is_a_user(df, user_columns, recorded):
        df = read_table(path, label, header=False)
        notes.append(headerless.headerless_note(df, label))
    summary = exportrows.totals_rows(df)
    if summary:  # a report's totals row is not a user
        notes.append(exportrows.totals_note(label, summary))
        df = df.drop(index=df.index[list(summary)]).reset_index(drop=True)
    return df, notes


def _first_line_is_a_user(df: pd.DataFrame, user_columns, recorded) -> bool:
    """A CSV read with a header that is a line of data (`headerless.frame_header_is_data`)
    and no user column among those names: read it again without a header. A table whose
    user column is found keeps its header, even with columns named 2024 and 2025."""
    if not headerless.frame_header_is_data(df):
        return False
    explicit = with_recorded(user_columns, recorded, list(df.columns))
    return recognise_user_columns(df, **explicit).user not in df.columns


def _events_fingerprint(source, table, check: EventCheck, counts, report=None) -> dict:
    """What was read, for the record: engine, credential-free names, sizes, dates, hashes."""
    fp = {
        "engine": source.engine,
        "source": source.describe(),
        "table": redact_secrets(table) if table else table,
        "rows": check.n_rows,
        "users": check.n_users,
        "event_types": check.n_event_types,
        "min_ts": check.min_ts.isoformat() if check.min_ts is not None else None,
        "max_ts": check.max_ts.isoformat() if check.max_ts is not None else None,
    }
    if report is not None:
        fp["format"] = report.name
        fp["read_as"] = " ".join(report.sentences())
    if source.kind == "file":
        fp["sha256"] = file_sha256(source.location)
    return fp


def _users_fingerprint(users, users_table, table: UsersTable) -> dict:
    shown = redact_secrets(users_table) if users_table else users_table
    fp = {"label": redact_secrets(table.label), "rows": len(table.frame), "table": shown}
    if isinstance(users, (str, Path)):
        fp["sha256"] = file_sha256(users)
    elif isinstance(users, pd.DataFrame):
        fp["sha256"] = hashlib.sha256(
            pd.util.hash_pandas_object(users, index=False).to_numpy().tobytes()
        ).hexdigest()
    return fp


def resolve_revenue_event(loaded: LoadedData, settings: AnalysisSettings) -> str | None:
    """The revenue event: the one asked for, else a payment-like event when values exist."""
    if settings.revenue_event:
        return settings.revenue_event
    if settings.revenue_col or not loaded.has_values:
        return None
    if loaded.users is not None and loaded.users.columns.revenue:
        return None
    for name in REVENUE_EVENT_NAMES:
        if name in loaded.event_counts:
            return name
    return None


def input_labels(loaded: LoadedData) -> str:
    """The input files' names, for messages about the data as a whole."""
    names = [x.label for x in (loaded.check, loaded.users) if x is not None]
    return " + ".join(names) or "data"
