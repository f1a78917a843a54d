"""A store that cannot be used says why, in words, with exit 2; a password never leaves.

Issue 11 item 6: a SQLite store with damaged pages on `decisions list/show`, a read-only store
on `record`, a locked store: clear InputErrors, never a raw sqlite3.OperationalError. And the
secrets rule for database URLs: a password in NORTHSTAR_DB / --db never reaches a record, an
export, a log line or an error message.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import traceback
from pathlib import Path

import psycopg
import pytest

from northstar_lab.cli import main
from northstar_lab.decisions import engines, postgres
from northstar_lab.decisions.engines import url_secrets
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.errors import InputError
from northstar_lab.redact import redact_url

from .pg_cluster import PASSWORD, ROLE
from .storekit import RawDB, make_decision, make_revalidation

NOBODY = 65534


def filled_sqlite(path: Path, n: int = 30) -> Path:
    store = DecisionStore(path)
    for i in range(n):
        d = store.record(make_decision(f"decision {i}"))
        store.add_revalidation(d.id, make_revalidation())
    with sqlite3.connect(path) as conn:  # fold the WAL into the file, as a copied backup is
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def full_message(exc: BaseException) -> str:
    """Everything a traceback of `exc` would show, causes and contexts included."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


# --- damaged, read-only, locked (SQLite) --------------------------------------------------------


def test_damaged_pages_are_an_input_error_and_exit_2(tmp_path, capsys):
    db = filled_sqlite(tmp_path / "damaged.sqlite3")
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page : len(data) - page] = b"\xa5" * (len(data) - 3 * page)  # all but pages 1, 2, last
    db.write_bytes(bytes(data))
    for argv in (["decisions", "list"], ["decisions", "show", "3"]):
        assert main([*argv, "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert f"error: The decision database {db} is damaged" in err, err
        assert "Restore it from a backup" in err and "Traceback" not in err
    with pytest.raises(InputError, match="is damaged"):
        DecisionStore(db).list_decisions()
    assert db.read_bytes() == bytes(data), "a damaged file is never written to"


def as_another_user(fn):
    """Run `fn()` where the database's files are not writable: as root (CI) in a forked child
    that drops to user nobody; otherwise here (the caller made the files read-only with chmod).
    Returns (InputError message or None, fn's result)."""
    if os.geteuid() != 0:
        try:
            return None, fn()
        except InputError as exc:
            return str(exc), None
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: everything it needs is already imported
        os.close(read)
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                out = {"error": None, "result": fn()}
            except InputError as exc:
                out = {"error": str(exc), "result": None}
            except BaseException as exc:  # anything else is what the test is looking for
                out = {"error": f"RAW {type(exc).__name__}: {exc}", "result": None}
            os.write(write, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.waitpid(pid, 0)
    out = json.loads(b"".join(chunks))
    return out["error"], out["result"]


@pytest.fixture
def open_dir():
    """A folder another user can reach (pytest's own tmp folders are private to this user)."""
    folder = Path(tempfile.mkdtemp(prefix="northstar-ro-"))
    folder.chmod(0o755)
    yield folder
    for p in [folder, *folder.rglob("*")]:
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def test_read_only_file_reads_but_refuses_to_record(open_dir):
    folder = open_dir / "shared"
    folder.mkdir()
    db = filled_sqlite(folder / "decisions.sqlite3", n=3)
    db.chmod(0o444)
    if os.geteuid() == 0:
        shutil.chown(folder, user=NOBODY)  # the folder stays writable (for -wal, -shm)
    before = db.read_bytes()

    def list_then_record():
        store = DecisionStore(db)
        listed = len(store.list_decisions())
        store.record(make_decision("should not land"))
        return listed

    error, _ = as_another_user(list_then_record)
    assert error is not None and not error.startswith("RAW"), error
    assert f"The decision database {db} is read-only" in error
    assert "nothing was written" in error and "NORTHSTAR_DB" in error
    error, listed = as_another_user(lambda: len(DecisionStore(db).list_decisions()))
    assert (error, listed) == (None, 3)
    assert db.read_bytes() == before


def test_read_only_folder_is_an_input_error(open_dir):
    folder = open_dir / "mounted-read-only"
    folder.mkdir()
    db = filled_sqlite(folder / "decisions.sqlite3", n=2)
    for p in (folder / "decisions.sqlite3-wal", folder / "decisions.sqlite3-shm"):
        p.unlink(missing_ok=True)
    db.chmod(0o444)
    folder.chmod(0o555)
    before = db.read_bytes()
    error, _ = as_another_user(lambda: DecisionStore(db).record(make_decision()).id)
    assert error is not None and not error.startswith("RAW"), error
    assert "read-only" in error and "its folder" in error
    assert db.read_bytes() == before


def test_a_read_only_connection_is_an_input_error(tmp_path, monkeypatch):
    db = filled_sqlite(tmp_path / "decisions.sqlite3", n=1)
    store = DecisionStore(db)

    def readonly_connect(self):
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    monkeypatch.setattr(engines.SqliteEngine, "connect", readonly_connect)
    with pytest.raises(InputError, match="is read-only for this process"):
        store.add_revalidation(1, make_revalidation())
    assert len(store.revalidations(1)) == 1


def test_locked_store_waits_then_says_busy(location, raw, monkeypatch, tmp_path, capsys):
    store = DecisionStore(location)
    source = tmp_path / "source.sqlite3"
    DecisionStore(source).record(make_decision("to copy"))
    monkeypatch.setattr(engines, "BUSY_TIMEOUT_S", 0.3)
    monkeypatch.setattr(postgres, "BUSY_TIMEOUT_S", 0.3)
    holder = raw.connect()
    try:
        if raw.pg:
            holder.execute("BEGIN")
            holder.execute(f"SELECT pg_advisory_xact_lock({postgres.WRITE_LOCK_KEY})")
        else:
            holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(InputError, match="is busy: another process held its write lock") as e:
            store.record(make_decision())
        assert "Try again in a moment; nothing was written." in str(e.value)
        assert store.list_decisions() == [], "readers are not blocked by a writer"
        assert main(["decisions", "copy", "--from", str(source), "--to", location]) == 2
        err = capsys.readouterr().err
        assert "is busy" in err and "Traceback" not in err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.record(make_decision()).id == 1  # and the lock released, writing works again


def test_a_writer_waits_for_a_short_lock_instead_of_failing(location, raw):
    store = DecisionStore(location)
    locked = threading.Event()

    def hold_the_lock_briefly():
        holder = raw.connect()
        if raw.pg:
            holder.execute("BEGIN")
            holder.execute(f"SELECT pg_advisory_xact_lock({postgres.WRITE_LOCK_KEY})")
        else:
            holder.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(0.5)
        holder.execute("COMMIT")
        holder.close()

    thread = threading.Thread(target=hold_the_lock_briefly)
    thread.start()
    assert locked.wait(30)
    started = time.monotonic()
    assert store.record(make_decision()).id == 1
    assert time.monotonic() - started >= 0.3, "the write did not wait for the lock"
    thread.join()


def _rollback_journal_file(path: Path) -> Path:
    """A decision database as a store leaves it, but back in rollback-journal mode."""
    DecisionStore(path).record(make_decision("before"))
    with sqlite3.connect(path, isolation_level=None) as conn:
        assert conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0] == "delete"
    return path


def test_opening_waits_for_a_writer_before_switching_to_wal(tmp_path):
    """SQLite refuses the WAL switch at once, without its busy timeout, while another
    connection holds a write lock: two stores opening a new file together met exactly this
    (the second failed with 'is busy' in milliseconds). The store waits like a write does."""
    path = _rollback_journal_file(tmp_path / "rollback.sqlite3")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    bare = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        bare.execute("PRAGMA journal_mode = WAL")  # what SQLite itself does: no waiting
    bare.close()

    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    store = DecisionStore(path)
    waited = time.monotonic() - started
    release.join()
    holder.close()
    assert waited >= 0.3, "the store did not wait for the writer"
    assert [d["title"] for d in store.list_decisions()] == ["before"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_opening_under_a_lock_held_too_long_says_busy(tmp_path, monkeypatch):
    path = _rollback_journal_file(tmp_path / "rollback.sqlite3")
    monkeypatch.setattr(engines, "BUSY_TIMEOUT_S", 0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(InputError, match="is busy: another process held its write lock"):
            DecisionStore(path)
        assert time.monotonic() - started >= 0.25, "it gave up before the busy timeout"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 1


# --- PostgreSQL: unreachable, wrong credentials, read-only user, dropped connections -------------


def test_unreachable_server_and_wrong_credentials(pg_cluster, capsys):
    url = pg_cluster.new_database()
    closed_port = url.replace(f":{pg_cluster.port}/", ":1/")
    wrong_password = url.replace(PASSWORD, "not-the-password")
    wrong_db = url.rsplit("/", 1)[0] + "/no_such_database"
    for bad, cause in (
        (closed_port, "Connection refused"),
        (wrong_password, "password authentication failed"),
        (wrong_db, 'database "no_such_database" does not exist'),
    ):
        with pytest.raises(InputError, match="Cannot connect to the decision database") as err:
            DecisionStore(bad)
        assert cause in str(err.value)
        assert PASSWORD not in full_message(err.value)
        assert main(["decisions", "list", "--db", bad]) == 2
        captured = capsys.readouterr()
        assert "Cannot connect" in captured.err and PASSWORD not in captured.err + captured.out


def test_a_user_without_write_rights_reads_and_gets_a_clear_refusal(pg_cluster):
    url = pg_cluster.new_database()
    store = DecisionStore(url)
    store.record(make_decision())
    dbname = url.rsplit("/", 1)[1]
    with pg_cluster.admin(dbname) as admin:
        admin.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-secret-pw'")
        admin.execute("GRANT USAGE ON SCHEMA northstar_lab TO reader")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA northstar_lab TO reader")
    reader_url = url.replace(f"{ROLE}:{PASSWORD}", "reader:reader-secret-pw")
    reader = DecisionStore(reader_url)
    assert [r["id"] for r in reader.list_decisions()] == [1]
    with pytest.raises(InputError, match="does not let this user write") as err:
        reader.record(make_decision("by the reader"))
    assert "reader-secret-pw" not in full_message(err.value)
    assert RawDB(url).count() == 1


def test_a_pooled_connection_the_server_dropped_is_replaced(pg_cluster):
    url = pg_cluster.new_database()
    store = DecisionStore(url)
    store.record(make_decision())
    with pg_cluster.admin() as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.rsplit("/", 1)[1],),
        ).fetchone()[0]
    assert killed >= 1, "the pool kept a connection to drop"
    assert store.get(1).id == 1  # read on a fresh connection, no error
    assert store.record(make_decision("after the restart")).id == 2


# --- secrets ----------------------------------------------------------------------------------


def test_redact_url_replaces_every_secret():
    url = "postgresql://ns:p%40ss w0rd@db.example:5432/team?sslmode=require&password=two&sslkey=k"
    red = redact_url(url)
    assert red == "postgresql://***@db.example:5432/team?sslmode=require&password=***&sslkey=***"
    assert set(url_secrets(url)) >= {"p%40ss w0rd", "p@ss w0rd", "two", "k"}
    assert redact_url("postgresql://db/team") == "postgresql://db/team"
    assert redact_url("postgresql+psycopg://u:pw@h/d") == "postgresql+psycopg://***@h/d"


def test_a_password_never_leaves_the_process(pg_cluster, tmp_path, capsys, caplog, monkeypatch):
    """Record, amend, re-validate, list, show, export, copy and fail on a password URL: the
    password appears in no output, no file written, no log record, no row and no error."""
    caplog.set_level(logging.DEBUG)
    url = pg_cluster.new_database()
    seen: list[str] = []

    store = DecisionStore(url)
    seen += [repr(store), str(store.location), repr(store.engine)]
    v1 = store.record(make_decision())
    v2 = store.amend(v1.id, make_decision(), note="Target raised")
    store.add_revalidation(v2.id, make_revalidation("weakened"))
    w = store.create_workshop("Workshop", "Ada", {"dataset": "sample"})
    store.save_participant_scores(w.id, "Grace", {"invites": {"actionable": 4}})
    seen.append(json.dumps([d.to_dict() for d in store.history(v2.id)]))
    seen.append(json.dumps(store.verify(v2.id).to_dict()))

    html, md = tmp_path / "r.html", tmp_path / "r.md"
    sqlite_db = tmp_path / "local.sqlite3"
    DecisionStore(sqlite_db).record(make_decision("local"))
    copy_target = pg_cluster.new_database()
    for argv in (
        ["decisions", "list", "--db", url],
        ["decisions", "show", "2", "--db", url],
        ["decisions", "export", "2", "--db", url, "--html", str(html), "--markdown", str(md)],
        ["decisions", "copy", "--from", str(sqlite_db), "--to", copy_target],
        ["decisions", "copy", "--from", str(sqlite_db), "--to", url],  # refused: own history
        ["decisions", "show", "99", "--db", url],
    ):
        main(argv)
        captured = capsys.readouterr()
        seen += [captured.out, captured.err]
    assert "Copied 1 decision versions" in seen[-6] and "already holds different" in seen[-3]
    seen += [html.read_text(), md.read_text()]

    monkeypatch.setattr(postgres, "BUSY_TIMEOUT_S", 0.2)
    for attempt in (
        lambda: DecisionStore(url.replace(f":{pg_cluster.port}/", ":1/")),
        lambda: DecisionStore(url.rsplit("/", 1)[0] + "/missing"),
        lambda: store.get(42),
        lambda: _busy_record(url, store),
    ):
        with pytest.raises(InputError) as err:
            attempt()
        seen.append(full_message(err.value))

    seen += [r.getMessage() for r in caplog.records]
    raw = RawDB(url)
    for table in ("decisions", "revalidations", "workshops", "workshop_states",
                  "workshop_participants", "schema_history"):  # fmt: skip
        seen.append(json.dumps(raw.execute(f"SELECT * FROM {table}"), default=str))
    leaked = [s for s in seen if PASSWORD in s]
    assert leaked == [], leaked[0][:500]
    assert any("***" in s for s in seen)  # the URL was shown, redacted


def _busy_record(url: str, store: DecisionStore) -> None:
    holder = psycopg.connect(url, autocommit=True)
    try:
        holder.execute("BEGIN")
        holder.execute(f"SELECT pg_advisory_xact_lock({postgres.WRITE_LOCK_KEY})")
        store.record(make_decision())
    finally:
        holder.close()
