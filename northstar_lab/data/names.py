"""Names from data are data: one sanitiser at the edge where names enter (METHODS §1.6).

An event name or a column name is text a stranger wrote. Control characters in one
(`\\x00–\\x08`, `\\x0b`, `\\x0c`, `\\x0e–\\x1f`) make the chart renderer abort the whole process
(vl-convert panics on XML-invalid text), and tabs or newlines break every one-line display. So
every name is cleaned once, where it is read, and every later step sees only clean names:

- tab, newline, carriage return and the Unicode line separators become a space;
- every other C0/C1 control character, DEL, the non-characters U+FFFE/U+FFFF and lone
  surrogates become U+FFFD "�", so the change is visible and two names rarely merge.

How many names were changed is reported as a warning that names the file. Event names are
cleaned in the engine only when one of them needs it (a regex over every row costs ~5× a plain
scan, so clean logs pay nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError

if TYPE_CHECKING:
    import ibis

REPLACEMENT = "\ufffd"

_WHITESPACE = "\t\n\r\u2028\u2029"
#: Python's pattern for what becomes U+FFFD. `_ENGINE_BAD` is the same set in RE2 / Java regex
#: syntax (escapes, never raw control characters inside SQL text); engines hold valid UTF-8
#: only, so they cannot contain lone surrogates.
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_ENGINE_BAD = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\x{FFFE}\x{FFFF}]"
_ENGINE_WHITESPACE = r"[\t\n\r\x{2028}\x{2029}]"


def clean_name(name: object) -> str:
    """A name safe to render anywhere: whitespace controls → space, other controls → U+FFFD."""
    s = "" if name is None else str(name)
    if s.isprintable():  # the common case, checked at C speed
        return s
    s = s.translate({ord(c): " " for c in _WHITESPACE})
    return _BAD.sub(REPLACEMENT, s)


def needs_cleaning(name: object) -> bool:
    """True when `clean_name` would change the name."""
    s = "" if name is None else str(name)
    return clean_name(s) != s


def clean_names(names: Iterable[object]) -> tuple[list[str], int]:
    """Cleaned names, made unique again (a suffix ' (2)', ' (3)' … where two clean to one
    text), and how many were changed."""
    out: list[str] = []
    seen: set[str] = set()
    changed = 0
    for raw in names:
        name = clean_name(raw)
        base, k = name, 2
        while name in seen:
            name, k = f"{base} ({k})", k + 1
        changed += name != str(raw)
        seen.add(name)
        out.append(name)
    return out, changed


def changed_names_warning(label: str, what: str, n: int) -> str:
    """The one wording of the warning, naming the file and what was changed."""
    noun = what if n != 1 else what.removesuffix("s")
    return (
        f"{label}: {n:,} {noun} contained control characters; they are shown with "
        f"'{REPLACEMENT}' in their place (tabs and line breaks as spaces). Fix them at the source "
        "if the names matter."
    )


def clean_table_columns(table: ibis.Table, label: str) -> tuple[ibis.Table, list[str]]:
    """An engine table with clean column names (renamed in the engine), plus any warning."""
    cleaned, n = clean_names(table.columns)
    if not n:
        return table, []
    warning = [changed_names_warning(label, "column names", n)]
    if any("\x00" in c for c in table.columns):  # SQL cannot even name such a column
        return _renamed_by_position(table, cleaned, label), warning
    renames = {new: old for new, old in zip(cleaned, table.columns, strict=True) if new != old}
    return table.rename(renames), warning


def _renamed_by_position(table: ibis.Table, cleaned: list[str], label: str) -> ibis.Table:
    """A DuckDB table whose column names hold NUL bytes, re-selected by position (#1, #2 …)."""
    import sqlglot as sg

    backend = table._find_backend()
    if backend.name != "duckdb" or not hasattr(table.op(), "name"):
        raise InputError(
            f"{label}: a column name contains NUL bytes. Rename the columns at the source."
        )
    cols = ", ".join(f"#{i + 1} AS {sg.to_identifier(c, quoted=True).sql('duckdb')}"
                     for i, c in enumerate(cleaned))  # fmt: skip
    view = sg.to_identifier(table.op().name, quoted=True).sql("duckdb")
    return backend.sql(f"SELECT {cols} FROM {view}")


def clean_frame_columns(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[str]]:
    """A pandas frame with clean, unique column names, plus any warning."""
    cleaned, n = clean_names(df.columns)
    if not n:
        return df, []
    return df.set_axis(cleaned, axis=1), [changed_names_warning(label, "column names", n)]


def clean_values(s: pd.Series) -> tuple[pd.Series, int]:
    """Text values (e.g. segment labels such as a plan name) cleaned, and how many distinct
    values changed. Vectorised: only the distinct values are tested."""
    text = s.astype("string")
    distinct = text.dropna().unique()
    dirty = [v for v in distinct if needs_cleaning(v)]
    if not dirty:
        return text, 0
    return text.replace({v: clean_name(v) for v in dirty}), len(dirty)


def clean_event_name(name: object) -> str:
    """An event name as counted: `clean_name`, without spaces around it ('login ' and
    'login' are one event, shown alike), unless nothing but spaces is left."""
    s = clean_name(name)
    return s.strip(" ") or s


def clean_event_expr(event: ibis.Value) -> ibis.Value:
    """The engine expression of `clean_event_name` (DuckDB and Spark: the same regexes)."""
    cleaned = event.re_replace(_ENGINE_WHITESPACE, " ").re_replace(_ENGINE_BAD, REPLACEMENT)
    trimmed = cleaned.re_replace(r"^ +| +$", "")
    return (trimmed == "").ifelse(cleaned, trimmed)


def clean_event_names(
    std: ibis.Table, event_counts: dict[str, int], label: str, has_tail: bool = False
) -> tuple[ibis.Table, dict[str, int], list[str]]:
    """The event log with clean event names, its counts re-keyed, and any warning.

    `event_counts` (name → rows) are the names the validation scan brought back from the
    engine. When none needs cleaning nothing changes; otherwise the event column is rewritten
    in the engine (so every later count uses the clean name) and counts of names that clean
    to the same text are added up. `has_tail`: the scan kept only the most frequent names and
    the rest stayed in the engine unseen, so the column is rewritten anyway (a regex over every
    row, paid only by logs with that many distinct names).
    """
    dirty = [name for name in event_counts if needs_cleaning(name)]
    spaced = [n for n in event_counts if n not in dirty and clean_event_name(n) != n]
    if not dirty and not spaced and not has_tail:
        return std, event_counts, []
    std = std.mutate(event=clean_event_expr(std.event))
    counts: dict[str, int] = {}
    for name, n in event_counts.items():
        key = clean_event_name(name)
        counts[key] = counts.get(key, 0) + n
    counts = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
    warnings = [changed_names_warning(label, "event names", len(dirty))] if dirty else []
    if spaced:
        example = spaced[0]
        warnings.append(
            f"{label}: {len(spaced):,} event name{'s' if len(spaced) != 1 else ''} began or "
            f"ended with spaces (e.g. '{example}'); they were trimmed, so '{example}' and "
            f"'{clean_event_name(example)}' count as one event."
        )
    return std, counts, warnings
