"""Why a file cannot be read, in one sentence a person can act on.

Two sources of evidence, both cheap: the file's first bytes (what it *is*: UTF-16 text, an
Excel workbook renamed .csv, a ZIP, gzip, Parquet, SQLite, a header full of NUL bytes) and the
engine's whole error text (DuckDB's first line says "CSV Error on Line: 11"; the cause, "not
utf-8 encoded", is further down). `read_error` turns both into an `InputError` that names the
file, the line where there is one, the cause (encoding, delimiter, compression, format) and what
to do, followed by the engine's own sentence. Nothing from the file is echoed raw: no line
contents (a line can be 10 MB, or hold NUL bytes), names cleaned, secrets redacted.
"""

from __future__ import annotations

import gzip
import re
import zipfile
import zlib
from pathlib import Path

from ..errors import InputError
from ..redact import redact_secrets
from .names import clean_name

HEAD_BYTES = 64 * 1024
ENGINE_TEXT_LIMIT = 300
SAVE_AS_UTF8 = (
    "Save it as UTF-8 (Excel: File → Save As → 'CSV UTF-8'; LibreOffice: character set "
    "'Unicode (UTF-8)') and load it again."
)

#: What the first bytes say a file is: (magic, offset, kind).
_MAGIC = (
    (b"PAR1", 0, "parquet"),
    (b"\x1f\x8b", 0, "gzip"),
    (b"PK\x03\x04", 0, "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "xls"),
    (b"SQLite format 3\x00", 0, "sqlite"),
    (b"DUCK", 8, "duckdb"),
    (b"\xff\xfe\x00\x00", 0, "utf32"),
    (b"\x00\x00\xfe\xff", 0, "utf32"),
    (b"\xff\xfe", 0, "utf16"),
    (b"\xfe\xff", 0, "utf16"),
)

#: What each kind of file is, in words, and what to do when it was given as a CSV.
NOT_CSV = {
    "utf16": "is UTF-16 text, and only UTF-8 is read. " + SAVE_AS_UTF8,
    "utf32": "is UTF-32 text, and only UTF-8 is read. " + SAVE_AS_UTF8,
    "xlsx": "is an Excel workbook (.xlsx) named as a CSV. Give it its .xlsx name, or in Excel "
    "choose File → Save As → 'CSV UTF-8 (Comma delimited)'.",
    "xls": "is an old-style Excel workbook (.xls), which is not read. In Excel choose File → "
    "Save As → 'Excel Workbook (.xlsx)' or 'CSV UTF-8 (Comma delimited)'.",
    "zip": "is a ZIP archive, not a CSV. Unzip it and load the file inside.",
    "sqlite": "is a SQLite database, not a CSV. Export the table to CSV or Parquet "
    "(sqlite3 FILE -header -csv 'SELECT * FROM events' > events.csv).",
    "duckdb": "is a DuckDB database, not a CSV. Connect to it as duckdb:///PATH and name the "
    "table.",
    "binary": "has NUL bytes in its first line, so it is not a text CSV: it is a binary file, or "
    "UTF-16 text saved without a byte-order mark. " + SAVE_AS_UTF8,
}


def _magic_kind(head: bytes) -> str | None:
    for magic, offset, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def _text_kind(head: bytes) -> str:
    """'utf16' for UTF-16 without a byte-order mark, 'binary' for NUL bytes in the first line,
    'json' for a file that starts with '{' or '[', else 'text'."""
    first = head.split(b"\n", 1)[0]
    if b"\x00" in first:
        return "utf16" if _looks_utf16(first) else "binary"
    return "json" if head.lstrip()[:1] in (b"{", b"[") else "text"


def _looks_utf16(line: bytes) -> bool:
    """ASCII text in UTF-16: every other byte NUL, the bytes between them not."""
    pairs = line[: len(line) // 2 * 2]
    half = len(pairs) / 2
    if not half:
        return False
    for zeros, chars in ((pairs[1::2], pairs[0::2]), (pairs[0::2], pairs[1::2])):
        if zeros.count(0) > 0.9 * half and chars.count(0) < 0.1 * half:
            return True
    return False


def sniff(path: str | Path) -> str:
    """What a file is from its first bytes: 'parquet', 'gzip', 'zip', 'xlsx', 'xls', 'sqlite',
    'duckdb', 'utf16', 'utf32', 'binary', 'json', 'text' or 'empty'."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head:
        return "empty"
    kind = _magic_kind(head)
    if kind == "zip" and _is_workbook(path):
        return "xlsx"
    return kind or _text_kind(head)


def _is_workbook(path: str | Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.startswith("xl/") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def sniff_inside_gzip(path: str | Path) -> str:
    """What the text inside a gzip file is (its first 64 KB), or 'truncated' / 'corrupt'."""
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except EOFError:
        return "truncated"
    except (OSError, zlib.error):
        return "corrupt"
    return (_magic_kind(head) or _text_kind(head)) if head else "empty"


def gzip_is_truncated(path: str | Path) -> bool:
    """True when the gzip stream ends before its end marker (a cut-short download).

    Decompresses the whole file in 1 MB blocks (only on the error path, never on success).
    """
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except EOFError:
        return True
    except (OSError, zlib.error):
        return False
    return False


def csv_problem(path: str | Path) -> str | None:
    """Why a file given as CSV cannot be one (a sentence without the file name), else None.

    Reads the first 64 KB (of the decompressed text for .gz files).
    """
    kind = sniff(path)
    if kind == "gzip":
        kind = sniff_inside_gzip(path)
        if kind in ("truncated", "corrupt"):
            return GZIP_PROBLEMS[kind]
    elif str(path).lower().endswith(".gz") and kind not in ("empty",):
        return (
            "is named .gz but is not gzip-compressed. Rename it without .gz (e.g. events.csv) "
            "and load it again."
        )
    return NOT_CSV.get(kind)


GZIP_PROBLEMS = {
    "truncated": "is a gzip file that ends mid-stream: the download or copy was cut short. "
    "Download or copy it again (gzip -t FILE checks it).",
    "corrupt": "is a damaged gzip file (its compressed data does not decode). Download or copy "
    "it again.",
}


#: Lines of DuckDB's CSV sniffer report that list what it tried, not what went wrong.
_ENGINE_NOISE = ("The search space", "Delimiter Cand", "Quote/Escape", "Comment Cand", "Encoding:")


def engine_text(exc: BaseException) -> str:
    """The engine's error reduced to its informative sentences: no echoed line contents, no SQL,
    no parameter dump; control characters cleaned, secrets redacted, at most 300 characters."""
    keep = []
    for line in str(exc).splitlines():
        s = line.strip()
        if not s or s.startswith(("Original Line", "LINE ", "^", "Possible", "*", "file =")):
            continue
        if re.match(r"^[a-z_]+ = ", s) or s.startswith(_ENGINE_NOISE):
            continue
        keep.append(s)
    text = " ".join(keep) or type(exc).__name__
    text = re.sub(r"^(Invalid Input|IO|Conversion|Binder|Parser|Invalid) Error: ", "", text)
    text = clean_name(redact_secrets(text))
    return text if len(text) <= ENGINE_TEXT_LIMIT else text[: ENGINE_TEXT_LIMIT - 1] + "…"


def _line(text: str) -> str:
    m = re.search(r"(?:on Line|line)[:\s]+(\d+)", text)
    return f" (line {int(m.group(1)):,})" if m else ""


#: What a missing file or a glob that matches nothing is called, wherever it is found.
FILE_NOT_FOUND = "file not found. Check the path (globs like events/*.parquet work)."


def read_error(exc: BaseException, path: str | Path, label: str, fmt: str) -> InputError:
    """One InputError for a file that the engine (DuckDB or pandas) failed to read as `fmt`
    ('csv', 'parquet', 'json'): cause and what to do, then the engine's sentence."""
    text = str(exc)
    cause = _cause(exc, text, path, fmt)
    said = _without_folders(engine_text(exc), path)
    message = f"{label}: {cause}" if cause else f"{label}: could not be read as {fmt.upper()}."
    return InputError(f"{message} (The reader said: {said})")


def _without_folders(text: str, path: str | Path) -> str:
    """The engine's text with the file's folder left out (an upload's temporary folder, a home
    directory): the message already names the file."""
    for full in {str(path), str(Path(path).resolve())}:
        text = text.replace(full, Path(path).name)
    return text


def _cause(exc: BaseException, text: str, path: str | Path, fmt: str) -> str | None:
    """The cause sentence (without the file name), or None when the engine's text is all we
    have. Order matters: what the bytes say beats what the parser guessed."""
    low = text.lower()
    single = Path(path).is_file()
    is_gz = single and str(path).lower().endswith(".gz")
    if single and fmt == "csv":
        problem = csv_problem(path)
        if problem:
            return problem
    if is_gz and gzip_is_truncated(path):
        return GZIP_PROBLEMS["truncated"]
    if "not a gzip stream" in low or isinstance(exc, gzip.BadGzipFile):
        return "is named .gz but is not gzip-compressed. Rename it without .gz and load it again."
    if "not utf-8 encoded" in low or "invalid unicode" in low or isinstance(exc, UnicodeError):
        return f"is not UTF-8 text{_line(text)}. {SAVE_AS_UTF8}"
    m = re.search(r"maximum line size of (\d+) bytes exceeded\. actual size:\s*(\d+)", low)
    if m:  # DuckDB's line number here counts from its read buffer, not the file: leave it out
        return (
            f"has a line of {int(m.group(2)) / 1e6:,.1f} MB, longer than the "
            f"{int(m.group(1)) / 1e6:,.0f} MB a line may have. Usually a quote opens and never "
            "closes, or the file is not a CSV: check that line, or export the file again."
        )
    m = re.search(r"expected number of columns: (\d+) found: (\d+)", low) or re.search(
        r"expected (\d+) fields in line \d+, saw (\d+)", low
    )
    if m:
        return _ragged_sentence(_line(text), m.group(2), m.group(1))
    if "automatically detect the csv parsing dialect" in low:
        ragged = ragged_row(path) if single else None
        if ragged:
            line, found, expected = ragged
            return _ragged_sentence(f" (line {line:,})", found, expected)
        return (
            "does not look like a CSV (no consistent delimiter and quoting was found). Save it "
            "as comma-separated text with one header row."
        )
    if "path_not_found" in low or "path does not exist" in low or "no files found" in low:
        return FILE_NOT_FOUND  # Spark's PATH_NOT_FOUND names the format too: not the cause
    if fmt == "parquet" and ("magic" in low or "parquet" in low):
        return "is not a Parquet file, or it is truncated. Export it again."
    if fmt == "json" and ("json" in low or "malformed" in low):
        return (
            f"is not newline-delimited JSON{_line(text)}: each line must be one JSON object. "
            "Export it again, or convert it to CSV or Parquet."
        )
    return None


def _ragged_sentence(where: str, found, expected) -> str:
    return (
        f"has a row{where} with {found} values where the header has {expected}. Check the "
        "delimiter and the quoting on that line (a value that contains a comma must be in double "
        "quotes)."
    )


RAGGED_SCAN_LINES = 50_000


def ragged_row(path: str | Path) -> tuple[int, int, int] | None:
    """(line, values, header values) of the first row among the first 50,000 whose number of
    values differs from the header's: what DuckDB's sniffer stumbles on without saying so."""
    import csv

    opener = gzip.open if sniff(path) == "gzip" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            for i, row in enumerate(rows, start=2):
                if i > RAGGED_SCAN_LINES:
                    break
                if row and header and len(row) != len(header):
                    return i, len(row), len(header)
    except (csv.Error, OSError, EOFError):
        return None
    return None


def single_column_problem(columns: list[str], label: str) -> InputError | None:
    """A CSV read as one column whose name holds a delimiter ('a,b' or 'a;b'): each line was
    quoted as a whole, or the delimiter was not recognised. Say so instead of 'no user column'."""
    if len(columns) != 1:
        return None
    shown = clean_name(str(columns[0]))
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    if not any(d in str(columns[0]) for d in ",;\t|"):
        return _spaces_problem(str(columns[0]), shown, label)
    return InputError(
        f"{label}: was read as a single column {shown!r}: each line seems to be quoted as a "
        "whole, or its values are separated by something other than a comma, semicolon, tab or "
        "'|'. Save it as comma-separated text with one header row and no quotes around whole "
        "lines."
    )


def _spaces_problem(name: str, shown: str, label: str) -> InputError | None:
    """One column whose name is several values ('    1 19970209   2    70.77', CDNow's master
    file): fields separated by spaces, which no CSV reader splits, and a first line of data.
    'Customer ID' alone is a name with a space: two words need a number among them."""
    words = name.split()
    data = any(w.replace(".", "", 1).lstrip("-").isdigit() for w in words)
    if len(words) < (2 if data else 3):
        return None
    first = ", and its first line holds values, not column names" if data else ""
    return InputError(
        f"{label}: was read as a single column {shown.strip()!r}: its fields look separated by "
        f"spaces{first}. Save it as a CSV (commas or tabs between fields) with a header line, "
        "e.g. user_id,timestamp,event."
    )
