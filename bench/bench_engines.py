"""Benchmark: the event-log aggregation and ranking on DuckDB (≈100M events) and local Spark (10M).

Requirement (engines issue): from a partitioned Parquet event log of ~100M events for 2M users,
the DuckDB ranking (load, aggregate to one row per user, statistics) takes at most 5× a bare
DuckDB read-and-group-by of the same files (the floor, timed in the same run) and under 2
minutes on this 2-core machine, with peak memory under 8 GB. The same ranking runs on local
Spark (local[2]) for a 10M-event slice of whole users, timed against DuckDB on that slice, and
the two rankings must be identical.

    python bench/bench_engines.py                        # 2,000,000 users ≈ 110M events
    python bench/bench_engines.py --users 30000 --bootstrap 20     # a quick look

Step 1 writes the data once (bench/out/events_100m/, cached by a manifest). The DuckDB and the
Spark parts then run in their own processes (`--part duckdb`, `--part spark`) so that each
peak memory is attributable; this process prints the table and writes
bench/out/bench_engines.json (git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# The parts run in subprocesses that import a copy of the library taken when the run starts
# (see snapshot_library; the copy comes first on their PYTHONPATH), so that both engines run the
# same code even while someone edits northstar_lab/.
from benchlib import ROOT, git_commit

from northstar_lab import analysis as pipeline
from northstar_lab.data import aggregate, load
from northstar_lab.data import sources as engines
from northstar_lab.sample import iter_event_chunks
from northstar_lab.settings import AnalysisSettings

OUT_DIR = ROOT / "bench" / "out"
OUT = OUT_DIR / "bench_engines.json"
DEFAULT_USERS = 2_000_000
DATA = OUT_DIR / "events_100m"  # the default size; other sizes get their own folders
SLICE = OUT_DIR / "events_10m"
WARM = OUT_DIR / "events_warmup"
DUCK_TMP = OUT_DIR / "duckdb_tmp"
SNAPSHOT = OUT_DIR / "library_snapshot"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1  # bump when the file layout changes, so cached data is rewritten

TARGET_RATIO = 5.0
TARGET_SECONDS = 120.0
TARGET_PEAK_GB = 6.0
SLICE_EVENTS = 10_000_000  # default Spark slice: the fewest leading files with ≥ this many
WARM_UP_USERS = 3000
SPARK = "spark://local[2]"
REVENUE_EVENT = "payment"
GB = 1e9
RTOL = 1e-9  # cross-engine check: numbers may differ by rounding, by no more than this


# --------------------------------------------------------------------------------------------
# Step 1: the data set (cached)
# --------------------------------------------------------------------------------------------


def use_folders(n_users: int) -> None:
    """Data folders for this size, so a quick look at another size keeps the default data."""
    global DATA, SLICE
    if n_users != DEFAULT_USERS:
        DATA = OUT_DIR / f"events_{n_users}users"
        SLICE = OUT_DIR / f"events_{n_users}users_slice"


def _read_manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def _complete(folder: Path, want: dict) -> dict | None:
    """The manifest when the folder holds exactly the data `want` describes, else None."""
    m = _read_manifest(folder)
    if m is None or any(m.get(k) != v for k, v in want.items()):
        return None
    if not all((folder / f["file"]).exists() for f in m["files"]):
        return None
    return m


def write_events(folder: Path, n_users: int, seed: int, chunk_users: int, say=print) -> dict:
    """Write users' events to folder/part-XXXX.parquet chunk by chunk; skip when cached.

    µs timestamps (Spark cannot read Parquet's ns TIMESTAMP), zstd, dictionary-encoded user_id
    and event, as `sample.write_sample` writes them. The manifest is written last, so an
    interrupted run is redone.
    """
    want = {"format": FORMAT_VERSION, "n_users": n_users, "seed": seed, "chunk_users": chunk_users}
    cached = _complete(folder, want)
    if cached is not None:
        return {**cached, "cached": True}  # "seconds": how long writing it took then
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files, n_events, t0 = [], 0, time.perf_counter()
    n_chunks = -(-n_users // chunk_users)
    for i, frame in enumerate(iter_event_chunks(n_users, seed, chunk_users=chunk_users)):
        name = f"part-{i:04d}.parquet"
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(
            table,
            folder / name,
            compression="zstd",
            use_dictionary=["user_id", "event"],
            coerce_timestamps="us",
        )
        lo = i * chunk_users
        files.append(
            {"file": name, "users": [lo, min(lo + chunk_users, n_users)], "events": len(frame)}
        )
        n_events += len(frame)
        del frame, table
        if say and (i + 1) % max(1, n_chunks // 10) == 0:
            say(
                f"  wrote {i + 1}/{n_chunks} files, {n_events / 1e6:.1f}M events, "
                f"{time.perf_counter() - t0:.0f} s"
            )
    manifest = {**want, "n_events": n_events, "seconds": time.perf_counter() - t0, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return {**manifest, "cached": False}


def write_slice(full: dict, full_folder: Path, folder: Path, spark_users: int | None) -> dict:
    """A slice of whole users for Spark: the first files of the full data (hard links).

    spark_users None: the fewest leading files holding ≥ SLICE_EVENTS events; otherwise the
    fewest leading files holding ≥ spark_users users.
    """
    files, n = [], 0
    for f in full["files"]:
        files.append(f)
        n += f["events"]
        done = (n >= SLICE_EVENTS) if spark_users is None else (f["users"][1] >= spark_users)
        if done:
            break
    want = {
        "format": FORMAT_VERSION,
        "n_users": files[-1]["users"][1],
        "seed": full["seed"],
        "chunk_users": full["chunk_users"],
        "of_n_users": full["n_users"],
    }
    cached = _complete(folder, want)
    if cached is not None:
        return {**cached, "cached": True}
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for f in files:
        src, dst = full_folder / f["file"], folder / f["file"]
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
    manifest = {**want, "n_events": n, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return {**manifest, "cached": False}


def snapshot_library(at: str) -> dict:
    """Copy northstar_lab/ for the parts to import: the working tree as it is now, or HEAD's."""
    dst = SNAPSHOT / "northstar_lab"
    if SNAPSHOT.exists():
        shutil.rmtree(SNAPSHOT)
    if at == "HEAD":
        import io
        import tarfile

        tar = subprocess.run(
            ["git", "archive", "HEAD", "northstar_lab"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        SNAPSHOT.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            archive.extractall(SNAPSHOT, filter="data")
    else:
        shutil.copytree(ROOT / "northstar_lab", dst, ignore=shutil.ignore_patterns("__pycache__"))
    return {
        "at": at,
        "snapshot": str(SNAPSHOT.relative_to(ROOT)),
        "sha": library_hash(dst),
        "git_commit": git_commit(),
        "uncommitted": _dirty_library_files() if at == "worktree" else [],
    }


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.parquet"))


def parquet_glob(folder: Path) -> str:
    """The glob the library reads; relative to the repository root, as a user would type it."""
    return str((folder / "*.parquet").relative_to(ROOT))


# --------------------------------------------------------------------------------------------
# Memory: peak RSS of this process and of its children (the Spark JVM), sampled from /proc
# --------------------------------------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _children(pid: int) -> list[int]:
    out = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _descendants(pid: int) -> list[int]:
    todo, seen = _children(pid), []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its own threads), from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class MemorySampler(threading.Thread):
    """Samples RSS of this process and the sum over its descendants every `interval` seconds.

    `mark(phase)` closes a phase: the peaks seen since the previous mark are stored under its
    name, so each step of a part gets its own peak. ru_maxrss stays the authoritative overall
    peak of this process (the sampler can miss a spike shorter than the interval).
    """

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.pid = os.getpid()
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self.peak = {"self": 0, "children": 0, "tree": 0}
        self._phase = dict(self.peak)
        self.phases: dict[str, dict[str, float]] = {}

    def sample(self) -> dict[str, int]:
        own = _rss(self.pid)
        kids = sum(_rss(p) for p in _descendants(self.pid))
        return {"self": own, "children": kids, "tree": own + kids}

    def run(self) -> None:
        while not self._stop_event.is_set():
            s = self.sample()
            with self._lock:
                for k, v in s.items():
                    self.peak[k] = max(self.peak[k], v)
                    self._phase[k] = max(self._phase[k], v)
            self._stop_event.wait(self.interval)

    def mark(self, phase: str) -> dict[str, float]:
        s = self.sample()
        with self._lock:
            got = {k: max(self._phase[k], s[k]) / GB for k in s}
            self._phase = dict(s)
        self.phases[phase] = got
        return got

    def stop(self) -> dict[str, float]:
        self._stop_event.set()
        self.join()
        return {k: v / GB for k, v in self.peak.items()}


def maxrss_gb(who: int) -> float:
    """ru_maxrss (kB on Linux) of this process or of its waited-for children, in GB."""
    return resource.getrusage(who).ru_maxrss * 1024 / GB


# --------------------------------------------------------------------------------------------
# Instrumentation: progress timeline, engine queries, the aggregation call
# --------------------------------------------------------------------------------------------


class Recorder:
    """Timestamps of the pipeline's progress messages and of every query the engine ran.

    Queries are caught by wrapping the Ibis backend's `execute` (what `expr.to_pandas()` calls)
    on the library's cached connection, and `aggregate.per_user_frame` and
    `load.file_sha256` are wrapped to time them exactly. Nothing in the library changes:
    the wrappers live in this process only and are removed afterwards.
    """

    def __init__(self, sampler: MemorySampler) -> None:
        self.sampler = sampler
        self.t0 = time.perf_counter()
        self.step = "start"
        self.timeline: list[dict] = []
        self.queries: list[dict] = []
        self.calls: dict[str, float] = {}
        self.cached: list = []  # the library's cached tables, kept alive for EXPLAIN ANALYZE

    def reset(self) -> None:
        self.__init__(self.sampler)

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def progress(self, msg: str, frac: float | None = None) -> None:
        self.step = msg
        self.timeline.append({"t": self.now(), "step": msg, "rss_gb": _rss(os.getpid()) / GB})

    @contextlib.contextmanager
    def instrument(self, con):
        """Log every query: `execute` (what `to_pandas()` calls) and `_create_cached_table`
        (what `Table.cache()` calls: on DuckDB a temp table is built there, not in execute)."""
        wrapped = {}

        def logged(kind, fn):
            def call(*args, **kwargs):
                t = time.perf_counter()
                out = fn(*args, **kwargs)
                seconds = time.perf_counter() - t
                expr = args[0] if kind == "query" else args[1]
                if kind == "cache":
                    # Ibis drops a cached table once nothing refers to it; keep it until the
                    # benchmark has profiled the queries that read it (Recorder.reset drops it).
                    self.cached.append(out)
                rows = None  # a cached table: built in the engine, nothing returned
                if kind == "query":
                    rows = len(out) if hasattr(out, "__len__") else 1  # a scalar
                self.queries.append(
                    {
                        "kind": kind,
                        "step": self.step,
                        "t": self.now() - seconds,
                        "seconds": seconds,
                        "rows": rows,
                        "expr": expr,
                    }
                )
                return out

            return call

        for attr, kind in (("execute", "query"), ("_create_cached_table", "cache")):
            fn = getattr(con, attr, None)
            if fn is not None:
                wrapped[attr] = fn
                setattr(con, attr, logged(kind, fn))
        timed = {}
        for module, name in ((aggregate, "per_user_frame"), (load, "file_sha256")):
            if hasattr(module, name):
                timed[(module, name)] = getattr(module, name)
                setattr(module, name, self._timed(name, timed[(module, name)]))
        try:
            yield self
        finally:
            for attr in wrapped:
                delattr(con, attr)  # back to the class's methods
            for (module, name), fn in timed.items():
                setattr(module, name, fn)
            for q in self.queries:  # SQL compiled after the timed run, not inside it
                expr = q.pop("expr", None)
                if expr is not None:
                    try:
                        q["sql"] = str(con.compile(expr))
                    except Exception as exc:  # the SQL is only for the log
                        q["sql"] = f"(could not compile: {exc})"

    def _timed(self, name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.calls[name] = self.calls.get(name, 0.0) + time.perf_counter() - t

        return wrapper


def comparable(ranking) -> dict:
    """Ranking JSON without what legitimately differs between engines (as tests/test_engines)."""
    d = ranking.to_dict()
    d.pop("timings")
    d["data"].pop("fingerprint")
    return d


def run_ranking(
    name: str, source: str, events_table: str | None, settings, rec: Recorder, con
) -> dict:
    """load_inputs + analyse, timed as a whole and split into load / aggregate / statistics."""
    rec.reset()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with rec.instrument(con):
        loaded = load.load_inputs(source, events_table=events_table, progress=rec.progress)
        t_load = rec.now()
        mem_load = rec.sampler.mark(f"{name}: load")
        rec.progress("(benchmark) load_inputs returned")
        analysis = pipeline.analyse(loaded, settings, progress=rec.progress)
        t_end = rec.now()
    total = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    mem_analyse = rec.sampler.mark(f"{name}: analyse")
    agg = rec.calls.get("per_user_frame", 0.0)
    steps = {e["step"]: e["t"] for e in rec.timeline}
    t_gap = next((t for s, t in steps.items() if s.startswith("Checking sensitivity")), None)
    r = analysis.ranking
    queries = rec.queries
    in_load = [q for q in queries if q["t"] < t_load]
    in_agg = [q for q in queries if q["t"] >= t_load]
    return {
        "seconds": {
            "total": total,
            "load": t_load,
            "load_sha256": rec.calls.get("file_sha256", 0.0),
            "load_queries": sum(q["seconds"] for q in in_load),
            "aggregate": agg,
            "aggregate_queries": sum(q["seconds"] for q in in_agg),
            "load_plus_aggregate": t_load + agg,
            "statistics": t_end - t_load - agg,
            "rank_candidates": r.timings.get("total"),
            "gap_sensitivity": (t_end - t_gap) if t_gap is not None else None,
        },
        # RankingResult.timings as the library reports them (its keys change with the library)
        "rank_timings": {k: v for k, v in r.timings.items() if k != "total"},
        "cpu_seconds_this_process": cpu,
        "peak_rss_gb": {"load": mem_load, "analyse": mem_analyse},
        "timeline": rec.timeline,
        "queries": queries,
        "result": {
            "n_users": r.n_users,
            "n_churned": r.n_churned,
            "n_frame": len(analysis.frame),
            "ranked": len(r.candidates),
            "leader": r.leader.key,
            "top5": [c.key for c in r.candidates[:5]],
            "sample_fraction": r.data.sample_fraction,
            "events": loaded.check.n_rows,
            "event_types": len(loaded.event_counts),
            "n_bootstrap": settings.n_bootstrap,
        },
        "_analysis": analysis,
    }


def _save_comparison(run: dict, name: str) -> dict:
    """The comparable ranking JSON and the per-user frame of a run, for the cross-engine check."""
    analysis = run.pop("_analysis")
    paths = {
        "ranking": OUT_DIR / f"bench_engines.{name}.ranking.json",
        "frame": OUT_DIR / f"bench_engines.{name}.frame.parquet",
    }
    paths["ranking"].write_text(json.dumps(comparable(analysis.ranking), sort_keys=True) + "\n")
    analysis.frame.to_parquet(paths["frame"], index=False)
    return {k: str(v.relative_to(ROOT)) for k, v in paths.items()}


def warm_up(source: str, events_table: str | None, settings) -> float:
    """One small analysis first, so lazy imports, JIT and caches are not charged to the timing."""
    t = time.perf_counter()
    small = AnalysisSettings(revenue_event=REVENUE_EVENT, n_bootstrap=min(settings.n_bootstrap, 5))
    pipeline.analyse(load.load_inputs(source, events_table=events_table), small)
    return time.perf_counter() - t


# --------------------------------------------------------------------------------------------
# Part: DuckDB (floor, ranking on the full data, ranking on the slice, EXPLAIN ANALYZE)
# --------------------------------------------------------------------------------------------


def floor_sql(pattern: str, by: str) -> str:
    """Read every row and group: the least any per-user aggregation must do.

    The grouped result is consumed inside DuckDB (count of groups, sum of counts) so that the
    floor measures the scan and the hash aggregation, not moving millions of rows to Python.
    """
    return (
        f"SELECT count(*) AS n_groups, sum(n) AS n_events FROM "
        f"(SELECT {by}, count(*) AS n FROM read_parquet('{pattern}') GROUP BY ALL)"
    )


def time_floor(con, pattern: str, by: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        n_groups, n_events = con.raw_sql(floor_sql(pattern, by)).fetchone()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        "seconds": min(r[0] for r in runs),
        "cpu_seconds": min(r[1] for r in runs),
        "all_seconds": [r[0] for r in runs],
        "n_groups": int(n_groups),
        "n_events": int(n_events),
    }


def duckdb_settings(con) -> dict:
    names = ("memory_limit", "threads", "temp_directory", "max_temp_directory_size")
    row = con.raw_sql("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).fetchone()
    return dict(zip(names, row, strict=True))


def explain_analyze(con, sql: str, path: Path) -> dict:
    """EXPLAIN ANALYZE of one query, as DuckDB's JSON profile: operator, time, rows."""
    con.raw_sql("SET enable_profiling = 'json'")
    try:
        t = time.perf_counter()
        rows = con.raw_sql(f"EXPLAIN ANALYZE {sql}").fetchall()
        wall = time.perf_counter() - t
    finally:
        con.raw_sql("RESET enable_profiling")
    profile = json.loads(rows[0][1])
    path.write_text(json.dumps(profile, indent=1) + "\n")
    ops: list[dict] = []

    def walk(node: dict, depth: int) -> None:
        if "operator_type" in node and node["operator_type"] != "EXPLAIN_ANALYZE":
            info = node.get("extra_info") or {}
            detail = "; ".join(
                f"{k}: {str(v)[:90]}"
                for k, v in info.items()
                if k in ("Groups", "Join Type", "Conditions", "Function", "Filters", "Aggregates")
            )
            ops.append(
                {
                    "depth": depth,
                    "operator": node.get("operator_name") or node["operator_type"],
                    "seconds": float(node.get("operator_timing") or 0.0),
                    "rows": int(node.get("operator_cardinality") or 0),
                    "detail": detail,
                }
            )
            depth += 1
        for child in node.get("children", []):
            walk(child, depth)

    walk(profile, 0)
    return {
        "wall_seconds": wall,
        "latency": profile.get("latency"),
        "cpu_time": profile.get("cpu_time"),
        "peak_buffer_memory_gb": (profile.get("system_peak_buffer_memory") or 0) / GB,
        "peak_temp_dir_gb": (profile.get("system_peak_temp_dir_size") or 0) / GB,
        "operators": ops,
        "profile_file": str(path.relative_to(ROOT)),
    }


def library_hash(folder: Path | None = None) -> str:
    """sha256 of the library's source files (default: the copy this process imported)."""
    import hashlib

    folder = folder or Path(aggregate.__file__).parent
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def part_duckdb(args) -> dict:
    lib = library_hash()
    sampler = MemorySampler()
    sampler.start()
    load0 = os.getloadavg()
    full = parquet_glob(DATA)
    settings = AnalysisSettings(revenue_event=REVENUE_EVENT, n_bootstrap=args.bootstrap)
    con = engines.connect(engines.parse_source(full))  # the library's cached connection
    config = {}
    if args.duckdb_memory_limit:
        # Overrides whatever engines.connect() configured, on the connection it caches.
        con.raw_sql(f"SET memory_limit = '{args.duckdb_memory_limit}'")
        config["memory_limit"] = args.duckdb_memory_limit
    if duckdb_settings(con)["temp_directory"] == ".tmp":
        # DuckDB's default for an in-memory database spills into ./.tmp, i.e. the repository.
        DUCK_TMP.mkdir(parents=True, exist_ok=True)
        con.raw_sql(f"SET temp_directory = '{DUCK_TMP}'")
        config["temp_directory"] = str(DUCK_TMP.relative_to(ROOT))
    applied = duckdb_settings(con)
    same_con = engines.connect(engines.parse_source(parquet_glob(WARM))) is con
    fig: dict = {
        "duckdb_config_set": config,
        "duckdb_settings": applied,
        "same_connection_for_every_file_source": same_con,
    }

    print("DuckDB part: warm-up analysis on a small file", flush=True)
    fig["warm_up_seconds"] = warm_up(parquet_glob(WARM), None, settings)
    sampler.mark("warm_up")

    print("DuckDB part: floor (bare read + GROUP BY)", flush=True)
    con.raw_sql(floor_sql(full, "user_id")).fetchone()  # page cache and parquet metadata
    fig["floor"] = time_floor(con, full, "user_id, event", args.floor_repeat)
    fig["floor_by_user"] = time_floor(con, full, "user_id", args.floor_repeat)
    fig["peak_rss_gb_floor"] = sampler.mark("floor")

    print(f"DuckDB part: ranking from {full} (B = {settings.n_bootstrap})", flush=True)
    rec = Recorder(sampler)
    run = run_ranking("full", full, None, settings, rec, con)
    run.pop("_analysis")
    fig["ranking_full"] = run

    if args.explain:
        # Run again under EXPLAIN ANALYZE (after the timing), while the cached tables they read
        # are still alive: the slowest query, and the slowest cache build if that is another.
        slow = sorted(fig["ranking_full"]["queries"], key=lambda q: -q["seconds"])
        picks = slow[:1] + [q for q in slow[1:] if q.get("kind") == "cache"][:1]
        fig["explain"] = []
        for i, q in enumerate(picks):
            what = "cache build" if q.get("kind") == "cache" else "query"
            print(
                f"DuckDB part: EXPLAIN ANALYZE of a slow {what} ({q['seconds']:.1f} s)", flush=True
            )
            entry = {
                "step": q["step"],
                "kind": q.get("kind"),
                "seconds_in_run": q["seconds"],
                "sql": q["sql"],
            }
            try:
                path = OUT_DIR / f"bench_engines.explain{i}.json"
                entry.update(explain_analyze(con, q["sql"], path))
            except Exception as exc:
                entry["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
            fig["explain"].append(entry)
    rec.reset()  # lets the library's cached tables go
    sampler.mark("explain")
    print("DuckDB part: floor again (the machine's load changes over a run)", flush=True)
    fig["floor_after"] = time_floor(con, full, "user_id, event", args.floor_repeat)

    if not args.skip_spark:
        part = parquet_glob(SLICE)
        print(f"DuckDB part: ranking from the slice {part}", flush=True)
        sampler.mark("between")
        run = run_ranking("slice", part, None, settings, rec, con)
        run["saved"] = _save_comparison(run, "duckdb")
        fig["ranking_slice"] = run
        rec.reset()

    fig["peak_rss_gb_sampled"] = sampler.stop()
    fig["peak_rss_gb_phases"] = sampler.phases
    fig["maxrss_gb_self"] = maxrss_gb(resource.RUSAGE_SELF)
    fig["maxrss_gb_children"] = maxrss_gb(resource.RUSAGE_CHILDREN)
    fig["load_avg"] = {"before": load0, "after": os.getloadavg()}
    fig["library_sha"] = {"start": lib, "end": library_hash()}
    fig["library_path"] = str(Path(aggregate.__file__).parent)
    return fig


# --------------------------------------------------------------------------------------------
# Part: Spark (local[2]) on the slice
# --------------------------------------------------------------------------------------------


def _stop_spark() -> int | None:
    """Stop the session and wait for the JVM, so RUSAGE_CHILDREN includes its peak RSS."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    if proc is None:
        return None
    with contextlib.suppress(Exception):
        gateway.shutdown()
    with contextlib.suppress(Exception):
        proc.stdin.close()  # the JVM exits when its stdin closes (pyspark's own mechanism)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=30)
    return proc.pid


def part_spark(args) -> dict:
    lib = library_hash()
    sampler = MemorySampler()
    sampler.start()
    load0 = os.getloadavg()
    settings = AnalysisSettings(revenue_event=REVENUE_EVENT, n_bootstrap=args.bootstrap)
    fig: dict = {"spark_driver_memory": os.environ.get("NORTHSTAR_SPARK_MEMORY", "4g")}

    print("Spark part: starting the session (local[2])", flush=True)
    t = time.perf_counter()
    con = engines.connect(engines.parse_source(SPARK))
    fig["session_start_seconds"] = time.perf_counter() - t
    jvm = [p for p in _descendants(os.getpid()) if "java" in _cmdline(p)]
    fig["spark_version"] = _spark_version()

    print("Spark part: warm-up analysis on a small file", flush=True)
    fig["warm_up_seconds"] = warm_up(SPARK, parquet_glob(WARM), settings)
    sampler.mark("warm_up")
    jvm_cpu0 = sum(_cpu_seconds(p) for p in jvm)

    part = parquet_glob(SLICE)
    print(f"Spark part: ranking from {part} (B = {settings.n_bootstrap})", flush=True)
    rec = Recorder(sampler)
    run = run_ranking("slice", SPARK, part, settings, rec, con)
    run["jvm_cpu_seconds"] = sum(_cpu_seconds(p) for p in jvm) - jvm_cpu0
    run["saved"] = _save_comparison(run, "spark")
    fig["ranking_slice"] = run
    fig["directory_as_events_table"] = _directory_accepted(str(SLICE.relative_to(ROOT)))
    fig["peak_rss_gb_sampled"] = sampler.stop()
    fig["peak_rss_gb_phases"] = sampler.phases
    fig["jvm_pids"] = jvm
    _stop_spark()
    fig["maxrss_gb_self"] = maxrss_gb(resource.RUSAGE_SELF)
    fig["maxrss_gb_children"] = maxrss_gb(resource.RUSAGE_CHILDREN)  # the JVM, once waited for
    fig["load_avg"] = {"before": load0, "after": os.getloadavg()}
    fig["library_sha"] = {"start": lib, "end": library_hash()}
    fig["library_path"] = str(Path(aggregate.__file__).parent)
    return fig


def _spark_version() -> str:
    import pyspark

    return pyspark.__version__


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _directory_accepted(folder: str) -> str:
    """Whether a Parquet directory (not a glob) is accepted as a Spark events_table."""
    try:
        load.load_inputs(SPARK, events_table=folder)
        return "accepted"
    except Exception as exc:  # an InputError is the expected finding
        return f"{type(exc).__name__}: {str(exc)[:200]}"


# --------------------------------------------------------------------------------------------
# The cross-engine check
# --------------------------------------------------------------------------------------------


def differences(a, b, path: str = "", out: list | None = None) -> list[tuple[str, object, object]]:
    """Paths where two JSON-like values differ (dict keys, list items, scalars)."""
    out = [] if out is None else out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            differences(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            differences(x, y, f"{path}[{i}]", out)
    elif a != b and not (isinstance(a, float) and isinstance(b, float) and a != a and b != b):
        out.append((path, a, b))
    return out


def _relative(x, y) -> float | None:
    """|x − y| relative to the larger magnitude, for two numbers; None otherwise."""
    numbers = (int, float)
    if isinstance(x, bool) or isinstance(y, bool):
        return None
    if not (isinstance(x, numbers) and isinstance(y, numbers)):
        return None
    return abs(x - y) / max(abs(x), abs(y), 1e-300)


def _numeric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of numbers (DuckDB's HUGEINT sums arrive as Decimal) as float."""
    out = frame.copy()
    for col in out.columns:
        if col != "user_id" and out[col].dtype == object:
            out[col] = out[col].astype(float)
    return out


def compare_engines(duck: dict, spark: dict, same_library: bool) -> dict:
    """The slice's ranking and per-user frame from DuckDB and from Spark.

    Exact: the ranking JSON without timings and fingerprint (as tests/test_engines.py compares
    them). Within RTOL: numbers may differ by rounding (summation order), nothing else may.
    """
    a = json.loads((ROOT / duck["ranking"]).read_text())
    b = json.loads((ROOT / spark["ranking"]).read_text())
    diffs = differences(a, b)
    rel = [_relative(x, y) for _, x, y in diffs]
    substantive = [d for d, r in zip(diffs, rel, strict=True) if r is None or r > RTOL]
    fa = pd.read_parquet(ROOT / duck["frame"]).sort_values("user_id").reset_index(drop=True)
    fb = pd.read_parquet(ROOT / spark["frame"]).sort_values("user_id").reset_index(drop=True)
    dtypes = {
        c: [str(fa[c].dtype), str(fb[c].dtype)]
        for c in fa.columns
        if c in fb and fa[c].dtype != fb[c].dtype
    }
    try:
        pd.testing.assert_frame_equal(
            _numeric_frame(fa), _numeric_frame(fb), check_dtype=False, check_exact=True
        )
        frame_msg = ""
    except AssertionError as exc:
        frame_msg = " ".join(str(exc).split())[:300]
    return {
        "same_library_code": same_library,
        "rankings_identical": not diffs,
        "rankings_equal_within_rtol": not substantive,
        "rtol": RTOL,
        "n_differences": len(diffs),
        "max_relative_numeric_difference": max((r for r in rel if r is not None), default=0.0),
        "substantive_differences": [[p, repr(x)[:90], repr(y)[:90]] for p, x, y in substantive],
        "first_differences": [[p, repr(x)[:90], repr(y)[:90]] for p, x, y in diffs[:10]],
        "frames_identical": not frame_msg,
        "frame_difference": frame_msg or None,
        "frame_dtypes_differ": dtypes,
        "frame_rows": [len(fa), len(fb)],
    }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(x, spec=".2f", width=10) -> str:
    return f"{'':>{width}}" if x is None else f"{x:>{width}{spec}}"


def print_table(fig: dict) -> None:
    d, env, c = fig["data"], fig["env"], fig["config"]
    duck, spark = fig["parts"].get("duckdb"), fig["parts"].get("spark")
    w, line = 58, "-" * 92
    print(
        f"\nNorth Star Lab engine benchmark: {d['n_users']:,} users, {d['n_events']:,} events in "
        f"{d['files']} Parquet files ({d['bytes'] / 1e9:.2f} GB), seed {c['seed']}; "
        f"{env['cpus']} CPUs, {env['ram_gb']:.0f} GB RAM"
    )
    lib = env["library"]
    dirty = f" + uncommitted {', '.join(lib['uncommitted'])}" if lib["uncommitted"] else ""
    print(
        f"library: {lib['at']} at commit {lib['git_commit']}{dirty}; "
        f"the parts ran a copy ({lib['snapshot']}/)"
    )
    loads = ", ".join(f"{k} {v:.1f}" for k, v in fig["load_average"].items())
    print(f"load average (1 min): {loads}   (the machine is shared)")
    if duck:
        s = duck["duckdb_settings"]
        print(
            f"DuckDB {env['duckdb']} (ibis {env['ibis']}): memory_limit {s['memory_limit']} "
            f"({'set by the benchmark' if c['duckdb_memory_limit'] else 'as the library sets it'}"
            f"), threads {s['threads']}, temp_directory {s['temp_directory']}"
        )
        print(f"settings: {c['bootstrap_note']}")
        print(
            f"(NORTHSTAR_DUCKDB_MEMORY={os.environ.get('NORTHSTAR_DUCKDB_MEMORY', '(unset)')}, "
            f"NORTHSTAR_SPARK_MEMORY={os.environ.get('NORTHSTAR_SPARK_MEMORY', '(unset)')})"
        )
    print(line)
    print(f"{'figure':<{w}}{'wall s':>10}{'CPU s':>10}{'peak GB':>10}")
    print(line)
    g = fig["generation"]
    label = f"data: write {d['files']} files chunk by chunk" + (" (cached)" if g["cached"] else "")
    peak = None if g["cached"] else g["maxrss_gb"]  # the peak of this process: the writing
    print(f"{label:<{w}}{_fmt(g['seconds'])}{'':>10}{_fmt(peak)}")
    if duck:
        fl, fu, fa = duck["floor_used"], duck["floor_by_user"], duck.get("floor_after")
        rf = duck["ranking_full"]
        t, res = rf["seconds"], rf["result"]
        print(line)
        peak_floor = duck["peak_rss_gb_phases"].get("floor", {}).get("self")
        rows = [
            (
                "(f) floor: read_parquet + GROUP BY user_id, event",
                fl["seconds"],
                fl["cpu_seconds"],
                peak_floor,
            ),
            ("      fastest run before the ranking", duck["floor"]["seconds"], None, None),
            ("      fastest run after the ranking", fa["seconds"] if fa else None, None, None),
            ("    (info) read_parquet + GROUP BY user_id", fu["seconds"], fu["cpu_seconds"], None),
            (
                f"(d) DuckDB ranking, all {res['events'] / 1e6:.1f}M events, total",
                t["total"],
                rf["cpu_seconds_this_process"],
                rf["peak_rss_gb"]["analyse"]["self"],
            ),
            (
                "      load_inputs: open, validate, count types",
                t["load"],
                None,
                rf["peak_rss_gb"]["load"]["self"],
            ),
            ("        of which engine queries", t["load_queries"], None, None),
            ("        of which sha256 of the files (fingerprint)", t["load_sha256"], None, None),
            ("      aggregate: per_user_frame (one row per user)", t["aggregate"], None, None),
            ("        of which engine queries", t["aggregate_queries"], None, None),
            ("      = aggregation (load + aggregate)", t["load_plus_aggregate"], None, None),
            ("      statistics: outcomes, candidates, ranking, gaps", t["statistics"], None, None),
            (
                f"        rank_candidates (B = {res['n_bootstrap']})",
                t["rank_candidates"],
                None,
                None,
            ),
            *[(f"          {k}", v, None, None) for k, v in rf["rank_timings"].items()],
            ("        gap sensitivity (3 quick rankings)", t["gap_sensitivity"], None, None),
        ]
        for label, wall, cpu, peak in rows:
            print(f"{label:<{w}}{_fmt(wall)}{_fmt(cpu)}{_fmt(peak)}")
        print(line)
        r = fig["ratios"]
        for label, key, target, ok in (
            (
                f"ratio (d) / (f)  (target ≤ {TARGET_RATIO:g})",
                "duckdb_total_over_floor",
                "",
                fig["targets"]["ratio_met"],
            ),
            ("ratio aggregation / (f)", "duckdb_aggregation_over_floor", "", None),
            ("ratio statistics / (f)", "duckdb_statistics_over_floor", "", None),
        ):
            mark = "" if ok is None else ("PASS" if ok else "FAIL")
            cpu = f"{r[key + '_cpu']:>10.2f}" if key + "_cpu" in r else f"{'':>10}"
            print(f"{label:<{w}}{r[key]:>10.2f}{cpu}{'':>10}  {mark}{target}")
        ok = "PASS" if fig["targets"]["seconds_met"] else "FAIL"
        print(
            f"{'(d) absolute (target < ' + f'{TARGET_SECONDS:g} s)':<{w}}{t['total']:>10.1f}"
            f"{'':>20}  {ok}"
        )
        print(
            f"ranking: {res['n_users']:,} users in the analysis ({res['n_churned']:,} churned), "
            f"{res['ranked']} results, leader {res['leader']}, sample fraction "
            f"{res['sample_fraction']}"
        )
    if spark or (duck and "ranking_slice" in duck):
        sl = fig["slice"]
        print(line)
        print(
            f"slice: {sl['n_users']:,} whole users (first {sl['files']} files), "
            f"{sl['n_events']:,} events"
        )
        if spark:
            rs = spark["ranking_slice"]
            t = rs["seconds"]
            ph = rs["peak_rss_gb"]["analyse"]
            print(
                f"{'(s) Spark session start (not in (s))':<{w}}"
                f"{_fmt(spark['session_start_seconds'])}"
            )
            rows = [
                (
                    "(s) Spark local[2] ranking, total (CPU s: the JVM)",
                    t["total"],
                    rs["jvm_cpu_seconds"],
                    ph["tree"],
                ),
                ("      load_inputs", t["load"], None, None),
                ("      aggregate (per_user_frame)", t["aggregate"], None, None),
                ("      statistics", t["statistics"], None, None),
            ]
            for label, wall, cpu, peak in rows:
                print(f"{label:<{w}}{_fmt(wall)}{_fmt(cpu)}{_fmt(peak)}")
        if duck and "ranking_slice" in duck:
            rd = duck["ranking_slice"]
            t = rd["seconds"]
            rows = [
                (
                    "(s') DuckDB ranking on the same slice, total",
                    t["total"],
                    rd["cpu_seconds_this_process"],
                    None,
                ),
                ("      load_inputs", t["load"], None, None),
                ("      aggregate (per_user_frame)", t["aggregate"], None, None),
                ("      statistics", t["statistics"], None, None),
            ]
            for label, wall, cpu, peak in rows:
                print(f"{label:<{w}}{_fmt(wall)}{_fmt(cpu)}{_fmt(peak)}")
        r = fig["ratios"]
        if "spark_over_duckdb_slice" in r:
            print(f"{'ratio (s) / (s′) total':<{w}}{r['spark_over_duckdb_slice']:>10.2f}")
            print(
                f"{'ratio (s) / (s′) aggregation (load + aggregate)':<{w}}"
                f"{r['spark_over_duckdb_slice_aggregation']:>10.2f}"
            )
        cmp = fig.get("engines_compared")
        if cmp:
            print(
                f"{'rankings identical (without timings, fingerprint)':<{w}}"
                f"{str(cmp['rankings_identical']):>10}"
            )
            print(
                f"{'rankings equal, numbers to rel. ' + f'{RTOL:g}':<{w}}"
                f"{str(cmp['rankings_equal_within_rtol']):>10}"
                f"   (max rel. difference {cmp['max_relative_numeric_difference']:.1e})"
            )
            print(f"{'per-user frames identical (values)':<{w}}{str(cmp['frames_identical']):>10}")
            for p, x, y in cmp["substantive_differences"][:6]:
                print(f"    differs at {p}: DuckDB {x} vs Spark {y}")
            if not cmp["same_library_code"]:
                print("    WARNING: the two parts did not run the same library code (the copy")
                print("    was edited during the run?), so this check is void.")
            if cmp["frame_dtypes_differ"]:
                cols = ", ".join(sorted(cmp["frame_dtypes_differ"]))
                pair = next(iter(cmp["frame_dtypes_differ"].values()))
                print(f"    frame dtypes differ (DuckDB {pair[0]} vs Spark {pair[1]}): {cols}")
        if spark:
            print(
                f"Spark events_table as a directory ({SLICE.name}, no glob): "
                f"{spark['directory_as_events_table']}"
            )
    print(line)
    print(f"{'peak memory (GB)':<{w}}{'ru_maxrss':>10}{'children':>10}{'sampled':>10}")
    for name, part in fig["parts"].items():
        print(
            f"{'  ' + name + ' part: process / JVM (children) / tree sum':<{w}}"
            f"{part['maxrss_gb_self']:>10.2f}{part['maxrss_gb_children']:>10.2f}"
            f"{part['peak_rss_gb_sampled']['tree']:>10.2f}"
        )
    ok = "PASS" if fig["targets"]["memory_met"] else "FAIL"
    print(
        f"{'  largest (target < ' + f'{TARGET_PEAK_GB:g} GB)':<{w}}"
        f"{fig['peak_memory_gb']:>10.2f}{'':>20}  {ok}"
    )
    if duck:
        print(line)
        print("slowest engine queries of the DuckDB ranking (wall s, rows returned, step):")
        qs = sorted(duck["ranking_full"]["queries"], key=lambda q: -q["seconds"])
        for q in qs[:8]:
            rows = "cached" if q.get("kind") == "cache" else f"{q['rows']:,}"
            print(f"  {q['seconds']:>8.2f}  {rows:>10}  {q['step'][:66]}")
        for ex in duck.get("explain", []):
            head = f"EXPLAIN ANALYZE, {ex['kind']} in step '{ex['step'][:50]}'"
            if "error" in ex:
                print(f"{head}: failed: {ex['error']}")
                continue
            print(
                f"{head}: {ex['latency']:.1f} s latency, {ex['cpu_time']:.1f} CPU s, "
                f"buffer peak {ex['peak_buffer_memory_gb']:.2f} GB, spilled "
                f"{ex['peak_temp_dir_gb']:.2f} GB; costliest operators (CPU s, all threads):"
            )
            for op in sorted(ex["operators"], key=lambda o: -o["seconds"])[:8]:
                print(
                    f"  {op['seconds']:>8.2f}  {op['rows']:>12,}  {op['operator']:<16}"
                    f"{op['detail'][:60]}"
                )
            print(f"  (full profile: {ex['profile_file']})")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = AnalysisSettings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--users",
        type=int,
        default=DEFAULT_USERS,
        help="synthetic users (Lumen Learn); other sizes than the default get their own folder",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the generator (sample.py's)")
    p.add_argument("--chunk-users", type=int, default=20_000, help="users per Parquet file")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=defaults.n_bootstrap,
        help=f"resamples (default: AnalysisSettings().n_bootstrap = {defaults.n_bootstrap})",
    )
    p.add_argument("--skip-spark", action="store_true", help="no Spark part, no slice")
    p.add_argument(
        "--spark-users",
        type=int,
        default=None,
        help=f"users in the Spark slice, rounded up to whole files (default: the first files "
        f"holding ≥ {SLICE_EVENTS / 1e6:g}M events)",
    )
    p.add_argument(
        "--floor-repeat",
        type=int,
        default=3,
        help="floor runs before and again after the ranking; the fastest counts",
    )
    p.add_argument(
        "--duckdb-memory-limit",
        default=None,
        help="SET memory_limit on the library's DuckDB connection, e.g. 6GB (default: leave "
        "what the library configures)",
    )
    p.add_argument(
        "--no-explain",
        dest="explain",
        action="store_false",
        help="skip EXPLAIN ANALYZE of the slowest aggregation query (it runs it once more)",
    )
    p.add_argument(
        "--library-at",
        choices=("worktree", "HEAD"),
        default="worktree",
        help="the library the parts run: a copy of the working tree (default) or of HEAD",
    )
    p.add_argument("--part", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.users < 1000 or args.chunk_users < 1 or args.bootstrap < 0 or args.floor_repeat < 1:
        p.error("need ≥ 1000 users, ≥ 1 user per chunk, ≥ 0 resamples and ≥ 1 floor run")
    return args


def _dirty_library_files() -> list[str]:
    """Library files with uncommitted changes: the timings are of the working tree, not HEAD."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "northstar_lab"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return [line[3:] for line in out.stdout.splitlines()]
    except OSError:
        return []


def _ram_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB


def _strip(part: dict) -> dict:
    """A part's figures for the JSON: the query log keeps SQL only for the slowest queries."""
    for key in ("ranking_full", "ranking_slice"):
        run = part.get(key)
        if not run:
            continue
        slow = sorted(range(len(run["queries"])), key=lambda i: -run["queries"][i]["seconds"])[:3]
        for i, q in enumerate(run["queries"]):
            if i not in slow:
                q.pop("sql", None)
    return part


def main(argv: list[str] | None = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    os.chdir(ROOT)  # the data globs are relative to the repository root
    use_folders(args.users)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if args.part:
        fig = part_duckdb(args) if args.part == "duckdb" else part_spark(args)
        path = OUT_DIR / f"bench_engines.{args.part}.json"
        path.write_text(json.dumps(fig, indent=1, default=str) + "\n")
        return fig

    load_avg = {"start": os.getloadavg()[0]}
    print(f"Step 1: {args.users:,} users' events → {DATA.relative_to(ROOT)}/ (cached)", flush=True)
    gen = write_events(DATA, args.users, args.seed, args.chunk_users)
    write_events(WARM, WARM_UP_USERS, args.seed, WARM_UP_USERS, say=None)
    gen_peak = maxrss_gb(resource.RUSAGE_SELF)
    slc = None if args.skip_spark else write_slice(gen, DATA, SLICE, args.spark_users)
    load_avg["after_data"] = os.getloadavg()[0]

    library = snapshot_library(args.library_at)
    parts: dict[str, dict] = {}
    for name in ("duckdb", "spark"):
        if name == "spark" and args.skip_spark:
            continue
        print(f"Running the {name} part in its own process", flush=True)
        path = OUT_DIR / f"bench_engines.{name}.json"
        path.unlink(missing_ok=True)
        t = time.perf_counter()
        rc = subprocess.run(
            [sys.executable, __file__, *argv, "--part", name],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(SNAPSHOT)},
        ).returncode
        if rc != 0 or not path.exists():
            raise SystemExit(f"the {name} part failed (exit code {rc})")
        parts[name] = json.loads(path.read_text())
        parts[name]["process_wall_seconds"] = time.perf_counter() - t
        load_avg[f"after_{name}"] = os.getloadavg()[0]

    duck, spark = parts.get("duckdb"), parts.get("spark")
    ratios, targets = {}, {}
    if duck:
        t = duck["ranking_full"]["seconds"]
        runs = [duck["floor"], duck.get("floor_after") or duck["floor"]]
        floor = min(f["seconds"] for f in runs)
        floor_cpu = min(f["cpu_seconds"] for f in runs)
        duck["floor_used"] = {"seconds": floor, "cpu_seconds": floor_cpu}
        ratios.update(
            duckdb_total_over_floor=t["total"] / floor,
            duckdb_total_over_floor_cpu=duck["ranking_full"]["cpu_seconds_this_process"]
            / floor_cpu,
            duckdb_aggregation_over_floor=t["load_plus_aggregate"] / floor,
            duckdb_statistics_over_floor=t["statistics"] / floor,
            duckdb_floor_by_user_over_floor=duck["floor_by_user"]["seconds"] / floor,
        )
        targets["ratio_met"] = ratios["duckdb_total_over_floor"] <= TARGET_RATIO
        targets["seconds_met"] = t["total"] < TARGET_SECONDS
    compared = None
    if duck and spark:
        ts, td = spark["ranking_slice"]["seconds"], duck["ranking_slice"]["seconds"]
        ratios["spark_over_duckdb_slice"] = ts["total"] / td["total"]
        ratios["spark_over_duckdb_slice_aggregation"] = (
            ts["load_plus_aggregate"] / td["load_plus_aggregate"]
        )
        libs = {duck["library_sha"]["start"], duck["library_sha"]["end"]}
        libs |= {spark["library_sha"]["start"], spark["library_sha"]["end"], library["sha"]}
        compared = compare_engines(
            duck["ranking_slice"]["saved"], spark["ranking_slice"]["saved"], len(libs) == 1
        )
    peak = max(
        [gen_peak]
        + [
            max(p["maxrss_gb_self"], p["maxrss_gb_children"], p["peak_rss_gb_sampled"]["tree"])
            for p in parts.values()
        ]
    )
    targets["memory_met"] = peak < TARGET_PEAK_GB

    import duckdb
    import ibis

    fig = {
        "benchmark": "bench_engines",
        "config": {
            "users": args.users,
            "seed": args.seed,
            "chunk_users": args.chunk_users,
            "bootstrap": args.bootstrap,
            "bootstrap_note": f"AnalysisSettings(revenue_event='{REVENUE_EVENT}', "
            f"n_bootstrap={args.bootstrap}), other fields default",
            "floor_repeat": args.floor_repeat,
            "duckdb_memory_limit": args.duckdb_memory_limit,
            "skip_spark": args.skip_spark,
            "spark_users": args.spark_users,
        },
        "data": {
            "folder": str(DATA.relative_to(ROOT)),
            "n_users": gen["n_users"],
            "n_events": gen["n_events"],
            "files": len(gen["files"]),
            "bytes": folder_bytes(DATA),
        },
        "generation": {"cached": gen["cached"], "seconds": gen["seconds"], "maxrss_gb": gen_peak},
        "slice": None
        if slc is None
        else {
            "folder": str(SLICE.relative_to(ROOT)),
            "n_users": slc["n_users"],
            "n_events": slc["n_events"],
            "files": len(slc["files"]),
            "bytes": folder_bytes(SLICE),
        },
        "parts": {k: _strip(v) for k, v in parts.items()},
        "ratios": ratios,
        "targets": targets,
        "peak_memory_gb": peak,
        "engines_compared": compared,
        "load_average": load_avg,
        "env": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "pyarrow": pa.__version__,
            "duckdb": duckdb.__version__,
            "ibis": ibis.__version__,
            "pyspark": spark.get("spark_version") if spark else None,
            "cpus": os.cpu_count(),
            "ram_gb": _ram_gb(),
            "machine": platform.machine(),
            "library": library,
        },
    }
    fig["load_average"]["end"] = os.getloadavg()[0]
    print_table(fig)
    OUT.write_text(json.dumps(fig, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"figures written to {OUT.relative_to(ROOT)}")
    return fig


if __name__ == "__main__":
    main()
