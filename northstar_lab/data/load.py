"""Read and validate the inputs of an analysis: an event log (file, glob or engine table) and/or a
one-row-per-user table. `load_inputs` collects problems and fingerprints the data; nothing big
comes into Python (the events stay an Ibis table in their engine).
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pandas as pd

from ..errors import InputError
from ..settings import AnalysisSettings
from . import sources
from .columns import EventColumns
from .events import EventCheck, check_events, standard_events
from .users import UsersTable, prepare_users, read_table, recognise_user_columns

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

    @property
    def has_values(self) -> bool:
        return bool(self.event_columns and self.event_columns.value)


def file_sha256(path: str | Path) -> str:
    """Content hash of a file (or of every file in a glob, in name order)."""
    h = hashlib.sha256()
    pattern = str(path)
    if Path(pattern).is_dir():
        pattern = str(Path(pattern) / "**" / "*.parquet")
    paths = sorted(glob.glob(pattern, recursive=True)) if any(c in pattern for c in "*?[") \
        else [pattern]  # fmt: skip
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
    progress: Progress | None = None,
) -> LoadedData:
    """Read and validate an event log (file, glob or engine source) and/or a users table.

    events: a file path/glob, or a source string (duckdb:///…, spark://…, sc://…) with
    events_table naming the table. users: a file path, a DataFrame, or (with a database or Spark
    source) None plus users_table. Explicit column mappings override recognised names.
    """
    say = progress or (lambda _m, _f: None)
    if events is None and users is None and users_table is None:
        raise InputError("Nothing to analyse: give an event log, a users table, or both.")
    fingerprint: dict = {}
    source = std = check = cols = None
    counts: dict[str, int] = {}
    warnings: list[str] = []
    if events is not None:
        say("Opening the event log", 0.02)
        source = sources.parse_source(events)
        label = events_label or (
            Path(source.location).name if source.kind == "file" else (events_table or "events")
        )
        con = sources.connect(source)
        table = sources.open_table(con, source, events_table, label)
        cols = EventColumns.recognise(list(table.columns), label, **(event_columns or {}))
        std = standard_events(table, cols, label)
        say("Validating the event log", 0.05)
        check = check_events(std, label, row_numbers=source.engine == "duckdb")
        counts = check.event_counts
        warnings += check.warnings
        fingerprint["events"] = _events_fingerprint(source, events_table, check, counts)
    users_obj = None
    if users is not None or users_table is not None:
        say("Reading the users table", 0.08)
        users_obj = _load_users(users, users_table, source, users_label, user_columns)
        fingerprint["users"] = _users_fingerprint(users, users_table, users_obj)
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
    )


def _load_users(users, users_table, source, label, user_columns) -> UsersTable:
    if isinstance(users, pd.DataFrame):
        df, label = users, label or "users"
    elif users is not None:
        label = label or Path(users).name
        df = read_table(users, label)
    else:
        if source is None or source.kind == "file":
            raise InputError("A users table name needs a database or Spark source (--source).")
        con = sources.connect(source)
        df = sources.open_table(con, source, users_table, users_table).to_pandas()
        label = label or users_table
    explicit = dict(user_columns or {})
    cols = recognise_user_columns(df, **explicit)
    return prepare_users(df, cols, label)


def _events_fingerprint(source, table, check: EventCheck, counts) -> dict:
    fp = {
        "engine": source.engine,
        "source": source.describe(),
        "table": table,
        "rows": check.n_rows,
        "users": check.n_users,
        "event_types": check.n_event_types,
        "min_ts": check.min_ts.isoformat() if check.min_ts is not None else None,
        "max_ts": check.max_ts.isoformat() if check.max_ts is not None else None,
    }
    if source.kind == "file":
        fp["sha256"] = file_sha256(source.location)
    return fp


def _users_fingerprint(users, users_table, table: UsersTable) -> dict:
    fp = {"label": table.label, "rows": len(table.frame), "table": users_table}
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
