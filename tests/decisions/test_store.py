"""The decision store: round trip, immutability, amendments, concurrency, crashes, migrations."""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from northstar_lab.cli.commands import cmd_decisions
from northstar_lab.decisions import migrations
from northstar_lab.decisions import store as store_mod
from northstar_lab.decisions.migrations import SCHEMA_VERSION, migrate
from northstar_lab.decisions.model import (
    Decision,
    EvidenceSnapshot,
    InputMetric,
    MetricDefinition,
    RejectedAlternative,
    Revalidation,
    SignOff,
)
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


#: The key numbers of a candidate, in the order of the strings given to `candidate`.
NUMBERS = ("rank", "score", "c_index", "hazard_ratio", "hr_ci_low", "hr_ci_high", "revenue_rho",
           "q_value", "p_first")  # fmt: skip


def candidate(key: str, name: str, numbers: str, warnings=()) -> dict:
    """A candidate as `CandidateResult.to_dict()` writes it; numbers in NUMBERS order."""
    values = dict(zip(NUMBERS, map(float, numbers.split()), strict=True))
    return {"key": key, "name": name, "kind": "count", "event": key, "column": None,
            "transform": "log1p", **values, "rank": int(values["rank"]), "median_rank": 1.0,
            "revenue_rho_ci_low": None, "revenue_rho_ci_high": None, "n": 4000,
            "n_events": 1300, "warnings": list(warnings)}  # fmt: skip


def make_decision(title: str = "North Star for 2027", **changes) -> Decision:
    """A realistic decision: three candidates ranked, one chosen, two rejected with reasons."""
    ranking = {
        "n_users": 4000,
        "n_churned": 1300,
        "excluded": {"signed_up_too_late": 120},
        "settings": {"window_days": 14, "n_bootstrap": 200},
        "data": {},
        "candidates": [  # numbers: rank, score, C, HR [lo, hi], revenue ρ, q, P(first)
            candidate(
                "invites",
                "invite_sent count in first 14 days",
                "1 0.61 0.68 0.62 0.57 0.68 0.31 1e-9 0.71",
            ),
            candidate(
                "lessons",
                "lesson_completed count in first 14 days",
                "2 0.52 0.64 0.71 0.66 0.77 0.22 1e-6 0.24",
                ["hazard ratio drifts over follow-up"],
            ),
            candidate(
                "logins",
                "login count in first 14 days",
                "3 0.30 0.57 0.88 0.82 0.95 0.04 0.003 0.05",
            ),
        ],
        "warnings": [],
    }
    decision = Decision(
        title=title,
        chosen_key="invites",
        definition=MetricDefinition(
            name="Teams inviting a colleague in week 1",
            meaning="Share of new teams where someone invites a colleague in 14 days.",
            numerator="New teams with ≥ 2 invites in their first 14 days",
            denominator="New teams that signed up at least 14 days ago",
            time_window="First 14 days after signup",
            owner="Growth PM",
            baseline="31%",
            target="40% by Q4",
        ),
        rationale="Invites predict retention best and lead revenue.",
        rejected=[
            RejectedAlternative(
                "lessons", "Lessons completed", "Weaker retention signal: C 0.64", {"score": 0.52}
            ),
            RejectedAlternative("logins", "Logins", "No revenue association (ρ 0.04)"),
        ],
        evidence=EvidenceSnapshot(
            settings={"window_days": 14, "horizon_days": 90, "n_bootstrap": 200},
            fingerprint={"events": {"sha256": "ab" * 32, "rows": 123456}},
            ranking=ranking,
            charts={"forest": [{"key": "invites", "hazard_ratio": 0.62}]},
            rubric={"invites": {"actionable": 4}},
        ),
        input_metrics=[InputMetric("Invite prompts shown", "breadth", "Onboarding team")],
        sign_offs=[SignOff("Ada", "CEO"), SignOff("Grace", "VP Product")],
        created_by="facilitator",
    )
    for k, v in changes.items():
        setattr(decision, k, v)
    return decision


def make_revalidation(verdict: str = "holds") -> Revalidation:
    return Revalidation(
        decision_id=0,
        verdict=verdict,
        rule="Overtaken if another metric ranks first and is not tied; weakened if HR CI has 1.",
        summary=f"Verdict {verdict}.",
        comparison=[{"key": "invites", "then_rank": 1, "now_rank": 1}],
        fingerprint={"events": {"sha256": "cd" * 32}},
        settings={"window_days": 14},
        ranking={"candidates": []},
    )


def without_store_fields(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in ("id", "version", "supersedes", "created_at")}


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "decisions.sqlite3"


@pytest.fixture
def store(db) -> DecisionStore:
    return DecisionStore(db)


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def count(path: Path, table: str = "decisions") -> int:
    with raw(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def integrity(path: Path) -> str:
    with raw(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


# --- round trip, amendments, immutability ------------------------------------------------------


def test_round_trip_field_by_field(store):
    original = make_decision()
    stored = store.record(original)
    assert stored.id == 1 and stored.version == 1 and stored.supersedes is None
    assert stored.created_at.endswith("+00:00")
    assert original.id is None, "record() must not modify its argument"
    got = store.get(stored.id)
    assert got.to_dict() == stored.to_dict()
    expected, actual = original.to_dict(), got.to_dict()
    for field in without_store_fields(expected):
        assert actual[field] == expected[field], field
    assert got.definition.name == "Teams inviting a colleague in week 1"
    assert got.rejected[1].reason == "No revenue association (ρ 0.04)"
    assert got.evidence.ranking["candidates"][0]["hazard_ratio"] == 0.62


def test_default_path_from_environment(tmp_path, monkeypatch):
    target = tmp_path / "nested" / "dir" / "ns.sqlite3"
    monkeypatch.setenv("NORTHSTAR_DB", str(target))
    assert store_mod.default_db_path() == target
    s = DecisionStore()
    assert s.path == target and target.exists()
    monkeypatch.delenv("NORTHSTAR_DB")
    assert store_mod.default_db_path().name == "decisions.sqlite3"


def test_database_settings(store, db):
    with raw(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.schema_version() == SCHEMA_VERSION


def test_amend_creates_linked_version_and_keeps_history(store):
    v1 = store.record(make_decision())
    changed = make_decision(rationale="Invites, confirmed by the Q3 experiment.")
    v2 = store.amend(v1.id, changed, note="Added the experiment result")
    assert (v2.version, v2.supersedes, v2.amendment_note) == (
        2,
        v1.id,
        "Added the experiment result",
    )
    assert store.get(v1.id).to_dict() == v1.to_dict(), "v1 must be untouched"
    v3 = store.amend(v2.id, make_decision(title="North Star 2027 (final)"), note="Retitled")
    history = store.history(v1.id)
    assert [d.version for d in history] == [1, 2, 3]
    assert [d.id for d in history] == [v1.id, v2.id, v3.id]
    assert store.history(v3.id) == history
    assert store.latest_version(v1.id).id == v3.id
    listed = store.list_decisions()
    assert [r["id"] for r in listed] == [v3.id]
    assert listed[0]["version"] == 3 and listed[0]["title"] == "North Star 2027 (final)"
    assert len(store.list_decisions(all_versions=True)) == 3


def test_amending_an_old_version_is_refused(store):
    v1 = store.record(make_decision())
    store.amend(v1.id, make_decision(), note="first change")
    with pytest.raises(InputError, match="Amend the latest version"):
        store.amend(v1.id, make_decision(), note="fork")
    with pytest.raises(InputError, match="note"):
        store.amend(store.latest().id, make_decision(), note="  ")
    assert count(store.path) == 2


def test_database_refuses_update_and_delete(store, db):
    d = store.record(make_decision())
    store.add_revalidation(d.id, make_revalidation())
    with raw(db) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("UPDATE decisions SET title = 'rewritten' WHERE id = ?", (d.id,))
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("DELETE FROM decisions WHERE id = ?", (d.id,))
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("DELETE FROM revalidations")
    assert store.get(d.id).title == "North Star for 2027"


def test_database_refuses_a_forked_amendment(store, db):
    v1 = store.record(make_decision())
    store.amend(v1.id, make_decision(), note="v2")
    with raw(db) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
            "metric_name, created_at, payload) VALUES (99, 1, 2, 1, 't', 'k', 'n', 'now', '{}')"
        )


def test_latest_and_listing(store):
    assert store.latest() is None and store.list_decisions() == []
    a = store.record(make_decision("A"))
    b = store.record(make_decision("B"))
    assert store.latest().id == b.id
    rows = store.list_decisions()
    assert [r["title"] for r in rows] == ["B", "A"]
    assert rows[0]["chosen_name"] == "Teams inviting a colleague in week 1"
    assert rows[0]["latest_verdict"] is None
    store.add_revalidation(a.id, make_revalidation("weakened"))
    rows = {r["id"]: r for r in store.list_decisions()}
    assert rows[a.id]["latest_verdict"] == "weakened" and rows[b.id]["latest_verdict"] is None


def test_record_refuses_an_already_recorded_decision(store):
    d = store.record(make_decision())
    with pytest.raises(InputError, match="already recorded as #1"):
        store.record(d)


# --- validation -------------------------------------------------------------------------------


def test_validation_names_every_bad_field(store):
    bad = make_decision(title=" ", chosen_key="")
    bad.definition.name = ""
    bad.definition.review_cadence = "weekly"
    bad.rejected[1].reason = ""
    bad.input_metrics[0].kind = "vanity"
    bad.sign_offs.append(SignOff(""))
    with pytest.raises(InputError) as err:
        store.record(bad)
    text = str(err.value)
    for field in (
        "title",
        "chosen_key",
        "definition.name",
        "definition.review_cadence",
        "rejected[1] (Logins): reason is empty",
        "input_metrics[0].kind",
        "sign_offs[2].name",
    ):
        assert field in text
    assert len(err.value.problems) == 7
    assert count(store.path) == 0


def test_milestone_cadence_needs_a_milestone(store):
    d = make_decision()
    d.definition.review_cadence = "milestone"
    with pytest.raises(InputError, match="definition.milestone"):
        store.record(d)
    d.definition.milestone = "Series B close"
    assert store.record(d).definition.milestone == "Series B close"


def test_revalidation_verdict_is_validated(store):
    d = store.record(make_decision())
    with pytest.raises(InputError, match="verdict must be one of"):
        store.add_revalidation(d.id, make_revalidation("fine"))
    assert count(store.path, "revalidations") == 0


# --- re-validations ---------------------------------------------------------------------------


def test_revalidations_attach_to_the_lineage_newest_first(store):
    v1 = store.record(make_decision())
    r1 = store.add_revalidation(v1.id, make_revalidation("holds"))
    assert (r1.id, r1.decision_id) == (1, v1.id) and r1.run_at
    v2 = store.amend(v1.id, make_decision(), note="Target raised")
    r2 = store.add_revalidation(v2.id, make_revalidation("overtaken"))
    other = store.record(make_decision("Other product"))
    store.add_revalidation(other.id, make_revalidation("weakened"))
    for any_version in (v1.id, v2.id):
        got = store.revalidations(any_version)
        assert [r.id for r in got] == [r2.id, r1.id]
        assert [r.decision_id for r in got] == [v2.id, v1.id]
    assert store.revalidations(v2.id)[0].to_dict() == r2.to_dict()
    assert store.get(v1.id).to_dict() == v1.to_dict(), "re-validation never changes a decision"
    with pytest.raises(InputError, match="No decision #42"):
        store.add_revalidation(42, make_revalidation())


def test_unknown_and_malformed_ids(store):
    with pytest.raises(InputError, match="No decision #7"):
        store.get(7)
    with pytest.raises(InputError, match="number like 3"):
        store.get("abc")
    d = store.record(make_decision())
    assert store.get(str(d.id)).id == d.id


# --- concurrency ------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path[:0] = [{root!r}, {tests!r}]
    from northstar_lab.decisions.store import DecisionStore
    from test_store import make_decision
    db, tag, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    store = DecisionStore(db)
    Path(str(go) + "." + tag).touch()
    while not go.exists():
        time.sleep(0.005)
    for i in range(n):
        store.record(make_decision(f"{{tag}}-{{i}}"))
    """
).format(root=str(ROOT), tests=str(ROOT / "tests" / "decisions"))


def test_two_processes_writing_at_once_both_land(tmp_path, db):
    n = 25
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), tag, str(n), str(go)])
        for tag in ("a", "b")
    ]
    # generous timeouts: on a loaded 2-core machine importing pandas alone can take seconds
    deadline = time.monotonic() + 90
    while not all(Path(f"{go}.{t}").exists() for t in "ab") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(Path(f"{go}.{t}").exists() for t in "ab"), "writers never became ready"
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    rows = DecisionStore(db).list_decisions()
    assert len(rows) == 2 * n
    assert len({r["id"] for r in rows}) == 2 * n
    assert sorted(r["title"] for r in rows) == sorted(f"{t}-{i}" for t in "ab" for i in range(n))
    assert integrity(db) == "ok"


def test_threads_with_their_own_writes_both_land(store):
    n, errors = 20, []
    barrier = threading.Barrier(2)

    def write(tag):
        try:
            barrier.wait()
            for i in range(n):
                store.record(make_decision(f"{tag}-{i}"))
                store.add_revalidation(store.latest().id, make_revalidation())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert count(store.path) == 2 * n and count(store.path, "revalidations") == 2 * n


# --- crashes ----------------------------------------------------------------------------------


class FailingCommit(sqlite3.Connection):
    """A connection that fails at COMMIT: the row is inserted, the transaction never lands."""

    def execute(self, sql, *args):
        if sql.strip().upper() == "COMMIT":
            raise RuntimeError("simulated crash before commit")
        return super().execute(sql, *args)


def test_failure_inside_the_transaction_leaves_no_partial_record(store, db, monkeypatch):
    kept = store.record(make_decision("kept"))
    real_connect = sqlite3.connect
    failing = lambda *a, **k: real_connect(*a, **k, factory=FailingCommit)  # noqa: E731
    monkeypatch.setattr(sqlite3, "connect", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.record(make_decision("lost"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.amend(kept.id, make_decision("lost amendment"), note="never lands")
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.add_revalidation(kept.id, make_revalidation())
    monkeypatch.undo()
    assert [d.title for d in store.history(kept.id)] == ["kept"]
    assert count(db) == 1 and count(db, "revalidations") == 0
    assert integrity(db) == "ok"
    again = store.amend(kept.id, make_decision("amended"), note="after the crash")
    assert (again.id, again.version) == (2, 2)


CRASHER = textwrap.dedent(
    """
    import os, sqlite3, sys
    sys.path[:0] = [{root!r}, {tests!r}]
    from northstar_lab.decisions.store import DecisionStore
    from test_store import make_decision
    store = DecisionStore(sys.argv[1])
    store.record(make_decision("committed before the crash"))

    class DiesAtCommit(sqlite3.Connection):
        def execute(self, sql, *args):
            if sql.strip().upper() == "COMMIT":
                os._exit(17)  # the process dies inside the transaction, after the INSERT
            return super().execute(sql, *args)

    real = sqlite3.connect
    sqlite3.connect = lambda *a, **k: real(*a, **k, factory=DiesAtCommit)
    store.record(make_decision("in flight when the process died"))
    sys.exit(0)
    """
).format(root=str(ROOT), tests=str(ROOT / "tests" / "decisions"))


def test_process_killed_mid_write_leaves_the_database_consistent(db):
    result = subprocess.run([sys.executable, "-c", CRASHER, str(db)], capture_output=True)
    assert result.returncode == 17, result.stderr.decode()
    assert integrity(db) == "ok"
    store = DecisionStore(db)
    assert [r["title"] for r in store.list_decisions()] == ["committed before the crash"]
    assert store.record(make_decision("after recovery")).id == 2


# --- migrations -------------------------------------------------------------------------------


def test_migrates_an_empty_file(db):
    db.write_bytes(b"")
    store = DecisionStore(db)
    assert store.schema_version() == SCHEMA_VERSION
    with raw(db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_history")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert store.record(make_decision()).id == 1


def test_migrates_a_version_1_database_keeping_its_rows(db):
    conn = raw(db)
    migrate(conn, target=1)
    payload = make_decision("written by v1").to_dict()
    conn.execute(
        "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
        "metric_name, created_at, payload) VALUES (1, 1, 1, NULL, ?, 'invites', ?, "
        "'2026-01-05T10:00:00+00:00', ?)",
        (payload["title"], payload["definition"]["name"], __import__("json").dumps(payload)),
    )
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'revalidations'").fetchone()
    conn.close()

    store = DecisionStore(db)
    assert store.schema_version() == SCHEMA_VERSION == 2
    old = store.get(1)
    assert old.title == "written by v1" and old.created_at == "2026-01-05T10:00:00+00:00"
    store.add_revalidation(1, make_revalidation())
    assert len(store.revalidations(1)) == 1
    assert store.amend(1, make_decision("v2"), note="after upgrade").version == 2


def test_failing_migration_rolls_back_to_the_old_version(db, monkeypatch):
    conn = raw(db)
    migrate(conn, target=1)
    conn.close()

    def broken(conn):
        migrations._migration_2_revalidations(conn)
        raise RuntimeError("disk full halfway through the migration")

    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], broken])
    with pytest.raises(RuntimeError, match="disk full"):
        DecisionStore(db)
    monkeypatch.undo()
    with raw(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name='revalidations'").fetchone()
    assert DecisionStore(db).schema_version() == SCHEMA_VERSION


def test_database_from_the_future_is_refused_and_left_alone(db):
    with raw(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = db.read_bytes()
    with pytest.raises(InputError, match=f"schema version {SCHEMA_VERSION + 5}.*newer release"):
        DecisionStore(db)
    assert db.read_bytes() == before


def test_foreign_sqlite_file_and_non_database_are_refused(tmp_path):
    foreign = tmp_path / "other.sqlite3"
    with raw(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(InputError, match="not a North Star Lab decision database"):
        DecisionStore(foreign)
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not sqlite " * 100)
    with pytest.raises(InputError, match="cannot be used as a decision database"):
        DecisionStore(junk)
    with pytest.raises(InputError, match="is a folder"):
        DecisionStore(tmp_path)


# --- CLI --------------------------------------------------------------------------------------


def cli_args(action, id=None, db=None, html=None, markdown=None):
    return argparse.Namespace(action=action, id=id, db=str(db), html=html, markdown=markdown)


def test_cli_list_show_export(store, db, tmp_path, capsys):
    v1 = store.record(make_decision())
    v2 = store.amend(v1.id, make_decision(), note="Target raised to 45%")
    store.add_revalidation(v2.id, make_revalidation("weakened"))

    assert cmd_decisions(cli_args("list", db=db)) == 0
    out = capsys.readouterr().out
    assert "Teams inviting a colleague in week 1" in out and "weakened" in out
    assert out.count("North Star for 2027") == 1  # latest version only

    assert cmd_decisions(cli_args("show", str(v2.id), db=db)) == 0
    out = capsys.readouterr().out
    for text in (
        "NORTH STAR: Teams inviting a colleague in week 1",
        "Lessons completed",
        "Weaker retention signal: C 0.64",
        "Ada · CEO",
        "WEAKENED",
        "v1 #1",
        "Target raised to 45%",
        "Invites predict retention best",
    ):
        assert text in out

    html_out, md_out = tmp_path / "r.html", tmp_path / "r.md"
    assert (
        cmd_decisions(cli_args("export", "2", db=db, html=str(html_out), markdown=str(md_out))) == 0
    )
    out = capsys.readouterr().out
    assert str(html_out) in out and str(md_out) in out
    assert html_out.read_text().startswith("<!DOCTYPE html>")
    assert "Teams inviting a colleague in week 1" in md_out.read_text()


def test_cli_errors(store, db, tmp_path):
    store.record(make_decision())
    with pytest.raises(InputError, match="No decision #9"):
        cmd_decisions(cli_args("show", "9", db=db))
    with pytest.raises(InputError, match="needs a decision id"):
        cmd_decisions(cli_args("export", None, db=db, html="x.html"))
    with pytest.raises(InputError, match="--html"):
        cmd_decisions(cli_args("export", "1", db=db))
    with pytest.raises(InputError, match="No decision database"):
        cmd_decisions(cli_args("list", db=tmp_path / "missing.sqlite3"))
    assert not (tmp_path / "missing.sqlite3").exists()
    with pytest.raises(InputError, match="Cannot write"):
        cmd_decisions(cli_args("export", "1", db=db, html=str(tmp_path / "no" / "dir" / "x.html")))


def test_cli_main_exits_2_on_unknown_id(store, db, capsys):
    from northstar_lab.cli import main

    store.record(make_decision())
    assert main(["decisions", "show", "5", "--db", str(db)]) == 2
    assert "No decision #5" in capsys.readouterr().err


def test_show_strips_terminal_escape_sequences(store, db, capsys):
    d = store.record(make_decision(title="evil \x1b[2J\x1b]0;pwned\x07 title"))
    cmd_decisions(cli_args("show", str(d.id), db=db))
    assert "\x1b" not in capsys.readouterr().out


def test_concurrent_first_open_migrates_once(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    errors = []

    def open_store():
        try:
            DecisionStore(path).record(make_decision())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with raw(path) as conn:
        assert conn.execute("SELECT count(*) FROM schema_history").fetchone()[0] == SCHEMA_VERSION
    assert count(path) == 4
