"""Lines a report tool writes around a table: a title above the header and a totals row below.

BI and analytics exports (Google Analytics' '# All Web Site Data' block, a Looker or Excel
report's title and date lines) put lines above the header; pandas then took the title as the
header and stopped at "a row with 11 values where the header has 1", which sends a person to
check quoting. A report's 'Total' (or 'Average') row is not a user either: it failed as a user
with no signup, or, with the outcome columns summed, joined the analysis as one giant user.
DuckDB's sniffer already skips such lines above an event log's header; this does the same
for a users table read by pandas, and says what it skipped.

Each is taken only where it is certain. Lines above the header: every one has at most half
the table's fields (the most common count over the first lines, for the delimiter that gives
the most fields; a title has one), and the header is the first line with that count; a header
one field short of its rows (trailing commas) is no title. A totals row: labelled
so ('Total', 'Grand total', 'Average'…) in a text column, among the first or last
three rows, and holding the sum (or the mean) of the other rows in a numeric column.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from . import diagnose

LOOK_LINES = 60
DELIMITERS = (",", ";", "\t", "|")
SUM_WORDS = frozenset({"total", "totals", "grand total", "sum", "overall", "all users", "all"})
MEAN_WORDS = frozenset({"average", "avg", "mean"})
EDGE_ROWS = 3


def lines_above_header(path: str | Path) -> tuple[str, int, list[str]]:
    """(delimiter, lines above the header, their text) of a CSV; (',', 0, []) when the
    first line is the header or the layout is not certain."""
    lines = _first_lines(Path(path))
    best = (0, ",", 0)  # (fields, delimiter, header index)
    for sep in DELIMITERS:
        counts = [_fields(line, sep) for line in lines]
        filled = [c for c in counts if c > 0]
        mode = Counter(filled).most_common(1)[0][0] if filled else 0
        if mode < 2:
            continue
        header = counts.index(mode)
        if header == 0:
            return ",", 0, []  # a delimiter reads the file as a table from its first line
        if mode > best[0] and all(c <= mode // 2 for c in counts[:header]):
            best = (mode, sep, header)
    _, sep, header = best
    if header == 0:
        return ",", 0, []
    return sep, header, [line.strip() for line in lines[:header] if line.strip()]


def _first_lines(path: Path) -> list[str]:
    opener = gzip.open if diagnose.sniff(path) == "gzip" else open
    out = []
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as f:
            for _ in range(LOOK_LINES):
                line = f.readline(diagnose.HEAD_BYTES)
                if not line:
                    break
                out.append(line.rstrip("\r\n"))
    except (OSError, EOFError):
        return []
    return out


def _fields(line: str, sep: str) -> int:
    if not line.strip():
        return 0
    return len(next(csv.reader([line], delimiter=sep), []))


def above_header_note(label: str, skipped: list[str], n_lines: int) -> str:
    shown = ", ".join(repr(s if len(s) <= 50 else s[:49] + "…") for s in skipped[:3])
    more = ", …" if len(skipped) > 3 else ""
    return (
        f"{label}: the first {n_lines} lines are above the header ({shown}{more}), as a "
        f"report tool writes a title: they were skipped, and line {n_lines + 1} was read as "
        "the header."
    )


def event_log_title_note(con, path: str, label: str) -> list[str]:
    """The note for lines DuckDB's sniffer skipped above an event log's header (it reads the
    log right; the note says what was not read)."""
    from .headerless import first_file, sniffed

    skip = sniffed(con, path)[1]
    if not skip:
        return []
    above = [line.strip() for line in _first_lines(Path(first_file(path)))[:skip]]
    return [above_header_note(label, [line for line in above if line], skip)]


def totals_rows(df: pd.DataFrame) -> dict[int, tuple[str, str]]:
    """{row position: (its label, 'totals' or 'averages')} of a report's summary rows. The
    label is looked for in every text column (a 'Total' turns even a numeric id column into
    text), so no mapping is needed to find it."""
    numbers = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
               for c in df.columns]  # fmt: skip
    numeric = [c for c, is_number in zip(df.columns, numbers, strict=True) if is_number]
    labels = [c for c, is_number in zip(df.columns, numbers, strict=True) if not is_number]
    n = len(df)
    edge = sorted(set(range(min(EDGE_ROWS, n))) | set(range(max(n - EDGE_ROWS, 0), n)))
    found: dict[int, tuple[str, str]] = {}
    for i in edge:
        for c in labels:
            text = str(df[c].iloc[i]).strip()
            word = text.strip("()[]:*").strip().lower()
            kind = "sum" if word in SUM_WORDS else "mean" if word in MEAN_WORDS else None
            if kind and n > 2 and _holds_the(kind, df, i, numeric):
                found[i] = (text, "totals" if kind == "sum" else "averages")
                break
    return found


def _holds_the(kind: str, df: pd.DataFrame, i: int, numeric: list[str]) -> bool:
    rest = df.drop(index=df.index[i])
    for c in numeric:
        value = df[c].iloc[i]
        if pd.isna(value):
            continue
        col = rest[c].dropna()
        if col.empty:
            continue
        target = float(col.sum() if kind == "sum" else col.mean())
        if abs(float(value) - target) <= 1e-6 * max(1.0, abs(target)) and np.ptp(col) > 0:
            return True
    return False


def totals_note(label: str, rows: dict[int, tuple[str, str]]) -> str:
    what = "; ".join(f"row {i + 1} ({text!r}) holds the column {kind}"
                     for i, (text, kind) in rows.items())  # fmt: skip
    return f"{label}: {what}, not a user: left out."
