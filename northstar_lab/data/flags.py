"""Churn flags as written in exports: 0/1, true/false, yes/no, churned/active, or numbers.

The one reading of a flag column, for the churn flag and for yes/no behaviour columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRUE_WORDS = frozenset({
    "1", "true", "t", "yes", "y", "churned", "churn", "cancelled", "canceled", "left", "lost",
    "exited", "ended", "expired", "inactive", "terminated", "closed", "unsubscribed",
    "incomplete_expired", "attrited",
})  # fmt: skip
FALSE_WORDS = frozenset({
    "0", "false", "f", "no", "n", "active", "retained", "stayed", "current", "existing",
    "renewed", "no churn", "not churned", "", "trialing", "past_due", "unpaid", "paused",
})  # fmt: skip
#: The words of a status column rather than of any yes/no flag: Stripe's subscription status
#: (active, trialing, past_due, unpaid, paused: still a customer; canceled, incomplete_expired:
#: gone), a CRM's Active/Cancelled.
STATUS_WORDS = (TRUE_WORDS | FALSE_WORDS) - {"1", "true", "t", "yes", "y", "0", "false", "f",
                                             "no", "n", ""}  # fmt: skip


MAX_FLAG_WORDS = 3  # distinct words of one yes/no column ('yes', 'no', '')
MAX_STATUS_WORDS = 9  # of a status column (Stripe: active, trialing, past_due, canceled, …)


def most_flag_words(words: pd.Series) -> int:
    """How many distinct words a flag column may hold: a status column's several."""
    return MAX_STATUS_WORDS if words.isin(STATUS_WORDS).any() else MAX_FLAG_WORDS


def as_flag(s: pd.Series) -> pd.Series | None:
    """0/1 floats from 0/1, true/false or yes/no values, missing values NaN; None when the
    column is not a flag. Numbers are read as numbers: 0.0/1.0 (how pandas and Spark write a
    flag column that once had a gap) is a flag, not the words '0.0' and '1.0'."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if pd.api.types.is_numeric_dtype(s):
        x = s.astype(float)
        return x if x.dropna().isin((0.0, 1.0)).all() else None
    words = flag_words(s)
    ok = words.isin(TRUE_WORDS | FALSE_WORDS)
    if not ok.all() or words.nunique() > most_flag_words(words):
        return None
    out = words.isin(TRUE_WORDS).astype(float)
    return out.where(s.notna(), np.nan)


#: 'Attrited Customer' / 'Existing Customer' (a bank's Attrition_Flag) are the words
#: 'attrited' / 'existing' about a customer.
_ABOUT_WHOM = r"\s+(customer|member|user|subscriber|client|account)s?$"


def flag_words(s: pd.Series) -> pd.Series:
    """The column's values as a flag's words: trimmed, lower case, 'customer' and its
    synonyms dropped from the end, missing values ''."""
    words = s.astype(str).str.strip().str.lower().str.replace(_ABOUT_WHOM, "", regex=True)
    return words.where(s.notna(), "")


def is_status(s: pd.Series) -> bool:
    """A flag written in a status column's words (Active/Cancelled, Stripe's statuses), not
    merely yes/no or 0/1: who is still a customer."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or as_flag(s) is None:
        return False
    return bool(flag_words(s.dropna()).isin(STATUS_WORDS).any())
