"""Benchmark: memory for an event log with millions of distinct event names (issue 11 item 8).

Writes a log where almost every row has its own event name (3,000,000 distinct names by
default, plus a few real ones), then runs `load_inputs` and the aggregation to one row per
user in a child process and reports its peak RSS (VmHWM of the child's own address space: on
Linux ru_maxrss survives exec, so a child forked from this 1.4 GB data-writing process would
report the writer's size as its own). Target: under 1 GB. Run with
`--library PATH` to measure another copy of the library (e.g. the commit before the limit).

    python bench/bench_names.py                     # 3,000,000 distinct names
    python bench/bench_names.py --names 300000      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from benchlib import ROOT

OUT_DIR = ROOT / "bench" / "out"
TARGET_GB = 1.0

CHILD = """
import json, resource, sys, time

def peak_gb():
    # VmHWM: the high-water RSS of this address space (reset at exec)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9

t = time.perf_counter()
from northstar_lab.data.load import load_inputs
from northstar_lab.data.aggregate import per_user_frame
loaded = load_inputs(sys.argv[1])
uf = per_user_frame(loaded.events, loaded.check, window_days=14, horizon_days=90, gaps=(30,))
print(json.dumps({"seconds": time.perf_counter() - t,
                  "peak_gb": peak_gb(),
                  "names_in_memory": len(loaded.event_counts),
                  "distinct_names": loaded.check.n_event_types,
                  "users": len(uf.data), "candidates": len(uf.event_columns) // 2}))
"""


def write_log(n_names: int, seed: int = 1) -> str:
    path = OUT_DIR / f"names_{n_names}.parquet"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(seed)
    users = 20_000
    n_real = 200_000
    start = pd.Timestamp("2025-01-01").value // 10**9
    ts = start + rng.integers(0, 200 * 86_400, n_names + n_real)
    names = np.concatenate(
        [
            np.char.add("e_", np.arange(n_names).astype(str)),
            rng.choice(["login", "lesson", "quiz"], n_real),
        ]  # fmt: skip
    )
    frame = pd.DataFrame(
        {
            "user_id": np.char.add("u", rng.integers(0, users, names.size).astype(str)),
            "timestamp": pd.to_datetime(ts, unit="s"),
            "event": names,
        }
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False, coerce_timestamps="us")
    return str(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--names", type=int, default=3_000_000)
    p.add_argument("--library", default=str(ROOT), help="folder holding northstar_lab/")
    args = p.parse_args()
    path = write_log(args.names)
    env = {**os.environ, "PYTHONPATH": args.library}
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, path], env=env, capture_output=True,
                          text=True, cwd=args.library)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    fig = json.loads(done.stdout.strip().splitlines()[-1])
    fig["maxrss_children_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9
    fig["wall_seconds"] = time.perf_counter() - t
    fig["library"] = args.library
    fig["met"] = fig["peak_gb"] < TARGET_GB
    print(json.dumps(fig, indent=1))
    print(f"peak {fig['peak_gb']:.2f} GB for {fig['distinct_names']:,} distinct names "
          f"(target < {TARGET_GB:g} GB): {'PASS' if fig['met'] else 'FAIL'}")  # fmt: skip
    (OUT_DIR / "bench_names.json").write_text(json.dumps(fig, indent=1) + "\n")


if __name__ == "__main__":
    main()
