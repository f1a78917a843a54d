"""Fixtures for the store tests: every store test runs on SQLite and on a real PostgreSQL server.

`location` is parametrised over both engines: a SQLite file in the test's tmp folder, or a new
database in a throwaway cluster started once per test session (`pg_cluster.py`). Without
PostgreSQL binaries the PostgreSQL half is skipped with the reason, except under CI (`CI` set,
as `.ci/run` does), where it fails: CI installs PostgreSQL, so missing binaries are a broken CI.
"""

from __future__ import annotations

import os

import pytest

from northstar_lab.decisions.store import DecisionStore

from .pg_cluster import pg_bin_dir, start_cluster
from .storekit import RawDB

ENGINES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_cluster():
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        message = (
            "PostgreSQL binaries not found: install Debian's postgresql (or set NORTHSTAR_PG_BIN)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = start_cluster(bin_dir)
    yield cluster
    from northstar_lab.decisions.postgres import close_pools

    close_pools()
    cluster.stop()


@pytest.fixture(autouse=True)
def _recycle_pg_databases(request):
    """After a test that used the cluster: close pooled connections, empty its databases."""
    yield
    if "pg_cluster" in request.fixturenames:
        from northstar_lab.decisions.postgres import close_pools

        close_pools()
        request.getfixturevalue("pg_cluster").recycle()


@pytest.fixture(params=ENGINES)
def engine_name(request) -> str:
    return request.param


@pytest.fixture
def location(engine_name, tmp_path, request) -> str:
    """Where a test's decision database lives: a SQLite path or a PostgreSQL URL (with password)."""
    if engine_name == "sqlite":
        yield str(tmp_path / "decisions.sqlite3")
        return
    yield request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def store(location) -> DecisionStore:
    return DecisionStore(location)


@pytest.fixture
def raw(location) -> RawDB:
    """SQL straight to the database, behind the store's back."""
    return RawDB(location)
