"""Days and the as-of date in epoch seconds: the one definition every module counts days by.

Kept apart from `events` (which needs the engine) so that a users-table analysis, which counts
days too, does not import Ibis to learn how long a day is.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

DAY = 86_400  # seconds; timestamps are read in UTC, so every day has this many


def as_of_end_sec(as_of: dt.date) -> int:
    """The as-of date is inclusive: the data ends at midnight after it (epoch seconds, UTC)."""
    return int((pd.Timestamp(as_of) + pd.Timedelta(days=1)).timestamp())
