"""Measuring inputs and the North Star: in the window from the analysis, later in the engine.

Window values [0, W) come from the analysis' own candidates (`Analysis.candidate(key).raw`), so
an input is measured exactly as the candidate of the same key was ranked. What the ranking does
not measure is computed here, as Ibis expressions in the engine that holds the events (DuckDB or
Spark), with only small tables coming back:

- per anchor (a user's signup, or an experiment assignment) and period — days [0, W) and
  [W, W + H) since the anchor — the events and active days of the event types asked for, and the
  events, active days and distinct event types of any kind;
- per calendar week (Monday to Sunday, UTC) and event type: events, user-days and users.

Days are whole 24-hour periods since the anchor, as everywhere (METHODS §1.1); events before the
anchor or after the as-of date are not counted.
"""

from __future__ import annotations

import uuid

import ibis
import numpy as np
import pandas as pd

from ..candidates import Kind
from ..data.events import DAY, as_of_end_sec
from ..errors import InputError
from .define import (
    ACTIVE_DAYS,
    COUNT,
    DAYS,
    DISTINCT_EVENTS,
    REACHED,
    SHARE,
    TOTAL_EVENTS,
    InputSpec,
)

WINDOW, LATER = 0, 1
MONDAY_OFFSET_DAYS = 4  # 1970-01-01 was a Thursday: day 4 since the epoch is a Monday
ANY = "*"  # the event name of weekly rows that count any event
_BASELINE_KEYS = {ACTIVE_DAYS, TOTAL_EVENTS, DISTINCT_EVENTS}


def event_names(analysis) -> list[str]:
    """The event types the analysis measured in the window (its count candidates)."""
    return [c.event for c in analysis.candidates if c.kind is Kind.COUNT and c.event]


def window_values(analysis, spec: InputSpec) -> np.ndarray:
    """The input per user of the analysis frame in days [0, W): the ranking's own numbers.

    reached is count > 0; a share is NaN for users without a denominator event.
    """

    def raw(key: str) -> np.ndarray:
        try:
            return np.asarray(analysis.candidate(key).raw, dtype=float)
        except KeyError as exc:
            raise InputError(
                f"Input {spec.key!r}: the analysis has no candidate {key!r} (the event is "
                "missing from the log, or not among the event types measured)."
            ) from exc

    if spec.measure == COUNT:
        return raw(Kind.COUNT.key(spec.event))
    if spec.measure == DAYS:
        return raw(Kind.ACTIVE_DAYS.key(spec.event))
    if spec.measure == REACHED:
        return (raw(Kind.COUNT.key(spec.event)) > 0).astype(float)
    if spec.measure == SHARE:
        num, den = raw(Kind.COUNT.key(spec.event)), raw(Kind.COUNT.key(spec.denominator))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)
    return raw(Kind.BASELINE.key(spec.measure))


def register(ev: ibis.Table, frame: pd.DataFrame) -> ibis.Table:
    """`frame` as a table in the engine that holds `ev` (a DuckDB temporary table, a Spark view),
    so that the engine can join it to the events."""
    backend = ev._find_backend()
    name = f"northstar_inputs_{uuid.uuid4().hex[:12]}"
    if backend.name == "pyspark":  # Ibis' PySpark backend has no temporary tables
        return backend.create_view(name, ibis.memtable(frame), overwrite=True)
    return backend.create_table(name, frame, temp=True, overwrite=True)


def _events(ev: ibis.Table, a_end: int) -> ibis.Table:
    ev = ev.filter(ev.user_id.notnull() & ev.event.notnull() & ev.ts.notnull())
    ev = ev.mutate(sec=ev.ts.epoch_seconds().cast("int64"))
    return ev.filter(ev.sec < a_end)


def period_counts(
    ev: ibis.Table,
    anchors: pd.DataFrame,
    events: list[str],
    *,
    window_days: int,
    horizon_days: int,
    as_of,
    periods: tuple[int, ...] = (WINDOW, LATER),
    any_event: bool = True,
    exclude_types: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (anchor, event, period): n events and active days, for `events`; and (when
    `any_event`) per (anchor, period) over every event: n, days and distinct event types (not
    counting `exclude_types`).

    anchors: columns anchor (int), user_id (str), anchor_sec (epoch seconds). Only anchors with
    at least one event in a period appear in its rows. One scan of the log per table asked for.
    """
    a_end = as_of_end_sec(as_of)
    table = register(
        ev,
        anchors[["anchor", "user_id", "anchor_sec"]].astype(
            {"anchor": "int64", "user_id": str, "anchor_sec": "float64"}
        ),
    )
    j = _events(ev, a_end).inner_join(table, "user_id")
    d = ((j.sec - j.anchor_sec) / DAY).floor().cast("int64")
    j = j.mutate(d=d, period=(d >= window_days).cast("int8"))
    j = j.filter((j.d >= 0) & (j.d < window_days + horizon_days) & j.period.isin(periods))
    # One pass over the join into (anchor, period, day, event) cells — one row per active day
    # of each event — and both tables from them: far fewer rows than events, no second join.
    cells = j.group_by(["anchor", "period", "d", "event"]).aggregate(n=j.count())
    reused = any_event  # read by three queries (and the named counts): computed once
    if reused:
        cells = cells.cache()
    empty = pd.DataFrame(columns=["anchor", "event", "period", "n", "days"])
    per = empty
    if events:
        named = cells.filter(cells.event.isin(list(events)))
        per = (
            named.group_by(["anchor", "event", "period"])
            .aggregate(n=named.n.sum().cast("float64"), days=named.count().cast("float64"))
            .to_pandas()
        )
    any_ = pd.DataFrame(columns=["anchor", "period", "n", "days", "types"])
    if any_event:
        any_ = _any_event_counts(cells, exclude_types)
    if reused:
        cells.release()
    return per, any_


def _any_event_counts(cells: ibis.Table, exclude_types: tuple[str, ...]) -> pd.DataFrame:
    """Per (anchor, period) over every event: n, active days and distinct event types (not
    counting `exclude_types`), from the (anchor, period, day, event) cells. Distinct days and
    types are counted as rows of two small group-bys rather than with count-distinct, which
    keeps a hash set per group (1.6M groups for 800k assignments: the slow part)."""
    keys = ["anchor", "period"]
    n = cells.group_by(keys).aggregate(n=cells.n.sum().cast("float64"))
    day_rows = cells.select(*keys, "d").distinct()
    days = day_rows.group_by(keys).aggregate(days=day_rows.count().cast("float64"))
    typed = cells.filter(~cells.event.isin(list(exclude_types))) if exclude_types else cells
    type_rows = typed.select(*keys, "event").distinct()
    types = type_rows.group_by(keys).aggregate(types=type_rows.count().cast("float64"))
    out = n.to_pandas().merge(days.to_pandas(), on=keys, how="left")
    out = out.merge(types.to_pandas(), on=keys, how="left")
    out["types"] = out["types"].fillna(0.0)
    return out[["anchor", "period", "n", "days", "types"]]


class AnchorCounts:
    """`period_counts`' two tables as dense arrays per anchor 0…n−1, read by measure."""

    def __init__(self, per: pd.DataFrame, any_: pd.DataFrame, n_anchors: int) -> None:
        self.n = n_anchors
        self._arrays: dict[tuple, np.ndarray] = {}
        for (event, period), rows in per.groupby(["event", "period"], sort=False):
            self._store(("event", event, period), rows, ("n", "days"))
        for period, rows in any_.groupby("period", sort=False):
            self._store(("any", None, period), rows, ("n", "days", "types"))

    def _store(self, key: tuple, rows: pd.DataFrame, values: tuple[str, ...]) -> None:
        at = rows["anchor"].to_numpy(np.int64)
        for v in values:
            out = np.zeros(self.n)
            out[at] = rows[v].fillna(0).to_numpy(float)
            self._arrays[(*key, v)] = out

    def _get(self, kind: str, event, period: int, value: str) -> np.ndarray:
        return self._arrays.get((kind, event, int(period), value), np.zeros(self.n))

    def values(self, spec: InputSpec, period: int) -> np.ndarray:
        """The measure per anchor in one period (WINDOW or LATER)."""
        m = spec.measure
        if m in (COUNT, REACHED, SHARE):
            n = self._get("event", spec.event, period, "n")
            if m == REACHED:
                return (n > 0).astype(float)
            if m == SHARE:
                den = self._get("event", spec.denominator, period, "n")
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(den > 0, n / den, np.nan)
            return n
        if m == DAYS:
            return self._get("event", spec.event, period, "days")
        value = {ACTIVE_DAYS: "days", TOTAL_EVENTS: "n", DISTINCT_EVENTS: "types"}[m]
        return self._get("any", None, period, value)


def signup_anchors(frame: pd.DataFrame) -> pd.DataFrame:
    """The analysis frame's users as anchors (anchor = row position, anchor_sec = signup)."""
    return pd.DataFrame(
        {
            "anchor": np.arange(len(frame)),
            "user_id": frame["user_id"].astype(str).to_numpy(),
            "anchor_sec": frame["signup_sec"].to_numpy(float),
        }
    )


def later_values(analysis, loaded, spec: InputSpec, horizon_days: int, exclude_types=()):
    """The North Star in days [W, W + H) since signup, per row of the analysis frame."""
    if loaded.events is None:
        raise InputError("Input metrics need an event log: the North Star is measured later.")
    w = analysis.settings.window_days
    per, any_ = period_counts(
        loaded.events,
        signup_anchors(analysis.frame),
        list(spec.events),
        window_days=w,
        horizon_days=horizon_days,
        as_of=analysis.as_of,
        periods=(LATER,),
        any_event=spec.measure in _BASELINE_KEYS,
        exclude_types=exclude_types,
    )
    return AnchorCounts(per, any_, len(analysis.frame)).values(spec, LATER)


def weekly_counts(loaded, frame: pd.DataFrame, events: list[str], as_of) -> pd.DataFrame:
    """Per calendar week (Monday start, UTC) and event type: events `n`, user-days, users; and
    rows with event '*' for any event. Only users of `frame`, only from their signup on."""
    a_end = as_of_end_sec(as_of)
    signups = register(
        loaded.events,
        frame[["user_id", "signup_sec"]].astype({"user_id": str, "signup_sec": "float64"}),
    )
    j = _events(loaded.events, a_end).inner_join(signups, "user_id")
    j = j.filter(j.sec >= j.signup_sec)
    cday = (j.sec / DAY).floor().cast("int64")
    j = j.mutate(cday=cday, week=((cday - MONDAY_OFFSET_DAYS) / 7).floor().cast("int64"))
    named = j.filter(j.event.isin(list(events)))
    cells = named.group_by(["user_id", "event", "week", "cday"]).aggregate(n=named.count())
    per = cells.group_by(["week", "event"]).aggregate(
        n=cells.n.sum().cast("float64"),
        user_days=cells.count().cast("float64"),
        users=cells.user_id.nunique().cast("float64"),
    )
    day = j.group_by(["user_id", "week", "cday"]).aggregate(n=j.count())
    any_ = day.group_by("week").aggregate(
        n=day.n.sum().cast("float64"),
        user_days=day.count().cast("float64"),
        users=day.user_id.nunique().cast("float64"),
    )
    out = pd.concat([per.to_pandas(), any_.to_pandas().assign(event=ANY)], ignore_index=True)
    return out.sort_values(["week", "event"]).reset_index(drop=True)
