"""A log rolled up per user, day and event ('user, date, event, count'): a warehouse's daily
activity table, or an export that counts instead of listing. Every figure here counts events,
so such a log was read as one event per row: a user who opened the app 40 times on a day
counted once (active days were right either way).

When the analyst says which column holds the events per row (`EventColumns.count`; never
guessed, since a 'count' beside a cart event can be items), each row becomes that many events
in the engine, before anything reads the log, so every figure (validation, cells, duplicates,
input metrics) counts them with no second rule:
- copy k of a row is at its time plus k microseconds, so copies are distinct events on the
  same day; a roll-up's time is a day or an hour, far from the next day's boundary;
- a row's value is the row's total (a day's revenue), shared equally by its copies, so sums
  are the row's values; two equal rows (a row exported twice) stay exact duplicates;
- a count of 0 is no event (a row of zeros in a daily table); a count that is missing,
  negative or not a whole number stops the analysis with examples, since no number of
  events can be taken from it;
- above MAX_EVENTS events in all, the log is refused: the copies are made by the engine, and
  a count column of seconds or bytes, mapped by mistake, would otherwise fill the disk.
DuckDB only: Spark would make the copies as well, but no test runs a roll-up there.
"""

from __future__ import annotations

import ibis

from ..errors import InputError

MAX_EVENTS = 2_000_000_000
N = "events_per_row"  # the standard log's column while the rows are expanded


def check_counts(table: ibis.Table, column: str, label: str, engine: str) -> tuple[int, int]:
    """(rows, events) of the roll-up; raises when the count column cannot be read as events
    per row."""
    if engine != "duckdb":
        raise InputError(
            f"{label}: a count column (events per row) is read by DuckDB. Give the roll-up as a "
            "file or a DuckDB table, or expand it to one row per event."
        )
    n = table[column]
    if not n.type().is_numeric():
        raise InputError(
            f"{label}: column '{column}' ({n.type()}) was given as the events per row, but it "
            "is not a number."
        )
    x = n.cast("float64")
    bad = x.isnull() | (x < 0) | (x != x.floor()) | x.isinf()
    t = table.aggregate(rows=table.count(), n_bad=bad.sum(), total=x.sum(where=~bad))
    t = t.to_pandas().iloc[0]
    n_bad = int(t["n_bad"] or 0)
    if n_bad:
        examples = table.filter(bad).select(v=n).limit(5).to_pandas()["v"].tolist()
        shown = ", ".join("empty" if v is None or v != v else repr(v) for v in examples)
        raise InputError(
            f"{label}: column '{column}' was given as the events per row, but {n_bad:,} rows "
            f"hold no whole number of events ≥ 0 (e.g. {shown}). Fill them in, or choose the "
            "column that counts the events."
        )
    total = int(t["total"] or 0)
    if total > MAX_EVENTS:
        raise InputError(
            f"{label}: column '{column}' adds up to {total:,} events, more than "
            f"{MAX_EVENTS:,} rows can be made from a roll-up. Check that it counts events (not "
            "seconds or bytes), or give the log as one row per event."
        )
    return int(t["rows"]), total


def expand(std: ibis.Table) -> ibis.Table:
    """The standard log with each row repeated `events_per_row` times (see the module)."""
    n = std[N].cast("int64")
    rows = std.filter(n > 0).mutate(share=1.0 / n)
    copies = rows.select(*[c for c in rows.columns if c != N], k=ibis.range(0, rows[N]).unnest())
    copies = copies.mutate(
        ts=copies.ts + copies.k.as_interval("us"), value=copies.value * copies.share
    )
    return copies.drop("k", "share")


def rollup_note(label: str, column: str, n_rows: int, n_events: int) -> str:
    return (
        f"{label}: each row counts as the number of events in column '{column}': {n_rows:,} "
        f"rows are {n_events:,} events."
    )
