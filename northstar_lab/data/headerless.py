"""CSV files with no header line: the Last.fm listening log ('user_000001<TAB>2009-05-04T23:08:57Z
<TAB>…'), Steam's 200k behaviours ('151603712,"Spore",purchase,1.0,0'), many research dumps.

Ibis asks DuckDB for a header, so such a file used to lose its first line as column names
('user_000001', '2009-04-14T03:00:33Z') and then stopped at "no user column found" without
saying why. DuckDB's sniffer tells a header from data by the column types (a first line that
reads as the types below it is data); when it says there is none, the file is read with the
first line as data and the columns numbered in file order (column0, column1, …), and the
messages say so: the mapping names columns by those numbers, the first values shown beside
them. A file whose every column is text gives the sniffer no evidence: it is read with a
header, as before.
"""

from __future__ import annotations

import glob
import re
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError

if TYPE_CHECKING:
    import ibis

#: DuckDB's names for the columns of a file read without a header.
NUMBERED = re.compile(r"column\d+")
SHOWN = 8  # columns shown with their first value


def first_file(paths: str | list[str]) -> str:
    """The first file of a path, glob or list of paths (the one the sniffer looks at)."""
    first = paths[0] if isinstance(paths, list) else paths
    if any(c in first for c in "*?["):
        first = next(iter(sorted(glob.glob(first, recursive=True))), first)
    return first


def sniffed(con, paths: str | list[str]) -> tuple[bool, int]:
    """DuckDB's sniffer's verdict on the first file: (has a header, lines skipped above it);
    (True, 0) when it cannot tell (or fails)."""
    try:
        row = con.con.execute(
            "SELECT HasHeader, SkipRows FROM sniff_csv(?)", [first_file(paths)]
        ).fetchone()
    except Exception:  # noqa: BLE001 - any sniffer failure: read as before, errors come later
        return True, 0
    return (bool(row[0]), int(row[1] or 0)) if row else (True, 0)


def is_numbered(columns) -> bool:
    """True for the columns of a file read without a header (column0, column1, …)."""
    columns = list(columns)
    return bool(columns) and all(NUMBERED.fullmatch(str(c)) for c in columns)


def frame_header_is_data(df: pd.DataFrame) -> bool:
    """pandas' reading of a users CSV, judged as DuckDB's sniffer judges a log: the header is
    a line of data when some column's name reads as that column's values (a number over
    numbers, a date over dates) and no typed column has a name that does not. Text columns
    say nothing either way, so a file of text only keeps its header."""
    agree = 0
    for name, col in df.items():
        kind = _kind_of_values(col)
        if kind is None:
            continue
        if _kind_of_text(str(name)) != kind:
            return False
        agree += 1
    return agree > 0


def _kind_of_values(col: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(col):
        return None
    if pd.api.types.is_numeric_dtype(col):
        return "number"
    sample = col.dropna().astype(str).head(50)
    if len(sample) and all(_kind_of_text(v) == "date" for v in sample):
        return "date"
    return None


def _kind_of_text(text: str) -> str | None:
    """'number' for '151603712' or '1.0', 'date' for '2025-01-01 02:13:16', else None."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return "number"
    return "date" if _DATE.match(text) else None


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}|$)|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")


def first_values(columns, row: list) -> str:
    """ "column0 ('user_000001'), column1 ('2009-04-14 03:00:33'), …": the mapping's names
    beside what they hold, so a person can tell which is which."""
    shown = []
    for i, col in enumerate(list(columns)[:SHOWN]):
        value = row[i] if i < len(row) else None
        text = "empty" if value is None or str(value) in ("", "nan", "NaT", "None") else value
        text = str(text) if len(str(text)) <= 40 else str(text)[:39] + "…"
        shown.append(f"{col} ({text!r})" if text != "empty" else f"{col} (empty)")
    more = ", …" if len(columns) > SHOWN else ""
    return ", ".join(shown) + more


def headerless_note(table: ibis.Table | pd.DataFrame, label: str) -> str:
    """What a person reads when the file was understood without a header."""
    if isinstance(table, pd.DataFrame):
        row = table.head(1).iloc[0].tolist() if len(table) else []
    else:
        first = table.limit(1).to_pandas()
        row = first.iloc[0].tolist() if len(first) else []
    return (
        f"{label}: the file has no header line, so its first line was read as data and its "
        f"columns are numbered in file order: {first_values(table.columns, row)}."
    )


#: role -> (words, the command line's flag)
ROLES = {"user": ("user id", "--user-col"), "timestamp": ("event time", "--timestamp-col"),
         "event": ("event name", "--event-name-col")}  # fmt: skip


def headerless_error(
    table: ibis.Table | pd.DataFrame, label: str, missing: list[str], header: str
) -> InputError:
    """One message instead of "no user column found" per role: why nothing was recognised
    (no names to recognise), what each numbered column holds, and the two ways on.
    header: an example header line for this kind of table."""
    words = [ROLES[r][0] for r in missing]
    roles = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    flags = " ".join(f"{ROLES[r][1]} columnN" for r in missing)
    return InputError(
        f"{headerless_note(table, label)} Without a header no column can be recognised by "
        "its name.",
        cli=f"Say which column holds the {roles} ({flags}), or add a header line such as "
        f"{header} to the file.",
        app=f"Say which column holds the {roles} in the column mapping, or add a header line "
        f"such as {header} to the file and load it again.",
    )


#: Example header lines, for the messages.
EVENTS_HEADER = "user_id,timestamp,event"
USERS_HEADER = "user_id,signup_at,…"


def unmapped_roles(explicit: dict) -> list[str]:
    """The required roles a mapping leaves to recognition (which a numbered file defeats)."""
    roles = ["user", "timestamp"] + ([] if (explicit.get("one_event") or "").strip() else ["event"])
    return [r for r in roles if not explicit.get(r)]
