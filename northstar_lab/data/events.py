"""An event log as the engine holds it: standard columns (user_id, event, ts, value) and one grouped
validation scan that counts rows per event type, missing values and unparsable timestamps.

Everything is an Ibis expression, so the same code runs inside DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import pandas as pd

from ..errors import InputError
from .columns import EventColumns
from .formats import epoch_to_timestamp, epoch_unit

DAY = 86_400


@dataclass
class EventCheck:
    """What was read from an event log, before any filtering."""

    label: str
    n_rows: int
    n_users: int | None  # counted from the aggregated cells (exact), None until then
    min_ts: pd.Timestamp | None
    max_ts: pd.Timestamp | None
    dropped_missing: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def standard_events(table: ibis.Table, cols: EventColumns, label: str) -> ibis.Table:
    """The log as user_id (string), event (string), ts (timestamp), value (float).

    Text timestamps are parsed with try_cast so that bad values can be counted, not crash; only
    then is the original text kept (column raw_ts) for the error message.
    """
    ts = table[cols.timestamp]
    text = ts.type().is_string()
    if text:
        ts = ts.try_cast("timestamp")
    elif ts.type().is_date():
        ts = ts.cast("timestamp")
    elif ts.type().is_numeric():
        ts = _epoch_to_timestamp(ts)
    elif not ts.type().is_timestamp():
        raise InputError(f"{label}: column '{cols.timestamp}' ({ts.type()}) is not a time.")
    value = table[cols.value] if cols.value else ibis.literal(None, "float64")
    if cols.value and table[cols.value].type().is_string():
        value = value.try_cast("float64")
    columns = {
        "user_id": table[cols.user].cast("string"),
        "event": table[cols.event].cast("string"),
        "ts": ts,
        "value": value.cast("float64"),
    }
    if text:
        columns["raw_ts"] = table[cols.timestamp]
    return table.select(**columns)


def _epoch_to_timestamp(col: ibis.Value) -> ibis.Value:
    """Numbers as Unix time, the unit read from their size (s, ms, µs or ns since 1970; the
    rule is `formats.epoch_unit`).

    Spark reads Parquet nanosecond timestamps as integers (spark.sql.legacy.parquet.nanosAsLong),
    so this also makes such files portable.
    """
    biggest = col.abs().max().to_pandas()
    biggest = 0 if biggest is None or pd.isna(biggest) else float(biggest)
    return epoch_to_timestamp(col, epoch_unit(biggest))


def check_events(std: ibis.Table, label: str, row_numbers: bool = True) -> EventCheck:
    """Rows per event type, missing and unparsable values, date range — one grouped scan.

    Unparsable timestamps stop the analysis with examples (only text timestamps can be
    unparsable). The number of users is counted later, from the aggregated cells.
    """
    missing = std.user_id.isnull() | std.ts.isnull()
    aggs = {
        "n": std.count(),
        "n_missing": missing.sum(),
        "min_ts": std.ts.min(),
        "max_ts": std.ts.max(),
    }
    text_ts = "raw_ts" in std.columns
    if text_ts:
        bad_ts = std.ts.isnull() & std.raw_ts.notnull() & (std.raw_ts.strip() != "")
        aggs["n_bad_ts"] = bad_ts.sum()
    by_event = std.group_by("event").aggregate(**aggs).to_pandas()
    n_rows = int(by_event["n"].sum()) if len(by_event) else 0
    if n_rows == 0:
        raise InputError(f"{label}: the event log has no rows.")
    n_bad = int(by_event["n_bad_ts"].sum()) if text_ts else 0
    if n_bad:
        raise InputError(_bad_timestamp_message(std, bad_ts, label, n_bad, row_numbers))
    named = by_event[by_event["event"].notna()]
    null_event = by_event["event"].isna()
    complete = by_event["n"] - by_event["n_missing"]
    n_missing = int(by_event["n_missing"].sum() + complete[null_event].sum())
    counts = (named["n"] - named["n_missing"]).astype(int)
    order = counts.sort_values(ascending=False, kind="stable").index
    check = EventCheck(
        label=label,
        n_rows=n_rows,
        n_users=None,
        min_ts=_ts(by_event["min_ts"].min()),
        max_ts=_ts(by_event["max_ts"].max()),
        dropped_missing=n_missing,
        event_counts={str(named.loc[i, "event"]): int(counts[i]) for i in order if counts[i] > 0},
    )
    if n_missing == n_rows:
        raise InputError(f"{label}: every row lacks a user id, event name or timestamp.")
    if n_missing:
        check.warnings.append(
            f"{label}: {n_missing:,} rows without a user id, event name or timestamp were dropped."
        )
    return check


def _ts(value) -> pd.Timestamp | None:
    return pd.Timestamp(value) if pd.notna(value) else None


def _bad_timestamp_message(std, bad_ts, label: str, n_bad: int, row_numbers: bool) -> str:
    numbered = std.mutate(_row=ibis.row_number() + 1) if row_numbers else std
    bad = numbered.filter(
        bad_ts
        if not row_numbers
        else numbered.ts.isnull() & numbered.raw_ts.notnull() & (numbered.raw_ts.strip() != "")
    )
    sample = bad.limit(5).to_pandas()
    values = ", ".join(repr(v) for v in sample["raw_ts"].tolist()[:3])
    where = ""
    if row_numbers and "_row" in sample:
        rows = ", ".join(str(int(r)) for r in sample["_row"].tolist())
        where = f" (rows {rows}{', …' if n_bad > len(sample) else ''})"
    return (
        f"{label}: the timestamp column has {n_bad:,} values that are not dates{where}; "
        f"e.g. {values}. Expected e.g. 2025-03-01 14:30:00 or 2025-03-01T14:30:00Z."
    )


def as_of_end_sec(as_of: dt.date) -> int:
    """The as-of date is inclusive: the data ends at midnight after it (epoch seconds, UTC)."""
    return int((pd.Timestamp(as_of) + pd.Timedelta(days=1)).timestamp())
