"""Move a team's history from one decision database to another (`decisions copy --from --to`).

The usual move is from the embedded SQLite file to the team's PostgreSQL server, but any store
to any store works. Records are copied as they are, ids, links, dates and content hashes
included, so every amendment chain, re-validation and link (`?decision=ID`) means the same
thing in the new place; nothing is re-hashed, so a record that fails its hash check in the
source still fails it in the target. Workshop sessions come with every saved version of their
state and every participant's scores.

The copy is one transaction on the target: all of it lands, or none. Copying again is safe:
what is already there, identical, is skipped. A target that holds a *different* record under
the same id (it has its own history) is refused before anything is written, because merging two
histories would renumber records that people have already linked to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import InputError
from .integrity import ALTERED
from .store import DecisionStore, check_decision_row, check_revalidation_row

DECISION_COLUMNS = (
    "id", "lineage_id", "version", "supersedes", "title", "chosen_key", "metric_name",
    "created_at", "created_by", "payload", "content_sha256", "idempotency_key",
)  # fmt: skip
REVALIDATION_COLUMNS = (
    "id", "decision_id", "lineage_id", "verdict", "overtaken_by", "run_at", "payload",
    "content_sha256",
)  # fmt: skip
WORKSHOP_COLUMNS = ("id", "title", "facilitator", "created_at", "updated_at", "version")
STATE_COLUMNS = ("workshop_id", "version", "state", "saved_at", "saved_by")
PARTICIPANT_COLUMNS = ("workshop_id", "name_key", "name", "scores", "updated_at")


@dataclass
class CopyReport:
    """What a copy did: counts copied and already present, and records failing their hash."""

    source: str
    target: str
    decisions: int = 0
    revalidations: int = 0
    workshops: int = 0
    already_present: int = 0
    altered: list[str] = field(default_factory=list)  # e.g. ["decision #3"]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CopyReport:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    @property
    def message(self) -> str:
        text = (
            f"Copied {self.decisions} decision versions, {self.revalidations} re-validations "
            f"and {self.workshops} workshops from {self.source} to {self.target}"
        )
        if self.already_present:
            text += f" ({self.already_present} records were already there, identical)"
        text += "."
        if self.altered:
            text += (
                f" {', '.join(self.altered)} failed the content-hash check in the source and "
                "were copied as they are, so they still fail it."
            )
        return text


def copy_store(source: DecisionStore, target: DecisionStore) -> CopyReport:
    """Copy every record and workshop of `source` into `target`; see the module docstring."""
    if source.location == target.location:
        raise InputError(f"The source and the target are the same database ({source.location}).")
    with source.engine.reading() as tx:
        rows = {
            "decisions": tx.all("SELECT * FROM decisions ORDER BY id"),
            "revalidations": tx.all("SELECT * FROM revalidations ORDER BY id"),
            "workshops": tx.all("SELECT * FROM workshops ORDER BY created_at, id"),
            "workshop_states": tx.all(
                "SELECT * FROM workshop_states ORDER BY workshop_id, version"
            ),
            "workshop_participants": tx.all("SELECT * FROM workshop_participants"),
        }
    report = CopyReport(source.location, target.location)
    report.altered = [
        f"{c.kind.replace('revalidation', 're-validation')} #{c.record_id}"
        for c in [*map(check_decision_row, rows["decisions"]),
                  *map(check_revalidation_row, rows["revalidations"])]
        if c.status == ALTERED
    ]  # fmt: skip
    with target.engine.writing() as tx:
        decisions = _new_records(tx, "decisions", rows["decisions"], DECISION_COLUMNS, report)
        revals = _new_records(
            tx, "revalidations", rows["revalidations"], REVALIDATION_COLUMNS, report
        )
        workshops = _new_workshops(tx, rows["workshops"], report)
        _insert(tx, "decisions", DECISION_COLUMNS, decisions)
        _insert(tx, "revalidations", REVALIDATION_COLUMNS, revals)
        ids = {w["id"] for w in workshops}
        _insert(tx, "workshops", WORKSHOP_COLUMNS, workshops)
        for table, columns in (
            ("workshop_states", STATE_COLUMNS),
            ("workshop_participants", PARTICIPANT_COLUMNS),
        ):
            _insert(tx, table, columns, [r for r in rows[table] if r["workshop_id"] in ids])
    report.decisions, report.revalidations, report.workshops = (
        len(decisions),
        len(revals),
        len(workshops),
    )
    return report


def _new_records(tx, table: str, rows: list[dict], columns, report: CopyReport) -> list[dict]:
    """The rows the target lacks; InputError if it holds a different record under an id/key."""
    there = {r["id"]: r for r in tx.all(f"SELECT * FROM {table}")}
    keys = {}
    if table == "decisions":
        keys = {r["idempotency_key"]: r["id"] for r in there.values() if r["idempotency_key"]}
    new, clashes = [], []
    for row in rows:
        existing = there.get(row["id"])
        if existing is not None:
            if any(existing[c] != row[c] for c in columns):
                clashes.append(row["id"])
            else:
                report.already_present += 1
            continue
        key = row.get("idempotency_key")
        if key and key in keys:
            clashes.append(row["id"])
            continue
        new.append(row)
    if clashes:
        what = "decision versions" if table == "decisions" else "re-validations"
        raise InputError(
            f"{report.target} already holds different {what} under the ids "
            f"{', '.join(f'#{i}' for i in clashes[:10])}{', …' if len(clashes) > 10 else ''}: it "
            "has a history of its own, and merging two histories would renumber records people "
            "link to. Copy into a new, empty database instead; nothing was copied."
        )
    return new


def _new_workshops(tx, rows: list[dict], report: CopyReport) -> list[dict]:
    """Workshops the target lacks; InputError if it holds a different state of one of them."""
    there = {r["id"]: r for r in tx.all("SELECT * FROM workshops")}
    new, clashes = [], []
    for row in rows:
        existing = there.get(row["id"])
        if existing is None:
            new.append(row)
        elif existing["version"] == row["version"] and existing["updated_at"] == row["updated_at"]:
            report.already_present += 1
        else:
            clashes.append(row["title"])
    if clashes:
        raise InputError(
            f"{report.target} already holds workshops {', '.join(map(repr, clashes[:5]))} in "
            "another state than the source. Copy into a new, empty database instead; nothing "
            "was copied."
        )
    return new


def _insert(tx, table: str, columns: tuple[str, ...], rows: list[dict]) -> None:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    for row in rows:
        tx.run(sql, tuple(row[c] for c in columns))
