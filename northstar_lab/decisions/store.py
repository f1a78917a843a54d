"""The decision store: North Star decisions and their re-validations in one SQLite file.

Why SQLite: one file a team can back up, opened by the app, the CLI and scheduled
re-validations at the same time. WAL journal mode lets readers work while one process writes;
every write is a `BEGIN IMMEDIATE` transaction (it takes the write lock up front, waits up to
`BUSY_TIMEOUT_S` for another writer, and either lands completely or not at all), with
`synchronous=FULL` so a committed decision survives a power cut.

Records are immutable: an amendment is a new row (version + 1) that supersedes the old one in
the same lineage, and SQLite triggers refuse UPDATE and DELETE, so history cannot be rewritten
by this code or anyone else's. The full record is stored as JSON (`Decision.to_dict()`); a few
columns are copied out of it for listing and linking, and they are the authority for id,
version, lineage and dates.

The schema is versioned with `PRAGMA user_version` and upgraded by the ordered `MIGRATIONS`
in one transaction when a store is opened. A file written by a newer release is refused,
never changed.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError
from ..text import utc_now
from .migrations import SCHEMA_VERSION, migrate, refuse_foreign, refuse_newer, user_version
from .model import CADENCES, INPUT_KINDS, VERDICTS, Decision, Revalidation

BUSY_TIMEOUT_S = 10.0
APP_NAME = "northstar-lab"
DB_FILENAME = "decisions.sqlite3"


def default_db_path() -> Path:
    """$NORTHSTAR_DB, else decisions.sqlite3 in the user's data directory (per platformdirs)."""
    env = os.environ.get("NORTHSTAR_DB", "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / DB_FILENAME


def validate_decision(decision: Decision) -> None:
    """Every problem with a decision before it is written, in one InputError naming the fields."""
    problems: list[str] = []
    if not decision.title.strip():
        problems.append("title: give the decision a title, e.g. 'North Star for 2027'")
    if not decision.chosen_key.strip():
        problems.append("chosen_key: no metric was chosen; pick one from the shortlist")
    d = decision.definition
    if not d.name.strip():
        problems.append(
            "definition.name: name the North Star metric in words, e.g. 'Weekly active teams'"
        )
    if d.review_cadence not in CADENCES:
        problems.append(
            f"definition.review_cadence must be one of {', '.join(CADENCES)}, "
            f"got {d.review_cadence!r}"
        )
    elif d.review_cadence == "milestone" and not d.milestone.strip():
        problems.append("definition.milestone: say which milestone triggers the review")
    for i, r in enumerate(decision.rejected):
        label = f"rejected[{i}] ({r.name or r.key or 'unnamed'})"
        if not r.reason.strip():
            problems.append(f"{label}: reason is empty; say in a sentence why it lost")
        if r.key and r.key == decision.chosen_key:
            problems.append(f"{label}: is the chosen metric; remove it from the rejected list")
    for i, m in enumerate(decision.input_metrics):
        if not m.name.strip():
            problems.append(f"input_metrics[{i}].name is empty; name the input metric")
        if m.kind not in INPUT_KINDS:
            problems.append(
                f"input_metrics[{i}].kind must be one of {', '.join(INPUT_KINDS)}, got {m.kind!r}"
            )
    for i, s in enumerate(decision.sign_offs):
        if not s.name.strip():
            problems.append(f"sign_offs[{i}].name is empty; who signed off?")
    if problems:
        raise InputError.collect(problems)


def validate_revalidation(reval: Revalidation) -> None:
    problems = []
    if reval.verdict not in VERDICTS:
        problems.append(f"verdict must be one of {', '.join(VERDICTS)}, got {reval.verdict!r}")
    if not reval.rule.strip():
        problems.append("rule: state the verdict rule the re-validation applied")
    if problems:
        raise InputError.collect(problems)


class DecisionStore:
    """Decisions and re-validations in one SQLite file (see the module docstring).

    path: the database file (None → `default_db_path()`); parent folders are created.
    create=False refuses a file that does not exist yet (the CLI's read commands use it, so a
    mistyped --db is reported instead of silently creating an empty database).
    Each call opens its own short-lived connection, so one store can be shared by threads.
    """

    def __init__(self, path: str | Path | None = None, *, create: bool = True) -> None:
        self.path = Path(path).expanduser() if path else default_db_path()
        if self.path.is_dir():
            raise InputError(
                f"{self.path} is a folder; give a file path for the decision "
                "database, e.g. decisions.sqlite3"
            )
        if not self.path.exists():
            if not create:
                raise InputError(
                    f"No decision database at {self.path}. Record a decision in the app first, "
                    "or point --db (or NORTHSTAR_DB) at an existing file."
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    f"Cannot create the folder for {self.path}: {exc.strerror}. "
                    "Choose another --db path."
                ) from exc
        self._open_and_migrate()

    def __repr__(self) -> str:
        return f"DecisionStore({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from exc
        return conn

    def _unusable(self, exc: sqlite3.DatabaseError) -> InputError:
        if "locked" in str(exc) or "busy" in str(exc):
            return InputError(
                f"{self.path} is busy: another process held the write lock for more than "
                f"{BUSY_TIMEOUT_S:g} s. Try again; nothing was written."
            )
        return InputError(
            f"{self.path} cannot be used as a decision database ({exc}). Check that it is a "
            "North Star Lab database you can write to, or choose another --db path."
        )

    def _open_and_migrate(self) -> None:
        conn = self._connect()
        try:
            version = user_version(conn)  # also fails here on a file that is not SQLite
            refuse_newer(version, self.path)
            if version < SCHEMA_VERSION:
                if version == 0:
                    refuse_foreign(conn, self.path)
                conn.execute("PRAGMA journal_mode = WAL")
                migrate(conn, path=self.path)
            else:
                conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from exc
        finally:
            conn.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN")  # one consistent snapshot for several SELECTs
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or (on any exception) none of it."""
        conn = self._connect()
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._unusable(exc) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    # -- decisions -----------------------------------------------------------------------

    def record(self, decision: Decision) -> Decision:
        """Store a new decision as version 1 of a new lineage; return the stored copy.

        The argument is not modified. id, version, supersedes and created_at are assigned here.
        """
        if decision.id is not None:
            raise InputError(
                f"This decision is already recorded as #{decision.id}; amend it instead "
                "(a new version keeps the old one in the history)."
            )
        validate_decision(decision)
        with self._writing() as conn:
            new_id = _next_id(conn, "decisions")
            return _insert_decision(conn, decision, new_id, new_id, 1, None, "")

    def amend(self, decision_id: int | str, decision: Decision, note: str) -> Decision:
        """Record `decision` as the next version of `decision_id`'s lineage; the old row stays.

        `decision_id` must be the latest version (amending an old one would fork the history).
        `note` says what changed and why; it is required.
        """
        did = _parse_id(decision_id)
        validate_decision(decision)
        if not note.strip():
            raise InputError("note: say what the amendment changes and why")
        with self._writing() as conn:
            old = _row(conn, did, self.path)
            newest = conn.execute(
                "SELECT id, version FROM decisions WHERE lineage_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (old["lineage_id"],),
            ).fetchone()
            if newest["id"] != did:
                raise InputError(
                    f"Decision #{did} is version {old['version']}, but version "
                    f"{newest['version']} (#{newest['id']}) already supersedes it. Amend the "
                    f"latest version, #{newest['id']}."
                )
            new_id = _next_id(conn, "decisions")
            return _insert_decision(
                conn, decision, new_id, old["lineage_id"], old["version"] + 1, did, note.strip()
            )

    def get(self, decision_id: int | str) -> Decision:
        """One decision version by id (InputError if there is none)."""
        did = _parse_id(decision_id)
        with self._reading() as conn:
            return _decision(_row(conn, did, self.path))

    def latest(self) -> Decision | None:
        """The most recently recorded decision version (None in an empty database)."""
        with self._reading() as conn:
            row = conn.execute("SELECT * FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
        return _decision(row) if row else None

    def latest_version(self, decision_id: int | str) -> Decision:
        """The newest version in `decision_id`'s lineage (itself if nothing amends it)."""
        did = _parse_id(decision_id)
        with self._reading() as conn:
            lineage = _row(conn, did, self.path)["lineage_id"]
            row = conn.execute(
                "SELECT * FROM decisions WHERE lineage_id = ? ORDER BY version DESC LIMIT 1",
                (lineage,),
            ).fetchone()
        return _decision(row)

    def history(self, decision_id: int | str) -> list[Decision]:
        """Every version of `decision_id`'s lineage, oldest first."""
        did = _parse_id(decision_id)
        with self._reading() as conn:
            lineage = _row(conn, did, self.path)["lineage_id"]
            rows = conn.execute(
                "SELECT * FROM decisions WHERE lineage_id = ? ORDER BY version", (lineage,)
            ).fetchall()
        return [_decision(r) for r in rows]

    def list_decisions(self, all_versions: bool = False) -> list[dict]:
        """Summaries, newest first: by default only the latest version of each decision.

        Keys: id, lineage_id, version, is_latest, title, chosen_key, chosen_name (the
        definition's name), created_at, created_by, latest_verdict and revalidated_at (the
        newest re-validation of this very version; None if it has not been re-validated).
        """
        where = "" if all_versions else "WHERE is_latest"
        sql = f"""
            SELECT d.id, d.lineage_id, d.version, d.title, d.chosen_key,
                   d.metric_name AS chosen_name, d.created_at, d.created_by,
                   NOT EXISTS (SELECT 1 FROM decisions n WHERE n.supersedes = d.id) AS is_latest,
                   r.verdict AS latest_verdict, r.run_at AS revalidated_at
            FROM decisions d
            LEFT JOIN revalidations r ON r.id = (
                SELECT max(id) FROM revalidations WHERE decision_id = d.id)
            {where}
            ORDER BY d.id DESC"""
        with self._reading() as conn:
            rows = conn.execute(sql).fetchall()
        return [{**dict(r), "is_latest": bool(r["is_latest"])} for r in rows]

    # -- re-validations ------------------------------------------------------------------

    def add_revalidation(self, decision_id: int | str, reval: Revalidation) -> Revalidation:
        """Save a re-validation into `decision_id`'s history; return the stored copy.

        The decision itself is never changed. id and run_at (now, UTC) are assigned here and
        `decision_id` (the argument) is the version that was judged.
        """
        did = _parse_id(decision_id)
        validate_revalidation(reval)
        with self._writing() as conn:
            lineage = _row(conn, did, self.path)["lineage_id"]
            stored = Revalidation.from_dict(
                {
                    **reval.to_dict(),
                    "decision_id": did,
                    "id": _next_id(conn, "revalidations"),
                    "run_at": utc_now(),
                }
            )
            conn.execute(
                "INSERT INTO revalidations (id, decision_id, lineage_id, verdict, overtaken_by, "
                "run_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    did,
                    lineage,
                    stored.verdict,
                    stored.overtaken_by,
                    stored.run_at,
                    _dumps(stored.to_dict()),
                ),
            )
        return stored

    def revalidations(self, decision_id: int | str) -> list[Revalidation]:
        """Every re-validation of `decision_id`'s lineage (all versions), newest first."""
        did = _parse_id(decision_id)
        with self._reading() as conn:
            lineage = _row(conn, did, self.path)["lineage_id"]
            rows = conn.execute(
                "SELECT * FROM revalidations WHERE lineage_id = ? ORDER BY id DESC", (lineage,)
            ).fetchall()
        return [_revalidation(r) for r in rows]

    def schema_version(self) -> int:
        with self._reading() as conn:
            return user_version(conn)


def _dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


def _parse_id(value: int | str) -> int:
    text = str(value).strip().lstrip("#")
    if not re.fullmatch(r"\d+", text):
        raise InputError(f"A decision id is a number like 3, got {value!r}.")
    return int(text)


def _next_id(conn: sqlite3.Connection, table: str) -> int:
    """max(id) + 1, read under the write lock; rows are never deleted, so ids are never reused."""
    return int(conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


def _row(conn: sqlite3.Connection, decision_id: int, path: object) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,)).fetchone()
    if row is None:
        raise InputError(
            f"No decision #{decision_id} in {path}. `python -m northstar_lab decisions list` "
            "shows the recorded ids."
        )
    return row


def _insert_decision(
    conn: sqlite3.Connection,
    decision: Decision,
    new_id: int,
    lineage_id: int,
    version: int,
    supersedes: int | None,
    note: str,
) -> Decision:
    payload = decision.to_dict()
    payload.update(
        id=new_id, version=version, supersedes=supersedes, created_at=utc_now(), amendment_note=note
    )
    conn.execute(
        "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
        "metric_name, created_at, created_by, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_id,
            lineage_id,
            version,
            supersedes,
            decision.title.strip(),
            decision.chosen_key,
            decision.definition.name.strip(),
            payload["created_at"],
            decision.created_by or "",
            _dumps(payload),
        ),
    )
    return Decision.from_dict(payload)


def _decision(row: sqlite3.Row) -> Decision:
    payload = json.loads(row["payload"])
    payload.update(
        id=row["id"],
        version=row["version"],
        supersedes=row["supersedes"],
        created_at=row["created_at"],
    )
    return Decision.from_dict(payload)


def _revalidation(row: sqlite3.Row) -> Revalidation:
    payload = json.loads(row["payload"])
    payload.update(id=row["id"], decision_id=row["decision_id"], run_at=row["run_at"])
    return Revalidation.from_dict(payload)
