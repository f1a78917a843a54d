"""Text for people: times, numbers and user-supplied text made safe for a terminal.

One home for each rule, so the CLI, the exports and the app format the same value the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from .durations import DAYS_PER_UNIT

#: C0 and C1 control characters except tab and newline: escape sequences start with them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object, width: int | None = None, *, one_line: bool = False) -> str:
    """User text safe for a terminal (control characters become spaces), optionally folded to
    one line and cut to `width` with an ellipsis."""
    s = _CONTROL.sub(" ", "" if text is None else str(text))
    if one_line:
        s = s.replace("\n", " ")
    return s if width is None or len(s) <= width else s[: width - 1] + "…"


def when(iso: str | None) -> str:
    """'2026-11-25 16:46 UTC' from a stored ISO timestamp (always UTC); '—' when missing."""
    return (iso[:16].replace("T", " ") + " UTC") if iso else "—"


def num(value: Any, spec: str = ".3f") -> str:
    """A number in `spec`, or '—' when missing or not finite (a score of 0.0 is '0.000')."""
    if value is None or isinstance(value, bool):
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "—"
    return format(x, spec)


def duration_words(days: float, unit: str | None = None) -> str:
    """A span of days in the data's own unit: '90 days', '13 weeks', '3 months (90 days)'.

    Internally every duration is in days; a users table in weeks, months or years is spoken
    of in its own unit so that the reader recognises the numbers (METHODS §1.2)."""
    if not unit or unit == "days" or unit not in DAYS_PER_UNIT:
        return f"{days:g} days"
    x = days / DAYS_PER_UNIT[unit]
    shown = f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"
    return f"{shown} {unit.removesuffix('s') if shown == '1' else unit} ({days:g} days)"


def utc_now() -> str:
    """Now, UTC, as the ISO string every record and export stores ('2026-11-25T16:46:02+00:00')."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# ---- names from data, in Markdown ---------------------------------------------------------------

_ASCII_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_literal(text: object) -> str:
    """Text as Markdown that shows exactly these characters: no links, images, emphasis,
    headings, HTML or autolinks, whatever the text contains.

    Every ASCII punctuation character is backslash-escaped (CommonMark lets any of them be
    escaped), so `[click me](https://evil.example)` renders as those characters, and neither
    `https://…` nor `www.…` can become an autolink. Control characters become spaces and lines
    are folded into one (for labels, captions and headings). Prefer `st.text` or a table for a
    name alone; use this where a name sits inside a Markdown label.
    """
    return _ASCII_PUNCT.sub(r"\\\1", plain(text, one_line=True))


# ---- CSV downloads -------------------------------------------------------------------------------

#: A cell starting with one of these is read as a formula by spreadsheet programs (OWASP
#: "CSV injection"): `=HYPERLINK(…)`, `+cmd|…`, `-2+3`, `@SUM(…)`, and tab or CR variants.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that would start a formula, prefixed with `'` (spreadsheets show the text
    as typed); numbers, dates and other text are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(frame):
    """A copy of a DataFrame whose text cells and column names cannot run as spreadsheet
    formulas (`spreadsheet_safe` on every text cell, including categoricals)."""
    import pandas as pd

    out = pd.DataFrame(frame).copy()
    out.columns = [spreadsheet_safe(str(c)) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object or isinstance(col.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            out.isetitem(i, col.astype(object).map(spreadsheet_safe))
    return out


def csv_bytes(frame) -> bytes:
    """The one way the app writes a CSV download: `csv_safe`, no index, UTF-8 with a BOM (so
    spreadsheet programs read non-ASCII names correctly)."""
    return csv_safe(frame).to_csv(index=False).encode("utf-8-sig")


# ---- exclusions, in words ------------------------------------------------------------------------

#: Why users were left out, by the key the analysis counts them under.
EXCLUSION_WORDS = {
    "churned_in_window": "churned inside the observation window",
    "not_yet_observable": "signed up too recently to be followed past the window",
    "missing_outcome": "no churn information",
    "users_signed_up_after_as_of": "signed up after the data's end date",
    "users_not_in_users_table": "in the event log but not in the users table",
    "users_first_seen_when_the_log_began": "first seen when the log began (signup unknown)",
    "revenue_without_full_follow_up": "not followed for the whole revenue horizon",
}
#: Keys that leave users out of the revenue figures only (they stay in the retention analysis).
REVENUE_ONLY = ("revenue_without_full_follow_up",)


def exclusions_in_words(excluded: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
    """Users left out, split by what they are left out of: {"retention": [(reason, n), …],
    "revenue": [(reason, n), …]}. Zero counts are dropped; unknown keys keep their key in
    words ('some_new_reason' → 'some new reason') under retention."""
    out: dict[str, list[tuple[str, int]]] = {"retention": [], "revenue": []}
    for key, n in excluded.items():
        if not n:
            continue
        words = EXCLUSION_WORDS.get(key, key.replace("_", " "))
        out["revenue" if key in REVENUE_ONLY else "retention"].append((words, int(n)))
    return out


# ---- then vs now ---------------------------------------------------------------------------------

#: Re-validation comparison columns: (heading, field, number format); field names as in
#: `revalidate.comparison_rows` ("then_<field>" / "now_<field>", or a row object's attributes).
THEN_NOW_COLUMNS = (
    ("Score", "score", ".3f"),
    ("Concordance C", "c_index", ".3f"),
    ("Hazard ratio / SD", "hazard_ratio", ".2f"),
    ("Revenue ρ", "revenue_rho", ".2f"),
    ("Ranked 1st", "p_first", ".0%"),
)
ROLE_WORDS = {
    "chosen": "chosen",
    "twin": "near-duplicate of the chosen metric",
    "rejected": "rejected alternative",
    "new leader": "new leader",
    "then leader": "leader when decided",
    "alternative": "alternative",
}
QUANTITY_WORDS = {"score": "its score", "advantage": "its lead over the chosen metric"}


def _side(row: Any, side: str, name: str) -> Any:
    """row's then/now value of `name`: a dict with 'then_x' keys, or an object with .then.x."""
    if isinstance(row, dict):
        return row.get(f"{side}_{name}")
    part = getattr(row, side, None)
    return getattr(part, name, None) if part is not None else getattr(row, f"{side}_{name}", None)


def _field(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


def change(then: Any, now: Any, spec: str = ".3f") -> str:
    """'0.412 → 0.398 ↓' with both sides rounded as shown; '=' when the rounded values are
    equal, '—' for a side that could not be computed."""
    a, b = num(then, spec), num(now, spec)
    if a == "—" and b == "—":
        return "—"
    if "—" in (a, b) or a == b:
        return f"{a} → {b}" + (" =" if a == b else "")
    return f"{a} → {b} {'↑' if float(now) > float(then) else '↓'}"


def rank_change(then: Any, now: Any) -> str:
    """'3 → 1 (up 2)': ranks, where a smaller number is a better place."""
    if then is None and now is None:
        return "—"
    if then is None or now is None:
        return f"{num(then, '.0f')} → {num(now, '.0f')}"
    a, b = int(then), int(now)
    if a == b:
        return f"{a} → {b} (same place)"
    moved = f"up {a - b}" if b < a else f"down {b - a}"
    return f"{a} → {b} ({moved})"


def then_vs_now_table(rows) -> list[dict]:
    """A re-validation's comparison rows in words: one dict per candidate with 'Candidate',
    'Role', 'Rank' and each `THEN_NOW_COLUMNS` heading as 'then → now' text with an arrow; the
    hazard ratio carries both 95% intervals; 'Judged' / 'Change' / 'Finding' say what the
    verdict compared, how much it moved (with its interval) and what that means, when the row
    carries them (`ComparisonRow`)."""
    out = []
    for row in rows:
        cells = {
            "Candidate": plain(_field(row, "name") or _field(row, "key"), one_line=True),
            "Role": ROLE_WORDS.get(str(_field(row, "role")), str(_field(row, "role") or "")),
            "Rank": rank_change(_side(row, "then", "rank"), _side(row, "now", "rank")),
        }
        for heading, name, spec in THEN_NOW_COLUMNS:
            cells[heading] = change(_side(row, "then", name), _side(row, "now", name), spec)
        ci = [
            f"{num(_side(row, s, 'hr_ci_low'), '.2f')}–{num(_side(row, s, 'hr_ci_high'), '.2f')}"
            for s in ("then", "now")
        ]
        cells["Hazard ratio 95% CI"] = f"{ci[0]} → {ci[1]}"
        quantity = _field(row, "quantity")
        if quantity:
            cells["Judged"] = QUANTITY_WORDS.get(str(quantity), str(quantity))
            cells["Change"] = _change_with_interval(row)
            cells["Finding"] = plain(_field(row, "finding") or "", one_line=True)
        out.append(cells)
    return out


def _change_with_interval(row: Any) -> str:
    """'+0.012 (99% interval −0.004 to +0.028)', or '—' when nothing was measured."""
    delta = _field(row, "change")
    if delta is None:
        return "—"
    lo, hi, level = (_field(row, k) for k in ("change_ci_low", "change_ci_high", "ci_level"))
    text = num(delta, "+.3f")
    if lo is not None and hi is not None:
        pct = f"{float(level):.0%} " if level else ""
        text += f" ({pct}interval {num(lo, '+.3f')} to {num(hi, '+.3f')})"
    return text


def md_lines(text: object) -> str:
    """Several lines of text as literal Markdown (`md_literal` per line, line breaks kept): for
    messages with names in them, e.g. an input error listing several problems."""
    lines = ("" if text is None else str(text)).split("\n")
    return "  \n".join(md_literal(line) for line in lines)
