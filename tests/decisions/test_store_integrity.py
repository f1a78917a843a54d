"""Records cannot be rewritten by SQL, and a record edited behind the store's back says so.

Issue 11 item 3: INSERT OR REPLACE / REPLACE INTO with an existing id used to replace a decision
and a re-validation silently on SQLite (no DELETE trigger fires on REPLACE). Every way of
rewriting a row is tried on both engines; the stored rows must be byte-for-byte unchanged.
"""

from __future__ import annotations

import json

import pytest

from northstar_lab.cli import main
from northstar_lab.decisions.integrity import IntegrityReport, content_hash

from .storekit import make_decision, make_revalidation

COLUMNS = "id, lineage_id, version, supersedes, title, chosen_key, metric_name, created_at, payload"
FORGED = "'forged', 'logins', 'Logins', '2020-01-01', '{}'"

#: SQL that would rewrite decision #1 (v1 of lineage 1) or re-validation #1, per engine.
REWRITES_SQLITE = {
    "INSERT OR REPLACE":
        f"INSERT OR REPLACE INTO decisions ({COLUMNS}) VALUES (1, 1, 1, NULL, {FORGED})",
    "REPLACE INTO": f"REPLACE INTO decisions ({COLUMNS}) VALUES (1, 1, 1, NULL, {FORGED})",
    "REPLACE by unique key": f"REPLACE INTO decisions ({COLUMNS}) VALUES (50, 2, 2, 1, {FORGED})",
    "UPDATE": "UPDATE decisions SET title = 'forged' WHERE id = 1",
    "UPDATE OR REPLACE": "UPDATE OR REPLACE decisions SET id = 2 WHERE id = 1",
    "DELETE": "DELETE FROM decisions WHERE id = 1",
    "UPSERT": f"INSERT INTO decisions ({COLUMNS}) VALUES (1, 1, 1, NULL, {FORGED}) "
    "ON CONFLICT (id) DO UPDATE SET title = excluded.title",
    "re-validation INSERT OR REPLACE": "INSERT OR REPLACE INTO revalidations (id, decision_id, "
    "lineage_id, verdict, run_at, payload) VALUES (1, 1, 1, 'overtaken', 'x', '{}')",
    "re-validation REPLACE INTO": "REPLACE INTO revalidations (id, decision_id, lineage_id, "
    "verdict, run_at, payload) VALUES (1, 1, 1, 'overtaken', 'x', '{}')",
    "re-validation UPDATE": "UPDATE revalidations SET verdict = 'overtaken'",
    "re-validation DELETE": "DELETE FROM revalidations",
    "re-validation UPSERT": "INSERT INTO revalidations (id, decision_id, lineage_id, verdict, "
    "run_at, payload) VALUES (1, 1, 1, 'overtaken', 'x', '{}') "
    "ON CONFLICT (id) DO UPDATE SET verdict = excluded.verdict",
}  # fmt: skip
REWRITES_POSTGRES = {
    "UPDATE": REWRITES_SQLITE["UPDATE"],
    "DELETE": REWRITES_SQLITE["DELETE"],
    "UPSERT": REWRITES_SQLITE["UPSERT"],
    "TRUNCATE": "TRUNCATE decisions CASCADE",
    "MERGE update": "MERGE INTO decisions d USING (SELECT 1 AS id) s ON d.id = s.id "
    "WHEN MATCHED THEN UPDATE SET title = 'forged'",
    "MERGE delete": "MERGE INTO decisions d USING (SELECT 1 AS id) s ON d.id = s.id "
    "WHEN MATCHED THEN DELETE",
    "re-validation UPDATE": REWRITES_SQLITE["re-validation UPDATE"],
    "re-validation DELETE": REWRITES_SQLITE["re-validation DELETE"],
    "re-validation UPSERT": REWRITES_SQLITE["re-validation UPSERT"],
    "re-validation TRUNCATE": "TRUNCATE revalidations",
}  # fmt: skip


def snapshot(raw) -> list:
    return [
        raw.execute("SELECT * FROM decisions ORDER BY id"),
        raw.execute("SELECT * FROM revalidations ORDER BY id"),
    ]


@pytest.fixture
def history(store):
    """Decision #1 amended by #2, with re-validation #1 of #1: what a forger would rewrite."""
    v1 = store.record(make_decision())
    v2 = store.amend(v1.id, make_decision(rationale="Confirmed."), note="confirmed")
    store.add_revalidation(v1.id, make_revalidation("holds"))
    return v1, v2


def test_every_way_of_rewriting_a_record_is_refused(store, raw, history):
    before = snapshot(raw)
    rewrites = REWRITES_POSTGRES if raw.pg else REWRITES_SQLITE
    for name, sql in rewrites.items():
        with pytest.raises(raw.IntegrityError, match="immutable") as err:
            raw.execute(sql)
        assert snapshot(raw) == before, f"{name} changed the records ({err.value})"
    v1, v2 = history
    assert store.get(1).to_dict() == v1.to_dict() and store.get(2).to_dict() == v2.to_dict()
    assert store.verify(2).status == "verified" and store.verify(1).status == "verified"


def test_colliding_inserts_that_would_do_nothing_change_nothing(store, raw, history):
    """PostgreSQL's DO NOTHING is harmless; SQLite's INSERT OR IGNORE is refused outright (the
    guard cannot tell it from REPLACE). Either way the records stay as they were."""
    before = snapshot(raw)
    values = f"({COLUMNS}) VALUES (1, 1, 1, NULL, {FORGED})"
    if raw.pg:
        raw.execute(f"INSERT INTO decisions {values} ON CONFLICT DO NOTHING")
    else:
        with pytest.raises(raw.IntegrityError, match="immutable"):
            raw.execute(f"INSERT OR IGNORE INTO decisions {values}")
    assert snapshot(raw) == before


def test_content_hash_is_recorded_with_each_record(store, raw, history):
    v1, _v2 = history
    stored = raw.execute("SELECT content_sha256 FROM decisions ORDER BY id")
    assert [len(h) for (h,) in stored] == [64, 64]
    assert stored[0][0] == content_hash("decision", 1, v1.to_dict())
    (reval_hash,) = raw.execute("SELECT content_sha256 FROM revalidations")[0]
    reval = store.revalidations(1)[0]
    assert reval_hash == content_hash("revalidation", 1, reval.to_dict())
    assert len(set(h for (h,) in stored)) == 2


def test_a_record_edited_behind_the_stores_back_says_so(store, raw, history, location, capsys):
    forged = store.get(1).to_dict()
    forged["rationale"] = "We always wanted logins."
    raw.tamper("decisions", "UPDATE decisions SET payload = ? WHERE id = 1", (json.dumps(forged),))
    assert store.get(1).rationale == "We always wanted logins."  # the edit is really there
    report = store.verify(1)
    assert report.status == "altered" and not report.ok
    assert [(c.kind, c.record_id, c.status) for c in report.checks] == [
        ("decision", 1, "altered"),
        ("revalidation", 1, "verified"),
    ]
    assert "Warning: changed outside North Star Lab" in report.message
    assert "decision #1: its content does not match its hash" in report.message
    assert IntegrityReport.from_dict(report.to_dict()) == report
    assert store.verify(2).status == "verified"  # the amendment itself was not touched

    assert main(["decisions", "show", "1", "--db", location]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Warning: changed outside North Star Lab after it was recorded")


def test_listing_column_edited_alone_is_caught_too(store, raw, history):
    raw.tamper("decisions", "UPDATE decisions SET title = 'A different title' WHERE id = 2")
    report = store.verify(2)
    assert report.status == "altered"
    assert "title differ from the record" in report.message


def test_a_re_validation_verdict_edited_is_caught(store, raw, history):
    raw.tamper("revalidations", "UPDATE revalidations SET verdict = 'overtaken' WHERE id = 1")
    report = store.verify(2)  # re-validations of the whole lineage are checked
    assert report.status == "altered"
    assert "re-validation #1: verdict differ from the record" in report.message


def test_the_hash_covers_the_columns_that_are_the_authority(store, raw, history):
    """id, version, dates and links come from the columns; editing one is seen as well."""
    raw.tamper(
        "decisions", "UPDATE decisions SET created_at = '2025-01-01T00:00:00+00:00' WHERE id = 1"
    )
    assert store.get(1).created_at == "2025-01-01T00:00:00+00:00"
    assert store.verify(1).checks[0].status == "altered"


def test_damaged_payload_is_reported_not_raised(store, raw, history):
    raw.tamper("decisions", "UPDATE decisions SET payload = 'not json' WHERE id = 2")
    report = store.verify(2)
    assert report.status == "altered" and "payload differ" in report.message
