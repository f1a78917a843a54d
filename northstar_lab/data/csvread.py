"""A large CSV read by pandas' C parser in two halves on two threads: the same frame as one read.

The parser releases the GIL while it tokenises and converts, so two halves of a file parse in
parallel (a 25 MB users table: 0.75 → 0.43 s, bench/README.md). The frame must be exactly the
one a single `pd.read_csv` gives, on data nobody here has seen, so the split is taken only where
that is certain, and any doubt falls back to the one read:

- a plain (uncompressed) file of SPLIT_MIN_BYTES to SPLIT_MAX_BYTES with no quote character in
  it: a quoted field may hold a line break, and a half starting inside one would be read wrongly;
- both halves read without an error (a bad row is reported by the single read, with its real
  line number), with a plain row index (no implicit index column) and the header's columns;
- each column of the same type in both halves, or whole numbers in one and decimals in the
  other (a gap in one half only), which one read also makes decimals: exact below 2⁵³.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

SPLIT_MIN_BYTES = 8 << 20
SPLIT_MAX_BYTES = 1 << 30  # the halves are copies of the file's bytes: bounded
_EXACT_INT = 2**53


def read_csv(path: str | Path, sep: str, skip: int = 0) -> pd.DataFrame:
    """`pd.read_csv(path, sep=sep, low_memory=False)`, in two halves where that is the same;
    skip: lines above the header (read in one piece)."""
    if skip:
        return pd.read_csv(path, sep=sep, skiprows=skip, low_memory=False)
    data = _splittable_bytes(Path(path))
    if data is not None:
        try:
            frame = _read_halves(data, sep)
        except Exception:  # any doubt: the single read decides, and says what is wrong
            frame = None
        if frame is not None:
            return frame
    return pd.read_csv(path, sep=sep, low_memory=False)


def _splittable_bytes(path: Path) -> bytes | None:
    """The file's bytes when it may be split: large, uncompressed, without quotes."""
    try:
        size = path.stat().st_size
        if not SPLIT_MIN_BYTES <= size <= SPLIT_MAX_BYTES or path.name.lower().endswith(".gz"):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if data[:2] == b"\x1f\x8b" or b'"' in data:
        return None
    return data


def _read_halves(data: bytes, sep: str) -> pd.DataFrame | None:
    """Both halves parsed at once, joined, or None when the join could differ from one read."""
    header_end = data.find(b"\n") + 1
    middle = data.find(b"\n", len(data) // 2) + 1
    if header_end <= 0 or middle <= header_end or middle >= len(data):
        return None
    names = list(pd.read_csv(io.BytesIO(data[:header_end]), sep=sep, nrows=0).columns)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(pd.read_csv, io.BytesIO(data[:middle]), sep=sep, low_memory=False)
        second = pool.submit(
            pd.read_csv, io.BytesIO(data[middle:]), sep=sep, header=None, names=names,
            low_memory=False,
        )  # fmt: skip
        a, b = first.result(), second.result()
    if not (_plain(a, names) and _plain(b, names)):
        return None
    for col in names:
        joined = _one_type(a[col], b[col])
        if joined is None:
            return None
        if joined != a[col].dtype:
            a[col], b[col] = a[col].astype(joined), b[col].astype(joined)
    return pd.concat([a, b], ignore_index=True)


def _plain(part: pd.DataFrame, names: list[str]) -> bool:
    return isinstance(part.index, pd.RangeIndex) and list(part.columns) == names


def _one_type(a: pd.Series, b: pd.Series) -> np.dtype | None:
    """The type one read gives a column read as `a` and `b` in halves, or None if unsure."""
    if a.dtype == b.dtype:
        return a.dtype
    kinds = {a.dtype.kind, b.dtype.kind}
    if kinds == {"i", "f"}:
        ints = a if a.dtype.kind == "i" else b
        if ints.empty or int(ints.abs().max()) < _EXACT_INT:
            return np.dtype(float)
    return None


def column_as_written(
    path: str | Path, sep: str, position: int, rows: int, skip: int = 0
) -> pd.Series | None:
    """One column of a CSV as the text in the file (NaN where empty), read by Arrow's reader
    for that column alone; None when it does not give `rows` values (a layout the two readers
    see differently), so the caller keeps what pandas read."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse = pacsv.ParseOptions(delimiter=sep)
    read = pacsv.ReadOptions(skip_rows=skip)
    try:
        with pacsv.open_csv(path, read_options=read, parse_options=parse) as first_block:
            name = first_block.schema.names[position]
        table = pacsv.read_csv(
            path,
            read_options=read,
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(
                include_columns=[name], column_types={name: pa.string()}, strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, IndexError, KeyError, OSError):
        return None
    if table.num_rows != rows:
        return None
    return table.column(0).to_pandas()
