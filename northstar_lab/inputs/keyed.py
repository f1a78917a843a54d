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

import uuid
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from ..data.events import DAY, as_of_end_sec

WINDOW, LATER = 0, 1
MONDAY_OFFSET_DAYS = 4  # 1970-01-01 was a Thursday: day 4 since the epoch is a Monday
ANY_CODE = -1  # the code of weekly rows that count any event


def register(ev: ibis.Table, frame: pd.DataFrame) -> ibis.Table:
    """`frame` as a table in the engine that holds `ev` (a DuckDB temporary table, a Spark view),
    so that the engine can join it to the events."""
    backend = ev._find_backend()
    name = f"northstar_inputs_{uuid.uuid4().hex[:12]}"
    if backend.name == "pyspark":  # Ibis' PySpark backend has no temporary tables
        return backend.create_view(name, ibis.memtable(frame), overwrite=True)
    return backend.create_table(name, frame, temp=True, overwrite=True)


@dataclass
class KeyedLog:
    """The log of some users as (uid, code, sec, signup_sec) rows, cached in the engine.

    uid is the user's position in `user_ids`; the first `n_signups` users have a signup
    (`signup_sec`, the weekly series count only their events from it on), the others (assigned
    to an experiment but not in the analysis) have none. code is the position in `names`.
    """

    table: ibis.Table
    user_ids: pd.Index
    names: list[str]
    n_signups: int

    def codes(self, names) -> list[int]:
        """The codes of the event names that occur in the log (others have no rows)."""
        where = {name: i for i, name in enumerate(self.names)}
        return sorted(where[n] for n in names if n in where)

    def uids(self, user_ids) -> np.ndarray:
        """The uid of each user id (all must be among `user_ids`)."""
        return self.user_ids.get_indexer(pd.Index(user_ids).astype(str)).astype(np.int64)

    def release(self) -> None:
        """Give the engine's copy back (DuckDB: drop the temporary table)."""
        self.table.release()


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
            "uid": np.arange(len(user_ids), dtype=np.int64),
            "signup_sec": np.concatenate(
                [signups["signup_sec"].to_numpy(float), np.zeros(len(extra))]
            ),
        }
    )
    rows = _events(ev, as_of_end_sec(as_of))
    names = sorted(map(str, rows.select("event").distinct().to_pandas()["event"]))
    codes = pd.DataFrame({"event": names, "code": np.arange(len(names), dtype=np.int64)})
    j = rows.inner_join(register(ev, users), "user_id").inner_join(register(ev, codes), "event")
    table = j.select("uid", "code", "sec", "signup_sec").cache()
    return KeyedLog(table, user_ids, names, len(ids))


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
    """Anchored counts in long form: per (anchor, period, code) n and active days; per
    (anchor, period) over every event n, active days and distinct types (not counting the
    excluded); `inverse` maps each anchor asked for to its distinct anchor."""

    per: pd.DataFrame
    any_: pd.DataFrame
    n_distinct: int
    inverse: np.ndarray


def anchored_counts(
    log: KeyedLog,
    uid: np.ndarray,
    anchor_sec: np.ndarray,
    events,
    *,
    window_days: int,
    horizon_days: int,
    periods: tuple[int, ...] = (WINDOW, LATER),
    any_event: bool = True,
    exclude_types=(),
) -> Counts:
    """Events and active days in days [0, W) and [W, W + H) since each anchor (see `Counts`).

    One pass over the log joined to the distinct anchors, into (anchor, period, day, code)
    cells; per-code counts and distinct days from one group-by of the cells, the totals and
    distinct types from those rows in NumPy, distinct active days of any event from one more.
    """
    uid = np.asarray(uid, np.int64)
    first, inverse = distinct_anchors(uid, np.asarray(anchor_sec, float))
    anchors = pd.DataFrame(
        {
            "anchor": np.arange(first.size, dtype=np.int64),
            "uid": uid[first],
            "anchor_sec": np.asarray(anchor_sec, float)[first],
        }
    )
    t = log.table
    j = t.inner_join(register(t, anchors), "uid")
    d = ((j.sec - j.anchor_sec) / DAY).floor().cast("int64")
    j = j.mutate(d=d, period=(d >= window_days).cast("int8"))
    j = j.filter((j.d >= 0) & (j.d < window_days + horizon_days) & j.period.isin(periods))
    cells = j.group_by(["anchor", "period", "d", "code"]).aggregate(n=j.count())
    if any_event:  # read twice: computed once
        cells = cells.cache()
    wanted = cells if any_event else cells.filter(cells.code.isin(log.codes(events)))
    per = (
        wanted.group_by(["anchor", "period", "code"])
        .aggregate(n=wanted.n.sum().cast("float64"), days=wanted.count().cast("float64"))
        .to_pandas()
    )
    any_ = pd.DataFrame(columns=["anchor", "period", "n", "days", "types"])
    if any_event:
        any_ = _any_event_counts(cells, per, log.codes(exclude_types))
        cells.release()
    return Counts(per, any_, first.size, inverse)


def _any_event_counts(cells: ibis.Table, per: pd.DataFrame, excluded: list[int]) -> pd.DataFrame:
    """Per (anchor, period): n over every event and the distinct types not excluded, summed
    from the per-code rows; active days of any event counted in the engine (one row per
    distinct (anchor, period, day) — count-distinct keeps a hash set per group, slower)."""
    keys = ["anchor", "period"]
    day_rows = cells.select(*keys, "d").distinct()
    days = day_rows.group_by(keys).aggregate(days=day_rows.count().cast("float64")).to_pandas()
    typed = (~per["code"].isin(excluded)).astype(float)
    out = (
        per.assign(types=typed)
        .groupby(keys, sort=False)
        .agg(n=("n", "sum"), types=("types", "sum"))
        .reset_index()
    )
    out = out.merge(days, on=keys, how="left")
    return out[["anchor", "period", "n", "days", "types"]]


def weekly_counts(log: KeyedLog, events) -> pd.DataFrame:
    """Per calendar week (Monday start, UTC) and event code: events `n`, user-days, users; and
    rows with code ANY_CODE for any event. Only users with a signup, only from their signup on.

    From one (user, code, calendar day) cell table: users per week are the rows of a group-by
    per (user, code, week) — no count-distinct."""
    t = log.table
    t = t.filter((t.uid < log.n_signups) & (t.sec >= t.signup_sec))
    cday = (t.sec / DAY).floor().cast("int64")
    t = t.mutate(cday=cday, week=((cday - MONDAY_OFFSET_DAYS) / 7).floor().cast("int64"))
    days = t.group_by(["uid", "code", "week", "cday"]).aggregate(n=t.count()).cache()
    named = days.filter(days.code.isin(log.codes(events)))
    per = _per_week(named, ["uid", "code", "week"], ["week", "code"])
    day = days.group_by(["uid", "week", "cday"]).aggregate(n=days.n.sum())
    any_ = _per_week(day, ["uid", "week"], ["week"]).assign(code=ANY_CODE)
    out = pd.concat([per, any_], ignore_index=True)
    days.release()
    return out


def _per_week(cells: ibis.Table, per_user: list[str], keys: list[str]) -> pd.DataFrame:
    """n, user-days and users per `keys` from cells of one user-day each."""
    u = cells.group_by(per_user).aggregate(n=cells.n.sum(), user_days=cells.count())
    return (
        u.group_by(keys)
        .aggregate(
            n=u.n.sum().cast("float64"),
            user_days=u.user_days.sum().cast("float64"),
            users=u.count().cast("float64"),
        )
        .to_pandas()
    )
