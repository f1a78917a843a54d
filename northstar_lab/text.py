"""Text for people: times, numbers and user-supplied text made safe for a terminal.

One home for each rule, so the CLI, the exports and the app format the same value the same way.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

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


#: Days in one unit of a users table's durations (the same table as `data.users.DAYS_PER_UNIT`).
_DAYS_PER = {"days": 1.0, "weeks": 7.0, "months": 30.44}


def duration_words(days: float, unit: str | None = None) -> str:
    """A span of days in the data's own unit: '90 days', '13 weeks', '3 months (90 days)'.

    Internally every duration is in days; a users table in weeks or months is spoken of in its
    own unit so that the reader recognises the numbers (METHODS §1.2)."""
    if not unit or unit == "days" or unit not in _DAYS_PER:
        return f"{days:g} days"
    x = days / _DAYS_PER[unit]
    shown = f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"
    return f"{shown} {unit} ({days:g} days)"


def utc_now() -> str:
    """Now, UTC, as the ISO string every record and export stores ('2026-11-25T16:46:02+00:00')."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
