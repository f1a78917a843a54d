"""The decision store on a PostgreSQL server (psycopg 3), for a team's shared deployment.

Everything lives in its own schema, `northstar_lab`, so the store shares a database with other
applications without touching their tables (and refuses a `northstar_lab` schema that holds
someone else's tables). Each transaction sets its own `search_path` and lock timeout with
`SET LOCAL`, and writers serialise on a transaction-level advisory lock: the same guarantees as
SQLite's `BEGIN IMMEDIATE`, and all of it works through a transaction-mode connection pooler
(PgBouncer, Supabase, Neon): no session state, no prepared statements.

Connections are kept in a small per-process pool (a connection to a remote server costs a TLS
handshake); a pooled connection the server has closed is replaced once, transparently, before
anything was sent in it. The password in the URL is used to connect and nowhere else: every
message built from a driver error is scrubbed of it and names the server by `redact_url`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from ..errors import InputError
from .engines import BUSY_TIMEOUT_S, SETTING, Tx, redact_url, url_secrets

SCHEMA = "northstar_lab"
#: The advisory lock every writer holds: "NSLB" + 1, an arbitrary constant of ours.
WRITE_LOCK_KEY = 0x4E534C42_00000001
POOL_SIZE = 4
_IDLE = psycopg.pq.TransactionStatus.IDLE
CONNECT_TIMEOUT_S = 10

#: Driver errors that are about the server or its permissions, not about our SQL: a refused
#: trigger or a syntax error stays an exception (a bug to fix, not input to change).
_PEOPLES_PROBLEMS = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    pg_errors.ReadOnlySqlTransaction,
    pg_errors.InsufficientPrivilege,
)

_ENGINES: dict[str, PostgresEngine] = {}
_ENGINES_LOCK = threading.Lock()


def postgres_engine(url: str) -> PostgresEngine:
    """The process's engine for `url` (shared, so its connection pool is shared too)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _ENGINES[url] = PostgresEngine(url)
    return engine


def close_pools() -> None:
    """Close every pooled connection of this process (tests, shutdown)."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.close()


class PostgresEngine:
    """A PostgreSQL database reached by URL; see the module docstring."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        scheme, rest = url.split("://", 1)
        self._url = "postgresql://" + rest  # postgresql+psycopg:// (SQLAlchemy style) too
        self._secrets = url_secrets(url)
        self.location = redact_url(self._url)
        self.path = None
        self._idle: list[psycopg.Connection] = []
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresEngine({self.location!r})"

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self._url,
                autocommit=True,  # transactions are explicit BEGIN ... COMMIT, as on SQLite
                prepare_threshold=None,  # no server-side prepared statements (poolers)
                connect_timeout=CONNECT_TIMEOUT_S,
                row_factory=dict_row,
                application_name="northstar-lab",
            )
        except psycopg.ProgrammingError:
            raise InputError(
                f"The decision database URL {self.location} is not a valid PostgreSQL URL. "
                f"Set {SETTING} to postgresql://USER:PASSWORD@HOST:5432/DATABASE."
            ) from None
        except psycopg.Error as exc:
            raise InputError(
                f"Cannot connect to the decision database {self.location} "
                f"({self._cause(exc)}). Check that the server is running and reachable and that "
                f"the user, password and database name in {SETTING} are right."
            ) from None

    def _take(self) -> tuple[psycopg.Connection, bool]:
        """A pooled connection (and True) or a new one (and False)."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's sockets are not ours to use
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def _give_back(self, conn: psycopg.Connection) -> None:
        if not conn.closed and not conn.broken and conn.info.transaction_status == _IDLE:
            with self._lock:
                if len(self._idle) < POOL_SIZE and self._pid == os.getpid():
                    self._idle.append(conn)
                    return
        _close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            _close_quietly(conn)

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """One snapshot (REPEATABLE READ, read only) for several SELECTs."""
        with self._transaction(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", write=False
        ) as tx:
            yield tx

    @contextmanager
    def writing(self) -> Iterator[Tx]:
        """One write transaction under the store's write lock: all of it lands, or none."""
        with self._transaction("BEGIN", write=True) as tx:
            yield tx

    @contextmanager
    def _transaction(self, begin: str, *, write: bool) -> Iterator[Tx]:
        setup = (
            f"{begin}; SET LOCAL search_path TO {SCHEMA}; "
            f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_S * 1000)}ms'"
        )
        conn = self._begin(setup)
        try:
            try:
                if write:
                    conn.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
                yield Tx(conn, self.dialect)
                if write:
                    self._commit(conn)
                else:
                    conn.execute("ROLLBACK")
            except _PEOPLES_PROBLEMS as exc:
                raise self.translate(exc) from None
        finally:
            if not conn.closed and conn.info.transaction_status != _IDLE:
                _rollback_quietly(conn)
            self._give_back(conn)

    def _begin(self, setup: str) -> psycopg.Connection:
        """Start a transaction; a pooled connection the server dropped is replaced once."""
        conn, reused = self._take()
        try:
            conn.execute(setup)
            return conn
        except psycopg.OperationalError as exc:
            _close_quietly(conn)
            if not reused:
                raise self.translate(exc) from None
        conn = self._connect()
        try:
            conn.execute(setup)
        except _PEOPLES_PROBLEMS as exc:
            _close_quietly(conn)
            raise self.translate(exc) from None
        return conn

    def _commit(self, conn: psycopg.Connection) -> None:
        conn.execute("COMMIT")

    # -- schema bookkeeping (see migrations.py) ----------------------------------------------

    def use_wal(self) -> None:
        """SQLite only; PostgreSQL always has its write-ahead log."""

    def schema_version(self, tx: Tx) -> int:
        # A catalog scan sees what the statement's snapshot sees; to_regclass() would read a
        # cache that can miss a schema committed while this transaction waited for the lock.
        present = tx.one(
            "SELECT count(*) AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s "
            "ON s.oid = c.relnamespace WHERE s.nspname = ? AND c.relname = 'schema_history'",
            (SCHEMA,),
        )
        if not present["n"]:
            return 0
        row = tx.one(f"SELECT coalesce(max(version), 0) AS v FROM {SCHEMA}.schema_history")
        return int(row["v"])

    def set_schema_version(self, tx: Tx, version: int) -> None:
        """Recorded by schema_history itself; the comment is for a DBA reading the schema."""
        tx.run(
            f"COMMENT ON SCHEMA {SCHEMA} IS 'North Star Lab decision database, schema version "
            f"{int(version)}'"
        )

    def own_tables(self, tx: Tx) -> list[str]:
        """Tables in the `northstar_lab` schema (with no schema_history: someone else's)."""
        rows = tx.all(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?",
            (SCHEMA,),
        )
        return [r["name"] for r in rows]

    # -- errors ------------------------------------------------------------------------------

    def _cause(self, exc: BaseException) -> str:
        """The driver's message, first lines only, with every secret of the URL scrubbed."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text[:400]

    def translate(self, exc: psycopg.Error) -> InputError:
        """A PostgreSQL error in words a person can act on (the app shows the same text)."""
        where = f"The decision database {self.location}"
        cause = self._cause(exc)
        if isinstance(exc, pg_errors.LockNotAvailable):
            return InputError(
                f"{where} is busy: another process held its write lock for more than "
                f"{BUSY_TIMEOUT_S:g} s. Try again in a moment; nothing was written."
            )
        if isinstance(exc, (pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege)):
            return InputError(
                f"{where} does not let this user write ({cause}), so nothing was written. "
                "Grant the user the right to create and write tables in its schema "
                f"{SCHEMA}, or set {SETTING} to a primary server and a user who may write."
            )
        if isinstance(exc, (pg_errors.DiskFull, pg_errors.OutOfMemory)):
            return InputError(f"{where} could not store the change ({cause}); nothing was written.")
        if isinstance(exc, psycopg.OperationalError):
            return InputError(
                f"{where} did not answer ({cause}). Nothing was written; check that the "
                "server is running and reachable, then try again."
            )
        return InputError(
            f"{where} cannot be used as a decision database ({cause}). Check that "
            f"{SETTING} names a PostgreSQL database where this user may create tables."
        )


def _rollback_quietly(conn: psycopg.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except psycopg.Error:
        _close_quietly(conn)


def _close_quietly(conn: psycopg.Connection) -> None:
    with suppress(psycopg.Error):
        conn.close()
