"""Spark beyond one process: a Spark Connect server and a standalone cluster (a master and one
worker), started here on free loopback ports, each ranking the sample through the CLI exactly
as DuckDB ranks it; and Parquet with nanosecond timestamps read by Spark."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "sample_data" / "events.parquet"
USERS = ROOT / "sample_data" / "users.csv"
ARGS = ["--bootstrap", "20", "--quiet"]
START_TIMEOUT = 240  # seconds for a JVM to listen, on a busy 2-core machine

pytestmark = pytest.mark.spark


def spark_home() -> Path:
    pyspark = pytest.importorskip("pyspark", reason="pip install -r requirements-spark.txt")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17")
    return Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_env() -> dict:
    """Everything on 127.0.0.1: the machine's other addresses may not be reachable."""
    return {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_DAEMON_MEMORY": "512m"}


def start(cmd: list[str], port: int, log: Path) -> subprocess.Popen:
    """Start a JVM in its own process group and wait until it listens on port."""
    out = log.open("w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=loopback_env(),
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[1]} exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(1)
    stop(proc)
    raise RuntimeError(f"{cmd[1]} did not listen on {port}: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop the process group we started (the JVM and its children), then wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def rank_json(tmp_path: Path, name: str, *source_args: str) -> dict:
    """`rank` in its own process (each Spark client needs its own), JSON without what may
    differ between engines (timings, the data fingerprint)."""
    out = tmp_path / f"{name}.json"
    cmd = [sys.executable, "-m", "northstar_lab", "rank", *source_args, "--users", str(USERS),
           *ARGS, "--json", str(out)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=loopback_env(),
                          timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ranking = json.loads(out.read_text())
    ranking.pop("timings")
    fingerprint = ranking["data"].pop("fingerprint")
    ranking["_engine"] = fingerprint["events"]["engine"]
    return ranking


@pytest.fixture(scope="module")
def duckdb_ranking(tmp_path_factory):
    got = rank_json(tmp_path_factory.mktemp("duck"), "duckdb", "--events", str(EVENTS))
    assert got.pop("_engine") == "duckdb"
    return got


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory):
    """A Spark Connect server (pyspark 4 ships it) on a free port, local[2] inside."""
    home = spark_home()
    port = free_port()
    log = tmp_path_factory.mktemp("connect") / "server.log"
    cmd = [str(home / "bin" / "spark-submit"), "--class",
           "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", "local[2]",
           "--driver-memory", "2g", "--conf", f"spark.connect.grpc.binding.port={port}",
           "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
           "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
           "--conf", "spark.ui.enabled=false",
           "--conf", "spark.sql.shuffle.partitions=8"]  # fmt: skip
    proc = start(cmd, port, log)
    yield f"sc://localhost:{port}"
    stop(proc)


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    """A standalone master and one worker (spark-class), both on loopback."""
    home = spark_home()
    logs = tmp_path_factory.mktemp("standalone")
    port, ui, worker_ui = free_port(), free_port(), free_port()
    spark_class = str(home / "bin" / "spark-class")
    master_cmd = [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                  "--port", str(port), "--webui-port", str(ui)]  # fmt: skip
    master = start(master_cmd, port, logs / "master.log")
    worker_port = free_port()
    try:
        worker = start([spark_class, "org.apache.spark.deploy.worker.Worker",
                        f"spark://127.0.0.1:{port}", "--host", "127.0.0.1", "--port",
                        str(worker_port), "--webui-port", str(worker_ui), "--cores", "2",
                        "--memory", "2g", "--work-dir", str(logs / "work")],
                       worker_port, logs / "worker.log")  # fmt: skip
    except Exception:
        stop(master)
        raise
    _wait_for_worker(logs / "master.log")
    yield f"spark://127.0.0.1:{port}"
    stop(worker)
    stop(master)


def _wait_for_worker(master_log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if "Registering worker" in master_log.read_text():
            return
        time.sleep(1)
    raise RuntimeError(f"no worker registered: {master_log.read_text()[-2000:]}")


def test_spark_connect_ranking_equals_duckdb(connect_server, duckdb_ranking, tmp_path):
    got = rank_json(tmp_path, "connect", "--source", connect_server, "--events-table",
                    str(EVENTS))  # fmt: skip
    assert got.pop("_engine") == "spark"
    assert got == duckdb_ranking


def test_standalone_cluster_ranking_equals_duckdb(standalone_cluster, duckdb_ranking, tmp_path):
    got = rank_json(tmp_path, "standalone", "--source", standalone_cluster, "--events-table",
                    str(EVENTS))  # fmt: skip
    assert got.pop("_engine") == "spark"
    assert got == duckdb_ranking


CHECK = """
import json, sys
from northstar_lab.data.load import load_inputs
c = load_inputs(sys.argv[1], events_table=sys.argv[2]).check
print(json.dumps([c.n_rows, str(c.min_ts), str(c.max_ts), c.event_counts]))
"""


def test_nanosecond_parquet_is_read_by_spark_connect(connect_server, tmp_path):
    """pandas can write nanosecond timestamps, which Spark refuses; they are read as integers
    (spark.sql.legacy.parquet.nanosAsLong, set by the client) and converted, so Spark reads the
    same rows and dates as DuckDB."""
    import pyarrow.parquet as pq

    events = pd.read_parquet(EVENTS)
    events["timestamp"] = events["timestamp"].astype("datetime64[ns]")
    ns = tmp_path / "events_ns.parquet"
    events.to_parquet(ns, index=False)
    assert str(pq.read_schema(ns).field("timestamp").type) == "timestamp[ns]"
    got = {}
    for source in ("spark", "duckdb"):
        args = [connect_server, str(ns)] if source == "spark" else [str(ns), ""]
        done = subprocess.run([sys.executable, "-c", CHECK, *args], cwd=ROOT, env=loopback_env(),
                              capture_output=True, text=True, timeout=900)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        got[source] = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["spark"] == got["duckdb"]
    assert got["spark"][1].startswith("2025-")
