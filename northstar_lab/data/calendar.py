"""Days and the as-of date in epoch seconds: the one definition every module counts days by.

Kept apart from `events` (which needs the engine) so that a users-table analysis, which counts
days too, does not import Ibis to learn how long a day is.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DAY = 86_400  # seconds; timestamps are read in UTC, so every day has this many

#: Largest absolute epoch value → unit: seconds until ~5138 AD, then ms, µs, ns.
EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"), (float("inf"), "ns"))
UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def is_yyyymmdd(x) -> bool:
    """Whether every value is a whole number written as a date, yyyymmdd (20250301), 1900–2100,
    month and day in range (a numeric array or Series without gaps)."""
    x = np.asarray(x, float)
    if not ((x >= 19_000_101) & (x <= 21_001_231) & (x == np.floor(x))).all():
        return False
    month, day = (x // 100) % 100, x % 100
    return bool(((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)).all())


def epoch_unit(biggest: float) -> str:
    """The unit of Unix times from the largest absolute value: 's', 'ms', 'us' or 'ns'."""
    return next(unit for limit, unit in EPOCH_UNITS if abs(biggest) <= limit)


def as_of_end_sec(as_of: dt.date) -> int:
    """The as-of date is inclusive: the data ends at midnight after it (epoch seconds, UTC)."""
    return int((pd.Timestamp(as_of) + pd.Timedelta(days=1)).timestamp())
