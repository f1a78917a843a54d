"""Rank stability on the bundled sample: the bootstrap's per-candidate draws on one thread
(baseline) vs `WORKER_THREADS` (both cores of a small box), in the same run.

    python bench/bench_stability.py [--repeat 3]

Prints wall and CPU seconds of `analyse` and of its stability step for each, their ratio, and
checks that the draws do not depend on the number of threads (P(first), median rank and score
CIs equal). Issue 12's target is sample click → leaderboard under 5 s; the stability step was
the largest part of the sample's analysis (4.5 of 6.7 s on one thread).
"""

from __future__ import annotations

import argparse
import statistics
import time

import benchlib  # noqa: F401  (the checkout's library first)

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.ranking import stability
from northstar_lab.settings import AnalysisSettings

SAMPLE = benchlib.ROOT / "sample_data"


def run(loaded, threads: int) -> tuple[float, float, float, list]:
    stability.WORKER_THREADS = threads
    wall, cpu = time.perf_counter(), time.process_time()
    an = analyse(loaded, AnalysisSettings(revenue_event="payment"))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    figures = [(c.key, c.p_first, c.median_rank, c.score_ci_low, c.score_ci_high)
               for c in an.ranking.candidates]  # fmt: skip
    return wall, cpu, an.ranking.timings["stability"], figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    loaded = load_inputs(str(SAMPLE / "events.parquet"), str(SAMPLE / "users.csv"))
    threads = stability.WORKER_THREADS
    runs: dict[int, list] = {1: [], threads: []}
    for _ in range(args.repeat):  # interleaved, so machine load hits both alike
        for t in runs:
            runs[t].append(run(loaded, t))
    base = runs[1]
    assert all(r[3] == base[0][3] for rs in runs.values() for r in rs), "draws changed"
    for t, rs in runs.items():
        wall = statistics.median(r[0] for r in rs)
        cpu = statistics.median(r[1] for r in rs)
        stab = statistics.median(r[2] for r in rs)
        print(f"threads={t}: analyse wall {wall:.2f} s, CPU {cpu:.2f} s; stability {stab:.2f} s")
    if threads > 1:
        ratio = statistics.median(r[2] for r in runs[threads]) / statistics.median(
            r[2] for r in base
        )
        wall = statistics.median(r[0] for r in runs[threads]) / statistics.median(
            r[0] for r in base
        )
        print(f"ratio vs one thread: stability {ratio:.2f}, analyse wall {wall:.2f} "
              "(same draws: checked)")  # fmt: skip


if __name__ == "__main__":
    main()
