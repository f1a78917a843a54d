"""The decision database's schema, versioned with `PRAGMA user_version` and upgraded by the ordered
`MIGRATIONS` in one transaction when a store is opened. Append, never edit a shipped migration
(files in the field were built by it). A file written by a newer release is refused, never
changed; a file that belongs to something else is never touched.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..errors import InputError
from ..text import utc_now


def _immutable(table: str, what: str) -> list[str]:
    message = f"{what} are immutable: record an amendment (a new version) instead"
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def _migration_1_decisions(conn: sqlite3.Connection) -> None:
    """Decisions with lineage/version links; immutable; amendments chain linearly."""
    statements = [
        """CREATE TABLE schema_history (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
        )""",
        """CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            lineage_id INTEGER NOT NULL REFERENCES decisions(id),
            version INTEGER NOT NULL CHECK (version >= 1),
            supersedes INTEGER UNIQUE REFERENCES decisions(id),
            title TEXT NOT NULL CHECK (length(trim(title)) > 0),
            chosen_key TEXT NOT NULL CHECK (length(trim(chosen_key)) > 0),
            metric_name TEXT NOT NULL CHECK (length(trim(metric_name)) > 0),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL,
            UNIQUE (lineage_id, version),
            CHECK ((version = 1 AND supersedes IS NULL AND lineage_id = id)
                   OR (version > 1 AND supersedes IS NOT NULL))
        )""",
        # An amendment must follow the latest version of its own lineage (with UNIQUE(supersedes)
        # this keeps every history a single chain).
        """CREATE TRIGGER decisions_amend_link BEFORE INSERT ON decisions
           WHEN NEW.supersedes IS NOT NULL
           BEGIN
             SELECT RAISE(ABORT, 'an amendment must supersede the previous version of its decision')
             WHERE NOT EXISTS (SELECT 1 FROM decisions WHERE id = NEW.supersedes
                               AND lineage_id = NEW.lineage_id AND version = NEW.version - 1);
           END""",
        *_immutable("decisions", "decisions"),
    ]
    for sql in statements:
        conn.execute(sql)


def _migration_2_revalidations(conn: sqlite3.Connection) -> None:
    """Re-validations kept in each decision's history (immutable), and listing indexes."""
    statements = [
        """CREATE TABLE revalidations (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id),
            lineage_id INTEGER NOT NULL REFERENCES decisions(id),
            verdict TEXT NOT NULL CHECK (verdict IN ('holds', 'weakened', 'overtaken')),
            overtaken_by TEXT,
            run_at TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX revalidations_by_lineage ON revalidations (lineage_id, id)",
        "CREATE INDEX revalidations_by_decision ON revalidations (decision_id, id)",
        "CREATE INDEX decisions_by_created ON decisions (created_at)",
        *_immutable("revalidations", "re-validations"),
    ]
    for sql in statements:
        conn.execute(sql)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migration_1_decisions,
    _migration_2_revalidations,
]


SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_newer(version: int, path: object) -> None:
    if version > SCHEMA_VERSION:
        raise InputError(
            f"{path}: this decision database has schema version {version}, but this North Star "
            f"Lab understands versions up to {SCHEMA_VERSION}; it was written by a newer "
            "release. Upgrade North Star Lab to read it, or use another file (--db PATH or "
            "NORTHSTAR_DB). The file was not changed."
        )


def migrate(conn: sqlite3.Connection, target: int | None = None, path: object = "database") -> int:
    """Bring the schema up to `target` (default: the newest) in one transaction; return it.

    `conn` must be in autocommit mode (isolation_level=None). The version is read again under
    the write lock, so two processes opening a new file at once migrate it exactly once. A
    failing migration rolls back completely and leaves the previous version in place.
    """
    target = SCHEMA_VERSION if target is None else target
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = user_version(conn)
        refuse_newer(version, path)
        if version == 0:
            refuse_foreign(conn, path)
        for number in range(version + 1, target + 1):
            MIGRATIONS[number - 1](conn)
            conn.execute(
                "INSERT INTO schema_history (version, applied_at) VALUES (?, ?)",
                (number, utc_now()),
            )
            conn.execute(f"PRAGMA user_version = {int(number)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return max(version, target)


def refuse_foreign(conn: sqlite3.Connection, path: object) -> None:
    """A version-0 file that already has tables belongs to something else: do not touch it."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    if tables:
        raise InputError(
            f"{path}: this SQLite file is not a North Star Lab decision database (it has tables "
            f"{', '.join(tables[:5])}). Point --db or NORTHSTAR_DB at a new or existing decision "
            "database; the file was not changed."
        )
