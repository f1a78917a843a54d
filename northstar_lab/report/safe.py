"""Text from a record made safe once, where the report reads it.

Records are immutable, and those made before names were cleaned at the data edge may hold
control characters in event and column names. vl-convert aborts the whole process (SIGABRT) on
text XML cannot hold, and a terminal may obey a control sequence. So every string the report
reads from a record (its facts, its chart data) goes through `cleaned` first.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

#: C0 controls but tab, newline and CR; DEL and C1; U+FFFE/U+FFFF; lone surrogates: text XML
#: cannot hold (the chart renderer aborts the process on them) and a terminal may obey. The
#: same set as `data.names` replaces where names are read (which also folds tab and newline
#: into spaces: right for a name, wrong for a rationale's paragraphs); kept here so that an
#: export does not import the data engine.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def safe_text(text: str) -> str:
    """Text with every control or XML-invalid character replaced by U+FFFD (visible, so a
    changed name is seen as changed); tab, newline and CR are kept."""
    return _UNSAFE.sub("\ufffd", text)


def cleaned(value: Any) -> Any:
    """`value` with `safe_text` applied to every string in it (dataclasses, dicts, lists and
    tuples, keys included) and every non-finite float made None (JSON null)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: cleaned(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    if isinstance(value, Mapping):
        return {cleaned(k): cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    if isinstance(value, tuple):
        return tuple(cleaned(v) for v in value)
    return value
