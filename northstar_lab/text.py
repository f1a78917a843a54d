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


def utc_now() -> str:
    """Now, UTC, as the ISO string every record and export stores ('2026-11-25T16:46:02+00:00')."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
