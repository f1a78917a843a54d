"""Measuring inputs and the North Star: in the window from the analysis, later in the engine.

Window values [0, W) come from the analysis' own candidates (`Analysis.candidate(key).raw`), so
an input is measured exactly as the candidate of the same key was ranked. What the ranking does
not measure is computed here, as Ibis expressions in the engine that holds the events (DuckDB or
Spark), with only small tables coming back:

- per anchor (a user's signup, or an experiment assignment) and period — days [0, W) and
  [W, W + H) since the anchor — the events and active days of the event types asked for, and the
  events, active days and distinct event types of any kind;
- per calendar week (Monday to Sunday, UTC) and event type: events, user-days and users.

The engine side is `keyed` (the log joined to the users once, as integer keys, for all of
these); this module says what each measure reads (`anchored_columns`) and turns the counts into
values per user or assignment (`AnchorCounts`).

Days are whole 24-hour periods since the anchor, as everywhere (METHODS §1.1); events before the
anchor or after the as-of date are not counted.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ..candidates import Kind
from ..errors import InputError
from . import keyed
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
from .keyed import ANY, LATER, MONDAY_OFFSET_DAYS, WINDOW  # noqa: F401 (read as measure.*)


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


def anchored_columns(spec: InputSpec) -> list[tuple[str, str]]:
    """The (value, event) anchored counts a measure is made of (ANY: any event); a share is
    the first over the second, reached is the first > 0."""
    m = spec.measure
    if m in (COUNT, REACHED):
        return [("n", spec.event)]
    if m == SHARE:
        return [("n", spec.event), ("n", spec.denominator)]
    if m == DAYS:
        return [("days", spec.event)]
    return [({ACTIVE_DAYS: "days", TOTAL_EVENTS: "n", DISTINCT_EVENTS: "types"}[m], ANY)]


def anchored_needs(specs: list[InputSpec]) -> dict[str, list[str]]:
    """value → events, for `keyed.anchored_counts`: what the measures of `specs` read."""
    out: dict[str, list[str]] = {}
    for value, event in sorted({c for s in specs for c in anchored_columns(s)}):
        out.setdefault(value, []).append(event)
    return out


PER_COLUMNS = ["anchor", "event", "period", "n", "days"]
ANY_COLUMNS = ["anchor", "period", "n", "days", "types"]


class AnchorCounts:
    """Anchored counts as dense arrays per anchor 0…n−1, read by measure.

    per: rows (anchor, event, period, n, days); any_: rows (anchor, period, n, days, types);
    `inverse` (optional) maps each anchor asked for to its row in those (distinct anchors).
    """

    def __init__(self, per: pd.DataFrame, any_: pd.DataFrame, n_anchors: int, inverse=None) -> None:
        self.n = n_anchors
        self.inverse = inverse
        self._arrays: dict[tuple, np.ndarray] = {}
        names = pd.Categorical(per["event"])  # grouping on codes, not on strings
        for (event, period), rows in per.groupby([names, "period"], sort=False, observed=True):
            self._store(event, period, rows, {"n": "n", "days": "days"})
        for period, rows in any_.groupby("period", sort=False):
            self._store(ANY, period, rows, {v: v for v in ("n", "days", "types")})

    @classmethod
    def from_counts(cls, counts: keyed.Counts, names: list[str]) -> AnchorCounts:
        """From `keyed.anchored_counts` (codes named by the keyed log's `names`)."""
        out = cls(pd.DataFrame(columns=PER_COLUMNS), pd.DataFrame(columns=ANY_COLUMNS), 0)
        out.n, out.inverse = counts.n_distinct, counts.inverse
        for period, rows in counts.rows.groupby("period", sort=False):
            out._store(ANY, period, rows, {v: v for v in counts.any_values})
            for c in counts.n_codes:
                out._store(names[c], period, rows, {"n": f"n{c}"})
            for c in counts.day_codes:
                out._store(names[c], period, rows, {"days": f"days{c}"})
        return out

    def subset(self, rows: slice) -> AnchorCounts:
        """The same counts read for some of the anchors asked for (a slice of them)."""
        out = copy.copy(self)
        inverse = np.arange(self.n) if self.inverse is None else self.inverse
        out.inverse = inverse[rows]
        return out

    def _store(self, event: str, period, rows: pd.DataFrame, values: dict[str, str]) -> None:
        """Dense arrays of `rows`' columns (values: our name → the column)."""
        at = rows["anchor"].to_numpy(np.int64)
        for value, column in values.items():
            out = np.zeros(self.n)
            out[at] = rows[column].fillna(0).to_numpy(float)
            self._arrays[(event, int(period), value)] = out

    def _get(self, value: str, event: str, period: int) -> np.ndarray:
        out = self._arrays.get((event, int(period), value), np.zeros(self.n))
        return out if self.inverse is None else out[self.inverse]

    def values(self, spec: InputSpec, period: int) -> np.ndarray:
        """The measure per anchor in one period (WINDOW or LATER)."""
        columns = [self._get(v, e, period) for v, e in anchored_columns(spec)]
        if spec.measure == REACHED:
            return (columns[0] > 0).astype(float)
        if spec.measure == SHARE:
            num, den = columns
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(den > 0, num / den, np.nan)
        return columns[0]


def later_values(analysis, loaded, spec: InputSpec, horizon_days: int, exclude_types=()):
    """The North Star in days [W, W + H) since signup, per row of the analysis frame."""
    if loaded.events is None:
        raise InputError("Input metrics need an event log: the North Star is measured later.")
    log = keyed.keyed_log(loaded.events, signup_frame(analysis.frame), analysis.as_of)
    try:
        return signup_values(log, analysis, spec, horizon_days, exclude_types)
    finally:
        log.release()


def signup_values(log, analysis, spec, horizon_days, exclude_types=()):
    """`later_values` from a keyed log whose first users are the analysis frame's rows."""
    n = len(analysis.frame)
    counts = keyed.anchored_counts(
        log,
        np.arange(n),
        analysis.frame["signup_sec"].to_numpy(float),
        anchored_needs([spec]),
        window_days=analysis.settings.window_days,
        horizon_days=horizon_days,
        periods=(LATER,),
        exclude_types=exclude_types,
    )
    return AnchorCounts.from_counts(counts, log.names).values(spec, LATER)


def signup_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """user_id (str) and signup_sec of the analysis frame's users, in its row order."""
    return pd.DataFrame(
        {
            "user_id": frame["user_id"].astype(str).to_numpy(),
            "signup_sec": frame["signup_sec"].to_numpy(float),
        }
    )


def weekly_counts(
    loaded, frame: pd.DataFrame, events: list[str], as_of, log=None, needs=None
) -> pd.DataFrame:
    """Per calendar week (Monday start, UTC) and event type: events `n`, user-days, users; and
    rows with event '*' for any event. Only users of `frame`, only from their signup on.

    needs: the (value, event) columns wanted (`weekly.needed_columns`); the others are NaN
    (None: every value of `events` and of any event). log: a keyed log whose first users are
    `frame`'s rows (else one is made for this)."""
    if needs is None:
        needs = {(v, e) for v in ("user_days", "users") for e in [*events, ANY]}
    by_value: dict[str, list[str]] = {}
    for value, event in sorted(needs):
        by_value.setdefault(value, []).append(event)
    own = log is None
    if own:
        log = keyed.keyed_log(loaded.events, signup_frame(frame), as_of)
    try:
        rows = keyed.weekly_counts(log, by_value, [e for e in events if e != ANY])
    finally:
        if own:
            log.release()
    rows = rows.assign(event=log.names.of(rows.pop("code").to_numpy()))
    rows = rows[rows["event"].isin([*events, ANY])].reindex(columns=WEEKLY_COLUMNS)
    return rows.sort_values(["week", "event"]).reset_index(drop=True)


WEEKLY_COLUMNS = ["week", "event", "n", "user_days", "users"]
