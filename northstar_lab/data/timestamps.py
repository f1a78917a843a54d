"""Event-log timestamps written the way spreadsheets and BI tools export them: '03/04/2025
14:30', '04/03/2025 2:30 PM', 'Jan 05, 2025 14:00'. An engine's cast reads ISO 8601 only, so
such a log used to stop at "values that are not dates".

When the cast leaves text timestamps unread (`check_events` raises `BadTimestamps`), one format
is chosen for the whole column and applied in the engine as a second, non-failing parse:
- numeric dates take one day/month order for the whole column, the rule of users tables
  (`users.date_order`): a first number above 12 means day first, a second one month first;
  a column where values disagree is not repaired (the error stands), and one no value
  decides is read month/day, said in a note;
- the format is the first of `FORMATS` that reads every sampled value (Python's strptime,
  whose directives DuckDB's `try_strptime` shares), and the engine then reads every row with
  it; rows it cannot read still stop the analysis, with examples.
DuckDB only: Spark's parse has its own pattern language and a failing variant depends on its
ANSI mode, so a Spark log keeps the clear error and its advice to export ISO timestamps.
"""

from __future__ import annotations

import datetime
import itertools

import ibis
import pandas as pd

from .events import unread_timestamps
from .users import date_order

SAMPLE = 2000
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")
_MONTH_NAMES = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%d-%b-%Y")


def numeric_formats(day_first: bool) -> list[str]:
    """'%d/%m/%Y …' (or month first) with '/', '.' or '-', four- or two-digit years."""
    first, second = ("%d", "%m") if day_first else ("%m", "%d")
    return [
        f"{first}{sep}{second}{sep}{year}{time}"
        for sep, year, time in itertools.product("/.-", ("%Y", "%y"), _TIMES)
    ]


def month_name_formats() -> list[str]:
    return [f"{date}{time}" for date, time in itertools.product(_MONTH_NAMES, _TIMES)]


#: Times with their UTC offset as mail, HTTP and JavaScript write them: RFC 2822 ('Tue, 26
#: Mar 2024 00:00:00 +0000'), a JavaScript Date's text ('Tue Mar 26 2024 00:00:00 GMT+0100'),
#: a web server's access log ('26/Mar/2024:00:00:00 +0000') and Twitter's API ('Tue Mar 26
#: 00:00:00 +0000 2024', which Foursquare check-in dumps keep); read in UTC. Last, C's
#: ctime/asctime ('Tue Mar 26 00:00:00 2024'), which has no zone and is read as UTC.
OFFSET_FORMATS = ("%a, %d %b %Y %H:%M:%S %z", "%d %b %Y %H:%M:%S %z",
                  "%a %b %d %Y %H:%M:%S GMT%z", "%d/%b/%Y:%H:%M:%S %z",
                  "%a %b %d %H:%M:%S %z %Y", "%a %b %d %H:%M:%S %Y")  # fmt: skip


@ibis.udf.scalar.builtin(name="try_strptime")
def _try_strptime(text: str, fmt: str) -> datetime.datetime:
    """DuckDB's strptime that gives NULL instead of failing."""


def repair_text_timestamps(
    std: ibis.Table, label: str, engine: str
) -> tuple[ibis.Table, str] | None:
    """The log with its unread text timestamps parsed in one chosen format, and a note
    saying how; None when no format reads them (or the engine is not DuckDB)."""
    if engine != "duckdb" or "raw_ts" not in std.columns:
        return None
    unread = std.filter(unread_timestamps(std))
    sample = unread.select(v=unread.raw_ts.strip()).limit(SAMPLE).to_pandas()["v"]
    if sample.empty:
        return None
    if sample.str.fullmatch(r"\d{9,19}(\.\d*)?").all():  # Unix time stored as text
        return _epoch_text(std, label)
    order = _column_order(unread, sample)
    if order == "mixed":
        return None
    formats = numeric_formats(day_first=order == "day") + month_name_formats()
    formats += list(OFFSET_FORMATS)
    fmt = next((f for f in formats if _reads_all(sample, f)), None)
    if fmt is None:
        return None
    parsed = _try_strptime(std.raw_ts.strip(), fmt).cast("timestamp")  # %z: UTC, no zone
    repaired = std.mutate(ts=ibis.coalesce(std.ts, parsed))
    example = sample.iloc[0]
    read_as = pd.to_datetime(example, format=fmt, utc=True)  # shown in UTC, as it is read
    note = (
        f"{label}: timestamps such as '{example}' were read with the format {fmt} "
        f"('{example}' as {read_as:%Y-%m-%d %H:%M})."
    )
    if order == "unknown" and fmt in numeric_formats(day_first=False):
        note += (
            " No date tells whether they are day/month or month/day: read as month/day. If "
            "they are day/month, export ISO timestamps (2025-04-03 14:30)."
        )
    return repaired, note


def _epoch_text(std: ibis.Table, label: str) -> tuple[ibis.Table, str]:
    """Text of digits ('1711411200', a Parquet string column) read as the numbers they are,
    by the rule for numeric times (`events._epoch_to_timestamp`: the unit from the size)."""
    from .events import _epoch_to_timestamp

    numbers = std.mutate(epoch_text=std.raw_ts.strip().try_cast("float64"))
    ts, reading = _epoch_to_timestamp(numbers, "epoch_text", label)
    note = f"{label}: the timestamp column holds numbers written as text, read as Unix time."
    repaired = numbers.mutate(ts=ibis.coalesce(numbers.ts, ts)).drop("epoch_text")
    return repaired, reading or note


def _column_order(unread: ibis.Table, sample: pd.Series) -> str | None:
    """`date_order` over every unread value (in the engine), not the sample only: the first
    2,000 rows of a log can all fall on days 1–12."""
    if date_order(sample) is None:
        return None
    pattern = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]"
    first = unread.raw_ts.re_extract(pattern, 1).try_cast("int64")
    second = unread.raw_ts.re_extract(pattern, 2).try_cast("int64")
    seen = unread.aggregate(day=(first > 12).any(), month=(second > 12).any()).to_pandas()
    day, month = bool(seen["day"].iloc[0]), bool(seen["month"].iloc[0])
    if day and month:
        return "mixed"
    return "day" if day else "month" if month else "unknown"


def _reads_all(sample: pd.Series, fmt: str) -> bool:
    parsed = pd.to_datetime(sample, format=fmt, errors="coerce", utc=True)
    return bool(parsed.notna().all())
