"""The one pass over the raw log: each event joined to its user's signup and collapsed into a
cell (`daybits` gives the kinds), and the exact-duplicate check that needs the rows themselves.

Everything `aggregate` computes per user comes from these cells; this is the query that reads
the whole log with a join, so its number of groups is the cost (bench/README.md).
"""

from __future__ import annotations

import ibis
import pandas as pd

from . import daybits
from .calendar import DAY
from .daybits import AFTER_AS_OF, BEFORE_SIGNUP, DAYS, REVENUE, WINDOW


def kept_cells(cells: ibis.Table) -> ibis.Table:
    """The cells that count: on or after signup and before the as-of end."""
    return cells.filter(cells.kind <= REVENUE)


def cells(ev, signups, *, a_end: int, window_days: int, revenue_event, drop_duplicates):
    """Events collapsed to (uid, kind, event, slot) cells with n events, the sum of their
    values and the bits of their active days, materialised.

    This is the only full pass over the raw log: every per-user figure below is computed from
    these cells. Kinds (one rule, `_cell_rows`):
    - WINDOW: events in the observation window, per (user, event name, day block); bits say
      which of the block's days had that event;
    - REVENUE: the revenue event after the window, per (user, day): slot is the day;
    - DAYS: every other event that counts, per (user, day block): only the bits matter;
    - BEFORE_SIGNUP, AFTER_AS_OF: left-out events, one cell per user (counted only).
    Keeping a day block as bits instead of one cell per active day makes 70M cells ~20M at
    125M events. `.cache()` keeps the cells in the engine (a DuckDB temp table, a persisted
    Spark DataFrame). With drop_duplicates, the named rows are first grouped on the whole row
    (user, event, timestamp, value), so each counts once, and `dup` holds the copies dropped.
    """
    rows = cell_rows(ev, signups, a_end=a_end, window_days=window_days,
                      revenue_event=revenue_event)  # fmt: skip
    keys = ["uid", "kind", "event", "slot"]
    if not drop_duplicates:
        cells = rows.group_by(keys).aggregate(
            n=rows.count(), value=rows.value.sum(), bits=daybits.bit_or(rows.bits)
        )
        return cells.mutate(dup=ibis.literal(0, "int64")).cache()
    whole = rows.group_by([*keys, "bits", "ts_named", "value"]).aggregate(c=rows.count())
    named = whole.ts_named.notnull()
    n = named.ifelse(1, whole.c)
    cells = whole.group_by(keys).aggregate(
        n=n.sum(),
        value=(whole.value * n).sum(),
        bits=daybits.bit_or(whole.bits),
        dup=(whole.c - 1).sum(where=named),
    )
    return cells.cache()


def _with_signups(ev: ibis.Table, signups: ibis.Table) -> ibis.Table:
    """Each event with its user's integer key and signup: the one join with the raw log."""
    return ev.inner_join(signups.select("user_id", "uid", "signup_sec"), "user_id")


def day_since_signup(joined: ibis.Table) -> ibis.Value:
    """Whole days from the user's signup to the event (day 0 = the first 24 hours; negative
    before signup): the one day rule of every cell."""
    return ((joined.sec - joined.signup_sec) / DAY).floor().cast("int64")


def _is_revenue(t: ibis.Table, revenue_event) -> ibis.Value:
    return (t.event == revenue_event) if revenue_event else ibis.literal(False)


def cell_rows(ev, signups, *, a_end: int, window_days: int, revenue_event) -> ibis.Table:
    """The log joined to the signups, one row per event: uid, its cell (kind, event, slot,
    bits; see `_cells`), and the timestamp and value only where a figure needs them (events in
    the window and of the revenue event)."""
    joined = _with_signups(ev, signups)
    d = day_since_signup(joined)
    is_revenue = _is_revenue(joined, revenue_event)
    kind = (
        ibis.cases(
            (d < 0, BEFORE_SIGNUP),
            (joined.sec >= a_end, AFTER_AS_OF),
            (d < window_days, WINDOW),
            (is_revenue, REVENUE),
            else_=DAYS,
        )
        .cast("int8")
        .name("kind")
    )
    rows = joined.select(uid=joined.uid, d=d, kind=kind, event=joined.event,
                         ts=joined.ts, value=joined.value)  # fmt: skip
    named = (rows.kind == WINDOW) | (rows.kind == REVENUE)
    counted = rows.kind <= REVENUE
    slot = ibis.cases((rows.kind == REVENUE, rows.d), (counted, daybits.block_of(rows.d)), else_=0)
    return rows.select(
        uid=rows.uid,
        kind=rows.kind,
        event=named.ifelse(rows.event, ibis.null("string")),
        slot=slot.cast("int64"),
        bits=counted.ifelse(daybits.day_bit(rows.d), 0).cast("int64"),
        ts_named=named.ifelse(rows.ts, ibis.null("timestamp")),
        value=named.ifelse(rows.value, ibis.null("float64")),
    )


DUPLICATES_EXACT_UP_TO = 20_000_000  # events; above, duplicates are counted on a user sample


def duplicates(ev, signups, n_events: int, *, a_end: int, window_days: int, revenue_event):
    """Exact duplicate rows (same user, event, timestamp and value) among the events that
    count — in the window, or of the revenue event — on or after signup and before the as-of
    end: rows minus distinct rows, one grouped pass in the engine. After the window a
    duplicate changes nothing (a day is active or not), so those rows are not compared.

    Comparing every row costs ~3 passes over the log. Above DUPLICATES_EXACT_UP_TO events the
    rows of every k-th user (by uid, the same users on every engine) are compared instead, with
    k making the sample ~that size: (duplicates found × k, k). A user's copies all belong to
    that user, so the sample's count is exact for its users; METHODS §1.1 gives the error.
    """
    every = max(1, -(-int(n_events) // DUPLICATES_EXACT_UP_TO))
    if every > 1:
        signups = signups.filter(signups.uid % every == 0)
    rows = _named_rows(ev, signups, a_end=a_end, window_days=window_days,
                       revenue_event=revenue_event)  # fmt: skip
    whole = rows.group_by(["uid", "event", "ts", "value"]).aggregate(c=rows.count())
    found = engine_count(whole.aggregate(dup=(whole.c - 1).sum()).to_pandas().iloc[0]["dup"])
    return found * every, every


def _named_rows(ev, signups, *, a_end: int, window_days: int, revenue_event) -> ibis.Table:
    """The rows of `cell_rows` whose timestamp and value count (kinds WINDOW and REVENUE), as
    a filter on the join with only the columns compared: on or after signup, before the as-of
    end, and in the window or of the revenue event. Building every cell column first and
    filtering on one of them cost this pass 2–3 s at 125M events (bench/README.md)."""
    joined = _with_signups(ev, signups)
    d = day_since_signup(joined)
    named = (
        (d >= 0) & (joined.sec < a_end) & ((d < window_days) | _is_revenue(joined, revenue_event))
    )
    return joined.filter(named).select("uid", "event", "ts", "value")


def engine_count(value) -> int:
    """An engine's count or sum as int; a sum over no rows comes back as NULL (None or NaN)."""
    return 0 if value is None or pd.isna(value) else int(value)
