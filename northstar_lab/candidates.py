"""Candidate metrics: what a North Star could be, measured in the observation window only.

From an event log, per event type e: count in window, distinct active days in window, and (made
later, once a threshold is chosen on training users) "did e at least k times". Baselines any
tool would show: active days, total events, distinct event types. From a users table: its
numeric behaviour columns, flagged "window not verifiable". A lifetime count is never built here:
`aggregate` only exposes window counts.

Event-derived counts are heavy-tailed and are modelled as log1p(count); users-table columns are
modelled as given so that they agree with lifelines fitted on the raw column (METHODS §2).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

import numpy as np
import pandas as pd

from .errors import InputError

LOG1P = "log1p"
IDENTITY = "none"
INDICATOR = "indicator"


class Kind(str, Enum):
    """What a candidate is, and the prefix of its key ('count:lesson_completed').

    The key prefixes are part of recorded decisions (a record's `chosen_key`), so they stay as
    they were first written even where they differ from the kind's name; this is their one
    definition.
    """

    COUNT = "count"
    ACTIVE_DAYS = "active_days"
    AT_LEAST = "at_least"
    BASELINE = "baseline"
    COLUMN = "column"

    @property
    def prefix(self) -> str:
        return _KEY_PREFIX[self]

    def key(self, ident: str) -> str:
        """The candidate key of `ident` (an event name, a column, a baseline or another key)."""
        return f"{self.prefix}:{ident}"


_KEY_PREFIX = {
    Kind.COUNT: "count",
    Kind.ACTIVE_DAYS: "days",
    Kind.AT_LEAST: "atleast",
    Kind.BASELINE: "baseline",
    Kind.COLUMN: "col",
}


def thresholded_key(key: str) -> str:
    """The key of the candidate an at-least key thresholds ('atleast:count:x' → 'count:x')."""
    return key.removeprefix(f"{Kind.AT_LEAST.prefix}:")


@dataclass(frozen=True)
class Candidate:
    """One candidate metric: values per user (aligned with the per-user frame) and its meaning."""

    key: str
    name: str
    kind: Kind
    event: str | None
    column: str | None
    transform: str
    raw: np.ndarray
    window_verifiable: bool = True
    threshold_of: str | None = None  # for at_least: the key of the count it thresholds
    threshold: float | None = None
    imputed: np.ndarray | None = None  # rows whose missing value was filled (`with_gaps_filled`)
    #: (codes, level values) when the maker already knows them (a '≥ k' version of a candidate
    #: whose levels are known): saves coding the users again. See `level_table`.
    known_levels: tuple[np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # A column of a 2D array (a notebook's matrix[:, j]) is a strided view: every pass over
        # it — levels, gaps, counts — would touch a cache line per user. One copy, once.
        if isinstance(self.raw, np.ndarray) and not self.raw.flags.c_contiguous:
            object.__setattr__(self, "raw", np.ascontiguousarray(self.raw))

    @property
    def n_imputed(self) -> int:
        """How many rows had no value and carry the population mean instead."""
        return 0 if self.imputed is None else int(self.imputed.sum())

    def with_gaps_filled(self, rows: np.ndarray) -> Candidate:
        """This candidate with missing values replaced by the mean over `rows` (a bool mask:
        the landmark users), once, so that the Cox fit, the concordance, the revenue correlation
        and the bootstrap all see one and the same vector (METHODS §2). Unchanged when nothing
        is missing or when no row of the population has a value."""
        missing = np.isnan(self.raw)
        if not missing.any() or not (rows & ~missing).any():
            return self
        mean = float(np.mean(self.raw[rows & ~missing]))
        filled = np.where(missing, mean, self.raw)
        return dataclasses.replace(self, raw=filled, imputed=missing, known_levels=None)

    @property
    def n_distinct(self) -> int:
        """Distinct observed values (imputed rows aside)."""
        raw = self.raw if self.imputed is None else self.raw[~self.imputed]
        if self.imputed is None and not self.has_gaps:
            return self.levels[1]
        return int(np.unique(raw[~np.isnan(raw)]).size)

    @cached_property
    def modelled(self) -> np.ndarray:
        """The variable the Cox model and correlations see (computed once). Untransformed
        float values are the raw array itself, not a copy (0.7 GB at 2M users and 50 '≥ k'
        versions); neither array is ever written to. log1p is taken once per level and
        gathered (the same numbers: one function of one value)."""
        if self.transform != LOG1P:
            return np.asarray(self.raw, float)
        if self.has_gaps:
            return np.log1p(self.raw)
        return self.level_modelled[self.levels[0]]

    @cached_property
    def has_gaps(self) -> bool:
        """Whether any value is missing (left after `with_gaps_filled` only when no user in
        the population has one)."""
        return self.known_levels is None and bool(np.isnan(self.raw).any())

    @cached_property
    def level_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Dense codes of the raw values (ascending) and the raw value of each level, computed
        once. Missing values (never left by `with_gaps_filled` unless a column is all missing)
        are coded as the mean."""
        if self.known_levels is not None:
            return self.known_levels
        from .stats.grid import exact_levels

        raw = self.raw
        if self.has_gaps:
            raw = np.where(np.isnan(raw), np.nanmean(raw), raw)
        return exact_levels(raw)

    @property
    def levels(self) -> tuple[np.ndarray, int]:
        """Dense codes of the raw values (ascending) and their number.

        The modelled variable is a monotone function of the raw one, so these codes order it
        too; every rank-based statistic and the collapsed Cox fit reuse them.
        """
        codes, values = self.level_table
        return codes, values.size

    @property
    def level_values(self) -> np.ndarray:
        """The raw value of each level (ascending)."""
        return self.level_table[1]

    @cached_property
    def level_modelled(self) -> np.ndarray:
        """The modelled value of each level: what the Cox fit on cells needs, per level."""
        values = self.level_values
        return np.log1p(values) if self.transform == LOG1P else values

    def codes_for(self, rows: np.ndarray) -> tuple[np.ndarray, int]:
        """The cached codes for these rows (indices or a mask). Levels absent from the subset
        stay as empty levels: grid methods give them zero weight, so no re-densifying."""
        codes, n_lev = self.levels
        return (codes.take(rows) if rows.dtype != bool else codes[rows]), n_lev

    @property
    def unit(self) -> str:
        """Words for one unit of the modelled variable, for 'per unit' effects."""
        if self.transform == LOG1P:
            return "log(1 + count)"
        if self.transform == INDICATOR:
            return "reaching the threshold"
        return "1 unit of the column"


def event_candidates(
    frame: pd.DataFrame,
    event_columns: dict[str, str],
    window_days: int,
    transactions: str | None = None,
):
    """Count and active-days candidates per event type, then the baselines. `transactions`
    names the revenue event, whose counts (when measured) are labelled as transactions."""
    w = window_days
    out = []
    for col, event in event_columns.items():
        kind = Kind.COUNT if col.startswith("count__") else Kind.ACTIVE_DAYS
        label = _event_label(kind, is_transaction=event == transactions)
        out.append(
            Candidate(
                key=kind.key(event),
                name=f"{event}: {label} in first {w} days",
                kind=kind,
                event=event,
                column=None,
                transform=LOG1P,
                raw=frame[col].to_numpy(dtype=float),
            )
        )
    baselines = [
        ("active_days", f"Active days (any event) in first {w} days"),
        ("total_events", f"Events (all types) in first {w} days"),
        ("distinct_events", f"Distinct event types used in first {w} days"),
    ]
    for col, name in baselines:
        out.append(
            Candidate(
                key=Kind.BASELINE.key(col),
                name=name,
                kind=Kind.BASELINE,
                event=None,
                column=None,
                transform=LOG1P,
                raw=frame[col].to_numpy(dtype=float),
            )
        )
    return out


def _event_label(kind: Kind, is_transaction: bool) -> str:
    if is_transaction:
        return "transactions" if kind is Kind.COUNT else "days with a transaction"
    return "count" if kind is Kind.COUNT else "active days"


def column_candidates(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[Candidate]:
    """Users-table behaviour columns, modelled as given; their window cannot be checked."""
    return [
        Candidate(
            key=Kind.COLUMN.key(c),
            name=f"{c} (users table)",
            kind=Kind.COLUMN,
            event=None,
            column=c,
            transform=IDENTITY,
            raw=frame[c].to_numpy(dtype=float),
            window_verifiable=False,
        )
        for c in columns
    ]


def at_least_candidate(base: Candidate, k: float, window_days: int) -> Candidate:
    """'e ≥ k× in first W days' as a 0/1 candidate; k was chosen on training users.

    When the base's levels are known (it was ranked), "≥ k" is read per level and gathered, and
    the 0/1 version's own levels come with it instead of being counted again."""
    k_txt = f"{k:g}"
    if base.name.startswith(f"{base.event}: transactions"):
        name = f"{base.event} ≥ {k_txt} transactions in first {window_days} days"
    elif base.name.startswith(f"{base.event}: days with a transaction"):
        name = f"{base.event} on ≥ {k_txt} days with a transaction in first {window_days} days"
    elif base.kind is Kind.COUNT:
        name = f"{base.event} ≥ {k_txt}× in first {window_days} days"
    elif base.kind is Kind.ACTIVE_DAYS:
        name = f"{base.event} on ≥ {k_txt} days in first {window_days} days"
    else:
        name = f"{base.name} ≥ {k_txt}"
    above, known = _at_least(base, float(k))
    return Candidate(
        key=Kind.AT_LEAST.key(base.key),
        name=name,
        kind=Kind.AT_LEAST,
        event=base.event,
        column=base.column,
        transform=INDICATOR,
        raw=above.astype(float),
        window_verifiable=base.window_verifiable,
        threshold_of=base.key,
        threshold=float(k),
        known_levels=known,
    )


def _at_least(base: Candidate, k: float) -> tuple[np.ndarray, tuple | None]:
    """base.raw ≥ k per user, and the 0/1 levels (codes, values) when they come for free."""
    if "level_table" not in base.__dict__ or base.has_gaps:
        return base.raw >= k, None
    codes, values = base.level_table
    above = (values >= k)[codes]
    if above.all() or not above.any():  # one level: everyone (or no one) reaches k
        return above, (np.zeros(above.size, np.int32), np.array([float(above.any())]))
    return above, (above.astype(np.int32), np.array([0.0, 1.0]))


def select_candidates(cands: list[Candidate], wanted: tuple[str, ...] | None) -> list[Candidate]:
    """Keep the candidates the user named (by key, name, event or column); unknown names raise."""
    if not wanted:
        return cands
    keep, unknown = [], []
    for w in wanted:
        hits = [c for c in cands if w in (c.key, c.name, c.event, c.column)]
        (keep.extend(hits) if hits else unknown.append(w))
    if unknown:
        known = sorted({c.event or c.column or c.key for c in cands})
        raise InputError(
            f"Unknown candidate(s): {', '.join(unknown)}. Available: {', '.join(known[:30])}."
        )
    seen = set()
    return [c for c in keep if not (c.key in seen or seen.add(c.key))]
