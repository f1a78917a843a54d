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


YYYYMMDD = (19_000_101, 21_001_231)  # whole numbers written as dates, 1900–2100
#: Numbers whose largest, as Unix seconds, is before 1973-03-03 are no times (row numbers,
#: seconds since some start): read as Unix time they would all fall in 1970–1972.
NOT_BEFORE_SEC = 1e8


def is_yyyymmdd(x) -> bool:
    """Whether every value is a whole number written as a date, yyyymmdd (20250301), 1900–2100,
    month and day in range (a numeric array or Series without gaps)."""
    x = np.asarray(x, float)
    if not ((x >= YYYYMMDD[0]) & (x <= YYYYMMDD[1]) & (x == np.floor(x))).all():
        return False
    month, day = (x // 100) % 100, x % 100
    return bool(((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)).all())


#: Spreadsheet serial dates (days since 1899-12-30: Excel's and LibreOffice's 1900 system, and
#: what a date cell becomes when its format is lost): the serials of 1970-01-01 and 2100-01-01.
#: Read as Unix seconds they would all fall on 1 January 1970; no Unix time of this century is
#: this small, and no yyyymmdd date this large, so the range says which it is.
SERIAL_OF_1970 = 25_569
SERIALS = (SERIAL_OF_1970, 73_051)

#: How a numeric time column was read, in words for a note (the units: `UNIT_WORDS`).
READING_WORDS = {
    "yyyymmdd": "dates written as yyyymmdd",
    "serial": "spreadsheet serial dates (days since 1899-12-30)",
    **{unit: f"Unix times in {word}" for unit, word in UNIT_WORDS.items()},
}


def time_reading(low: float, high: float, yyyymmdd: bool) -> str:
    """How the numbers of a column mapped as a time read, from their smallest and largest
    value: 'yyyymmdd' when every one is such a date (`is_yyyymmdd`), 'serial' when all are
    spreadsheet serial dates of 1970–2100, else the Unix-time unit of the largest absolute
    value (`epoch_unit`). Only for columns that are times by their role: a salary column of
    30,000–70,000 is not a date because its values would fit."""
    if yyyymmdd:
        return "yyyymmdd"
    if SERIALS[0] <= low and high <= SERIALS[1]:
        return "serial"
    return epoch_unit(max(abs(low), abs(high)))


def epoch_unit(biggest: float) -> str:
    """The unit of Unix times from the largest absolute value: 's', 'ms', 'us' or 'ns'."""
    return next(unit for limit, unit in EPOCH_UNITS if abs(biggest) <= limit)


def as_of_end_sec(as_of: dt.date) -> int:
    """The as-of date is inclusive: the data ends at midnight after it (epoch seconds, UTC)."""
    return int((pd.Timestamp(as_of) + pd.Timedelta(days=1)).timestamp())
