"""Content hashes of records, and the check that a stored record is still what was recorded.

The triggers stop ordinary SQL from rewriting a record, but whoever owns the database file or
server can drop a trigger and edit a row. So each decision and re-validation carries the SHA-256
of its canonical JSON (sorted keys, no whitespace) taken when it was recorded, and
`DecisionStore.verify` (used by `decisions show` and the rationale page) recomputes it from what
is stored now. A record edited behind the store's back then says so. What it cannot stop: someone
who edits a record *and* recomputes its hash with this very rule. It detects tampering and
accidents; it is not a signature.

Records written before schema version 3 have no hash and are reported as unverifiable, never as
verified: a hash added later would vouch for whatever the row held at that time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

VERIFIED, ALTERED, UNVERIFIABLE = "verified", "altered", "unverifiable"


def content_hash(kind: str, lineage_id: int, record: dict) -> str:
    """SHA-256 (hex) of a record's canonical JSON: `kind` is 'decision' or 'revalidation'."""
    canonical = json.dumps(
        {"kind": kind, "lineage_id": int(lineage_id), "record": record},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RecordCheck:
    """One record's check: status is verified, altered or unverifiable; detail in words."""

    kind: str  # decision | revalidation
    record_id: int
    status: str
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RecordCheck:
        return cls(d["kind"], int(d["record_id"]), d["status"], d.get("detail", ""))


@dataclass(frozen=True)
class IntegrityReport:
    """The check of one decision version and every re-validation of its lineage."""

    decision_id: int
    checks: list[RecordCheck] = field(default_factory=list)

    @property
    def status(self) -> str:
        """altered if any record is; else unverifiable if any is; else verified."""
        statuses = {c.status for c in self.checks}
        for status in (ALTERED, UNVERIFIABLE):
            if status in statuses:
                return status
        return VERIFIED

    @property
    def ok(self) -> bool:
        return self.status != ALTERED

    @property
    def message(self) -> str:
        """One paragraph for people, saying what was checked and what to do."""
        if self.status == VERIFIED:
            return (
                f"Content hash verified: decision #{self.decision_id} and its "
                f"{_count(self.checks, 'revalidation')} are exactly as recorded."
            )
        altered = [c for c in self.checks if c.status == ALTERED]
        if altered:
            which = "; ".join(f"{_name(c)}: {c.detail}" for c in altered)
            return (
                f"Warning: changed outside North Star Lab after it was recorded ({which}). "
                "Do not rely on what is shown; compare with an export or a backup."
            )
        old = ", ".join(_name(c) for c in self.checks if c.status == UNVERIFIABLE)
        return (
            f"Not verifiable: {old} recorded before content hashes were kept (schema version "
            "3), so they cannot be checked."
        )

    def to_dict(self) -> dict:
        return {
            "decision_id": self.decision_id,
            "status": self.status,
            "message": self.message,
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, d: dict) -> IntegrityReport:
        return cls(int(d["decision_id"]), [RecordCheck.from_dict(c) for c in d.get("checks", [])])


def check_record(
    kind: str, record_id: int, stored_hash: str | None, lineage_id: int, record: dict, mismatches=()
) -> RecordCheck:
    """Compare a stored hash with the one recomputed from the record as it is stored now.

    mismatches: listing columns that disagree with the record (e.g. a title edited in one place).
    """
    if mismatches:
        return RecordCheck(
            kind, record_id, ALTERED, f"{', '.join(mismatches)} differ from the record"
        )
    if stored_hash is None:
        return RecordCheck(kind, record_id, UNVERIFIABLE, "recorded without a content hash")
    if content_hash(kind, lineage_id, record) != stored_hash:
        return RecordCheck(kind, record_id, ALTERED, "its content does not match its hash")
    return RecordCheck(kind, record_id, VERIFIED)


def _name(check: RecordCheck) -> str:
    kind = "decision" if check.kind == "decision" else "re-validation"
    return f"{kind} #{check.record_id}"


def _count(checks: list[RecordCheck], kind: str) -> str:
    n = sum(c.kind == kind for c in checks)
    return f"{n} re-validation" + ("" if n == 1 else "s")
