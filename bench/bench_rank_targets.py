"""Issue 14 §4's ranking targets, measured in one run (imported by bench_rank.py --targets).

(u) 50 users-table candidates × 100k users: the whole CLI process
    (`python -m northstar_lab rank --users X.csv …`, default bootstrap, its own stability check)
    vs a whole lifelines process fitting `CoxPHFitter().fit(df[[c, T, E]], batch_mode=True)`
    for each of the 50 columns, on the same CSV. Target: ratio ≤ 0.25.
(e) 50 event candidates × 1M users, `rank_candidates` with the default stability check
    (influence functions above 20k users) and PH check. Target: under 10 s.

Both sides are timed in the same run (wall and CPU seconds of the child processes); the
machine may be shared, so read the ratios, and CPU beside wall.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
USERS_TARGET = 0.25
EVENTS_TARGET_SECONDS = 10.0


def users_table(n: int, k: int, seed: int) -> pd.DataFrame:
    """n users: tenure in days with a churn flag, k numeric behaviour columns (half
    continuous, half counts) driven by shared factors; two of them move the hazard."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, 5))
    cols = {}
    for j in range(k):
        base = 0.6 * f[:, j % 5] + 0.8 * rng.standard_normal(n)
        cols[f"x{j:02d}"] = np.round(base, 4) if j % 2 == 0 else rng.poisson(np.exp(1 + base / 2))
    lp = -0.3 * cols["x00"] - 0.2 * np.log1p(cols["x01"])
    t = rng.exponential(200 * np.exp(-lp))
    follow = rng.uniform(30, 700, n)
    return pd.DataFrame(
        {
            "user_id": [f"u{i:07d}" for i in range(n)],
            "tenure_days": np.floor(np.minimum(t, follow)),
            "churned": (t <= follow).astype(int),
            **cols,
        }
    )


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_process(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process, start to exit."""
    cpu0, wall0 = _child_cpu(), time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - wall0, _child_cpu() - cpu0


LIFELINES = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from lifelines import CoxPHFitter
    df = pd.read_csv(sys.argv[1])
    for col in [c for c in df.columns if c.startswith("x")]:
        CoxPHFitter().fit(df[[col, "tenure_days", "churned"]], "tenure_days", "churned",
                          batch_mode=True)
    """
)


def users_target(n: int = 100_000, k: int = 50, seed: int = 3) -> dict:
    """(u): whole CLI process vs whole lifelines process on the same CSV."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"users_{n}x{k}.csv"
    if not path.exists():
        users_table(n, k, seed).to_csv(path, index=False)
    cli = [sys.executable, "-m", "northstar_lab", "rank", "--users", str(path),
           "--duration-col", "tenure_days", "--event-col", "churned", "--quiet",
           "--json", str(OUT_DIR / "bench_rank_users.json")]  # fmt: skip
    ours = run_process(cli)
    theirs = run_process([sys.executable, "-c", LIFELINES, str(path)])
    return {
        "users": n,
        "candidates": k,
        "cli_seconds": ours[0],
        "cli_cpu_seconds": ours[1],
        "lifelines_seconds": theirs[0],
        "lifelines_cpu_seconds": theirs[1],
        "ratio": ours[0] / theirs[0],
        "ratio_cpu": ours[1] / theirs[1],
        "target": USERS_TARGET,
        "met": ours[0] / theirs[0] <= USERS_TARGET,
    }


def events_target(make_data, ranking, settings, n: int = 1_000_000, k: int = 50) -> dict:
    """(e): rank_candidates on 50 event candidates × 1M users, default stability check."""
    candidates, outcomes = make_data(n, k, 1, settings)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = ranking.rank_candidates(candidates, outcomes, settings=settings)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "users": n,
        "candidates": k,
        "results": len(result.candidates),
        "seconds": wall,
        "cpu_seconds": cpu,
        "timings": result.timings,
        "stability": result.data.stability_method,
        "target_seconds": EVENTS_TARGET_SECONDS,
        "met": wall < EVENTS_TARGET_SECONDS,
    }


def print_targets(fig: dict) -> None:
    u, e = fig.get("users_table"), fig.get("events")
    line = "-" * 78
    print(line)
    if u:
        print(
            f"(u) {u['candidates']} users-table candidates × {u['users']:,} users, whole processes"
        )
        print(
            f"    CLI rank            {u['cli_seconds']:8.2f} s wall "
            f"{u['cli_cpu_seconds']:8.2f} s CPU"
        )
        print(
            f"    lifelines ×{u['candidates']} batch {u['lifelines_seconds']:8.2f} s wall "
            f"{u['lifelines_cpu_seconds']:8.2f} s CPU"
        )
        print(
            f"    ratio (target ≤ {u['target']:g})  {u['ratio']:8.3f} wall "
            f"{u['ratio_cpu']:8.3f} CPU"
            f"  {'PASS' if u['met'] else 'FAIL'}"
        )
    if e:
        print(f"(e) {e['candidates']} event candidates × {e['users']:,} users, {e['stability']}")
        print(
            f"    rank_candidates     {e['seconds']:8.2f} s wall {e['cpu_seconds']:8.2f} s CPU"
            f"  (target < {e['target_seconds']:g} s) {'PASS' if e['met'] else 'FAIL'}"
        )
        print("    " + ", ".join(f"{k} {v:.2f}" for k, v in e["timings"].items()))
