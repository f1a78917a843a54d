"""The shared ground of every survival statistic: durations indexed once, values coded once, and
users counted on a (distinct time × value level) grid.

Durations are float days from the landmark (usually whole days); `event` is 1 when the user
churned at that duration and 0 when they were right-censored. Sorting durations and coding a
candidate's values are the costly parts of a Cox fit, a concordance or a threshold curve; doing
each once (`SurvivalData`, `levels`) and counting on the grid (`grid_counts`) is where the speed
comes from. Weights are *frequency weights*: a weight of k means k identical users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np


@dataclass(frozen=True, eq=False)
class SurvivalData:
    """Durations and events of one outcome, prepared once and shared by every candidate.

    Sorting durations is the costly part of a Cox fit or a concordance; doing it once per outcome
    instead of once per candidate (and per bootstrap resample) is where much of the speed comes
    from.

    `times` are the distinct durations (days, ascending); `time_index[i]` is user i's position in
    `times`; `deaths[j]` counts churn events at `times[j]`.
    """

    duration: np.ndarray
    event: np.ndarray
    times: np.ndarray = field(repr=False)
    time_index: np.ndarray = field(repr=False)
    deaths: np.ndarray = field(repr=False)

    @classmethod
    def from_arrays(cls, duration: np.ndarray, event: np.ndarray) -> SurvivalData:
        """Validate and index durations (days, ≥ 0, finite) and events (0/1 or bool)."""
        duration = np.asarray(duration, dtype=float)
        event_raw = np.asarray(event)
        if duration.ndim != 1 or event_raw.shape != duration.shape:
            raise ValueError(
                f"duration and event must be 1-D arrays of equal length, got shapes "
                f"{duration.shape} and {event_raw.shape}"
            )
        if duration.size == 0:
            raise ValueError("no users: duration is empty")
        if not np.all(np.isfinite(duration)) or duration.min() < 0:
            raise ValueError("durations must be finite and ≥ 0 days")
        if not np.all((event_raw == 0) | (event_raw == 1)):
            raise ValueError("event must contain only 0/1 (or False/True)")
        event_arr = event_raw.astype(np.int8)

        times, time_index = _index_times(duration)
        deaths = np.bincount(time_index, weights=event_arr, minlength=times.size)
        return cls(duration, event_arr, times, time_index, deaths)

    @property
    def n(self) -> int:
        """Number of users (rows)."""
        return int(self.duration.size)

    @cached_property
    def status_cell(self) -> np.ndarray:
        """2·time index + churned per user (int64), the within-level part of every cell key,
        computed once per outcome instead of once per candidate."""
        return 2 * self.time_index.astype(np.int64) + self.event

    @cached_property
    def efron_ties(self) -> EfronTies:
        """Efron's (time, l/d) entries for the unweighted deaths, built once per outcome."""
        return EfronTies.from_deaths(self.deaths)


def _index_times(duration: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct durations and each user's index into them.

    Whole-day durations over a modest range are indexed with `bincount` in O(n); anything else
    falls back to a sort (`np.unique`).
    """
    lo, hi = duration.min(), duration.max()
    if hi - lo <= 4 * duration.size + 1024 and np.array_equal(duration, np.floor(duration)):
        offset = (duration - lo).astype(np.intp)
        present = np.bincount(offset) > 0
        rank = np.cumsum(present) - 1
        times = np.flatnonzero(present).astype(float) + lo
        return times, rank[offset]
    times, inverse = np.unique(duration, return_inverse=True)
    return times, inverse.astype(np.intp)


def check_weights(weights: np.ndarray | None, n: int, *, integer: bool) -> np.ndarray | None:
    """Frequency weights: finite, ≥ 0, and (where the statistic needs it) whole numbers."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or w.min() < 0:
        raise ValueError("weights must be finite and ≥ 0")
    if integer and not np.array_equal(w, np.round(w)):
        raise ValueError(
            "weights are frequency weights (a weight of k = k identical users) and must be whole "
            "numbers, e.g. Poisson(1) bootstrap counts"
        )
    return w


def check_covariate(x: np.ndarray, n: int, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


@dataclass(frozen=True)
class EfronTies:
    """One entry per churn event (per unit of frequency weight): its time and Efron fraction l/d.

    Efron's approximation subtracts l/d of the tied users' risk for the l-th of d tied deaths
    (l = 0..d−1). Listing those (time, l/d) pairs once turns every tied-time sum into one
    vectorised gather + sum, however many deaths share a day: O(total events), no loop over ties.
    """

    time: np.ndarray
    frac: np.ndarray

    @classmethod
    def from_deaths(cls, deaths: np.ndarray) -> EfronTies:
        d = deaths.astype(np.int64)
        time = np.repeat(np.arange(d.size), d)
        start = np.cumsum(d) - d
        rank_in_tie = np.arange(time.size) - start[time]
        return cls(time, rank_in_tie / d[time])


MAX_LEVELS = 256  # beyond this many distinct values, a candidate is cut into quantile bins


def levels(values: np.ndarray, max_levels: int = MAX_LEVELS) -> tuple[np.ndarray, int]:
    """Dense codes 0..L−1 in ascending order of value; near-continuous values become quantile
    bins (ties within a bin are then counted as ties: an approximation for resamples only)."""
    small_ints = _small_integer_codes(values)
    if small_ints is not None and small_ints[1].size <= max_levels:
        return small_ints[0], small_ints[1].size
    uniq, codes = np.unique(values, return_inverse=True)
    if uniq.size <= max_levels:
        return codes.astype(np.intp), uniq.size
    edges = np.unique(np.quantile(values, np.linspace(0, 1, max_levels + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right").astype(np.intp), edges.size + 1


def quantile_bins(
    codes: np.ndarray, n_codes: int, max_levels: int = MAX_LEVELS
) -> tuple[np.ndarray, int]:
    """Quantile bins of a variable from its integer codes, by counting, not sorting: users
    with a code up to that of the order statistic at ⌊q·(n−1)⌋ (q = 1/L, 2/L, …) fall below
    edge q, so every bin holds ~n/L users unless one value holds more (then it is one bin).

    `levels(values)` cuts at numpy's interpolated quantiles instead, which puts the users at
    the lower value of an interpolated edge one bin higher; either is a valid binning for the
    influence approximation that uses it (`influence.concordance_influence`), and this one
    needs no values and no sort. Few codes: every used code is its own level.
    """
    counts = np.bincount(codes, minlength=n_codes)
    if np.count_nonzero(counts) <= max_levels:
        present = np.flatnonzero(counts)
        dense = np.zeros(n_codes, np.intp)
        dense[present] = np.arange(present.size)
        return dense[codes], present.size
    q = np.linspace(0, 1, max_levels + 1)[1:-1]
    position = np.floor((codes.size - 1) * q).astype(np.int64)
    edges = np.unique(np.searchsorted(np.cumsum(counts), position, side="right"))
    bin_of_code = np.searchsorted(edges, np.arange(n_codes), side="right")
    return bin_of_code[codes].astype(np.intp), edges.size + 1


def exact_levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes of every distinct value (ascending) and the value of each level.

    With the level values, anything that is a function of the value (log1p, "≥ k", the mean,
    the SD) is computed once per level and gathered, instead of once per user.
    """
    small_ints = _small_integer_codes(values)
    if small_ints is not None:
        return small_ints
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.intp), uniq.astype(float)


def _small_integer_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Dense codes by counting instead of sorting, for non-negative whole numbers (event
    counts): O(n) instead of O(n log n), with the value of each level. None when the values
    are not such numbers."""
    if values.size == 0 or values.dtype.kind not in "fiu":
        return None
    lo, hi = values.min(), values.max()
    if not (lo >= 0 and hi <= 1_000_000):
        return None
    ints = values.astype(np.intp)
    if not np.array_equal(ints, values):  # a fraction was truncated
        return None
    present = np.bincount(ints) > 0
    rank = (np.cumsum(present) - 1).astype(np.int32)  # 4 bytes a user: codes are kept per candidate
    return rank[ints], np.flatnonzero(present).astype(float)


def grid_counts(
    sd: SurvivalData, codes: np.ndarray, n_levels: int, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(users, churned): (distinct times × value levels) arrays of users and churns per cell.

    The one place every grid statistic (concordance, its influence, thresholds) counts users:
    codes are dense value codes 0..n_levels−1; frequency weights count a user that many times.
    Unweighted counts are whole numbers (int64), so ratios of them are exact.
    """
    cell = sd.time_index * n_levels + codes
    shape, size = (sd.times.size, n_levels), sd.times.size * n_levels
    churn_w = sd.event if weights is None else weights * sd.event
    users = np.bincount(cell, weights=weights, minlength=size).reshape(shape)
    churned = np.bincount(cell, weights=churn_w, minlength=size).reshape(shape)
    if weights is None:
        return users.astype(np.int64), churned.astype(np.int64)
    return users, churned


def batched_bincount(codes: np.ndarray, n_codes: int, weights: np.ndarray) -> np.ndarray:
    """(b, n_codes) weighted counts per code for b weight vectors (b, n), in one bincount."""
    b = weights.shape[0]
    idx = (codes[None, :] + (np.arange(b) * n_codes)[:, None]).ravel()
    return np.bincount(idx, weights=weights.ravel(), minlength=b * n_codes).reshape(b, n_codes)
