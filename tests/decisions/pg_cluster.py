"""A throwaway PostgreSQL cluster for the store tests: initdb + pg_ctl on a free local port.

Why a real server: the store's guarantees (immutability triggers, migrations, concurrent
writers, a killed writer) are properties of the engine, and only the engine can show them.

The cluster runs as the `postgres` user when the tests run as root (CI does; PostgreSQL refuses
to run as root), with its data directory in a fresh temporary folder, fsync off (a throwaway
cluster), TCP on 127.0.0.1 only, password (SCRAM) authentication for TCP and trust on its own
socket folder for the fixture's admin connection. Each test gets an empty database of its own
(emptied and reused after the test).

Binaries: $NORTHSTAR_PG_BIN, else `pg_ctl` on PATH, else the newest /usr/lib/postgresql/*/bin
(Debian's `postgresql` package, which `.ci/run` installs).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROLE = "northstar"
PASSWORD = "s3cret-Pa55word-never-shown"


def pg_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are, or None when PostgreSQL is not installed."""
    env = os.environ.get("NORTHSTAR_PG_BIN")
    if env:
        return Path(env)
    found = shutil.which("pg_ctl")
    if found and (Path(found).resolve().parent / "initdb").exists():
        return Path(found).resolve().parent
    dirs = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
    )
    for d in reversed(dirs):
        if (Path(d) / "initdb").exists():
            return Path(d)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster: `url(dbname)` gives a password URL for the test role."""

    bin_dir: Path
    root: Path
    port: int
    user: str | None  # the OS user the server runs as (None: the current user)
    _counter = itertools.count(1)
    _free: list[str] = field(default_factory=list)
    _in_use: list[str] = field(default_factory=list)

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, dbname: str, password: str = PASSWORD) -> str:
        return f"postgresql://{ROLE}:{password}@127.0.0.1:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres"):
        """A superuser connection over the cluster's own socket (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
        )

    def new_database(self) -> str:
        """An empty database owned by the test role (a recycled one when there is one): its URL.

        Recycling matters: each new database is ~8 MB of files, and deleting a few hundred of
        them at the end of the session takes longer than all the tests on a busy disk.
        """
        if self._free:
            name = self._free.pop()
        else:
            name = f"ns_test_{os.getpid()}_{next(self._counter)}"
            with self.admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}" OWNER {ROLE}')
        self._in_use.append(name)
        return self.url(name)

    def recycle(self) -> None:
        """Empty every database handed out since the last call and make it available again."""
        while self._in_use:
            name = self._in_use.pop()
            with self.admin(name) as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                conn.execute("DROP SCHEMA IF EXISTS northstar_lab CASCADE")
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
                conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
            self._free.append(name)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin_dir / tool), *args],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=120,
        )


def start_cluster(bin_dir: Path) -> Cluster:
    """initdb a new cluster in a temporary folder and start it; raises RuntimeError if it fails."""
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="northstar-pg-"))
    (root / "sock").mkdir()
    if user:
        pw = pwd.getpwnam(user)
        for p in (root, root / "sock"):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    cluster = Cluster(bin_dir, root, 0, user)
    done = cluster._run(
        "initdb", "-D", str(root / "data"), "-U", "postgres", "-E", "UTF8", "--locale=C",
        "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")
    for _attempt in range(3):  # the free port can be taken between choosing and binding it
        cluster.port = _free_port()
        options = (
            f"-p {cluster.port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )
        done = cluster._run(
            "pg_ctl", "-D", str(root / "data"), "-l", str(root / "server.log"), "-w",
            "-t", "60", "-o", options, "start",
        )  # fmt: skip
        if done.returncode == 0:
            break
    else:
        log = (root / "server.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {done.stderr}\n{log}")
    with cluster.admin() as conn:
        conn.execute(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{PASSWORD}'")
    return cluster
