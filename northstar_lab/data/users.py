"""Loading and validating a one-row-per-user table (small enough for pandas).

Every problem in the file is collected before raising, so the user fixes it once.
Times become epoch seconds (UTC) so that they meet event-log times on any engine.
"""

from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..durations import (
    DAYS_PER_UNIT,
    DURATION_UNITS,
    text_durations,
    unit_in_name,
    units_in_words,
)
from ..errors import InputError, example_rows
from . import csvread, diagnose, excel, headerless
from .calendar import (
    DAY,
    NOT_BEFORE_SEC,
    PER_SECOND,
    READING_WORDS,
    SERIAL_OF_1970,
    is_yyyymmdd,
    time_reading,
)
from .columns import UserColumns, show_columns
from .exportrows import lines_above_header
from .flags import as_flag
from .names import changed_names_warning, clean_values
from .numbers import read_text_numbers, text_numbers_note
from .proposals import fixed_day_retention, left_out_notes


def duration_unit_needed(duration_column: str | None, unit: str | None = None) -> bool:
    """Must the analyst say the unit of this duration column? Yes when a duration column is
    mapped, no unit was given and its name does not carry one ('tenure', 'duration'): days,
    weeks, months and years all look alike, and reading months as days drops most users as
    churned in the window (METHODS §1.2). The app asks for a unit exactly when this is True."""
    return bool(duration_column) and unit is None and unit_in_name(duration_column) is None


@dataclass
class UsersTable:
    """A validated users table: `frame` has user_id (str) plus standard columns in seconds/days.

    Standard columns (present only when mapped): signup_sec, cancel_sec, last_active_sec
    (epoch seconds, NaN = none), duration_days, churn_flag (0/1), revenue; then behaviour
    columns as floats and segment columns as strings, under their original names.
    """

    frame: pd.DataFrame
    columns: UserColumns
    label: str
    notes: list[str] = field(default_factory=list)
    #: yes/no columns of retention on fixed days (`proposals.fixed_day_retention`), named when
    #: churn cannot be told: they look like an answer and are not one
    fixed_day_flags: tuple[str, ...] = ()


def read_table(path: str | Path, label: str | None = None, header: bool = True) -> pd.DataFrame:
    """Read a CSV, CSV.gz or Parquet file into pandas with a clear error for unreadable files.

    A CSV is checked first (Excel workbook, UTF-16, NUL bytes, a truncated gzip) and its
    delimiter (comma, semicolon, tab or '|') read from the header line; a failure gets its cause
    from `diagnose`. header=False: the first line is data, the columns numbered (`headerless`).
    """
    path = Path(path)
    label = label or path.name
    if not path.exists():
        raise InputError(f"{label}: file not found at {path}.")
    if path.stat().st_size == 0:
        raise InputError(f"{label}: the file is empty (0 bytes). Export it again with its header.")
    low = path.name.lower()
    if excel.is_workbook(path):
        return excel.read_workbook(path, label)
    is_parquet = _is_parquet(path)
    if not is_parquet and not low.endswith((".csv", ".csv.gz", ".txt", ".tsv", ".gz")):
        if diagnose.sniff(path) == "xls":
            raise InputError(f"{label}: {diagnose.NOT_CSV['xls']}")
        raise InputError(
            f"{label}: unsupported file type; use CSV (.csv, .csv.gz), Parquet or an Excel "
            "workbook (.xlsx)."
        )
    if not is_parquet:
        problem = diagnose.csv_problem(path)
        if problem:
            raise InputError(f"{label}: {problem}")
    try:
        if is_parquet:
            df = pd.read_parquet(path)
        elif not header:  # columns numbered as DuckDB numbers them
            sep, skip = csv_layout(path)
            df = pd.read_csv(path, sep=sep, header=None, skiprows=skip, low_memory=False)
            df.columns = [f"column{i}" for i in range(df.shape[1])]
            return df
        else:
            df = csvread.read_csv(path, *csv_layout(path))
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{label}: the file has no header and no rows.") from exc
    except Exception as exc:
        raise diagnose.read_error(exc, path, label, "parquet" if is_parquet else "csv") from exc
    problem = None if is_parquet else diagnose.single_column_problem(list(df.columns), label)
    if problem:
        raise problem
    if not is_parquet:
        _refuse_repeated_header(df, label)
    if df.shape[0] == 0:
        raise InputError(f"{label}: the file has a header but no rows.")
    return df


def _refuse_repeated_header(df: pd.DataFrame, label: str) -> None:
    """Files joined together repeat the header line as a row, which turns every column into
    text: name those rows (as the event log does) instead of listing each column's values
    that are not dates or numbers. Only a first column read as text is looked at."""
    first = df.iloc[:, 0]
    if pd.api.types.is_numeric_dtype(first) or df.shape[0] == 0:
        return
    hits = np.flatnonzero((first.astype(str).str.strip() == str(df.columns[0]).strip()).to_numpy())
    names = [str(c).strip() for c in df.columns]
    rows = [i for i in hits if [str(v).strip() for v in df.iloc[i]] == names]
    if rows:
        raise InputError(
            f"{label}: {example_rows(np.asarray(rows))} repeat{'s' if len(rows) == 1 else ''} "
            "the header line (files joined together?): remove those lines and load it again."
        )


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq")) or diagnose.sniff(path) == "parquet"


def ids_as_written(df: pd.DataFrame, path: str | Path, col: str) -> pd.DataFrame:
    """The user id column of a CSV users table as the text in the file when pandas read it as
    numbers that lost something: '000123' is 123 to pandas but stays '000123' in an event log
    (DuckDB keeps such ids as text), so no user would match. Other columns keep their types."""
    s = df[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return df
    path = Path(path)
    if _is_parquet(path):
        return df
    sep, skip = csv_layout(path)
    text = csvread.column_as_written(path, sep, list(df.columns).index(col), len(df), skip)
    if text is None:
        return df
    text = text.str.strip()
    present = text.notna().to_numpy()
    if (text[present].to_numpy() == user_ids_as_text(s)[present].to_numpy()).all():
        return df  # 42 read as 42: nothing lost
    return df.assign(**{col: text.to_numpy(dtype=object)})


def csv_layout(path: Path) -> tuple[str, int]:
    """(delimiter, lines above the header): a report's title lines are skipped
    (`exportrows`); otherwise the delimiter is read from the first line, as always."""
    sep, skip, _ = lines_above_header(path)
    return (sep, skip) if skip else (_delimiter(path), 0)


def _delimiter(path: Path) -> str:
    """The most frequent of , ; tab | in the header line (a comma when none is there)."""
    opener = gzip.open if diagnose.sniff(path) == "gzip" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        header = f.readline(diagnose.HEAD_BYTES)
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


_NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?:[\sT].*)?$"


def date_order(s: pd.Series) -> str | None:
    """How dates written as numbers ('03/04/2025', '13.04.2025') order day and month.

    'day' or 'month' when some value says (a first number above 12 is a day, a second one
    above 12 is a day too), 'mixed' when values say both, 'unknown' when none does (every
    day ≤ 12), None when the column has no such dates. Read value by value, '03/04/2025'
    would be March 4 and '13/04/2025' April 13 in one column: one order for all is needed.
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return None
    parts = s.dropna().astype(str).str.extract(_NUMERIC_DATE).dropna()
    if parts.empty:
        return None
    first, second = parts[0].astype(int), parts[1].astype(int)
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    if day_first and month_first:
        return "mixed"
    return "day" if day_first else "month" if month_first else "unknown"


def parse_times(s: pd.Series, dayfirst: bool = False) -> tuple[pd.Series, pd.Series]:
    """Epoch seconds (float, NaN where empty) and a mask of values that are present but unparsable.

    Time-zone-aware values are converted to UTC; naive ones are taken as UTC. dayfirst: read
    numeric dates as day/month (`date_order`), every value the same way.
    """
    present = s.notna() & (s.astype(str).str.strip() != "")
    if pd.api.types.is_numeric_dtype(s):
        secs, bad, _how = numeric_times(s)
        return secs, bad
    with warnings.catch_warnings():  # "could not infer format": we retry with format="mixed"
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(s, errors="coerce", utc=True, dayfirst=dayfirst)
    if (present & parsed.isna()).any():
        parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)
    bad = present & parsed.isna()
    secs = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return secs, bad


def prepare_users(df: pd.DataFrame, columns: UserColumns, label: str = "users") -> UsersTable:
    """Validate and standardise a users table, collecting every problem before raising."""
    problems: list[str] = []
    # durations written with their unit ('12 months'): each value says it, none is asked for
    written = text_durations(df[columns.duration]) if columns.duration in df else None
    _check_mapping(df, columns, label, problems, unit_written=written is not None)
    df = df.reset_index(drop=True)
    out = pd.DataFrame({"user_id": user_ids_as_text(df[columns.user])})
    _check_ids(out["user_id"], df[columns.user], label, columns.user, problems)
    notes: list[str] = []
    _times(df, columns, label, out, problems, notes)
    _outcome_columns(df, columns, label, out, problems, notes, written)
    for col in columns.behaviour:
        values = _behaviour_values(df[col])
        text = read_text_numbers(df[col]) if values is None else None
        if text is not None:
            values = text.values
            notes.append(text_numbers_note(label, col, text))
        if values is None:
            problems.append(
                f"{label}: behaviour column '{col}' is not numeric (and not a yes/no flag). "
                "Remove it from the candidates or convert it to numbers."
            )
        else:
            _infinite_problem(values, col, "behaviour column", label, problems)
            out[col] = values.to_numpy()
    n_cleaned = 0
    for col in columns.segments:
        values, n = clean_values(df[col])
        out[col] = values.fillna("(missing)").to_numpy()
        n_cleaned += n
    if problems:
        raise InputError.collect(problems)
    if n_cleaned:
        notes.append(changed_names_warning(label, "segment values", n_cleaned))
    notes += left_out_notes(df, columns, label)
    if written is not None and columns.duration_unit is None:  # the words results speak in
        columns = columns.with_(duration_unit=written[1])
    return UsersTable(frame=out, columns=columns, label=label, notes=notes,
                      fixed_day_flags=fixed_day_retention(df))  # fmt: skip


def _check_mapping(
    df: pd.DataFrame, columns: UserColumns, label: str, problems: list, unit_written=False
) -> None:
    """The mapping itself: a user id, every mapped column present, a duration unit where one
    is needed, unless the values write it (these raise at once), and no outcome also mapped
    as behaviour."""
    cols = list(df.columns)
    if not columns.user and headerless.is_numbered(cols):
        raise headerless.headerless_error(df, label, ["user"], headerless.USERS_HEADER)
    if not columns.user:
        raise InputError(
            f"{label}: no user id column found. Columns present: {show_columns(cols)}. Say which "
            "column holds the user id in the column mapping, or rename it to user_id."
        )
    mapped = list(columns.roles().items())
    mapped += [("behaviour", c) for c in columns.behaviour]
    mapped += [("segment", c) for c in columns.segments]
    missing = [f"'{c}' (for {r})" for r, c in mapped if c not in df.columns]
    if missing:
        raise InputError(
            f"{label}: column {', '.join(missing)} is missing. "
            f"Columns present: {show_columns(cols)}."
        )
    unit_problem = None if unit_written else _duration_unit_problem(columns, label)
    if unit_problem:
        raise unit_problem
    outcome_behaviour = [c for c in columns.behaviour if c in columns.roles().values()]
    if outcome_behaviour:
        problems.append(
            f"{label}: {', '.join(repr(c) for c in outcome_behaviour)} is mapped as an outcome "
            "(duration, churn, cancellation, signup or revenue) and cannot also be a behaviour "
            "candidate: an outcome predicts itself. Remove it from the behaviour columns."
        )


def numeric_times(s: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """Epoch seconds and the unparsable mask of a numeric time column, and how it was read:
    whole numbers written as dates (20250301, 'yyyymmdd'), spreadsheet serial dates (45658.5 is
    2025-01-01 12:00, what a date cell becomes when a sheet is saved without its date format),
    or Unix times in the unit their size says (`calendar.time_reading`: JavaScript and most
    analytics exports write milliseconds, which read as seconds would put signups 50,000 years
    ahead). Other small numbers are not times."""
    x = s.astype(float)
    present = x.notna()
    if present.any() and is_yyyymmdd(x[present]):
        text = x.astype("Int64").astype(str).where(present)
        parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce", utc=True)
        secs = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        return secs, present & secs.isna(), "yyyymmdd"
    finite = x[np.isfinite(x)]
    how = time_reading(float(finite.min()), float(finite.max()), False) if finite.size else "s"
    if how == "serial":  # a spreadsheet's days since 1899-12-30, the fraction the time of day
        secs = ((x - SERIAL_OF_1970) * DAY).round()
        return secs, present & ~np.isfinite(secs), how
    secs = x / PER_SECOND[how]
    bad = present & ~(np.isfinite(secs) & (secs.abs() > NOT_BEFORE_SEC))  # inf: no time either
    return secs.where(~bad), bad, how


def read_dates(s: pd.Series, col: str, label: str, problems: list, notes: list):
    """`parse_times` with one day/month order for the whole column (`date_order`): None and
    a problem when values disagree, a note when none tells (read as month/day)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        secs, bad, how = numeric_times(s)
        if how != "s" and (~bad & secs.notna()).any():
            first, last = (pd.Timestamp(v, unit="s") for v in (secs.min(), secs.max()))
            notes.append(
                f"{label}: column '{col}' holds {READING_WORDS[how]}, read as {first:%Y-%m-%d} to "
                f"{last:%Y-%m-%d}."
            )
        return secs, bad
    order = date_order(s)
    if order == "mixed":
        problems.append(_mixed_dates_words(s, col, label))
        return None
    if order == "unknown":
        notes.append(
            f"{label}: in column '{col}' no date tells whether it is day/month or month/day "
            f"(e.g. '{s.dropna().iloc[0]}'): read as month/day. If they are day/month, export "
            "the dates as 2025-04-03."
        )
    return parse_times(s, dayfirst=order == "day")


def _mixed_dates_words(s: pd.Series, col: str, label: str) -> str:
    parts = s.dropna().astype(str).str.extract(_NUMERIC_DATE)
    day = s.dropna()[parts[0].astype(float) > 12].iloc[0]
    month = s.dropna()[parts[1].astype(float) > 12].iloc[0]
    return (
        f"{label}: column '{col}' mixes day/month and month/day dates (e.g. '{day}' and "
        f"'{month}'), so no order reads them all. Export the dates as 2025-04-03."
    )


def _times(
    df, columns: UserColumns, label: str, out: pd.DataFrame, problems: list[str], notes
) -> None:
    """signup_sec, cancel_sec, last_active_sec into `out` (epoch seconds, NaN = none), and the
    problems with them: values that are not dates, missing signups, cancels before signup."""
    unparsable = {}
    for role in ("signup", "cancel", "last_active"):
        col = getattr(columns, role)
        if col:
            read = read_dates(df[col], col, label, problems, notes)
            if read is None:
                continue
            secs, bad = read
            unparsable[role] = bad
            if bad.any() and role == "cancel" and as_flag(df[col]) is not None:
                problems.append(_flag_as_cancel_words(df[col], col, label))
            elif bad.any():
                idx = np.flatnonzero(bad.to_numpy())
                ex = df[col][bad].astype(str).head(3).tolist()
                problems.append(
                    f"{label}: column '{col}' has {bad.sum()} values that are not dates "
                    f"({example_rows(idx)}; e.g. {', '.join(repr(e) for e in ex)}). "
                    "Expected e.g. 2025-03-01 or 2025-03-01T14:30:00."
                )
            out[f"{role}_sec"] = secs.to_numpy()
    if columns.signup and "signup_sec" in out:
        missing_signup = out["signup_sec"].isna() & ~unparsable["signup"]
        if missing_signup.any():
            problems.append(
                f"{label}: column '{columns.signup}' is empty in {missing_signup.sum()} rows "
                f"({example_rows(np.flatnonzero(missing_signup))}). Every user needs a signup time."
            )
    if columns.signup and columns.cancel and "cancel_sec" in out:
        _same_day_cancels(out, columns, label, notes)
        before = out["cancel_sec"] < out["signup_sec"]
        if before.any():
            problems.append(
                f"{label}: '{columns.cancel}' is before '{columns.signup}' in {before.sum()} rows "
                f"({example_rows(np.flatnonzero(before))}). Fix those dates."
            )


def _flag_as_cancel_words(s: pd.Series, col: str, label: str) -> str:
    """A churn flag given where a cancellation time belongs: say which it is."""
    values = ", ".join(repr(v) for v in s.dropna().astype(str).str.strip().unique()[:3])
    return (
        f"{label}: column '{col}' holds a churn flag ({values}), not cancellation times: map "
        "it as the churn flag, beside a tenure (duration) column."
    )


def _same_day_cancels(out: pd.DataFrame, columns: UserColumns, label: str, notes) -> None:
    """A cancellation column of dates without a time of day puts a same-day cancellation at
    midnight, before a signup timed 14:00 that day: such a user cancelled on the signup day,
    not before it, so the cancellation is read as at signup (0 days), with a note. A cancel
    dated an earlier day stays a problem."""
    cancel, signup = out["cancel_sec"], out["signup_sec"]
    present = cancel.notna()
    if not present.any() or (cancel[present] % DAY != 0).any():
        return  # the column has times of day: an earlier time is an error in the data
    same_day = present & (cancel < signup) & (cancel // DAY == signup // DAY)
    if same_day.any():
        out.loc[same_day, "cancel_sec"] = signup[same_day]
        notes.append(
            f"{label}: '{columns.cancel}' holds dates without a time, so {int(same_day.sum()):,} "
            f"users who cancelled on their signup day are dated before their '{columns.signup}' "
            "time; they are read as cancelling at signup (0 days)."
        )


def _outcome_columns(
    df, columns: UserColumns, label: str, out: pd.DataFrame, problems, notes, written=None
) -> None:
    """duration_days (converted from the column's unit), churn_flag (0/1) and revenue (text
    such as '$1,234.50' read as a number, with a note)."""
    if written is not None:  # '12 months', '1 year 2 months': each value says its unit
        days, _unit = written
        out["duration_days"] = days.to_numpy()
        _empty_tenure(days.isna().to_numpy(), columns.duration, "", label, problems)
        example = df[columns.duration].dropna().astype(str).iloc[0].strip()
        notes.append(
            f"{label}: column '{columns.duration}' holds durations written with their unit, "
            f"read as such ('{example}' as {days.dropna().iloc[0]:,.2f} days)."
        )
    elif columns.duration:
        unit = duration_unit_of(columns)
        dur = pd.to_numeric(df[columns.duration], errors="coerce")
        empty = df[columns.duration].isna().to_numpy()
        bad = ~empty & (dur.isna() | (dur < 0) | np.isinf(dur)).to_numpy()
        _empty_tenure(empty, columns.duration, f" in {unit}", label, problems)
        if bad.any():
            problems.append(
                f"{label}: column '{columns.duration}' must be a non-negative number of "
                f"{unit}; {bad.sum()} values are not ({example_rows(np.flatnonzero(bad))})."
            )
        out["duration_days"] = dur.to_numpy() * DAYS_PER_UNIT[unit]
    if columns.churn:
        flag = as_flag(df[columns.churn])
        if flag is None:
            vals = sorted(df[columns.churn].dropna().astype(str).str.lower().unique())[:6]
            problems.append(
                f"{label}: churn column '{columns.churn}' must be 0/1, true/false, yes/no or "
                f"churned/stayed; found {', '.join(repr(v) for v in vals)}."
            )
        elif flag.isna().any():
            gaps = flag.isna().to_numpy()
            problems.append(
                f"{label}: churn column '{columns.churn}' is empty for {int(gaps.sum()):,} "
                f"users ({example_rows(np.flatnonzero(gaps))}). Fill in 1 for users who "
                "churned and 0 for those still active, or leave those users out."
            )
        else:
            out["churn_flag"] = flag.to_numpy()
    if columns.revenue:
        text = read_text_numbers(df[columns.revenue])
        if text is not None:
            notes.append(text_numbers_note(label, columns.revenue, text))
        rev = text.values if text else pd.to_numeric(df[columns.revenue], errors="coerce")
        bad = rev.isna() & df[columns.revenue].notna() & (df[columns.revenue].astype(str) != "")
        if bad.any():
            problems.append(
                f"{label}: revenue column '{columns.revenue}' has {bad.sum()} non-numeric values "
                f"({example_rows(np.flatnonzero(bad))})."
            )
        _infinite_problem(rev, columns.revenue, "revenue column", label, problems)
        out["revenue"] = rev.to_numpy()


def _infinite_problem(values: pd.Series, col: str, what: str, label: str, problems) -> None:
    """Infinite values ('inf', '-inf', 1e999 in a CSV) are numbers to pandas, but no
    statistic can use them, and the mean that fills a gap would be infinite too."""
    bad = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        problems.append(
            f"{label}: {what} '{col}' has {int(bad.sum())} infinite "
            f"value{'s' if bad.sum() > 1 else ''} "
            f"({example_rows(np.flatnonzero(bad))}). Replace them with numbers, or leave the "
            f"cells empty{_EMPTY_MEANS.get(what, '')}."
        )


_EMPTY_MEANS = {
    "behaviour column": " (a missing behaviour value is filled with the mean of the users)",
    "revenue column": " (a user without revenue counts as no revenue figure)",
}


def _empty_tenure(empty: np.ndarray, column: str, unit: str, label: str, problems) -> None:
    """Tenures missing for some users: named, as an empty churn flag is; no value is guessed."""
    if empty.any():
        problems.append(
            f"{label}: column '{column}' is empty for {int(empty.sum()):,} users "
            f"({example_rows(np.flatnonzero(empty))}). Fill in each user's tenure{unit}, or "
            "leave those users out."
        )


def duration_unit_of(columns: UserColumns) -> str:
    """The duration column's unit: stated, else read from its name (checked before use)."""
    return columns.duration_unit or unit_in_name(columns.duration) or "days"


def _duration_unit_problem(columns: UserColumns, label: str) -> InputError | None:
    """An unknown unit, or none where one is needed (`duration_unit_needed`)."""
    units = units_in_words()
    if columns.duration_unit is not None and columns.duration_unit not in DAYS_PER_UNIT:
        return InputError(
            f"{label}: duration unit must be one of {units}, got {columns.duration_unit!r}."
        )
    if not duration_unit_needed(columns.duration, columns.duration_unit):
        return None
    return InputError(
        f"{label}: column '{columns.duration}' holds durations, but its name does not say in "
        f"which unit ({units}), and reading months as days would misjudge every user.",
        cli=f"Give the unit with --duration-unit {'|'.join(DURATION_UNITS)}.",
        app="Choose the unit of the tenure column in the column mapping.",
    )


def _behaviour_values(s: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    return as_flag(s)


def user_ids_as_text(s: pd.Series) -> pd.Series:
    """User ids as strings, the same on every engine: 42, 42.0 and '42' all become '42'."""
    if pd.api.types.is_float_dtype(s):
        whole = s.dropna()
        if (whole == np.floor(whole)).all():
            s = s.astype("Int64")
    return s.astype("string").str.strip()


def _check_ids(ids: pd.Series, raw: pd.Series, label: str, col: str, problems: list[str]) -> None:
    empty = raw.isna() | (ids == "")
    if empty.any():
        problems.append(
            f"{label}: column '{col}' is empty in {empty.sum()} rows "
            f"({example_rows(np.flatnonzero(empty))}). Every row needs a user id."
        )
    dup = ids.duplicated(keep=False) & ~empty
    if dup.any():
        examples = ids[dup].drop_duplicates().head(3).tolist()
        problems.append(
            f"{label}: {ids[dup].nunique()} user ids appear more than once in column '{col}' "
            f"(e.g. {', '.join(repr(e) for e in examples)}; {example_rows(np.flatnonzero(dup))}). "
            "A users table needs one row per user: deduplicate it or load it as an event log."
        )
