"""Where the decision database lives: a SQLite file (the embedded default) or a PostgreSQL server.

`open_engine(location)` reads `NORTHSTAR_DB` (or `--db`): a `postgresql://` (or `postgres://`,
`postgresql+psycopg://`) URL opens a PostgreSQL server, anything else is a SQLite file path.
Both engines offer the same three things to the store, so one set of SQL serves both:

- `engine.reading()`: one consistent snapshot for several SELECTs;
- `engine.writing()`: one write transaction that holds the store's write lock (SQLite's
  `BEGIN IMMEDIATE`; on PostgreSQL a transaction-level advisory lock), so writers queue for up to
  `BUSY_TIMEOUT_S` and each transaction lands completely or not at all;
- a `Tx` with `one`, `all` and `run`, taking `?` placeholders and returning dict rows.

Driver errors a person can act on (a locked, read-only or damaged database, a server that does
not answer) become `InputError`s in words the app can show too; programming errors (a refused
trigger, a syntax error) stay exceptions. `location` is what people see: the file path, or the
URL with its password replaced by `***` (`redact_url`); the password never reaches a record, an
export, a log line or an error message.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ..errors import InputError
from ..redact import redact_url

BUSY_TIMEOUT_S = 10.0
APP_NAME = "northstar-lab"
DB_FILENAME = "decisions.sqlite3"
#: How the app and the CLI name the setting in messages both can show.
SETTING = "NORTHSTAR_DB"

_PG_SCHEMES = ("postgresql", "postgres")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: Query parameters of a database URL whose values are secrets.
_SECRET_PARAMS = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)


def default_db_path() -> Path:
    """$NORTHSTAR_DB when it is a SQLite path, else decisions.sqlite3 in the user data directory.

    A URL in $NORTHSTAR_DB is not a path (and may hold a password): see `default_location`.
    """
    env = os.environ.get(SETTING, "").strip()
    if env and not is_url(env):
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def default_location() -> str | Path:
    """$NORTHSTAR_DB (a path or a PostgreSQL URL), else the SQLite file in the user data dir."""
    env = os.environ.get(SETTING, "").strip()
    return env if env and is_url(env) else default_db_path()


def is_url(location: object) -> bool:
    return isinstance(location, str) and bool(_URL.match(location.strip()))


def url_secrets(url: str) -> list[str]:
    """Every secret written in `url` (password, secret query values), to scrub from messages."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
        found += [v for k, v in parse_qsl(parts.query) if _SECRET_PARAMS.search(k)]
    except ValueError:
        pass
    from urllib.parse import unquote

    return [s for s in {*found, *map(unquote, found)} if s]


def open_engine(location: str | Path | None = None, *, create: bool = True):
    """The engine for `location` (None: `default_location()`); see the module docstring.

    create=False refuses a SQLite file that does not exist yet (so a mistyped path is reported
    instead of silently creating an empty database); a PostgreSQL server is always reached.
    """
    location = default_location() if location is None else location
    if is_url(location):
        text = str(location).strip()
        scheme = _URL.match(text).group(1).lower()
        if scheme.split("+", 1)[0] in _PG_SCHEMES:
            from .postgres import postgres_engine

            return postgres_engine(text)
        raise InputError(
            f"The decision database {redact_url(text)} is neither a SQLite file nor a "
            f"PostgreSQL URL. Set {SETTING} to a file path such as decisions.sqlite3 or to "
            "postgresql://USER:PASSWORD@HOST:5432/DATABASE."
        )
    return SqliteEngine(Path(location).expanduser(), create=create)


#: SQLite errors about our own statements (a refused constraint or trigger, a wrong binding): bugs
#: to fix, not input to change, so they stay exceptions. The rest (locked, read-only, damaged,
#: cannot open, disk full) are about the database and become InputErrors.
_OUR_BUGS = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.InterfaceError,
    sqlite3.NotSupportedError,
    sqlite3.DataError,
)


class Tx:
    """One transaction's statements: `?` placeholders in, dict rows out (on either engine)."""

    def __init__(self, conn, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def _execute(self, sql: str, params: tuple | list = ()):
        if self.dialect == "postgresql" and params:
            sql = sql.replace("%", "%%").replace("?", "%s")
        return self.conn.execute(sql, tuple(params)) if params else self.conn.execute(sql)

    def one(self, sql: str, params: tuple | list = ()) -> dict | None:
        row = self._execute(sql, params).fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: tuple | list = ()) -> list[dict]:
        return [dict(r) for r in self._execute(sql, params).fetchall()]

    def run(self, sql: str, params: tuple | list = ()) -> int:
        """Execute a statement; the number of rows it changed."""
        return self._execute(sql, params).rowcount


class SqliteEngine:
    """One SQLite file in WAL mode; each transaction opens its own short-lived connection."""

    dialect = "sqlite"

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.location = str(path)
        if path.is_dir():
            raise InputError(
                f"{path} is a folder; the decision database (set {SETTING}) must be a file "
                "path, e.g. decisions.sqlite3."
            )
        if not path.exists():
            if not create:
                raise InputError(
                    f"No decision database at {path}. Record a decision in the app first, or "
                    f"set {SETTING} to an existing decision database."
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    f"Cannot create the folder for the decision database {path}: "
                    f"{exc.strerror}. Set {SETTING} to a path in a folder you can write to."
                ) from exc

    def __repr__(self) -> str:
        return f"SqliteEngine({self.location!r})"

    def close(self) -> None:
        """Nothing stays open between transactions."""

    def connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise self.translate(exc) from exc
        return conn

    def use_wal(self) -> None:
        """WAL lets readers work while one process writes; it is a property of the file.

        Switching the mode needs the file to itself, and SQLite does not wait for that: while
        another process holds a write lock (two stores opening a new file at once, one of them
        already migrating) the PRAGMA fails at once, busy timeout or not. So we wait here, the
        same BUSY_TIMEOUT_S a write would, and skip the switch when the file is in WAL already.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        pause = 0.005
        while True:
            conn = self.connect()
            try:
                if _journal_mode(conn) == "wal":
                    return
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise self.translate(exc) from exc
            except sqlite3.DatabaseError as exc:
                raise self.translate(exc) from exc
            finally:
                conn.close()
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(pause * 2, 0.2)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        conn = self.connect()
        try:
            conn.execute("BEGIN")  # one consistent snapshot for several SELECTs
            yield Tx(conn, self.dialect)
        except _OUR_BUGS:
            raise
        except sqlite3.DatabaseError as exc:
            raise self.translate(exc) from exc
        finally:
            _rollback_quietly(conn)
            conn.close()

    @contextmanager
    def writing(self) -> Iterator[Tx]:
        """One write transaction: all of it lands, or (on any exception) none of it."""
        conn = self.connect()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield Tx(conn, self.dialect)
                self._commit(conn)
            except _OUR_BUGS:
                raise
            except sqlite3.DatabaseError as exc:
                raise self.translate(exc) from exc
        finally:
            _rollback_quietly(conn)
            conn.close()

    def _commit(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    # -- schema bookkeeping (see migrations.py) ----------------------------------------------

    def schema_version(self, tx: Tx) -> int:
        return int(tx.one("PRAGMA user_version")["user_version"])

    def set_schema_version(self, tx: Tx, version: int) -> None:
        tx.run(f"PRAGMA user_version = {int(version)}")

    def own_tables(self, tx: Tx) -> list[str]:
        """Tables in the file (a version-0 file with tables belongs to something else)."""
        rows = tx.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return [r["name"] for r in rows]

    # -- errors ------------------------------------------------------------------------------

    def translate(self, exc: sqlite3.DatabaseError) -> InputError | sqlite3.DatabaseError:
        """A SQLite error in words a person can act on (the app shows the same text)."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        where = f"The decision database {self.location}"
        if _is_busy(exc):
            return InputError(
                f"{where} is busy: another process held its write lock for more than "
                f"{BUSY_TIMEOUT_S:g} s. Try again in a moment; nothing was written."
            )
        if "READONLY" in name or "readonly" in text:
            return InputError(
                f"{where} is read-only for this process ({text}), so nothing was written. "
                "Make the file and its folder writable (SQLite keeps its journal beside the "
                f"file), or set {SETTING} to a database you can write to."
            )
        if "CORRUPT" in name or "malformed" in text:
            return InputError(
                f"{where} is damaged ({text}); nothing was changed. Restore it from a backup, "
                "or save what is readable with the sqlite3 tool's .recover command into a new "
                f"file and set {SETTING} to that file."
            )
        if "CANTOPEN" in name or "unable to open" in text:
            return InputError(
                f"{where} cannot be opened ({text}). Check that its folder exists and that "
                f"this process may read and write there, or set {SETTING} to another path."
            )
        if "FULL" in name or "IOERR" in name or "disk" in text:
            return InputError(
                f"{where} could not be read or written ({text}); nothing was written. Free "
                "disk space or check the disk, then try again."
            )
        return InputError(
            f"{self.location} cannot be used as a decision database ({text}). Check that it "
            f"is a North Star Lab database you can write to, or set {SETTING} to another path."
        )


def _rollback_quietly(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.DatabaseError:
        pass  # the connection is closed next; SQLite rolls back what it did not commit


def _is_busy(exc: sqlite3.DatabaseError) -> bool:
    """Another connection holds the lock this one needs (SQLITE_BUSY or SQLITE_LOCKED)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    return "LOCKED" in name or "BUSY" in name or "locked" in text or "busy" in text


def _journal_mode(conn: sqlite3.Connection) -> str:
    """The file's journal mode; reading it takes no lock another process could hold."""
    return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
