"""An event log as the engine holds it: standard columns (user_id, event, ts, value) and one grouped
validation scan that counts rows per event type, missing values and unparsable timestamps.

Everything is an Ibis expression, so the same code runs inside DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from ..errors import InputError
from . import rollup
from .calendar import (
    DAY,
    NOT_BEFORE_SEC,
    PER_SECOND,
    READING_WORDS,
    SERIAL_OF_1970,
    YYYYMMDD,
    time_reading,
)
from .columns import EventColumns, relative_time_problems
from .formats import epoch_to_timestamp
from .textvalues import with_text_numbers

MAX_EVENT_NAMES = 1000  # distinct names brought into memory; the long tail stays in the engine
PLAUSIBLE_QUANTILE = 0.999  # "the bulk of the data": events before this quantile of time
FAR_MARGIN_DAYS = 30  # ... and events this long after it (at least) are still plausible
FAR_MARGIN_SHARE = 0.25  # ... or this share of the bulk's span, if longer


@dataclass
class EventCheck:
    """What was read from an event log, before any filtering.

    event_counts holds the `MAX_EVENT_NAMES` most frequent names (rows each); `n_event_types`
    counts every distinct name, and `tail_types` / `tail_rows` what the long tail beyond the
    kept names holds (it stays in the engine). `plausible_end` is the first instant (UTC) after
    which events are implausibly late (after today, or far beyond the bulk of the data,
    METHODS §1.1); `n_implausible` events lie at or after it and are dropped. `max_ts` is the
    latest *plausible* timestamp: the default as-of date.
    """

    label: str
    n_rows: int
    n_users: int | None  # counted from the aggregated cells (exact), None until then
    min_ts: pd.Timestamp | None
    max_ts: pd.Timestamp | None
    dropped_missing: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    n_event_types: int = 0
    tail_types: int = 0
    tail_rows: int = 0
    plausible_end: pd.Timestamp | None = None
    n_implausible: int = 0
    latest_ts: pd.Timestamp | None = None  # the latest timestamp read, plausible or not
    # every timestamp is midnight: the log holds dates, not times (exact: a day's latest event
    # at midnight means all of that day's are)
    dates_only: bool = False
    numeric_user_ids: bool = False  # the log stores user ids as numbers (000123 is 123 there)


class BadTimestamps(InputError):
    """Text timestamps the engine's cast cannot read (`timestamps.repair_text_timestamps` may
    still read them in another format)."""


def standard_events(
    table: ibis.Table, cols: EventColumns, label: str, notes: list[str] | None = None
) -> ibis.Table:
    """The log as user_id (string), event (string), ts (timestamp), value (float).

    Text timestamps are parsed with try_cast so that bad values can be counted, not crash; only
    then is the original text kept (column raw_ts) for the error message. Numeric timestamps
    are read as `_epoch_to_timestamp` says, and text values with currency symbols or
    separators as `textvalues.with_text_numbers` says; how, when it is not plain, goes into
    `notes`.
    """
    text_value = bool(cols.value) and table[cols.value].type().is_string()
    value = table[cols.value] if cols.value else ibis.literal(None, "float64")
    if text_value:  # '$49.00', '49,00': read by the users table's rule, joined by text
        table, value, value_note = with_text_numbers(table, cols.value, label)
        if value_note and notes is not None:
            notes.append(value_note)
    ts = table[cols.timestamp]
    text = ts.type().is_string()
    if text:
        ts = text_times(table, cols.timestamp, label)
    elif ts.type().is_date():
        ts = ts.cast("timestamp")
    elif ts.type().is_numeric():
        ts, reading = _epoch_to_timestamp(table, cols.timestamp, label)
        if reading and notes is not None:
            notes.append(reading)
    elif not ts.type().is_timestamp():
        raise InputError(f"{label}: column '{cols.timestamp}' ({ts.type()}) is not a time.")
    columns = {
        "user_id": user_id_text(table[cols.user]),
        "event": table[cols.event].cast("string")
        if cols.event
        else ibis.literal(cols.one_event, "string"),
        "ts": ts,
        "value": value.cast("float64"),
    }
    if text:
        columns["raw_ts"] = table[cols.timestamp]
    if cols.count:  # a roll-up: its rows are expanded into events next (`rollup.expand`)
        columns[rollup.N] = table[cols.count]
    if text_value:
        columns["raw_value"] = table[cols.value]  # to count and show values that are not numbers
    return table.select(**columns)


#: A text time that says its zone: 'Z', an offset ('+01:00', '-0530', '+01') or a zone's name
#: ('UTC', 'America/New_York') at its end.
_ZONED = re.compile(
    r"\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:\s*(?P<zone>Z|[+-]\d\d(?::?\d\d)?)"
    r"|\s+(?!(?i:am|pm)\b)(?P<name>[A-Za-z]{3,5}|[A-Za-z_]+/[A-Za-z_]+))\s*$"
)
#: Zones the plain cast reads right: UTC itself.
_UTC = frozenset({"Z", "UTC", "GMT", "+00:00", "+0000", "+00", "-00:00", "-0000", "-00"})


def zone_of(value: str) -> tuple[str, bool] | None:
    """The zone a text time ends in, other than UTC, and whether it is a zone's name."""
    m = _ZONED.search(value)
    zone = m and (m.group("zone") or m.group("name"))
    return None if not zone or zone in _UTC else (zone, bool(m.group("name")))


def says_other_zone(value: str) -> bool:
    """A text time that ends in a zone other than UTC: an offset or a zone's name."""
    return zone_of(value) is not None


ZONE_SAMPLE = 5000


def text_times(table: ibis.Table, name: str, label: str) -> ibis.Value:
    """Text times as UTC timestamps. DuckDB's cast to TIMESTAMP drops a UTC offset
    ('…T01:00:00+01:00' read as 01:00, not 00:00 UTC), so when the column's first values say
    a zone other than UTC the cast goes through TIMESTAMPTZ, which applies it (naive values:
    UTC, the session's zone). That cast is ~7× slower, so a column of naive or UTC times
    keeps the plain one."""
    col = table[name]
    first = table.select(v=col).filter(col.notnull()).limit(ZONE_SAMPLE).to_pandas()["v"]
    first = first.astype(str)
    zones = first.map(zone_of)
    if zones.isna().all():
        return col.try_cast("timestamp")
    named = first[zones.map(lambda z: bool(z and z[1]))]
    if len(named) and len(named) < len(first):  # DuckDB 1.5 reads a naive time after a
        raise InputError(  # named zone in that zone, so such a column is not read silently
            f"{label}: column '{name}' mixes times written with a zone's name (e.g. "
            f"'{named.iloc[0]}') and times without one. Write every time with its UTC offset "
            "(2024-01-01T10:00:00-05:00), or every one in UTC."
        )
    return col.try_cast("timestamp('UTC')").cast("timestamp")


def user_id_text(col: ibis.Value) -> ibis.Value:
    """User ids as text, the users table's rule (`users.user_ids_as_text`): a whole number
    stored as a float (42.0, as pandas writes an id column with gaps) is '42', so that the
    event log and the users table name a user alike."""
    if col.type().is_floating() or col.type().is_decimal():
        whole = col == col.floor()
        return ibis.ifelse(whole, col.cast("int64").cast("string"), col.cast("string"))
    return col.cast("string")


def _epoch_to_timestamp(table: ibis.Table, name: str, label: str) -> tuple[ibis.Value, str | None]:
    """Numbers as times, read as `calendar.time_reading` says from one summary query: dates
    written as yyyymmdd, spreadsheet serial dates, or Unix time in the unit their size says (s,
    ms, µs or ns since 1970), kept to whole seconds: the one unit every engine converts (Ibis'
    Spark backend only converts seconds), and days since signup count whole seconds. With the
    note that says how they were read (none for plain Unix seconds); numbers that are none of
    these (all of them in 1970–1972 as seconds) are refused, not read as 1970.

    Spark reads Parquet nanosecond timestamps as integers (spark.sql.legacy.parquet.nanosAsLong),
    so this also makes such files portable.
    """
    col = table[name]
    x = col.cast("float64")
    month, day = (x / 100).floor() % 100, x % 100
    date_like = (x >= YYYYMMDD[0]) & (x <= YYYYMMDD[1]) & (x == x.floor()) & (month >= 1)
    date_like &= (month <= 12) & (day >= 1) & (day <= 31)
    summary = table.aggregate(
        low=x.min(), high=x.max(), n=x.count(), n_dates=date_like.cast("int64").sum()
    )
    row = summary.to_pandas().iloc[0]
    if not row["n"]:
        return epoch_to_timestamp(col, "s"), None
    low, high = float(row["low"]), float(row["high"])
    how = time_reading(low, high, int(row["n_dates"]) == int(row["n"]))
    if how == "yyyymmdd":
        # as ISO text, so that a day the month lacks (20250230) is no date, not an error
        text = x.cast("int64").cast("string")
        iso = text.substr(0, 4) + "-" + text.substr(4, 2) + "-" + text.substr(6, 2)
        ts = iso.try_cast("date").cast("timestamp")
    elif how == "serial":
        ts = ((x - SERIAL_OF_1970) * DAY).round().cast("int64").as_timestamp("s")
    else:
        if max(abs(low), abs(high)) / PER_SECOND[how] < NOT_BEFORE_SEC:
            raise InputError(_not_times_message(name, label, low, high))
        ts = epoch_to_timestamp(col, how)
    if how == "s":
        return ts, None
    first, last = (_reading_day(v, how) for v in (low, high))
    return ts, f"{label}: column '{name}' holds {READING_WORDS[how]}, read as {first} to {last}."


def _reading_day(v: float, how: str) -> str:
    if how == "yyyymmdd":
        return f"{int(v) // 10_000:04d}-{int(v) // 100 % 100:02d}-{int(v) % 100:02d}"
    secs = (v - SERIAL_OF_1970) * DAY if how == "serial" else v / PER_SECOND[how]
    return f"{pd.Timestamp(secs, unit='s'):%Y-%m-%d}"


def _not_times_message(name: str, label: str, low: float, high: float) -> str:
    if relative := relative_time_problems([name], label):
        return relative[0]  # 'days_since_prior_order': why no unit would make it a time
    return (
        f"{label}: column '{name}' holds numbers from {low:g} to {high:g}, which are not times: "
        "as Unix seconds they would all fall in 1970–1972, and they are neither dates written "
        "as yyyymmdd (20250301) nor spreadsheet serial dates (45658). Map the column that holds "
        "each event's date and time, or export it as text (2025-03-01 14:30:00)."
    )


def epoch_sec(ts: ibis.Value) -> ibis.Value:
    """Whole seconds since 1970 (floored: DuckDB's epoch() keeps fractions, Spark's drops them)."""
    return ts.epoch_seconds().floor().cast("int64")


def check_events(
    std: ibis.Table, label: str, row_numbers: bool = True, today: dt.date | None = None
) -> EventCheck:
    """Rows per event type, missing and unparsable values, date range — one grouped scan.

    The scan groups by (event, day since 1970), so the engine holds a small table from which
    come the rows per event type (only the `MAX_EVENT_NAMES` most frequent names come into
    memory; the rest are counted), and the rows per day that place the plausible end of the
    data (`plausible_end`, METHODS §1.1). Unparsable timestamps stop the analysis with examples
    (only text timestamps can be unparsable). Users are counted later, from the cells.
    """
    missing = std.user_id.isnull() | std.ts.isnull()
    # per row only the date and the extremes of the timestamp; seconds and day numbers are
    # taken of the groups (floored seconds are monotone: the same figures, at 125M events
    # 1.3 s less than the epoch arithmetic on every row)
    aggs = {"n": std.count(), "n_missing": missing.sum(), "min_ts": std.ts.min(),
            "max_ts": std.ts.max(), "n_value": std.value.count()}  # fmt: skip
    # (counting values parses that column too: a value that does not fit the type the engine
    # guessed from the first rows is found here, inside `sources.reading`, and read again)
    text_ts = "raw_ts" in std.columns
    if text_ts:
        aggs["n_bad_ts"] = unread_timestamps(std).sum()
    if "raw_value" in std.columns:
        aggs["n_bad_value"] = _bad_value(std).sum()
    grouped = std.group_by(event=std.event, date=std.ts.date()).aggregate(**aggs)
    grouped = grouped.mutate(
        day=(epoch_sec(grouped.date.cast("timestamp")) / DAY).floor().cast("int64"),
        min_sec=epoch_sec(grouped.min_ts),
        max_sec=epoch_sec(grouped.max_ts),
    ).cache()
    try:
        return _check_from_groups(std, grouped, label, row_numbers, text_ts, today)
    finally:
        grouped.release()


def _check_from_groups(std, grouped, label, row_numbers, text_ts, today) -> EventCheck:
    """EventCheck from the (event, day) groups held in the engine (see check_events)."""
    totals = {
        "n": grouped.n.sum(),
        "n_missing": grouped.n_missing.sum(),
        "n_null_event": (grouped.n - grouped.n_missing).sum(where=grouped.event.isnull()),
    }
    if text_ts:
        totals["n_bad_ts"] = grouped.n_bad_ts.sum()
    if "raw_value" in std.columns:
        totals["n_bad_value"] = grouped.n_bad_value.sum()
    t = grouped.aggregate(**totals).to_pandas().iloc[0]
    n_rows = _int(t["n"])
    if n_rows == 0:
        raise InputError(f"{label}: the event log has no rows.")
    n_bad = _int(t["n_bad_ts"]) if text_ts else 0
    if n_bad:
        raise BadTimestamps(_bad_timestamp_message(std, label, n_bad, row_numbers))
    n_missing = _int(t["n_missing"]) + _int(t["n_null_event"])
    if n_missing == n_rows:
        raise InputError(f"{label}: every row lacks a user id, event name or timestamp.")
    complete = grouped.filter(grouped.event.notnull() & grouped.day.notnull())
    complete = complete.mutate(k=complete.n - complete.n_missing)
    complete = complete.filter(complete.k > 0)
    per_event = complete.group_by("event").aggregate(n=complete.k.sum())
    top = per_event.order_by([ibis.desc("n"), "event"]).limit(MAX_EVENT_NAMES).to_pandas()
    n_types = _int(per_event.count().to_pandas())
    days = complete.group_by("day").aggregate(
        n=complete.k.sum(), min_sec=complete.min_sec.min(), max_sec=complete.max_sec.max()
    )
    days = days.order_by("day").to_pandas()
    end_day, why = plausible_end_day(days["day"].to_numpy(), days["n"].to_numpy(), today)
    plausible = days["day"] < end_day
    if not plausible.any():
        raise InputError(
            f"{label}: every event is dated {why.split(' (')[0]} (the earliest is "
            f"{_sec_ts(days['min_sec'].min()):%Y-%m-%d}): check the timestamp column and the "
            "computer's date."
        )
    counts = dict(zip(top["event"].astype(str), top["n"].astype(int), strict=True))
    check = EventCheck(
        label=label,
        n_rows=n_rows,
        n_users=None,
        min_ts=_sec_ts(days["min_sec"].min()),
        max_ts=_sec_ts(days.loc[plausible, "max_sec"].max()),
        dropped_missing=n_missing,
        event_counts=counts,
        n_event_types=n_types,
        tail_types=max(n_types - len(counts), 0),
        tail_rows=int(n_rows - n_missing - sum(counts.values())),
        plausible_end=pd.Timestamp(int(end_day) * DAY, unit="s"),
        n_implausible=int(days.loc[~plausible, "n"].sum()),
        latest_ts=_sec_ts(days["max_sec"].max()),
        dates_only=bool((days["max_sec"].to_numpy(float) % DAY == 0).all()),
    )
    _add_check_warnings(check, why)
    n_bad_value = _int(t["n_bad_value"]) if "raw_value" in std.columns else 0
    if n_bad_value:
        check.warnings.append(_bad_value_words(std, label, n_bad_value))
    return check


def unread_timestamps(std: ibis.Table) -> ibis.Value:
    """Rows whose timestamp is text the cast could not read (blank cells are missing, not
    unreadable)."""
    return std.ts.isnull() & std.raw_ts.notnull() & (std.raw_ts.strip() != "")


def _bad_value(std: ibis.Table) -> ibis.Value:
    """Rows whose value cell holds text that is not a number ('$12.50', 'n/a')."""
    return std.value.isnull() & std.raw_value.notnull() & (std.raw_value.strip() != "")


def _bad_value_words(std: ibis.Table, label: str, n_bad: int) -> str:
    """A warning with examples: such values count as no value, so revenue read from them is
    missing, which would understate every revenue figure without a word."""
    sample = std.filter(_bad_value(std)).select("event", "raw_value").limit(3).to_pandas()
    examples = ", ".join(f"{v!r} ({e})" for e, v in zip(sample["event"], sample["raw_value"],
                                                        strict=True))  # fmt: skip
    return (
        f"{label}: {n_bad:,} values in the value column are not numbers (e.g. {examples}); "
        "they count as no value, so any revenue in them is missing. Export the value column "
        "as numbers written in one style (1234.50, or 1.234,50 throughout)."
    )


def plausible_end_day(day: np.ndarray, n: np.ndarray, today: dt.date | None = None):
    """The first day (since 1970, UTC) whose events are implausibly late, and why (METHODS §1.1).

    Late means after the present (the machine's today, UTC) or far beyond the bulk of the data:
    more than max(30 days, 25% of the bulk's span) after the day by which 99.9% of events
    happened (the bulk's span runs from the 0.1% to the 99.9% day). One corrupt timestamp
    (an event dated 2099) then can neither move the default as-of date nor make every user
    look silent since then. day must be ascending; n counts events per day.
    """
    today = today or dt.datetime.now(dt.timezone.utc).date()
    present_end = (today - dt.date(1970, 1, 1)).days + 1
    if day.size == 0:
        return present_end, "after today"
    share = np.cumsum(n) / n.sum()
    lo = int(day[np.searchsorted(share, 1 - PLAUSIBLE_QUANTILE)])
    hi = int(day[min(np.searchsorted(share, PLAUSIBLE_QUANTILE), day.size - 1)])
    margin = max(FAR_MARGIN_DAYS, int(np.ceil(FAR_MARGIN_SHARE * (hi - lo))))
    far_end = hi + 1 + margin
    if far_end < present_end:
        bulk = dt.date(1970, 1, 1) + dt.timedelta(days=hi)
        return far_end, f"more than {margin} days after {bulk}, by which 99.9% of events happened"
    return present_end, f"after today ({today})"


def _add_check_warnings(check: EventCheck, why: str | None) -> None:
    label = check.label
    if check.dropped_missing:
        check.warnings.append(
            f"{label}: {check.dropped_missing:,} rows without a user id, event name or timestamp "
            "were dropped."
        )
    if check.n_implausible:
        check.warnings.append(
            f"{label}: {check.n_implausible:,} events dated on or after "
            f"{check.plausible_end:%Y-%m-%d} ({why}; the latest is "
            f"{check.latest_ts:%Y-%m-%d}) look corrupt and were dropped; the data's end is taken "
            f"as {check.max_ts:%Y-%m-%d}. Fix the timestamps at the source, or set the as-of date."
        )
    if check.tail_types:
        listed = len(check.event_counts)
        check.warnings.append(
            f"{label}: {check.n_event_types:,} distinct event names; the {listed:,} most frequent "
            f"are listed, the other {check.tail_types:,} ({check.tail_rows:,} rows) count as "
            "activity but are not read one by one."
        )


def _int(value) -> int:
    """An engine's count or sum as int; a sum over no rows comes back as NULL (None or NaN)."""
    return 0 if value is None or pd.isna(value) else int(value)


def _sec_ts(value) -> pd.Timestamp | None:
    return pd.Timestamp(int(value), unit="s") if pd.notna(value) else None


def _looks_like_a_column_name(value) -> bool:
    """'timestamp', 'event_time', 'created_at': a time column's name, not a time."""
    text = str(value).strip().lower()
    words = ("time", "date", "ts", "stamp", "created", "occurred", "when")
    return bool(re.fullmatch(r"[a-z][a-z0-9_]*", text)) and any(w in text for w in words)


def _bad_timestamp_message(std, label: str, n_bad: int, row_numbers: bool) -> str:
    numbered = std.mutate(_row=ibis.row_number() + 1) if row_numbers else std
    bad = numbered.filter(unread_timestamps(numbered))
    sample = bad.limit(5).to_pandas()
    values = ", ".join(repr(v) for v in sample["raw_ts"].tolist()[:3])
    where = ""
    if row_numbers and "_row" in sample:
        rows = ", ".join(str(int(r)) for r in sample["_row"].tolist())
        where = f" (rows {rows}{', …' if n_bad > len(sample) else ''})"
    where = where.replace("(rows ", "(row ") if n_bad == 1 else where
    header = [v for v in sample["raw_ts"].tolist() if _looks_like_a_column_name(v)]
    hint = (
        f" {header[0]!r} looks like the header line repeated (files joined together?): remove "
        "those lines, or load the files as a folder or glob instead."
        if header
        else ""
    )
    return (
        f"{label}: the timestamp column has {n_bad:,} value{'s' if n_bad != 1 else ''} that "
        f"{'are' if n_bad != 1 else 'is'} not {'dates' if n_bad != 1 else 'a date'}{where}; "
        f"e.g. {values}. Expected e.g. 2025-03-01 14:30:00 or 2025-03-01T14:30:00Z.{hint}"
    )
