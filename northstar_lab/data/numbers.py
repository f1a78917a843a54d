"""Numbers written as text, the way spreadsheets and BI tools export them: "$1,234.50",
"1.234,5", "15%", "12 500", or plain numbers beside cells holding only a space. pandas reads
such a column as text, and a users table would then drop it as a candidate without a word, or
call a revenue column non-numeric.

One rule, used wherever a users-table column should hold numbers (`users.py`): strip one
currency symbol and one trailing percent sign, drop spaces used as thousands separators, then
read every value in one style, either "1,234.5" (comma thousands, point decimals) or "1.234,5"
(point thousands, comma decimals). A column whose values fit neither style, or fit both with a
separator in them ("1,234" alone: 1234 or 1.234?), is not read as numbers: guessing would
change the values by a factor of a thousand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

CURRENCY = "$€£¥₹"
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_SYMBOL = re.compile(rf"^([+-]?)[{CURRENCY}]\s*|\s*[{CURRENCY}]$")
_POINT_DECIMALS = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")  # 1,234.5
_COMMA_DECIMALS = re.compile(r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")  # 1.234,5


@dataclass(frozen=True)
class TextNumbers:
    """A text column read as numbers, and words for how (for a note to the user)."""

    values: pd.Series  # float, NaN where the cell was empty
    how: str  # e.g. "currency symbols and comma thousands separators"
    example: str  # one original value, for the note


def read_text_numbers(s: pd.Series) -> TextNumbers | None:
    """The column as numbers if every non-empty value is one in a single style, else None.

    Plain numbers are pandas' own job: a numeric column, or text that has none of the marks
    this reads (currency, percent, separators), gives None.
    """
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    text = s.astype("string").str.strip()
    present = s.notna() & (text.fillna("") != "")
    if not present.any():
        return None
    raw = text[present].astype(str)
    marks = []
    body = raw.str.replace(_SYMBOL, r"\1", regex=True)
    if not body.equals(raw):
        marks.append("currency symbols")
    percent = body.str.endswith("%")
    if percent.any():
        if not percent.all():
            return None  # "15%" beside "0.15": two scales in one column
        body = body.str[:-1].str.strip()
        marks.append("percent signs (15% is read as 15)")
    spaced = body.str.contains(_SPACES)
    body = body.str.replace(_SPACES, "", regex=True)
    style = _style(body)
    if style is None:
        return None
    if spaced.any():
        marks.append("spaces between thousands")
    if style == "comma decimals":
        body = body.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        marks.append("decimal commas")
    elif body.str.contains(",", regex=False).any():
        body = body.str.replace(",", "", regex=False)
        marks.append("comma thousands separators")
    if not marks and (s.notna() & ~present).any():
        marks.append("cells holding only spaces read as missing")  # e.g. Telco's TotalCharges
    if not marks:
        return None
    values = pd.Series(np.nan, index=s.index, dtype=float)
    values[present] = body.astype(float).to_numpy()
    return TextNumbers(values, " and ".join(marks), str(raw.iloc[0]))


def _style(body: pd.Series) -> str | None:
    """'point decimals' or 'comma decimals' when every value fits that style only (or has no
    separator at all), None when some value fits neither, or a separator fits both."""
    point = body.str.fullmatch(_POINT_DECIMALS)
    comma = body.str.fullmatch(_COMMA_DECIMALS)
    if point.all() and not comma.all():
        return "point decimals"
    if comma.all() and not point.all():
        return "comma decimals"
    if point.all() and comma.all():  # plain digits everywhere, or "1,234"-like values
        if not body.str.contains(r"[.,]").any():
            return "point decimals"
        if body.str.fullmatch(r"[+-]?0[.,]\d{3}").any():
            return "comma decimals" if body.str.contains(",").any() else "point decimals"
        return None  # 1,234: a thousand-separated 1234 or a decimal 1.234, no value tells
    return None
