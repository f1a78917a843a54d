"""The event log as integer keys, joined to the users once, for everything the inputs analysis
counts in the engine (the later North Star, the experiments, the weekly series; METHODS §9).

Each of those used to join the raw log to its own table on the user id string and group on the
event name string: three joins of the whole log, and hash tables keyed by strings. Here the log
is joined once to the users — uid (an integer per user), code (an integer per event type), sec —
and kept in the engine (`.cache()`: a DuckDB temporary table, a persisted Spark DataFrame); every
later query joins and groups on integers, as the ranking's cells do (data/aggregate.py). Only
Ibis expressions, so the same code runs on every engine.

Anchored counts (`anchored_counts`) are computed once per distinct (user, anchor time): a user
assigned to four experiments at the same moment — or at signup — is one anchor, not four,
because the counts of an anchor depend on nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from ..data.calendar import DAY, as_of_end_sec
from ..data.sources import register_frame

WINDOW, LATER = 0, 1
MONDAY_OFFSET_DAYS = 4  # 1970-01-01 was a Thursday: day 4 since the epoch is a Monday
ANY_CODE = -1  # the code of weekly rows that count any event
ANY = "*"  # their event name


class EventCodes:
    """Event names and their integer codes, kept in the engine: only the names an input asks
    for come into memory (a log with millions of distinct names stays bounded, as the ranking's
    aggregation does, METHODS §1.1). Codes number the distinct names in alphabetical order
    from 0; `ANY_CODE` stands for any event."""

    def __init__(self, table: ibis.Table) -> None:
        self.table = table  # (event, code), cached in the engine
        self._name = {ANY_CODE: ANY}
        self._code: dict[str, int | None] = {}

    def codes(self, names) -> list[int]:
        """The codes of these names that occur in the log (others have no rows), sorted."""
        unknown = [str(n) for n in dict.fromkeys(names) if n not in self._code and n != ANY]
        if unknown:
            t = self.table
            found = t.filter(t.event.isin(unknown)).to_pandas()
            for event, code in zip(found["event"].astype(str), found["code"], strict=True):
                self._code[event], self._name[int(code)] = int(code), event
            for n in unknown:
                self._code.setdefault(n, None)
        return sorted(c for n in names if (c := self._code.get(n)) is not None)

    def __getitem__(self, code: int) -> str:
        """The name of a code that `codes` returned (or ANY_CODE)."""
        return self._name[int(code)]

    def of(self, codes: np.ndarray) -> np.ndarray:
        """Names for an array of such codes."""
        return np.asarray([self._name[int(c)] for c in codes], dtype=object)


@dataclass
class KeyedLog:
    """The log of some users as (uid, code, sec, before_signup) rows, cached in the engine.

    uid is the user's position in `user_ids`; the first `n_signups` users have a signup (the
    weekly series count only their events from it on: not `before_signup`), the others (assigned
    to an experiment but not in the analysis) have none. code: see `names` (`EventCodes`).
    """

    table: ibis.Table
    user_ids: pd.Index
    names: EventCodes
    n_signups: int

    def codes(self, names) -> list[int]:
        """The codes of the event names that occur in the log (others have no rows)."""
        return self.names.codes(names)

    def uids(self, user_ids) -> np.ndarray:
        """The uid of each user id (all must be among `user_ids`)."""
        return self.user_ids.get_indexer(pd.Index(user_ids).astype(str)).astype(np.int64)

    def release(self) -> None:
        """Give the engine's copies back (DuckDB: drop the temporary tables)."""
        self.table.release()
        self.names.table.release()


def _events(ev: ibis.Table, a_end: int) -> ibis.Table:
    """Complete rows before the as-of end, with `sec` (whole epoch seconds)."""
    ev = ev.filter(ev.user_id.notnull() & ev.event.notnull() & ev.ts.notnull())
    ev = ev.mutate(sec=ev.ts.epoch_seconds().cast("int64"))
    return ev.filter(ev.sec < a_end)


def keyed_log(ev: ibis.Table, signups: pd.DataFrame, as_of, other_users=()) -> KeyedLog:
    """The log of the users in `signups` (user_id, signup_sec; uid = row position) and of
    `other_users` (uid after them), up to the as-of end, as integer keys (one join, cached)."""
    ids = signups["user_id"].astype(str)
    extra = pd.Index(pd.unique(pd.Index(other_users).astype(str))).difference(pd.Index(ids))
    user_ids = pd.Index(np.concatenate([ids.to_numpy(), extra.to_numpy()]).astype(str))
    users = pd.DataFrame(
        {
            "user_id": user_ids,
            "uid": np.arange(len(user_ids), dtype=np.int32),
            "signup_sec": np.concatenate(
                [signups["signup_sec"].to_numpy(float), np.zeros(len(extra))]
            ),
        }
    )
    rows = _events(ev, as_of_end_sec(as_of))
    # every name in the log (a superset of those in `rows`): one column read, no time decoded;
    # numbered in the engine, int32 (an int16 code wrapped past 32,767 names and counted one
    # type as another)
    named = ev.filter(ev.event.notnull()).select("event").distinct()
    code = ibis.row_number().over(order_by=named.event).cast("int32")
    codes = named.mutate(code=code).cache()
    j = rows.inner_join(register_frame(ev, users, "northstar_inputs"), "user_id").inner_join(
        codes, "event"
    )
    # narrow columns: writing the cached copy is a third of the pass
    table = j.select("uid", "code", "sec", before_signup=j.sec < j.signup_sec).cache()
    return KeyedLog(table, user_ids, EventCodes(codes), len(ids))


def distinct_anchors(uid: np.ndarray, anchor_sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the first of each distinct (uid, anchor_sec), each row's distinct anchor)."""
    n = uid.size
    order = np.lexsort((anchor_sec, uid))
    u, s = uid[order], anchor_sec[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | ~(s[1:] == s[:-1])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


@dataclass
class Counts:
    """Anchored counts, one row per distinct anchor and period with events: per event code c
    `n{c}` (for `n_codes`) and `days{c}` (for `day_codes`), and over every event the values in
    `any_values` (`n`, `days`, `types`: distinct types not excluded); `inverse` maps each
    anchor asked for to its distinct anchor (the `anchor` column)."""

    rows: pd.DataFrame
    n_codes: list[int]
    day_codes: list[int]
    any_values: list[str]
    n_distinct: int
    inverse: np.ndarray


def anchored_counts(
    log: KeyedLog,
    uid: np.ndarray,
    anchor_sec: np.ndarray,
    needs: dict[str, list[str]],
    *,
    window_days: int,
    horizon_days: int,
    periods: tuple[int, ...] = (WINDOW, LATER),
    exclude_types=(),
) -> Counts:
    """Events and active days in days [0, W) and [W, W + H) since each anchor (see `Counts`).

    needs: value ('n', 'days', 'types') → the event names (ANY: any event) it is wanted for.
    The log joined to the distinct anchors is grouped per (anchor, period, day) with one count
    per event type asked for — one cell per active day, not per day and type — and those
    cells per (anchor, period): the counts are sums, the active days counts of cells. Only the
    types asked for are read unless any event is; distinct types take one more group-by.
    """
    uid = np.asarray(uid, np.int64)
    first, inverse = distinct_anchors(uid, np.asarray(anchor_sec, float))
    anchors = pd.DataFrame(
        {
            "anchor": np.arange(first.size, dtype=np.int64),
            "uid": uid[first].astype(np.int32),  # the keyed log's type: no cast in the join
            "anchor_sec": np.asarray(anchor_sec, float)[first],
        }
    )
    n_codes, day_codes = log.codes(needs.get("n", [])), log.codes(needs.get("days", []))
    any_values = [v for v in ("n", "days", "types") if ANY in needs.get(v, [])]
    t = log.table
    if not any_values:
        t = t.filter(t.code.isin(sorted({*n_codes, *day_codes})))
    j = t.inner_join(register_frame(t, anchors, "northstar_inputs"), "uid")
    # the periods as one range of days: a single BETWEEN evaluates the day once per row
    lo = 0 if WINDOW in periods else window_days
    hi = window_days + horizon_days if LATER in periods else window_days
    j = j.mutate(d=((j.sec - j.anchor_sec) / DAY).floor().cast("int64"))
    j = j.filter(j.d.between(lo, hi - 1))
    rows = _per_period(j, window_days, n_codes, day_codes).to_pandas()
    if "types" in any_values:
        keys = ["anchor", "period"]
        typed = _types(j.mutate(period=_period(j, window_days)), keys, log.codes(exclude_types))
        rows = rows.merge(typed, on=keys, how="left")
        rows["types"] = rows["types"].fillna(0.0)
    return Counts(rows, n_codes, day_codes, any_values, first.size, inverse)


def _period(rows: ibis.Table, window_days: int) -> ibis.Value:
    """WINDOW (days [0, W) since the anchor) or LATER, from the day `d`."""
    return (rows.d >= window_days).cast("int8")


def _per_period(rows: ibis.Table, window_days: int, n_codes: list[int], day_codes: list[int]):
    """Per (anchor, period): n and active days of the rows, `n{c}` per code of `n_codes` and
    `days{c}` per code of `day_codes`, from one cell per (anchor, day) holding a count per
    code (the period follows from the day, so it is no key of the cells): two group-bys,
    however many codes."""
    codes = sorted({*n_codes, *day_codes})
    counts = {"n": rows.count()} | {f"n{c}": rows.count(where=rows.code == c) for c in codes}
    # int32 cells: their sums stay int64 (DuckDB sums int64 into a slow 128-bit integer)
    cells = rows.group_by(["anchor", "d"]).aggregate(
        **{k: v.cast("int32") for k, v in counts.items()}
    )
    cells = cells.mutate(period=_period(cells, window_days))
    totals = {"n": cells.n.sum().cast("float64"), "days": cells.count().cast("float64")}
    for c in n_codes:
        totals[f"n{c}"] = cells[f"n{c}"].sum().cast("float64")
    for c in day_codes:
        totals[f"days{c}"] = cells.count(where=cells[f"n{c}"] > 0).cast("float64")
    return cells.group_by(["anchor", "period"]).aggregate(**totals)


def _types(rows: ibis.Table, keys: list[str], excluded: list[int]) -> pd.DataFrame:
    """Distinct event types (codes not excluded) per `keys`, as rows of a group-by per (keys,
    code): count-distinct keeps a hash set per group, slower."""
    typed = rows.filter(~rows.code.isin(excluded)) if excluded else rows
    pairs = typed.select(*keys, "code").distinct()
    return pairs.group_by(keys).aggregate(types=pairs.count().cast("float64")).to_pandas()


def _week(cells: ibis.Table) -> ibis.Value:
    """The calendar week (Monday start) of a day since the epoch."""
    return ((cells.cday - MONDAY_OFFSET_DAYS) / 7).floor().cast("int64")


def weekly_counts(log: KeyedLog, needs: dict[str, list[str]], events) -> pd.DataFrame:
    """Per calendar week (Monday start, UTC) and event code (ANY_CODE: any event), the values
    asked for in `needs` (value → event names, ANY for any event): events `n` of `events` and
    of any event, `user_days`, `users`. Only users with a signup, only from their signup on.

    Events per (week, code) are one small group-by; user-days are cells per (user, day) and
    users cells per (user, week), each one pass with a count per code asked for (no
    count-distinct) over only the codes asked for unless any event is."""
    t = log.table
    t = t.filter((t.uid < log.n_signups) & ~t.before_signup)
    t = t.mutate(cday=(t.sec / DAY).floor().cast("int64"))
    t = t.mutate(week=_week(t))
    # events of the types asked for, per week, and of any type (the rest never leave the
    # engine: a log with millions of names returns a few rows a week)
    asked = t.filter(t.code.isin(log.codes(events)))
    n = asked.group_by(["week", "code"]).aggregate(n=asked.count().cast("float64")).to_pandas()
    every = t.group_by("week").aggregate(n=t.count().cast("float64")).to_pandas()
    n = pd.concat([n, every.assign(code=ANY_CODE)])
    out = n.set_index(["week", "code"])
    for value, cell in (("user_days", ["uid", "cday"]), ("users", ["uid", "week"])):
        events = needs.get(value, [])
        if events:
            cells = _cells_per_week(t, cell, log.codes(events), ANY in events)
            out = out.join(cells.set_index(["week", "code"])["cells"].rename(value), how="left")
    return out.reset_index()


def _cells_per_week(t: ibis.Table, cell: list[str], codes: list[int], any_event: bool):
    """Per week and code (ANY_CODE when `any_event`): the cells (one per `cell` value: a user's
    day or week) with an event of that code — two group-bys with a count per code."""
    rows = t if any_event else t.filter(t.code.isin(codes))
    counts = {f"n{c}": rows.count(where=rows.code == c).cast("int32") for c in codes}
    per_cell = rows.group_by(cell).aggregate(n=rows.count().cast("int32"), **counts)
    if "week" not in cell:
        per_cell = per_cell.mutate(week=_week(per_cell))
    totals = {f"c{c}": per_cell.count(where=per_cell[f"n{c}"] > 0) for c in codes}
    if any_event:
        totals[f"c{ANY_CODE}"] = per_cell.count()
    wide = per_cell.group_by("week").aggregate(**totals).to_pandas()
    long = wide.melt(id_vars="week", var_name="code", value_name="cells")
    code = long["code"].str[1:].astype(np.int64)
    return long.assign(code=code, cells=long["cells"].astype(float))
