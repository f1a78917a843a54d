"""Reading an event log: open it in its engine, map a vendor export, standardise the columns
and validate them. Split from `load.py` so that a users-table-only analysis never imports the
engine (Ibis, DuckDB and the event modules take ~0.3 s of a CLI start).
"""

from __future__ import annotations

import duckdb
import ibis

from ..errors import InputError
from . import excel, exportrows, formats, headerless, names, rollup, sources
from .columns import EventColumns, name_forms, with_recorded
from .events import BadTimestamps, check_events, standard_events
from .timestamps import repair_text_timestamps


def read_event_log(source, events_table, label, event_format, event_columns, say,
                   recorded: dict | None = None):  # fmt: skip
    """(report, warnings, columns, standard table, check) of the event log; a CSV whose types
    change far down (DuckDB's sample misread a column) is read again with whole-file types.
    `recorded`: a decision's column mapping, for its re-validation (`columns.with_recorded`)."""
    args = (source, events_table, label, event_format, event_columns, say, recorded)
    try:
        return _read_events(*args)
    except duckdb.ConversionException:
        if not sources.is_csv_file(source):
            raise
        say("Reading the event log again: a value far down differs from the first rows", 0.04)
        return _read_events(*args, whole_file_types=True)


def _read_events(source, events_table, label, event_format, event_columns, say, recorded,
                 whole_file_types: bool = False):  # fmt: skip
    """Open, map, standardise and validate the event log (inside `sources.reading`)."""
    table, report, read_warnings = open_event_table(
        source, events_table, label, event_format, whole_file_types
    )
    for sentence in report.sentences() if report else []:
        say(sentence, 0.03)
    explicit = with_recorded(event_columns, recorded, list(table.columns))
    numbered = headerless.is_numbered(table.columns)
    try:
        cols = EventColumns.recognise(list(table.columns), label, **explicit)
    except InputError:
        missing = headerless.unmapped_roles(explicit) if numbered else []
        if missing:
            raise headerless.headerless_error(
                table, label, missing, headerless.EVENTS_HEADER
            ) from None
        raise
    if numbered:
        read_warnings.append(headerless.headerless_note(table, label))
    read_warnings += unit_price_warning(cols, list(table.columns), label)
    read_warnings += count_column_warning(cols, table, label)
    counted = rollup.check_counts(table, cols.count, label, source.engine) if cols.count else None
    std = standard_events(table, cols, label, read_warnings)
    if counted:
        std = rollup.expand(std)
        read_warnings.append(rollup.rollup_note(label, cols.count, *counted))
    say("Validating the event log", 0.05)
    std, check, ts_note = _checked_events(std, label, source.engine)
    check.numeric_user_ids = table[cols.user].type().is_numeric()
    if ts_note:
        read_warnings.append(ts_note)
    return report, read_warnings, cols, std, check


QUANTITY_NAMES = ("quantity", "qty", "units", "quantity_ordered", "item_count", "count")


def unit_price_warning(cols: EventColumns, columns: list[str], label: str) -> list[str]:
    """A line-item log (Online Retail: `Quantity`, `Price`) has a price per unit, so revenue
    read from the price alone counts every line as one unit: say so, and how to fix it."""
    if not cols.value or "price" not in "_".join(name_forms(cols.value)):
        return []
    quantity = next((c for c in columns if set(name_forms(c)) & set(QUANTITY_NAMES)), None)
    if quantity is None:
        return []
    return [
        f"{label}: the value column '{cols.value}' looks like a price per unit and the log has "
        f"'{quantity}': revenue is read as the sum of '{cols.value}', as if every row were one "
        f"unit. If a row can be several units, add a column with the amount ('{cols.value}' × "
        f"'{quantity}') and choose it as the value."
    ]


#: Names of a column that says how many events one row stands for (a daily roll-up).
COUNT_NAMES = ("count", "cnt", "n", "n_events", "num_events", "event_count", "events",
               "occurrences", "frequency", "freq", "times", "total_events")  # fmt: skip


def count_column_warning(cols: EventColumns, table, label: str) -> list[str]:
    """A log rolled up per user, day and event ('user, date, event, count') has a count per
    row, and every row is counted as one event: say so, since the counts would be wrong."""
    if cols.count:
        return []
    mapped = {cols.user, cols.timestamp, cols.event, cols.value}
    count = next((c for c in table.columns if c not in mapped
                  and set(name_forms(c)) & set(COUNT_NAMES)
                  and table[c].type().is_integer()), None)  # fmt: skip
    if count is None:
        return []
    return [
        f"{label}: column '{count}' looks like a number of events per row (a roll-up per user "
        "and day), but each row is counted as one event. If a row stands for several events, "
        "choose it as the events per row in the column mapping; active days are right either "
        "way."
    ]


def _checked_events(std, label: str, engine: str):
    """`check_events`, and when text timestamps are not ISO, once more after reading them in
    the one format that reads them all (`timestamps.repair_text_timestamps`)."""
    row_numbers = engine == "duckdb"
    try:
        return std, check_events(std, label, row_numbers=row_numbers), None
    except BadTimestamps:
        repaired = repair_text_timestamps(std, label, engine)
        if repaired is None:
            raise
    std, note = repaired
    return std, check_events(std, label, row_numbers=row_numbers), note


def open_event_table(
    source: sources.Source,
    table_name: str | None,
    label: str,
    event_format: str | None,
    whole_file_types: bool = False,
) -> tuple[ibis.Table, formats.FormatReport | None, list[str]]:
    """The event table with clean column names, mapped from a vendor export when one is asked
    for or recognised; the export's report; warnings about renamed columns."""
    con = sources.connect(source)
    table = sources.open_table(con, source, table_name, label, whole_file_types=whole_file_types)
    table, warnings = names.clean_table_columns(table, label)
    if source.kind == "file" and excel.is_workbook(source.location):
        warnings[:0] = excel.sheet_notes(source.location, label)
    if sources.is_csv_file(source) and source.engine == "duckdb":
        warnings[:0] = exportrows.event_log_title_note(con, source.location, label)
    name = formats.check_format_name(event_format)
    asked = name is not None
    if not asked and str(event_format or "").lower() != "plain":
        name = formats.recognise(table.columns)
    if name is None:
        return table, None, warnings
    if source.engine != "duckdb":
        raise InputError(
            f"{label}: {formats.FORMATS[name].title} exports are read by DuckDB. Give the export "
            "as a file (or a DuckDB database table), or map its columns yourself."
        )
    layout = formats.json_columns(name)
    if sources.is_json_source(source):  # parsed once (the mapping scans it several times)
        table = sources.open_table(con, source, table_name, label, json_columns=layout).cache()
    table, report = formats.event_log_from_export(table, name, label, recognised=not asked)
    return table, report, warnings
