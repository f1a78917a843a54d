"""Numbers written as text, the way spreadsheets and BI tools export them: "$1,234.50",
"1.234,5", "15%", "12 500", or plain numbers beside cells holding only a space. pandas reads
such a column as text, and a users table would then drop it as a candidate without a word, or
call a revenue column non-numeric.

A cell holding only a dash is zero, as spreadsheets' accounting format writes it (leave such
cells empty where they mean "unknown"). One rule, used wherever a users-table column should
hold numbers (`users.py`) and for an event log's value column (`textvalues.py`, on the
column's distinct values): strip one currency symbol and one trailing percent sign, drop
spaces used as thousands separators, then read every value in one style, either "1,234.5"
(comma thousands, point decimals) or "1.234,5" (point thousands, comma decimals). A column
whose values fit neither style, or fit both with a separator in them ("1,234" alone: 1234 or
1.234?), is not read as numbers: guessing would change the values by a factor of a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

CURRENCY = "$€£¥₹"
PRECHECK = 1000
_SPACES = (" ", "\u00a0", "\u202f", "\t")  # thousands spaces: plain, no-break, narrow
_DASH = r"^[-–—]$"  # '-', '–', '—' alone: how the accounting format writes 0
_POINT_DECIMALS = r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$"  # 1,234.5
_COMMA_DECIMALS = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"  # 1.234,5


@dataclass(frozen=True)
class TextNumbers:
    """A text column read as numbers, and words for how (for a note to the user)."""

    values: pd.Series  # float, NaN where the cell was empty
    how: str  # e.g. "currency symbols and comma thousands separators"
    example: str  # one original value, for the note


def read_text_numbers(s: pd.Series, precheck: bool = True) -> TextNumbers | None:
    """The column as numbers if every non-empty value is one in a single style, else None.

    Plain numbers are pandas' own job: a numeric column, or text that has none of the marks
    this reads (currency, percent, separators), gives None. precheck: tell a text column by
    its first values (False for a set of distinct values, whose order says nothing).
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    if precheck and s.size > PRECHECK and _read(s.dropna().head(PRECHECK)) is None:
        return None  # a text column (emails, plans) is told by its first values, cheaply
    return _read(s)


def _read(s: pd.Series) -> TextNumbers | None:
    """`read_text_numbers` on the whole column, in Arrow's regex engine (one vectorised pass
    per step: 2M values in well under a second, where Python's re took ~10 s)."""
    text = pc.utf8_trim_whitespace(pa.array(s.astype(object).where(s.notna(), None), pa.string()))
    present = pc.fill_null(pc.not_equal(text, ""), False)
    if not pc.any(present).as_py():
        return None
    raw = pc.filter(text, present)
    marks = []
    body = raw
    if pc.any(pc.match_substring_regex(raw, f"[{CURRENCY}]")).as_py():
        body = pc.utf8_trim(raw, CURRENCY + " ")  # '$ 12', '12 €' (a sign first: '-$12')
        body = pc.replace_substring_regex(body, f"^([+-])[{CURRENCY}] *", r"\1")
        marks.append("currency symbols")
    dash = pc.match_substring_regex(body, _DASH)
    if pc.any(dash).as_py():
        if pc.all(dash).as_py():
            return None  # dashes only: no number in the column
        body = pc.if_else(dash, "0", body)  # the accounting format's zero
        marks.append("a dash for zero, as spreadsheets' accounting format writes it")
    percent = pc.ends_with(body, "%")
    if pc.any(percent).as_py():
        if not pc.all(percent).as_py():
            return None  # "15%" beside "0.15": two scales in one column
        body = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(body, 0, -1))
        marks.append("percent signs (15% is read as 15)")
    spaced = False
    for space in _SPACES:  # plain substring search: several times faster than a regex
        if pc.any(pc.match_substring(body, space)).as_py():
            spaced, body = True, pc.replace_substring(body, space, "")
    style = _style(body)
    if style is None:
        return None
    if spaced:
        marks.append("spaces between thousands")
    if style == "comma decimals":
        body = pc.replace_substring(pc.replace_substring(body, ".", ""), ",", ".")
        marks.append("decimal commas")
    elif pc.any(pc.match_substring(body, ",")).as_py():
        body = pc.replace_substring(body, ",", "")
        marks.append("comma thousands separators")
    blank = bool((s.notna().to_numpy() & ~present.to_numpy(zero_copy_only=False)).any())
    if not marks and blank:
        marks.append("cells holding only spaces read as missing")  # e.g. Telco's TotalCharges
    if not marks:
        return None
    values = np.full(s.size, np.nan)
    values[present.to_numpy(zero_copy_only=False)] = pc.cast(body, pa.float64()).to_numpy()
    return TextNumbers(pd.Series(values, index=s.index), " and ".join(marks), raw[0].as_py())


def _style(body: pa.Array) -> str | None:
    """'point decimals' or 'comma decimals' when every value fits that style only (or has no
    separator at all), None when some value fits neither, or a separator fits both."""
    point = pc.all(pc.match_substring_regex(body, _POINT_DECIMALS)).as_py()
    comma = pc.all(pc.match_substring_regex(body, _COMMA_DECIMALS)).as_py()
    if point and not comma:
        return "point decimals"
    if comma and not point:
        return "comma decimals"
    if point and comma:  # plain digits everywhere, or "1,234"-like values
        if not pc.any(pc.match_substring_regex(body, "[.,]")).as_py():
            return "point decimals"
        if pc.any(pc.match_substring_regex(body, r"^[+-]?0[.,]\d{3}$")).as_py():
            has_comma = pc.any(pc.match_substring(body, ",")).as_py()
            return "comma decimals" if has_comma else "point decimals"
        return None  # 1,234: a thousand-separated 1234 or a decimal 1.234, no value tells
    return None


def text_numbers_note(label: str, col: str, text: TextNumbers) -> str:
    """How a column of numbers written as text was read, for the notes (both tables)."""
    first = text.values.dropna().iloc[0]
    return (
        f"{label}: column '{col}' holds numbers written as text, read with {text.how} "
        f"(e.g. '{text.example}' as {first:g})."
    )
