"""The decision store on both engines: round trip, amendments, concurrency, crashes, migrations.

Every test taking `store`, `location` or `raw` runs twice: on a SQLite file and on a database
of a real PostgreSQL server (see conftest.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from northstar_lab.cli.commands import cmd_decisions
from northstar_lab.decisions import engines, migrations
from northstar_lab.decisions import store as store_mod
from northstar_lab.decisions.engines import open_engine
from northstar_lab.decisions.migrations import SCHEMA_VERSION, Migration, migrate
from northstar_lab.decisions.model import SignOff
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.errors import InputError
from northstar_lab.redact import redact_url

from .pg_cluster import PASSWORD
from .storekit import RawDB, child_script, is_postgres, make_decision, make_revalidation


def without_store_fields(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in ("id", "version", "supersedes", "created_at")}


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
    assert s.path == target and target.exists() and s.location == str(target)
    monkeypatch.delenv("NORTHSTAR_DB")
    assert store_mod.default_db_path().name == "decisions.sqlite3"


def test_default_location_takes_a_postgres_url(pg_cluster, monkeypatch):
    url = pg_cluster.new_database()
    monkeypatch.setenv("NORTHSTAR_DB", url)
    s = DecisionStore()
    assert s.path is None and s.engine.dialect == "postgresql"
    assert PASSWORD not in str(store_mod.default_db_path())  # a URL is never taken for a path
    assert s.location == redact_url(url) and "***@" in s.location and PASSWORD not in repr(s)
    assert s.record(make_decision()).id == 1


def test_sqlite_database_settings(tmp_path):
    db = tmp_path / "d.sqlite3"
    store = DecisionStore(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.schema_version() == SCHEMA_VERSION


def test_postgres_keeps_to_its_own_schema(pg_cluster):
    url = pg_cluster.new_database()
    raw = RawDB(url)
    raw.execute("CREATE TABLE public.invoices (id integer, amount integer)")
    raw.execute("INSERT INTO public.invoices VALUES (1, 100)")
    store = DecisionStore(url)
    store.record(make_decision())
    assert store.schema_version() == SCHEMA_VERSION
    assert raw.execute("SELECT * FROM public.invoices") == [(1, 100)]
    tables = raw.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('public', 'northstar_lab') ORDER BY 1, 2"
    )
    assert ("public", "invoices") in tables and ("northstar_lab", "decisions") in tables
    assert {s for s, _ in tables} == {"public", "northstar_lab"}
    assert not [t for s, t in tables if s == "public" and t != "invoices"]


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
    assert listed[0]["is_latest"] is True
    everything = store.list_decisions(all_versions=True)
    assert [r["is_latest"] for r in everything] == [True, False, False]


def test_amending_an_old_version_is_refused(store, raw):
    v1 = store.record(make_decision())
    store.amend(v1.id, make_decision(), note="first change")
    with pytest.raises(InputError, match="Amend the latest version"):
        store.amend(v1.id, make_decision(), note="fork")
    with pytest.raises(InputError, match="note"):
        store.amend(store.latest().id, make_decision(), note="  ")
    assert raw.count() == 2


def test_database_refuses_a_forked_amendment(store, raw):
    v1 = store.record(make_decision())
    store.amend(v1.id, make_decision(), note="v2")
    with pytest.raises(raw.IntegrityError):
        raw.execute(
            "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
            "metric_name, created_at, payload) VALUES (99, 1, 2, 1, 't', 'k', 'n', 'now', '{}')"
        )
    with pytest.raises(raw.IntegrityError):  # skips a version: v3 must follow v2
        raw.execute(
            "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
            "metric_name, created_at, payload) VALUES (99, 1, 4, 2, 't', 'k', 'n', 'now', '{}')"
        )
    assert raw.count() == 2


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


def test_validation_names_every_bad_field(store, raw):
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
    assert raw.count() == 0


def test_milestone_cadence_needs_a_milestone(store):
    d = make_decision()
    d.definition.review_cadence = "milestone"
    with pytest.raises(InputError, match="definition.milestone"):
        store.record(d)
    d.definition.milestone = "Series B close"
    assert store.record(d).definition.milestone == "Series B close"


def test_revalidation_verdict_is_validated(store, raw):
    d = store.record(make_decision())
    with pytest.raises(InputError, match="verdict must be one of"):
        store.add_revalidation(d.id, make_revalidation("fine"))
    assert raw.count("revalidations") == 0


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
    with pytest.raises(InputError, match="No decision #7 in this decision database"):
        store.get(7)
    with pytest.raises(InputError, match="number like 3"):
        store.get("abc")
    with pytest.raises(InputError, match="number like 3"):
        store.get("9" * 40)  # beyond any integer column: refused, not an overflow
    d = store.record(make_decision())
    assert store.get(str(d.id)).id == d.id
    assert store.get(f"#{d.id}").id == d.id


# --- concurrency ------------------------------------------------------------------------------

WRITER = child_script(
    """
    import time
    from pathlib import Path
    from northstar_lab.decisions.store import DecisionStore
    from storekit import make_decision
    db, tag, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    store = DecisionStore(db)
    Path(str(go) + "." + tag).touch()
    while not go.exists():
        time.sleep(0.005)
    for i in range(n):
        store.record(make_decision(f"{tag}-{i}"))
    """
)


def start_together(tmp_path, script: str, argv_per_child: list[list[str]]) -> list:
    """Start children, wait until each is ready (imports done), then release them at once."""
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *argv, str(go)]) for argv in argv_per_child
    ]
    tags = [argv[1] for argv in argv_per_child]
    # generous: on a loaded 2-core machine importing pandas alone can take seconds
    deadline = time.monotonic() + 90
    while not all(Path(f"{go}.{t}").exists() for t in tags) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert all(Path(f"{go}.{t}").exists() for t in tags), "children never became ready"
    go.touch()
    return procs


def test_two_processes_writing_at_once_both_land(tmp_path, location, raw):
    n = 25
    procs = start_together(tmp_path, WRITER, [[location, tag, str(n)] for tag in ("a", "b")])
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    rows = DecisionStore(location).list_decisions()
    assert len(rows) == 2 * n
    assert len({r["id"] for r in rows}) == 2 * n
    assert sorted(r["title"] for r in rows) == sorted(f"{t}-{i}" for t in "ab" for i in range(n))
    assert raw.integrity() == "ok"


def test_threads_with_their_own_writes_both_land(store, raw):
    n, errors = 20, []
    barrier = threading.Barrier(2)

    def write(tag):
        try:
            barrier.wait()
            for i in range(n):
                d = store.record(make_decision(f"{tag}-{i}"))
                store.add_revalidation(d.id, make_revalidation())
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert raw.count() == 2 * n and raw.count("revalidations") == 2 * n


def test_concurrent_first_open_migrates_once(location, raw):
    errors = []

    def open_store():
        try:
            DecisionStore(location).record(make_decision())
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert raw.scalar("SELECT count(*) FROM schema_history") == SCHEMA_VERSION
    assert raw.count() == 4


# --- crashes ----------------------------------------------------------------------------------


def test_failure_inside_the_transaction_leaves_no_partial_record(store, raw, monkeypatch):
    kept = store.record(make_decision("kept"))

    def failing_commit(self, conn):
        raise RuntimeError("simulated crash before commit")

    monkeypatch.setattr(type(store.engine), "_commit", failing_commit)
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.record(make_decision("lost"))
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.amend(kept.id, make_decision("lost amendment"), note="never lands")
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.add_revalidation(kept.id, make_revalidation())
    monkeypatch.undo()
    assert [d.title for d in store.history(kept.id)] == ["kept"]
    assert raw.count() == 1 and raw.count("revalidations") == 0
    assert raw.integrity() == "ok"
    again = store.amend(kept.id, make_decision("amended"), note="after the crash")
    assert (again.id, again.version) == (2, 2)


CRASHER = child_script(
    """
    import os
    from northstar_lab.decisions.store import DecisionStore
    from storekit import make_decision
    store = DecisionStore(sys.argv[1])
    store.record(make_decision("committed before the crash"))

    def dies_at_commit(self, conn):
        os._exit(17)  # the process dies inside the transaction, after the INSERT

    type(store.engine)._commit = dies_at_commit
    store.record(make_decision("in flight when the process died"))
    sys.exit(0)
    """
)


def test_process_dying_mid_write_leaves_the_database_consistent(location, raw):
    result = subprocess.run([sys.executable, "-c", CRASHER, location], capture_output=True)
    assert result.returncode == 17, result.stderr.decode()
    assert raw.integrity() == "ok"
    store = DecisionStore(location)
    assert [r["title"] for r in store.list_decisions()] == ["committed before the crash"]
    assert store.record(make_decision("after recovery")).id == 2


LOOPER = child_script(
    """
    from northstar_lab.decisions.store import DecisionStore
    from storekit import make_decision, make_revalidation
    store = DecisionStore(sys.argv[1])
    i = 0
    while True:
        d = store.record(make_decision(f"loop-{i}"))
        r = store.add_revalidation(d.id, make_revalidation())
        print(d.id, r.id, flush=True)
        i += 1
    """
)


def test_kill_9_mid_write_loses_nothing_committed(location, raw):
    """SIGKILL a writer at an arbitrary point: every write it saw return is there, intact."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOOPER, location], stdout=subprocess.PIPE, text=True
    )
    seen = []
    try:
        for line in proc.stdout:
            seen.append(tuple(map(int, line.split())))
            if len(seen) == 12:
                break
        time.sleep(0.013)  # land the signal somewhere inside a later write
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    seen += [tuple(map(int, line.split())) for line in proc.stdout.read().splitlines()]
    assert proc.returncode == -signal.SIGKILL and len(seen) >= 12
    assert raw.integrity() == "ok"
    store = DecisionStore(location)
    ids = {r["id"] for r in store.list_decisions()}
    assert {d for d, _ in seen} <= ids
    for d, r in seen:
        assert store.get(d).title == f"loop-{d - 1}"
        assert [x.id for x in store.revalidations(d)] == [r]
    assert store.verify(max(ids)).ok
    assert store.record(make_decision("after the kill")).id == max(ids) + 1


# --- migrations -------------------------------------------------------------------------------


def test_migrates_an_empty_sqlite_file(tmp_path):
    db = tmp_path / "empty.sqlite3"
    db.write_bytes(b"")
    store = DecisionStore(db)
    assert store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_history")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert store.record(make_decision()).id == 1


def test_migrates_a_version_1_database_keeping_its_rows(location, raw):
    assert migrate(open_engine(location), target=1) == 1
    payload = make_decision("written by v1").to_dict()
    raw.execute(
        "INSERT INTO decisions (id, lineage_id, version, supersedes, title, chosen_key, "
        "metric_name, created_at, created_by, payload) VALUES (1, 1, 1, NULL, ?, 'invites', ?, "
        "'2026-01-05T10:00:00+00:00', 'facilitator', ?)",
        (payload["title"], payload["definition"]["name"], json.dumps(payload)),
    )
    assert raw.scalar("SELECT max(version) FROM schema_history") == 1
    store = DecisionStore(location)
    assert store.schema_version() == SCHEMA_VERSION == 4
    old = store.get(1)
    assert old.title == "written by v1" and old.created_at == "2026-01-05T10:00:00+00:00"
    assert store.verify(1).status == "unverifiable"  # never vouched for after the fact
    store.add_revalidation(1, make_revalidation())
    assert len(store.revalidations(1)) == 1
    v2 = store.amend(1, make_decision("v2"), note="after upgrade")
    assert v2.version == 2 and store.verify(v2.id).status == "verified"  # written with hashes
    assert store.verify(1).status == "unverifiable"


def test_failing_migration_rolls_back_to_the_old_version(location, raw, monkeypatch):
    migrate(open_engine(location), target=2)
    m3 = migrations.MIGRATIONS[2]
    duplicate = "INSERT INTO schema_history (version, applied_at) VALUES (1, 'again')"
    broken = Migration("half-done", (m3.sqlite[0], duplicate), (m3.postgresql[0], duplicate))
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:2], broken])
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 3)
    with pytest.raises(raw.IntegrityError):
        DecisionStore(location)
    monkeypatch.undo()
    assert raw.scalar("SELECT max(version) FROM schema_history") == 2
    if raw.pg:
        columns = raw.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'northstar_lab' AND table_name = 'decisions'"
        )
        assert ("content_sha256",) not in columns
    else:
        assert raw.scalar("PRAGMA user_version") == 2
        assert "content_sha256" not in [r[1] for r in raw.execute("PRAGMA table_info(decisions)")]
    assert DecisionStore(location).schema_version() == SCHEMA_VERSION


def test_sqlite_database_from_the_future_is_refused_and_left_alone(tmp_path):
    db = tmp_path / "future.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    before = db.read_bytes()
    with pytest.raises(InputError, match=f"schema version {SCHEMA_VERSION + 5}.*newer release"):
        DecisionStore(db)
    assert db.read_bytes() == before


def test_postgres_database_from_the_future_is_refused_and_left_alone(pg_cluster):
    url = pg_cluster.new_database()
    DecisionStore(url).record(make_decision())
    raw = RawDB(url)
    raw.execute("INSERT INTO schema_history VALUES (?, 'later')", (SCHEMA_VERSION + 5,))
    before = raw.execute("SELECT * FROM schema_history ORDER BY version")
    with pytest.raises(InputError, match=f"schema version {SCHEMA_VERSION + 5}.*newer release"):
        DecisionStore(url)
    assert raw.execute("SELECT * FROM schema_history ORDER BY version") == before
    assert raw.count() == 1


def test_foreign_sqlite_file_and_non_database_are_refused(tmp_path):
    foreign = tmp_path / "other.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = foreign.read_bytes()
    with pytest.raises(InputError, match="not a North Star Lab decision database"):
        DecisionStore(foreign)
    assert foreign.read_bytes() == before
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not sqlite " * 100)
    with pytest.raises(InputError, match="cannot be used as a decision database"):
        DecisionStore(junk)
    with pytest.raises(InputError, match="is a folder"):
        DecisionStore(tmp_path)


def test_foreign_postgres_schema_is_refused_and_left_alone(pg_cluster):
    url = pg_cluster.new_database()
    raw = RawDB(url)
    raw.execute("CREATE SCHEMA northstar_lab")
    raw.execute("CREATE TABLE northstar_lab.invoices (id integer)")
    with pytest.raises(InputError, match=r"not a North Star Lab decision database.*invoices"):
        DecisionStore(url)
    tables = raw.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'northstar_lab'"
    )
    assert tables == [("invoices",)]


def test_read_commands_refuse_a_database_that_does_not_exist(location, raw):
    with pytest.raises(InputError, match="No decision database at"):
        DecisionStore(location, create=False)
    if raw.pg:
        assert raw.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'northstar_lab'") == 0
    else:
        assert not Path(location).exists()


def test_unknown_url_schemes_are_refused(tmp_path):
    with pytest.raises(InputError, match=r"mysql://\*\*\*@db/x is neither a SQLite file"):
        DecisionStore("mysql://root:hunter2@db/x")


# --- CLI --------------------------------------------------------------------------------------


def cli_args(action, id=None, db=None, html=None, markdown=None):
    return argparse.Namespace(action=action, id=id, db=str(db), html=html, markdown=markdown)


def test_cli_list_show_export(store, location, tmp_path, capsys):
    v1 = store.record(make_decision())
    v2 = store.amend(v1.id, make_decision(), note="Target raised to 45%")
    store.add_revalidation(v2.id, make_revalidation("weakened"))

    assert cmd_decisions(cli_args("list", db=location)) == 0
    out = capsys.readouterr().out
    assert "Teams inviting a colleague in week 1" in out and "weakened" in out
    assert out.count("North Star for 2027") == 1  # latest version only
    assert store.location in out

    assert cmd_decisions(cli_args("show", str(v2.id), db=location)) == 0
    out = capsys.readouterr().out
    for text in (
        "Content hash verified: decision #2 and its 1 re-validation are exactly as recorded.",
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
    args = cli_args("export", "2", db=location, html=str(html_out), markdown=str(md_out))
    assert cmd_decisions(args) == 0
    out = capsys.readouterr().out
    assert str(html_out) in out and str(md_out) in out
    assert html_out.read_text().startswith("<!DOCTYPE html>")
    assert "Teams inviting a colleague in week 1" in md_out.read_text()


def test_cli_errors(store, location, tmp_path):
    store.record(make_decision())
    with pytest.raises(InputError, match="No decision #9"):
        cmd_decisions(cli_args("show", "9", db=location))
    with pytest.raises(InputError, match="needs a decision id"):
        cmd_decisions(cli_args("export", None, db=location, html="x.html"))
    with pytest.raises(InputError, match="--html"):
        cmd_decisions(cli_args("export", "1", db=location))
    with pytest.raises(InputError, match="No decision database"):
        cmd_decisions(cli_args("list", db=tmp_path / "missing.sqlite3"))
    assert not (tmp_path / "missing.sqlite3").exists()
    out = str(tmp_path / "no" / "dir" / "x.html")
    with pytest.raises(InputError, match="Cannot write"):
        cmd_decisions(cli_args("export", "1", db=location, html=out))


def test_cli_main_exits_2_on_unknown_id(store, location, capsys):
    from northstar_lab.cli import main

    store.record(make_decision())
    assert main(["decisions", "show", "5", "--db", location]) == 2
    assert "No decision #5" in capsys.readouterr().err


def test_show_strips_terminal_escape_sequences(store, location, capsys):
    d = store.record(make_decision(title="evil \x1b[2J\x1b]0;pwned\x07 title"))
    cmd_decisions(cli_args("show", str(d.id), db=location))
    assert "\x1b" not in capsys.readouterr().out


def test_messages_the_app_shows_name_the_setting_not_a_flag(tmp_path):
    """The app shows store messages too: they name NORTHSTAR_DB, never a CLI flag."""
    messages = []
    for attempt in (
        lambda: DecisionStore(tmp_path / "missing.sqlite3", create=False),
        lambda: DecisionStore(tmp_path),
        lambda: DecisionStore(tmp_path / "junk.txt"),
    ):
        (tmp_path / "junk.txt").write_text("not sqlite " * 500)
        with pytest.raises(InputError) as err:
            attempt()
        messages.append(str(err.value))
    assert all("NORTHSTAR_DB" in m and "--db" not in m for m in messages), messages
    assert engines.SETTING == "NORTHSTAR_DB"
    assert is_postgres("postgresql://x") and not is_postgres(str(tmp_path))
