"""The decision database's schema, versioned, with the same tables and guarantees on both engines.

Each `Migration` holds its SQL for SQLite and for PostgreSQL; `migrate` applies the missing ones
in order, in one transaction under the store's write lock, so two processes opening a new
database at once migrate it exactly once and a failing migration leaves the previous version in
place. The version is SQLite's `PRAGMA user_version`, and on PostgreSQL the newest row of
`northstar_lab.schema_history`. Append, never edit a shipped migration (databases in the field
were built by it). A database written by a newer release is refused, never changed; one that
belongs to something else (a version-0 SQLite file with tables, a `northstar_lab` schema with
tables but no history) is never touched.

Records (decisions, re-validations) are immutable on both engines: triggers refuse UPDATE and
DELETE (and so UPSERT's DO UPDATE and MERGE), TRUNCATE on PostgreSQL, and on SQLite an INSERT
whose id or unique key already exists (INSERT OR REPLACE and REPLACE INTO would otherwise delete
the old row without firing a DELETE trigger). Workshop sessions and participants' scores are
mutable working state, saved with optimistic concurrency by `sessions.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..text import utc_now
from .engines import SETTING

PG_SCHEMA = "northstar_lab"


@dataclass(frozen=True)
class Migration:
    """One schema step: what it does, and its statements for each engine."""

    summary: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def _sqlite_immutable(table: str, what: str) -> tuple[str, ...]:
    message = f"{what} are immutable: record an amendment (a new version) instead"
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    )


def _pg_immutable(table: str, what: str) -> tuple[str, ...]:
    refuse = f"{PG_SCHEMA}.refuse_change('{what}')"
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {refuse}",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {refuse}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {refuse}",
    )


_DECISIONS_COLUMNS = """
            version INTEGER NOT NULL CHECK (version >= 1),
            title TEXT NOT NULL CHECK (length(trim(title)) > 0),
            chosen_key TEXT NOT NULL CHECK (length(trim(chosen_key)) > 0),
            metric_name TEXT NOT NULL CHECK (length(trim(metric_name)) > 0),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL,
            UNIQUE (lineage_id, version),
            CHECK ((version = 1 AND supersedes IS NULL AND lineage_id = id)
                   OR (version > 1 AND supersedes IS NOT NULL))
        )"""

M1 = Migration(
    "Decisions with lineage/version links; immutable; amendments chain linearly.",
    sqlite=(
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
        *_sqlite_immutable("decisions", "decisions"),
    ),
    postgresql=(
        f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}",
        """CREATE TABLE schema_history (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
        )""",
        """CREATE TABLE decisions (
            id BIGINT PRIMARY KEY,
            lineage_id BIGINT NOT NULL REFERENCES decisions(id),
            supersedes BIGINT UNIQUE REFERENCES decisions(id),"""
        + _DECISIONS_COLUMNS,
        f"""CREATE FUNCTION {PG_SCHEMA}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             RAISE EXCEPTION '% are immutable: record an amendment (a new version) instead',
               TG_ARGV[0] USING ERRCODE = 'restrict_violation';
           END $$""",
        f"""CREATE FUNCTION {PG_SCHEMA}.decisions_amend_link() RETURNS trigger
           LANGUAGE plpgsql AS $$
           BEGIN
             IF NEW.supersedes IS NOT NULL AND NOT EXISTS (
                 SELECT 1 FROM {PG_SCHEMA}.decisions WHERE id = NEW.supersedes
                 AND lineage_id = NEW.lineage_id AND version = NEW.version - 1) THEN
               RAISE EXCEPTION 'an amendment must supersede the previous version of its decision'
                 USING ERRCODE = 'foreign_key_violation';
             END IF;
             RETURN NEW;
           END $$""",
        f"""CREATE TRIGGER decisions_amend_link BEFORE INSERT ON decisions
           FOR EACH ROW EXECUTE FUNCTION {PG_SCHEMA}.decisions_amend_link()""",
        *_pg_immutable("decisions", "decisions"),
    ),
)

_REVALIDATIONS_REST = """
            verdict TEXT NOT NULL CHECK (verdict IN ('holds', 'weakened', 'overtaken')),
            overtaken_by TEXT,
            run_at TEXT NOT NULL,
            payload TEXT NOT NULL
        )"""
_REVALIDATION_INDEXES = (
    "CREATE INDEX revalidations_by_lineage ON revalidations (lineage_id, id)",
    "CREATE INDEX revalidations_by_decision ON revalidations (decision_id, id)",
    "CREATE INDEX decisions_by_created ON decisions (created_at)",
)

M2 = Migration(
    "Re-validations kept in each decision's history (immutable), and listing indexes.",
    sqlite=(
        """CREATE TABLE revalidations (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id),
            lineage_id INTEGER NOT NULL REFERENCES decisions(id),"""
        + _REVALIDATIONS_REST,
        *_REVALIDATION_INDEXES,
        *_sqlite_immutable("revalidations", "re-validations"),
    ),
    postgresql=(
        """CREATE TABLE revalidations (
            id BIGINT PRIMARY KEY,
            decision_id BIGINT NOT NULL REFERENCES decisions(id),
            lineage_id BIGINT NOT NULL REFERENCES decisions(id),"""
        + _REVALIDATIONS_REST,
        *_REVALIDATION_INDEXES,
        *_pg_immutable("revalidations", "re-validations"),
    ),
)

_HASH_COLUMNS = (
    "ALTER TABLE decisions ADD COLUMN content_sha256 TEXT",
    "ALTER TABLE decisions ADD COLUMN idempotency_key TEXT",
    "CREATE UNIQUE INDEX decisions_by_idempotency_key ON decisions (idempotency_key)",
    "ALTER TABLE revalidations ADD COLUMN content_sha256 TEXT",
)
_REPLACE_REFUSED = (
    "already exists: records are immutable, so it cannot be replaced; record an amendment "
    "(a new version) instead"
)

M3 = Migration(
    "A content hash on every record; idempotency keys; SQLite refuses REPLACE of a record.",
    sqlite=(
        *_HASH_COLUMNS,
        # SQLite's REPLACE conflict resolution deletes the old row without firing the DELETE
        # trigger, so refuse any insert that would collide with an existing record.
        f"""CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
           WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id
                        OR (lineage_id = NEW.lineage_id AND version = NEW.version)
                        OR supersedes = NEW.supersedes
                        OR idempotency_key = NEW.idempotency_key)
           BEGIN SELECT RAISE(ABORT, 'this decision {_REPLACE_REFUSED}'); END""",
        f"""CREATE TRIGGER revalidations_no_replace BEFORE INSERT ON revalidations
           WHEN EXISTS (SELECT 1 FROM revalidations WHERE id = NEW.id)
           BEGIN SELECT RAISE(ABORT, 'this re-validation {_REPLACE_REFUSED}'); END""",
    ),
    # PostgreSQL has no REPLACE; ON CONFLICT DO UPDATE and MERGE fire the UPDATE/DELETE triggers.
    postgresql=_HASH_COLUMNS,
)

_WORKSHOP_TABLES = (
    """CREATE TABLE workshops (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        facilitator TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1)
    )""",
    """CREATE TABLE workshop_states (
        workshop_id TEXT NOT NULL REFERENCES workshops(id),
        version INTEGER NOT NULL CHECK (version >= 1),
        state TEXT NOT NULL,
        saved_at TEXT NOT NULL,
        saved_by TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (workshop_id, version)
    )""",
    """CREATE TABLE workshop_participants (
        workshop_id TEXT NOT NULL REFERENCES workshops(id),
        name_key TEXT NOT NULL,
        name TEXT NOT NULL,
        scores TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (workshop_id, name_key)
    )""",
    "CREATE INDEX workshops_by_updated ON workshops (updated_at)",
)

M4 = Migration(
    "Workshop sessions (versioned state) and participants' rubric scores: mutable.",
    sqlite=_WORKSHOP_TABLES,
    postgresql=_WORKSHOP_TABLES,
)

MIGRATIONS: list[Migration] = [M1, M2, M3, M4]

SCHEMA_VERSION = len(MIGRATIONS)


def refuse_newer(version: int, location: object) -> None:
    if version > SCHEMA_VERSION:
        raise InputError(
            f"{location}: this decision database has schema version {version}, but this North "
            f"Star Lab understands versions up to {SCHEMA_VERSION}; it was written by a newer "
            f"release. Upgrade North Star Lab to read it, or set {SETTING} to another "
            "database. The database was not changed."
        )


def refuse_foreign(tables: list[str], location: object) -> None:
    """A version-0 database that already has tables belongs to something else: do not touch it."""
    if tables:
        raise InputError(
            f"{location}: this is not a North Star Lab decision database (it has tables "
            f"{', '.join(sorted(tables)[:5])}). Set {SETTING} to a new or existing decision "
            "database; this one was not changed."
        )


def migrate(engine, target: int | None = None) -> int:
    """Bring the schema up to `target` (default: the newest) in one transaction; return it.

    The version is read again under the write lock, so concurrent openers migrate once; a
    failing migration rolls back completely and leaves the previous version in place.
    """
    target = SCHEMA_VERSION if target is None else target
    with engine.writing() as tx:
        version = engine.schema_version(tx)
        refuse_newer(version, engine.location)
        if version == 0:
            refuse_foreign(engine.own_tables(tx), engine.location)
        for number in range(version + 1, target + 1):
            for sql in MIGRATIONS[number - 1].statements(engine.dialect):
                tx.run(sql)
            tx.run(
                "INSERT INTO schema_history (version, applied_at) VALUES (?, ?)",
                (number, utc_now()),
            )
            engine.set_schema_version(tx, number)
    return max(version, target)


def open_schema(engine, *, create: bool = True) -> int:
    """Check the database when a store opens it, migrate it if it is older; return its version.

    create=False refuses a database without North Star Lab tables instead of creating them.
    """
    with engine.reading() as tx:
        version = engine.schema_version(tx)  # also fails here on a file that is not SQLite
        tables = engine.own_tables(tx) if version == 0 else []
    refuse_newer(version, engine.location)
    if version == 0:
        refuse_foreign(tables, engine.location)
        if not create:
            raise InputError(
                f"No decision database at {engine.location} (it has no North Star Lab tables "
                f"yet). Record a decision in the app first, or set {SETTING} to an existing "
                "decision database."
            )
    engine.use_wal()
    return migrate(engine) if version < SCHEMA_VERSION else version
