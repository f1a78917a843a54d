"""Units of a users table's durations: how many days each one is, and the words a column's name
says it with. The one table behind the library, the CLI's choices, the Data page's choices and
the words a result speaks in (METHODS §1.2).

A unit read wrongly is the costliest silent error a users table has: months read as days put
most users' churn inside the observation window; years read as months stretch every tenure
twelve-fold. So a name that does not say its unit is never guessed at (`unit_in_name` → None).
"""

from __future__ import annotations

import re

#: Days in one unit (a mean Gregorian month and year).
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 30.44, "years": 365.25}
DURATION_UNITS = tuple(DAYS_PER_UNIT)
#: Words in a column's name that say its unit ('tenure_months', 'Duration (weeks)', 'yrs').
UNIT_WORDS = {
    "days": frozenset({"day", "days"}),
    "weeks": frozenset({"week", "weeks", "wk", "wks"}),
    "months": frozenset({"month", "months", "mo", "mos", "mon", "mth", "mths"}),
    "years": frozenset({"year", "years", "yr", "yrs"}),
}


def unit_in_name(column: str | None) -> str | None:
    """The unit a duration column's name says ('tenure_months' → 'months'), or None when it
    says none ('tenure') or two ('days_per_week')."""
    if not column:
        return None
    words = set(re.split(r"[^a-z]+", str(column).lower()))
    found = [unit for unit, names in UNIT_WORDS.items() if words & names]
    return found[0] if len(found) == 1 else None


def units_in_words() -> str:
    """'days, weeks, months or years', for the messages that ask for a unit."""
    return ", ".join(DURATION_UNITS[:-1]) + f" or {DURATION_UNITS[-1]}"


_UNIT_OF_WORD = {w: unit for unit, words in UNIT_WORDS.items() for w in words}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)")
_WHOLE = re.compile(r"\s*(?:\d+(?:\.\d+)?\s*[A-Za-z]+[\s,]*(?:and\s+)?)+")


def text_durations(s):
    """(days, unit) of durations written with their unit ('12 months', '1 year 2 months',
    '3 wks'), or None unless every present value is one. Each value says its own unit, so
    none needs stating and none is guessed; `unit` is the one they all use (for the words a
    result speaks in), else days. Plain numbers are not read here."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None  # numbers: their unit is the column's, never the values'
    distinct = pd.Series(s.dropna().astype(str).str.strip().unique())
    distinct = distinct[distinct != ""]
    if distinct.empty or not distinct.str.fullmatch(_WHOLE).all():
        return None
    parts = {v: _parts(v) for v in distinct}
    if any(p is None for p in parts.values()):
        return None
    days = {v: sum(n * DAYS_PER_UNIT[u] for n, u in p) for v, p in parts.items()}
    units = {u for p in parts.values() for _, u in p}
    text = s.astype("string").str.strip()
    return pd.to_numeric(text.map(days), errors="coerce"), units.pop() if len(
        units
    ) == 1 else "days"


def _parts(value: str) -> list[tuple[float, str]] | None:
    out = []
    for number, word in _PART.findall(value):
        unit = _UNIT_OF_WORD.get(word.lower())
        if unit is None:
            return None
        out.append((float(number), unit))
    return out
