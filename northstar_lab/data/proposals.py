"""Which columns of a users table are proposed as behaviour candidates and as segments, and
the notes that say why a column the user can see was left out (METHODS §2).

A users table is proposed from its names and values: roles by their common names (`columns`),
numeric leftovers as behaviours, few-valued text as segments. What must never be proposed is
whatever names users instead of measuring them (ids, row numbers) and whatever is the outcome
or about it (a churn score or reason): either would lead a ranking by construction.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..durations import text_durations, unit_in_name
from .calendar import PER_SECOND, UNIT_WORDS, epoch_unit, is_yyyymmdd
from .columns import (
    USER_NAMES,
    UserColumns,
    counts_time_since_last,
    declined_roles,
    name_forms,
    name_words,
    normalise,
    recognise,
    show_columns,
)
from .flags import as_flag, is_status
from .numbers import read_text_numbers

#: The words every "this column was left out" note of `prepare_users` ends its reason with, so
#: the "no candidates" error can repeat those notes (analysis.py).
LEFT_OUT = "so it was left out"
LEFT_OUT_MANY = "so they were left out"  # the same, for a note that names several columns

#: Roles whose columns are outcomes, or define them: never behaviour candidates (METHODS §2).
OUTCOME_ROLES = ("signup", "cancel", "last_active", "duration", "churn", "revenue")

MAX_SEGMENT_LEVELS = 50

#: Words that make a column about the outcome whatever else its name says: a churn score, label,
#: probability or reason would lead any ranking by construction ('Churn Score', 'ChurnValue').
OUTCOME_WORDS = frozenset({
    "churn", "churned", "churns", "attrition", "attrited", "cancel", "cancelled", "canceled",
    "cancellation", "retention", "retained",
})  # fmt: skip

#: Words of a name that says whether a user was back (retained, active) on a fixed day.
_RETURN_WORDS = frozenset({"retention", "retained", "retain", "active", "returned", "ret"})


def fixed_day_retention(df: pd.DataFrame) -> tuple[str, ...]:
    """Yes/no columns saying whether each user was back on a fixed day after starting
    (Cookie Cats' retention_1 and retention_7, 'd30_retained', 'active_day_7'): a snapshot at
    set days, which gives no time of churn (a user missing day 1 can be back on day 7), so no
    survival can be read from them. Found to say so when churn cannot be told otherwise."""
    found = []
    for col in df.columns:
        words = re.findall(r"[a-z]+|\d+", name_forms(str(col))[-1])  # 'Retention7' too
        if not set(words) & _RETURN_WORDS or not any(w.isdigit() for w in words):
            continue
        if as_flag(df[col]) is not None:
            found.append(str(col))
    return tuple(found)


def looks_like_outcome(column: str) -> bool:
    """A column named like an outcome (tenure, churn flag, cancellation, signup, revenue) or
    after one ('Churn Score'): it is never proposed as a behaviour candidate, mapped or not
    (lifelines' Rossi would otherwise offer `week` and `arrest`)."""
    n = normalise(column)
    return any(n in USER_NAMES[role] for role in OUTCOME_ROLES) or _names_the_outcome(column)


def _names_the_outcome(column: str) -> bool:
    """Whether a word of the name (camelCase split too) is one of OUTCOME_WORDS."""
    return bool(_words(column) & OUTCOME_WORDS)


def _words(name: str) -> set[str]:
    """The words of a name, camelCase split too ('ChurnValue': churn, value)."""
    return set(name_forms(name)[-1].split("_"))


#: Words that make a column describe who the customer is rather than what they do in the
#: product ('Age', 'CreditScore', 'EstimatedSalary', 'SeniorCitizen', 'Dependent_count', a
#: numeric ZIP code): no product team can grow them, so they are no North Star (METHODS §2).
ATTRIBUTE_WORDS = frozenset({
    "age", "gender", "sex", "birth", "birthday", "birthyear", "dob", "salary", "income",
    "creditscore", "geography", "country", "nationality", "ethnicity", "marital", "married",
    "education", "occupation", "seniorcitizen", "dependents", "dependent", "zip", "zipcode",
    "postcode", "postal", "latitude", "longitude",
})  # fmt: skip
_ATTRIBUTE_PAIRS = frozenset({"credit_score", "senior_citizen", "birth_year", "zip_code",
                              "postal_code", "year_of_birth"})  # fmt: skip
#: 'account_age' and 'age_days' measure time with the product, not the customer: tenure, which
#: the outcome roles and the lifetime-total rule already handle.
_NOT_THE_PERSON = frozenset({"account", "days", "months", "weeks", "years", "tenure", "user",
                             "subscription", "membership", "plan", "device", "app"})  # fmt: skip


def describes_the_customer(column: str) -> bool:
    """A column that says who the customer is — age, gender, income, credit score, where they
    live — not what they do in the product: never proposed as a candidate (a numeric one is
    said in a note; choosing it still ranks it). Text ones stay segments."""
    words = _words(column)
    if name_words(column) & _ATTRIBUTE_PAIRS:
        return True
    if "age" in words and words & _NOT_THE_PERSON:
        return False
    return bool(words & ATTRIBUTE_WORDS)


#: Words that make an event the outcome when nothing else it names is cancelled instead:
#: Sparkify's 'Cancellation Confirmation', 'subscription_cancelled', 'unsubscribed'.
OUTCOME_EVENT_WORDS = OUTCOME_WORDS | {
    "unsubscribe", "unsubscribed", "unsubscribes", "deactivate", "deactivated", "deactivation",
    "uninstall", "uninstalled", "uninstalls",
}  # fmt: skip
#: Ending a relationship in two words: 'delete account', 'account_closed', Firebase's
#: 'app_remove' (an uninstall).
_ENDING_VERBS = frozenset({"delete", "deleted", "close", "closed", "terminate", "terminated",
                           "remove", "removed"})  # fmt: skip
_RELATIONSHIPS = frozenset({"account", "profile", "membership", "subscription", "app", "user"})
#: Things a customer cancels while staying one: cancelling an order is behaviour, not churn.
_CANCELLED_THINGS = frozenset({
    "order", "orders", "booking", "reservation", "payment", "invoice", "item", "cart",
    "download", "upload", "ride", "trip", "request", "transaction", "appointment", "delivery",
    "shipment", "return", "search", "edit", "checkout", "draft", "message", "invite",
    "invitation", "meeting", "event", "session", "class", "lesson", "job", "task", "flight",
    "ticket", "purchase", "transfer", "upgrade", "downgrade", "renewal_reminder",
})  # fmt: skip


def event_names_the_outcome(event: str) -> bool:
    """An event that is the churn itself: a cancellation, an unsubscribe, a deleted account, an
    uninstall. Counted in the first days it predicts churn by being it (METHODS §2), so it is
    not proposed as a candidate; 'cancel_order' is behaviour and stays."""
    words = _words(event)
    if words & _CANCELLED_THINGS:
        return False
    return bool(words & OUTCOME_EVENT_WORDS) or bool(
        words & _ENDING_VERBS and words & _RELATIONSHIPS
    )


def _written_unit(df: pd.DataFrame, column: str | None) -> str | None:
    """The unit durations written with theirs say ('12 months'), for the proposal."""
    written = text_durations(df[column]) if column in df else None
    return written[1] if written else None


def recognise_user_columns(df: pd.DataFrame, **explicit) -> UserColumns:
    """Propose a mapping: named roles by common names, numeric leftovers as behaviour columns."""
    given = {k: v for k, v in explicit.items() if v}
    taken = [v for k, v in given.items() if isinstance(v, str)]
    found = recognise(list(df.columns), USER_NAMES, taken=taken)
    found.update({k: v for k, v in given.items() if k in USER_NAMES})
    found.update({k: None for k in declined_roles(explicit) if k in USER_NAMES})
    if found.get("cancel") and not given.get("churn"):
        found["churn"] = None  # an explicit cancellation time already says who churned
    if not found.get("churn") and found.get("duration") and not given.get("churn"):
        taken_now = {v for v in found.values() if v} | set(taken)
        found["churn"] = _churn_status(df, taken_now)  # 'Status': Active / Cancelled
    if found.get("churn") and not found.get("duration") and not given.get("churn"):
        found["churn"] = None  # a flag without a duration cannot be used; do not guess
    if not found.get("user"):
        found["user"] = None
    roles = {v for v in found.values() if v}
    behaviour = explicit.get("behaviour")  # an empty choice is a choice: no candidates here
    if behaviour is None:
        back_on_a_day = set(fixed_day_retention(df))  # retention measured: no candidate
        behaviour = tuple(
            c
            for c in df.columns
            if c not in roles
            and c not in back_on_a_day
            and not looks_like_outcome(c)
            and not describes_the_customer(c)
            and not counts_time_since_last(c)
            and _is_behaviour(df[c], c)
        )
    segments = explicit.get("segments")
    if segments is None:
        segments = tuple(
            c
            for c in df.columns
            if c not in roles and c not in behaviour and not looks_like_outcome(c)
            and _is_segment(df[c])
        )  # fmt: skip
    return UserColumns(
        user=found["user"],
        signup=found.get("signup"),
        cancel=found.get("cancel"),
        last_active=found.get("last_active"),
        duration=found.get("duration"),
        churn=found.get("churn"),
        revenue=found.get("revenue"),
        behaviour=tuple(behaviour),
        segments=tuple(segments),
        duration_unit=given.get("duration_unit")
        or unit_in_name(found.get("duration"))
        or _written_unit(df, found.get("duration")),
    )


def _churn_status(df: pd.DataFrame, taken: set[str]) -> str | None:
    """The first column named like a status ('Status', 'subscription_status') whose values
    say who is still a customer (`flags.is_status`): a churn flag by its words."""
    for col in df.columns:
        if col not in taken and "status" in normalise(col) and is_status(df[col]):
            return col
    return None


def _is_behaviour(s: pd.Series, name: str) -> bool:
    """Numeric (or yes/no flag) columns that are not identifiers or dates."""
    n = normalise(name)
    if "date" in n or n.endswith("_at") or looks_like_identifier(s, name):
        return False
    if pd.api.types.is_bool_dtype(s):
        return True
    if pd.api.types.is_numeric_dtype(s):
        return time_span(s) is None
    return as_flag(s) is not None or read_text_numbers(s) is not None


#: An id by its name: 'user_id', 'id', 'Customer ID', and camelCase 'customerId' / 'CustomerID'
#: (not 'paid' or 'PAID': a lower-case 'id' needs a separator before it).
_ID_NAME = re.compile(r"(?:^|[^A-Za-z])[Ii][Dd]$|[a-z0-9]I[Dd]$")

#: Rows needed before values alone call a column a row number or a time (fewer: chance).
MIN_ROWS_FOR_VALUE_RULES = 20


def looks_like_identifier(s: pd.Series, name: str) -> bool:
    """A column that names users or rows instead of measuring them: named as an id, or a
    different whole number for every user counting up by one (a row number: 'RowNumber',
    an exported index). Ranking it as a behaviour would only add noise and a test."""
    if _ID_NAME.search(str(name).strip()):
        return True
    return _is_row_number(s)


def _is_row_number(s: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    x = s.to_numpy(dtype=float, na_value=np.nan)
    if x.size < MIN_ROWS_FOR_VALUE_RULES or np.isnan(x).any():
        return False
    lo, hi = float(x.min()), float(x.max())
    if hi - lo != x.size - 1 or not np.array_equal(x, np.floor(x)):
        return False  # the cheap test first: a range of exactly n − 1
    return np.unique(x).size == x.size


def _left_out_notes(df: pd.DataFrame, columns: UserColumns, label: str) -> list[str]:
    """Numeric columns left out of the candidates for what they are — a row number, a column
    named after churn — said, because a column the user sees in the file would otherwise be
    missing without a word (ids and outcome roles by their plain names need none)."""
    used = {*columns.roles().values(), *columns.behaviour, *columns.segments}
    out, attributes = [], []
    for col in df.columns:
        if col in used or not pd.api.types.is_numeric_dtype(df[col]):
            continue
        if _names_the_outcome(col):
            out.append(
                f"{label}: column '{col}' is named after churn, the outcome, {LEFT_OUT}: a churn "
                "score, label or probability predicts churn by being it. Choose it as a "
                "behaviour column to rank it anyway."
            )
        elif counts_time_since_last(col) and _is_behaviour(df[col], col):
            out.append(
                f"{label}: column '{col}' counts the time since the user's last activity, as it "
                f"stood when the table was exported, {LEFT_OUT}: it is how churn is told (a "
                "churned user's is long), not behaviour that comes before it. Choose it as a "
                "behaviour column to rank it anyway."
            )
        elif describes_the_customer(col) and _is_behaviour(df[col], col):
            attributes.append(col)
        elif (span := time_span(df[col])) is not None:
            out.append(
                f"{label}: column '{col}' holds numbers that read as times ({span[2]}, "
                f"{span[0]} to {span[1]}), {LEFT_OUT}. Map it as the signup, cancellation or "
                "last-active time if it is one."
            )
        elif not _ID_NAME.search(str(col).strip()) and _is_row_number(df[col]):
            out.append(
                f"{label}: column '{col}' holds a different whole number for every user, "
                f"counting up by one like a row number, {LEFT_OUT}. Choose it as a behaviour "
                "column to rank it anyway."
            )
    if attributes:
        out.append(_attributes_note(attributes, label))
    return out


def _attributes_note(columns: list[str], label: str) -> str:
    """One note for every numeric column that describes the customer (`describes_the_customer`)."""
    if len(columns) == 1:
        subject, verb, left, them = f"column {show_columns(columns)}", "describes", LEFT_OUT, "it"
    else:
        subject, verb, left, them = (
            f"columns {show_columns(columns)}",
            "describe",
            LEFT_OUT_MANY,
            "them",
        )
    return (
        f"{label}: {subject} {verb} who the customer is, not what they do in the product, "
        f"{left}: a North Star must be something the product can grow. Choose {them} among "
        f"the behaviour columns to rank {them} anyway."
    )


#: Unix times a users table holds: 2000-01-01 to 2100-01-01 (in the unit their size says).
EPOCH_RANGE_SEC = (946_684_800, 4_102_444_800)


def time_span(s: pd.Series) -> tuple[str, str, str] | None:
    """(first date, last date, how) when every value of a numeric column is a time of this
    century — Unix time in the unit its size says (Stripe's `created`, a `last_seen_ms`), or a
    date written as yyyymmdd (20250301) — and they differ; else None. No behaviour takes such
    values for every user."""
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    x = s.to_numpy(dtype=float, na_value=np.nan)
    x = x[~np.isnan(x)]
    if x.size < MIN_ROWS_FOR_VALUE_RULES or x.min() == x.max() or not np.isfinite(x).all():
        return None
    if is_yyyymmdd(x):
        first, last = (f"{int(v):08d}" for v in (x.min(), x.max()))
        return f"{first[:4]}-{first[4:6]}-{first[6:]}", f"{last[:4]}-{last[4:6]}-{last[6:]}", (
            "dates written as yyyymmdd")  # fmt: skip
    unit = epoch_unit(float(np.abs(x).max()))
    first, last = x.min() / PER_SECOND[unit], x.max() / PER_SECOND[unit]
    if not (EPOCH_RANGE_SEC[0] <= first and last <= EPOCH_RANGE_SEC[1]):
        return None
    days = (pd.Timestamp(v, unit="s") for v in (first, last))
    return *(f"{d:%Y-%m-%d}" for d in days), f"Unix times in {UNIT_WORDS[unit]}"


def _is_segment(s: pd.Series) -> bool:
    """A text column of a few levels; not numbers with some words among them ('unknown' in a
    counts column is not a category of users)."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    k = s.nunique(dropna=True)
    if not (2 <= k <= MAX_SEGMENT_LEVELS and k < len(s) / 2):
        return False
    return _share_of_numbers(_text_sample(s)) < MOSTLY_NUMBERS


def _text_sample(s: pd.Series) -> pd.Series:
    """Up to 1,000 non-empty values of a text column, trimmed."""
    sample = s.dropna().astype(str).str.strip()
    return sample[sample != ""].head(1000)


def _share_of_numbers(sample: pd.Series) -> float:
    return float(pd.to_numeric(sample, errors="coerce").notna().mean()) if sample.size else 0.0


#: Share of a text column's values that are numbers from which leaving it out is said: a
#: column of counts with '-' or 'n/a' in a third of its cells is still the candidate the
#: analyst expects (at 0.9, such a column went missing without a word).
MOSTLY_NUMBERS = 0.5


def _unread_number_notes(df: pd.DataFrame, columns: UserColumns, label: str) -> list[str]:
    """Columns left out that look like numbers with separators of unknown meaning: said,
    because a candidate the user expected would otherwise be missing without a word."""
    used = {*columns.roles().values(), *columns.behaviour, *columns.segments}
    out = []
    for col in df.columns:
        if col in used or pd.api.types.is_numeric_dtype(df[col]):
            continue
        sample = _text_sample(df[col])
        if not sample.size:
            continue
        if sample.str.fullmatch(r"[+-]?\d{1,3}([.,]\d{3})+").mean() > 0.5:
            out.append(
                f"{label}: column '{col}' looks like numbers, but '{sample.iloc[0]}' could be "
                f"a thousand-separated whole number or a decimal, {LEFT_OUT}. Export it "
                "without thousands separators to rank it."
            )
            continue
        if _share_of_numbers(sample) >= MOSTLY_NUMBERS:
            numeric = pd.to_numeric(sample, errors="coerce").notna()
            odd = ", ".join(repr(v) for v in sample[~numeric].unique()[:3])
            out.append(
                f"{label}: column '{col}' is numbers except for values such as {odd}, "
                f"{LEFT_OUT}. Replace those with numbers, or leave the cells empty (missing "
                "values are filled with the mean), to rank it."
            )
    return out


def left_out_notes(df: pd.DataFrame, columns: UserColumns, label: str) -> list[str]:
    """Every note about a column left out of the candidates for what it holds."""
    return _unread_number_notes(df, columns, label) + _left_out_notes(df, columns, label)
