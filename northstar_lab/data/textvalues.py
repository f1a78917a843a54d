"""An event log's value column written as text ("$49.00", "1.234,50", "49,00"), read by the
users table's rule (`numbers.read_text_numbers`) instead of counting every such value as
missing, which left every revenue figure at zero with only a warning.

The rule decides one style for the whole column from all its values; "all" and "any" do not
change when each value is looked at once, so it runs on the column's distinct values, brought
to Python, and the engine joins each cell to its number (a small lookup table: no row leaves
the engine, and DuckDB and Spark read alike). A column with more distinct texts than
`MAX_DISTINCT` keeps the plain cast and its warning.
"""

from __future__ import annotations

import ibis
import pandas as pd

from .numbers import read_text_numbers, text_numbers_note
from .sources import register_frame

MAX_DISTINCT = 200_000  # distinct value texts brought to Python to decide the style
NUMBER = "northstar_text_number"  # the joined column (a name no export uses)


def with_text_numbers(
    table: ibis.Table, col: str, label: str
) -> tuple[ibis.Table, ibis.Value, str | None]:
    """(table, value, note): the table joined to the number of each text in `col` when the
    column's texts are numbers in one style with marks (currency, separators), with the note
    that says how; else the table unchanged, the plain cast (unreadable texts stay NULL and
    are counted by the event check) and no note."""
    raw = table[col]
    plain = raw.try_cast("float64")
    unread = table.filter(plain.isnull() & raw.notnull() & (raw.strip() != ""))
    if int(unread.limit(1).count().to_pandas()) == 0:
        return table, plain, None
    texts = table.filter(raw.notnull()).select(text=raw).distinct().limit(MAX_DISTINCT + 1)
    texts = texts.to_pandas()["text"]
    if len(texts) > MAX_DISTINCT:
        return table, plain, None
    read = read_text_numbers(texts.astype(object), precheck=False)
    if read is None:
        return table, plain, None
    numbers = pd.DataFrame({f"{NUMBER}_text": texts.astype(str), NUMBER: read.values})
    lookup = register_frame(table, numbers.astype({NUMBER: float}), "northstar_text_numbers")
    joined = table.left_join(lookup, raw == lookup[f"{NUMBER}_text"])
    return joined, joined[NUMBER], text_numbers_note(label, col, read)
