"""Workshop sessions and participants' scores: the meeting's working state, saved as it happens.

A workshop session is what the facilitator's screen holds (dataset reference, settings,
shortlist, rubric weights, the draft record: any JSON object, the app decides its keys), kept in
the decision database so that it comes back after a browser reload or on another laptop through
its link (`?workshop=ID`). Participants join with the link and a name and score the rubric; each
person's scores are their own row, so people saving at the same moment never overwrite each
other. Unlike decisions, these are mutable: they are drafts, not records.

API (methods of `DecisionStore`, which run these functions in one transaction each):

- `create_workshop(title, facilitator, state=None) -> WorkshopSession` (version 1, a random
  URL-safe id);
- `get_workshop(id) -> WorkshopSession`; `list_workshops() -> list[WorkshopSession]`, most
  recently saved first;
- `save_workshop_state(id, state, base_version=N, saved_by="") -> WorkshopSession`: optimistic
  concurrency. A save based on the current version simply lands as version N + 1. A save based on
  an older version is merged with what was saved since (`merge_states`: each key, at any depth of
  nested objects, takes the side that changed it); if both sides changed the same value
  differently, `WorkshopConflict` is raised, nothing is written, and the error carries the
  current session and the conflicting keys, so the app can reload and ask. Never silently lost.
  The last `KEEP_VERSIONS` states are kept (`workshop_states`), which makes the merge possible;
- `save_participant_scores(id, name, scores) -> ParticipantScores` (the name is matched without
  regard to case or repeated spaces); `participant_scores(id) -> list[ParticipantScores]`.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field

from ..errors import InputError
from ..text import plain, utc_now

WORKSHOP_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_NAME = 120
MAX_STATE_BYTES = 5_000_000
MAX_SCORES_BYTES = 500_000
#: Saved states kept per workshop: the bases a late save can be merged with (autosave writes
#: one per change; a save based on an older one is merged as if from scratch, see write_state).
KEEP_VERSIONS = 100
_MISSING = object()


@dataclass
class WorkshopSession:
    """A workshop's metadata and its current state (version counts saves, from 1)."""

    id: str
    title: str
    facilitator: str
    created_at: str
    updated_at: str
    version: int
    state: dict = field(default_factory=dict)
    saved_by: str = ""  # who saved the current version

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> WorkshopSession:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class ParticipantScores:
    """One participant's rubric scores in a workshop (JSON, as the app wrote them)."""

    workshop_id: str
    name: str
    scores: dict
    updated_at: str

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ParticipantScores:
        return cls(d["workshop_id"], d["name"], dict(d["scores"]), d["updated_at"])


class WorkshopConflict(InputError):
    """A save based on an old version changed values someone else changed too; nothing written."""

    def __init__(self, current: WorkshopSession, conflicts: list[str], base_version: int) -> None:
        self.current = current
        self.conflicts = conflicts
        who = f" by {current.saved_by}" if current.saved_by else ""
        super().__init__(
            f"Workshop '{plain(current.title, 80)}' was saved{who} (version {current.version}) "
            f"after version {base_version}, which these changes started from, and both changed "
            f"{', '.join(conflicts[:8])}{', …' if len(conflicts) > 8 else ''}. Nothing was "
            "saved: reload the workshop to see the other changes, then make yours again."
        )


def merge_states(base: dict, mine: dict, theirs: dict, _path: str = "") -> tuple[dict, list[str]]:
    """Three-way merge of JSON objects; returns (merged, conflicting key paths like 'a.b').

    A key changed on one side only takes that side; changed identically on both, either; nested
    objects are merged key by key; anything else changed on both sides is a conflict (the merged
    value keeps theirs, but a caller that sees conflicts must not save it).
    """
    merged: dict = {}
    conflicts: list[str] = []
    for key in [*theirs, *(k for k in mine if k not in theirs)]:
        b, m, t = base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING)
        if m in (t, b):
            value = t
        elif t == b:
            value = m
        elif isinstance(m, dict) and isinstance(t, dict):
            value, inner = merge_states(b if isinstance(b, dict) else {}, m, t, f"{_path}{key}.")
            conflicts += inner
        else:
            value = t
            conflicts.append(f"{_path}{key}")
        if value is not _MISSING:
            merged[key] = value
    return merged, conflicts


def _json_object(value, what: str, limit: int) -> tuple[dict, str]:
    """`value` as a JSON object and its text; InputError if it is not one or is too large."""
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a JSON object (a dict), got {type(value).__name__}")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be saved as JSON: {exc}") from exc
    if len(text.encode("utf-8")) > limit:
        raise InputError(f"{what} is larger than {limit / 1e6:g} MB; save less.")
    return json.loads(text), text


def _person(value: str, what: str) -> str:
    name = " ".join(plain(value or "").split())
    if not name:
        raise InputError(f"{what}: give a name, e.g. 'Ada'")
    if len(name) > MAX_NAME:
        raise InputError(f"{what}: at most {MAX_NAME} characters, got {len(name)}")
    return name


def _workshop_id(value: str) -> str:
    text = str(value or "").strip()
    if not WORKSHOP_ID.fullmatch(text):
        raise InputError(
            f"'{plain(text, 40)}' is not a workshop link id; ask the facilitator for the link."
        )
    return text


def _session(row: dict) -> WorkshopSession:
    return WorkshopSession(
        id=row["id"],
        title=row["title"],
        facilitator=row["facilitator"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=int(row["version"]),
        state=json.loads(row["state"]),
        saved_by=row["saved_by"],
    )


_SELECT = """SELECT w.*, s.state, s.saved_by FROM workshops w
             JOIN workshop_states s ON s.workshop_id = w.id AND s.version = w.version"""


def insert_workshop(tx, title: str, facilitator: str, state: dict) -> WorkshopSession:
    title = " ".join(plain(title or "").split())
    if not title:
        raise InputError("title: give the workshop a title, e.g. 'North Star workshop, Q3'")
    facilitator = _person(facilitator, "facilitator")
    _state, text = _json_object(state, "The workshop state", MAX_STATE_BYTES)
    now = utc_now()
    wid = secrets.token_urlsafe(12)
    tx.run(
        "INSERT INTO workshops (id, title, facilitator, created_at, updated_at, version) "
        "VALUES (?, ?, ?, ?, ?, 1)",
        (wid, title[:200], facilitator, now, now),
    )
    tx.run(
        "INSERT INTO workshop_states (workshop_id, version, state, saved_at, saved_by) "
        "VALUES (?, 1, ?, ?, ?)",
        (wid, text, now, facilitator),
    )
    return fetch_workshop(tx, wid)


def fetch_workshop(tx, workshop_id: str) -> WorkshopSession:
    wid = _workshop_id(workshop_id)
    row = tx.one(f"{_SELECT} WHERE w.id = ?", (wid,))
    if row is None:
        raise InputError(
            f"No workshop {wid} in this decision database; ask the facilitator for the link, "
            "or start a new workshop."
        )
    return _session(row)


def fetch_workshops(tx) -> list[WorkshopSession]:
    rows = tx.all(f"{_SELECT} ORDER BY w.updated_at DESC, w.created_at DESC")
    return [_session(r) for r in rows]


def write_state(
    tx, workshop_id: str, state: dict, base_version: int, saved_by: str
) -> WorkshopSession:
    """The body of `DecisionStore.save_workshop_state`, inside its write transaction."""
    current = fetch_workshop(tx, workshop_id)
    mine, _text = _json_object(state, "The workshop state", MAX_STATE_BYTES)
    if not isinstance(base_version, int) or not 1 <= base_version <= current.version:
        raise InputError(
            f"base_version must be a saved version of workshop {current.id} (1 to "
            f"{current.version}), got {base_version!r}"
        )
    if base_version < current.version:
        base = tx.one(
            "SELECT state FROM workshop_states WHERE workshop_id = ? AND version = ?",
            (current.id, base_version),
        )
        # A base older than KEEP_VERSIONS is gone: then every key both sides hold differently
        # is a conflict (refused, not guessed).
        base_state = json.loads(base["state"]) if base else {}
        mine, conflicts = merge_states(base_state, mine, current.state)
        if conflicts:
            raise WorkshopConflict(current, conflicts, base_version)
    _obj, text = _json_object(mine, "The workshop state", MAX_STATE_BYTES)
    now, version = utc_now(), current.version + 1
    who = " ".join(plain(saved_by or "").split())[:MAX_NAME]
    tx.run(
        "INSERT INTO workshop_states (workshop_id, version, state, saved_at, saved_by) "
        "VALUES (?, ?, ?, ?, ?)",
        (current.id, version, text, now, who),
    )
    tx.run(
        "UPDATE workshops SET version = ?, updated_at = ? WHERE id = ? AND version = ?",
        (version, now, current.id, current.version),
    )
    tx.run(
        "DELETE FROM workshop_states WHERE workshop_id = ? AND version <= ?",
        (current.id, version - KEEP_VERSIONS),
    )
    return fetch_workshop(tx, current.id)


def upsert_scores(tx, workshop_id: str, name: str, scores: dict) -> ParticipantScores:
    wid = fetch_workshop(tx, workshop_id).id
    name = _person(name, "name")
    _obj, text = _json_object(scores, f"{name}'s scores", MAX_SCORES_BYTES)
    now = utc_now()
    tx.run(
        "INSERT INTO workshop_participants (workshop_id, name_key, name, scores, updated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (workshop_id, name_key) DO UPDATE SET "
        "name = excluded.name, scores = excluded.scores, updated_at = excluded.updated_at",
        (wid, name.casefold(), name, text, now),
    )
    return ParticipantScores(wid, name, json.loads(text), now)


def fetch_scores(tx, workshop_id: str) -> list[ParticipantScores]:
    wid = fetch_workshop(tx, workshop_id).id
    rows = tx.all(
        "SELECT * FROM workshop_participants WHERE workshop_id = ? ORDER BY name_key", (wid,)
    )
    return [
        ParticipantScores(wid, r["name"], json.loads(r["scores"]), r["updated_at"]) for r in rows
    ]
