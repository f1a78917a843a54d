"""Excel workbooks (.xlsx), read as the tables they hold: the format most teams' exports end
up in on their way to an analyst (Kaggle's "E Commerce Dataset.xlsx", a CRM's report).

A workbook has sheets; the data is the sheet with the most rows among those with at least two
columns (a "Data Dict" sheet beside the data is what a first-sheet rule would read). Which
sheet was read, and which were not, is said in a note. Dates formatted as dates arrive as
times; dates stored as bare numbers are spreadsheet serial dates, which the time rules read
(`calendar.time_reading`). Text columns with numbers in some cells stay text, and the text
rules read them (`numbers`, `textvalues`). The old .xls format is refused with what to do.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook(path: str | Path) -> bool:
    """An .xlsx workbook by its name, as every file type is told (a workbook named .csv is
    refused saying so: `diagnose.NOT_CSV`)."""
    p = Path(path)
    return p.name.lower().endswith(WORKBOOK_SUFFIXES) and p.is_file()


def read_workbook(path: str | Path, label: str) -> pd.DataFrame:
    """The workbook's data sheet (`data_sheet`) as a frame."""
    name = data_sheet(_sheet_sizes(path, label))
    try:
        df = pd.read_excel(path, sheet_name=name, engine="openpyxl")
    except Exception as exc:  # a damaged workbook: openpyxl's own words
        raise InputError(f"{label}: could not read sheet '{name}': {exc}") from exc
    df = _text_columns_as_text(df)
    if df.shape[0] == 0:
        raise InputError(f"{label}: sheet '{name}' has a header but no rows.")
    return df


def data_sheet(sheets: list[tuple[str, int, int]]) -> str:
    """The sheet with the most rows among those with at least two columns."""
    usable = [s for s in sheets if s[2] >= 2] or sheets
    return max(usable, key=lambda s: s[1])[0]


def sheet_notes(path: str | Path, label: str) -> list[str]:
    """Which sheet was read as the data, when the workbook has others."""
    sheets = _sheet_sizes(path, label)
    if len(sheets) < 2:
        return []
    name = data_sheet(sheets)
    others = ", ".join(f"'{s[0]}'" for s in sheets if s[0] != name)
    return [
        f"{label}: sheet '{name}' was read as the data; the workbook's other sheets ({others}) "
        "were not. Save the sheet you mean on its own if it is another."
    ]


def _sheet_sizes(path: str | Path, label: str) -> list[tuple[str, int, int]]:
    """(title, rows, columns) of every worksheet, from the workbook's stated dimensions."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(
            f"{label}: is not a workbook Excel can open ({type(exc).__name__}). Open it in "
            "Excel and save it again as .xlsx, or as CSV UTF-8."
        ) from exc
    try:
        sizes = [(ws.title, ws.max_row or 0, ws.max_column or 0) for ws in wb.worksheets]
    finally:
        wb.close()
    if not sizes:
        raise InputError(f"{label}: the workbook has no sheets.")
    return sizes


def _text_columns_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """Columns openpyxl left as Python objects (text, or text mixed with numbers) as pandas
    text, so that every engine takes them and the text rules read them."""
    mixed = [c for c in df.columns if df[c].dtype == object]
    if not mixed:
        return df
    out = df.copy()
    for c in mixed:
        out[c] = df[c].map(_as_text).astype("string")
    return out


def _as_text(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
