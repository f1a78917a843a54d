"""The decision store: North Star decisions, their re-validations and the workshops that make them.

Where: a SQLite file (the embedded default: `$NORTHSTAR_DB`, else `decisions.sqlite3` in the
user data directory) or, for a team, a PostgreSQL server (`NORTHSTAR_DB=postgresql://…`);
`engines.py` hides the difference. Why SQLite by default: one file a team can back up, opened by
the app, the CLI and scheduled re-validations at the same time (WAL; `synchronous=FULL`, so a
committed decision survives a power cut). Why PostgreSQL: a deployment without a durable local
disk (Streamlit Community Cloud, a container with several replicas).

Every write is one transaction under the store's write lock: it waits up to `BUSY_TIMEOUT_S` for
another writer and either lands completely or not at all, so concurrent writers are safe and a
writer killed mid-write loses nothing that was committed.

Records are immutable: an amendment is a new row (version + 1) that supersedes the old one in
the same lineage, and triggers refuse UPDATE, DELETE and REPLACE on both engines, so history
cannot be rewritten by this code or anyone else's SQL. Each record carries a content hash;
`verify` says whether it is still what was recorded (`integrity.py`). The full record is stored as
JSON (`Decision.to_dict()`); a few columns are copied out of it for listing and linking, and they
are the authority for id, version, lineage and dates. `record(..., idempotency_key=K)` records
once per key: the same key again returns the decision already recorded (a double click records
one decision).

Workshop sessions and participants' scores (`sessions.py`) are mutable working state in the same
database: `create_workshop`, `get_workshop`, `save_workshop_state` (optimistic concurrency),
`list_workshops`, `save_participant_scores`, `participant_scores`.

The schema is versioned and upgraded by `migrations.py` when a store is opened; a database written
by a newer release is refused, never changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import InputError
from ..text import utc_now
from . import sessions
from .engines import BUSY_TIMEOUT_S, default_db_path, default_location, open_engine
from .integrity import IntegrityReport, check_record, content_hash
from .migrations import SCHEMA_VERSION, open_schema
from .model import CADENCES, INPUT_KINDS, VERDICTS, Decision, Revalidation
from .sessions import ParticipantScores, WorkshopSession

#: Fields the store assigns; two drafts are "the same decision" when everything else is equal.
STORE_FIELDS = ("id", "version", "supersedes", "created_at", "amendment_note")
MAX_IDEMPOTENCY_KEY = 200


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
    """Decisions, re-validations and workshop sessions in one database (see the module docstring).

    path: a SQLite file path or a PostgreSQL URL (None → `$NORTHSTAR_DB`, else the user data
    dir); a SQLite file's parent folders are created. create=False refuses a database that does
    not exist yet (the CLI's read commands use it, so a mistyped path is reported instead of
    silently creating an empty database). `location` names the database for people (a
    PostgreSQL URL with its password as `***`); `path` is the SQLite file (None on PostgreSQL).
    Each call runs its own short transaction, so one store can be shared by threads.
    """

    def __init__(self, path: str | Path | None = None, *, create: bool = True) -> None:
        self.engine = open_engine(path, create=create)
        self.path: Path | None = self.engine.path
        self.location: str = self.engine.location
        open_schema(self.engine, create=create)

    def __repr__(self) -> str:
        return f"DecisionStore({self.location!r})"

    def close(self) -> None:
        """Close pooled connections (PostgreSQL); the store reconnects if used again."""
        self.engine.close()

    # -- decisions -----------------------------------------------------------------------

    def record(self, decision: Decision, *, idempotency_key: str | None = None) -> Decision:
        """Store a new decision as version 1 of a new lineage; return the stored copy.

        The argument is not modified. id, version, supersedes and created_at are assigned here.
        idempotency_key: when a decision was already recorded with this key, return it instead
        of recording another (the same draft sent twice); a different draft with the same key is
        refused, so neither is silently lost.
        """
        if decision.id is not None:
            raise InputError(
                f"This decision is already recorded as #{decision.id}; amend it instead "
                "(a new version keeps the old one in the history)."
            )
        validate_decision(decision)
        key = _idempotency_key(idempotency_key)
        with self.engine.writing() as tx:
            already = _already_recorded(tx, key, decision)
            if already is not None:
                return already
            new_id = _next_id(tx, "decisions")
            return _insert_decision(tx, decision, new_id, new_id, 1, None, "", key)

    def amend(
        self,
        decision_id: int | str,
        decision: Decision,
        note: str,
        *,
        idempotency_key: str | None = None,
    ) -> Decision:
        """Record `decision` as the next version of `decision_id`'s lineage; the old row stays.

        `decision_id` must be the latest version (amending an old one would fork the history).
        `note` says what changed and why; it is required. idempotency_key: as in `record`.
        """
        did = _parse_id(decision_id)
        validate_decision(decision)
        if not note.strip():
            raise InputError("note: say what the amendment changes and why")
        key = _idempotency_key(idempotency_key)
        with self.engine.writing() as tx:
            already = _already_recorded(tx, key, decision)
            if already is not None:
                return already
            old = _row(tx, did)
            newest = tx.one(
                "SELECT id, version FROM decisions WHERE lineage_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (old["lineage_id"],),
            )
            if newest["id"] != did:
                raise InputError(
                    f"Decision #{did} is version {old['version']}, but version "
                    f"{newest['version']} (#{newest['id']}) already supersedes it. Amend the "
                    f"latest version, #{newest['id']}."
                )
            new_id = _next_id(tx, "decisions")
            return _insert_decision(
                tx, decision, new_id, old["lineage_id"], old["version"] + 1, did, note.strip(), key
            )

    def get(self, decision_id: int | str) -> Decision:
        """One decision version by id (InputError if there is none)."""
        did = _parse_id(decision_id)
        with self.engine.reading() as tx:
            return _decision(_row(tx, did))

    def latest(self) -> Decision | None:
        """The most recently recorded decision version (None in an empty database)."""
        with self.engine.reading() as tx:
            row = tx.one("SELECT * FROM decisions ORDER BY id DESC LIMIT 1")
        return _decision(row) if row else None

    def latest_version(self, decision_id: int | str) -> Decision:
        """The newest version in `decision_id`'s lineage (itself if nothing amends it)."""
        did = _parse_id(decision_id)
        with self.engine.reading() as tx:
            lineage = _row(tx, did)["lineage_id"]
            row = tx.one(
                "SELECT * FROM decisions WHERE lineage_id = ? ORDER BY version DESC LIMIT 1",
                (lineage,),
            )
        return _decision(row)

    def history(self, decision_id: int | str) -> list[Decision]:
        """Every version of `decision_id`'s lineage, oldest first."""
        did = _parse_id(decision_id)
        with self.engine.reading() as tx:
            lineage = _row(tx, did)["lineage_id"]
            rows = tx.all(
                "SELECT * FROM decisions WHERE lineage_id = ? ORDER BY version", (lineage,)
            )
        return [_decision(r) for r in rows]

    def list_decisions(self, all_versions: bool = False) -> list[dict]:
        """Summaries, newest first: by default only the latest version of each decision.

        Keys: id, lineage_id, version, is_latest, title, chosen_key, chosen_name (the
        definition's name), created_at, created_by, latest_verdict and revalidated_at (the
        newest re-validation of this very version; None if it has not been re-validated).
        """
        is_latest = "NOT EXISTS (SELECT 1 FROM decisions n WHERE n.supersedes = d.id)"
        where = "" if all_versions else f"WHERE {is_latest}"
        sql = f"""
            SELECT d.id, d.lineage_id, d.version, d.title, d.chosen_key,
                   d.metric_name AS chosen_name, d.created_at, d.created_by,
                   {is_latest} AS is_latest,
                   r.verdict AS latest_verdict, r.run_at AS revalidated_at
            FROM decisions d
            LEFT JOIN revalidations r ON r.id = (
                SELECT max(id) FROM revalidations WHERE decision_id = d.id)
            {where}
            ORDER BY d.id DESC"""
        with self.engine.reading() as tx:
            rows = tx.all(sql)
        return [{**r, "is_latest": bool(r["is_latest"])} for r in rows]

    def verify(self, decision_id: int | str) -> IntegrityReport:
        """Is this decision version, and every re-validation of its lineage, as recorded?

        Recomputes each content hash from what is stored now (see `integrity.py`); the
        rationale page and `decisions show` print `report.message`.
        """
        did = _parse_id(decision_id)
        with self.engine.reading() as tx:
            row = _row(tx, did)
            revals = tx.all(
                "SELECT * FROM revalidations WHERE lineage_id = ? ORDER BY id", (row["lineage_id"],)
            )
        checks = [check_decision_row(row), *(check_revalidation_row(r) for r in revals)]
        return IntegrityReport(did, checks)

    # -- re-validations ------------------------------------------------------------------

    def add_revalidation(self, decision_id: int | str, reval: Revalidation) -> Revalidation:
        """Save a re-validation into `decision_id`'s history; return the stored copy.

        The decision itself is never changed. id and run_at (now, UTC) are assigned here and
        `decision_id` (the argument) is the version that was judged.
        """
        did = _parse_id(decision_id)
        validate_revalidation(reval)
        with self.engine.writing() as tx:
            lineage = _row(tx, did)["lineage_id"]
            stored = Revalidation.from_dict(
                {
                    **reval.to_dict(),
                    "decision_id": did,
                    "id": _next_id(tx, "revalidations"),
                    "run_at": utc_now(),
                }
            )
            record = stored.to_dict()
            tx.run(
                "INSERT INTO revalidations (id, decision_id, lineage_id, verdict, overtaken_by, "
                "run_at, payload, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    did,
                    lineage,
                    stored.verdict,
                    stored.overtaken_by,
                    stored.run_at,
                    _dumps(record),
                    content_hash("revalidation", lineage, record),
                ),
            )
        return stored

    def revalidations(self, decision_id: int | str) -> list[Revalidation]:
        """Every re-validation of `decision_id`'s lineage (all versions), newest first."""
        did = _parse_id(decision_id)
        with self.engine.reading() as tx:
            lineage = _row(tx, did)["lineage_id"]
            rows = tx.all(
                "SELECT * FROM revalidations WHERE lineage_id = ? ORDER BY id DESC", (lineage,)
            )
        return [_revalidation(r) for r in rows]

    def schema_version(self) -> int:
        with self.engine.reading() as tx:
            return self.engine.schema_version(tx)

    # -- workshop sessions (mutable; see sessions.py) ------------------------------------

    def create_workshop(
        self, title: str, facilitator: str, state: dict | None = None
    ) -> WorkshopSession:
        """A new workshop session at version 1, with a random id for its link (?workshop=ID)."""
        with self.engine.writing() as tx:
            return sessions.insert_workshop(tx, title, facilitator, state or {})

    def get_workshop(self, workshop_id: str) -> WorkshopSession:
        """The workshop's current state and version (InputError if there is none)."""
        with self.engine.reading() as tx:
            return sessions.fetch_workshop(tx, workshop_id)

    def save_workshop_state(
        self, workshop_id: str, state: dict, *, base_version: int, saved_by: str = ""
    ) -> WorkshopSession:
        """Save `state`, edited from version `base_version`; return the new current session.

        If someone saved since `base_version`, their changes and these are merged key by key
        (`sessions.merge_states`); when both changed the same value, `WorkshopConflict` (an
        InputError carrying the current session) is raised and nothing is written. The returned
        version is base_version + 1 exactly when nothing had to be merged.
        """
        with self.engine.writing() as tx:
            return sessions.write_state(tx, workshop_id, state, base_version, saved_by)

    def list_workshops(self) -> list[WorkshopSession]:
        """Every workshop session, most recently saved first."""
        with self.engine.reading() as tx:
            return sessions.fetch_workshops(tx)

    def save_participant_scores(
        self, workshop_id: str, name: str, scores: dict
    ) -> ParticipantScores:
        """Save one participant's rubric scores (replacing only their own earlier scores)."""
        with self.engine.writing() as tx:
            return sessions.upsert_scores(tx, workshop_id, name, scores)

    def participant_scores(self, workshop_id: str) -> list[ParticipantScores]:
        """Every participant's latest scores in a workshop, by name."""
        with self.engine.reading() as tx:
            return sessions.fetch_scores(tx, workshop_id)


def _dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


def _parse_id(value: int | str) -> int:
    text = str(value).strip().lstrip("#")
    if not re.fullmatch(r"\d{1,18}", text):
        raise InputError(f"A decision id is a number like 3, got {value!r}.")
    return int(text)


def _idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
        raise InputError(
            f"idempotency_key must be a non-empty text of at most {MAX_IDEMPOTENCY_KEY} "
            f"characters, got {key!r:.60}"
        )
    return key


def _next_id(tx, table: str) -> int:
    """max(id) + 1, read under the write lock; rows are never deleted, so ids are never reused."""
    return int(tx.one(f"SELECT coalesce(max(id), 0) + 1 AS n FROM {table}")["n"])


def _row(tx, decision_id: int) -> dict:
    row = tx.one("SELECT * FROM decisions WHERE id = ?", (decision_id,))
    if row is None:
        raise InputError(
            f"No decision #{decision_id} in this decision database; the list of decisions "
            "shows the recorded ids."
        )
    return row


def _content(d: Decision) -> dict:
    return {k: v for k, v in d.to_dict().items() if k not in STORE_FIELDS}


def _already_recorded(tx, key: str | None, decision: Decision) -> Decision | None:
    """The decision recorded earlier with `key` if it is this same draft; refuse another."""
    if key is None:
        return None
    row = tx.one("SELECT * FROM decisions WHERE idempotency_key = ?", (key,))
    if row is None:
        return None
    existing = _decision(row)
    if _content(existing) != _content(decision):
        raise InputError(
            f"This draft's key was already used to record decision #{existing.id}, with "
            "different content. Open that decision to amend it, or start a new draft to "
            "record another decision."
        )
    return existing


def _insert_decision(
    tx,
    decision: Decision,
    new_id: int,
    lineage_id: int,
    version: int,
    supersedes: int | None,
    note: str,
    idempotency_key: str | None,
) -> Decision:
    payload = decision.to_dict()
    payload.update(
        id=new_id, version=version, supersedes=supersedes, created_at=utc_now(), amendment_note=note
    )
    stored = Decision.from_dict(payload)
    record = stored.to_dict()
    tx.run(
        "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
        "metric_name, created_at, created_by, payload, content_sha256, idempotency_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_id,
            lineage_id,
            version,
            supersedes,
            decision.title.strip(),
            decision.chosen_key,
            decision.definition.name.strip(),
            record["created_at"],
            decision.created_by or "",
            _dumps(record),
            content_hash("decision", lineage_id, record),
            idempotency_key,
        ),
    )
    return stored


def _decision(row: dict) -> Decision:
    payload = json.loads(row["payload"])
    payload.update(
        id=row["id"],
        version=row["version"],
        supersedes=row["supersedes"],
        created_at=row["created_at"],
    )
    return Decision.from_dict(payload)


def _revalidation(row: dict) -> Revalidation:
    payload = json.loads(row["payload"])
    payload.update(id=row["id"], decision_id=row["decision_id"], run_at=row["run_at"])
    return Revalidation.from_dict(payload)


def check_decision_row(row: dict):
    """A decision row's hash check, plus its listing columns against the record itself."""
    try:
        d = _decision(row)
    except (ValueError, KeyError, TypeError):
        return check_record("decision", row["id"], row["content_sha256"], 0, {}, ["payload"])
    copies = {
        "title": d.title.strip(),
        "chosen_key": d.chosen_key,
        "metric_name": d.definition.name.strip(),
        "created_by": d.created_by or "",
    }
    mismatches = [col for col, value in copies.items() if row[col] != value]
    return check_record(
        "decision", d.id, row["content_sha256"], row["lineage_id"], d.to_dict(), mismatches
    )


def check_revalidation_row(row: dict):
    try:
        r = _revalidation(row)
    except (ValueError, KeyError, TypeError):
        return check_record("revalidation", row["id"], row["content_sha256"], 0, {}, ["payload"])
    copies = {"verdict": r.verdict, "overtaken_by": r.overtaken_by}
    mismatches = [col for col, value in copies.items() if row[col] != value]
    return check_record(
        "revalidation", r.id, row["content_sha256"], row["lineage_id"], r.to_dict(), mismatches
    )


__all__ = [
    "check_decision_row",
    "check_revalidation_row",
    "BUSY_TIMEOUT_S",
    "SCHEMA_VERSION",
    "DecisionStore",
    "default_db_path",
    "default_location",
]
