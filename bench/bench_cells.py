"""Benchmark: what leaves the engine when statistics are pushed into it (issue 14 §2).

For the three most frequent count candidates, the survival cells (day since the landmark,
value, churned, users) are counted in the engine over *all* users (`data/cells.py`) and the
Cox fit, C and retention computed from them. Printed per size: users, events, rows that left
the engine (cells per candidate, against one row per user), engine seconds per candidate.
Run at two sizes of the benchmark log on one engine to check the cost model in
bench/README.md: the rows that leave stay bounded (days × values × 2) while users grow.

    python bench/bench_cells.py --engine spark --files 1 4
    python bench/bench_cells.py --engine duckdb --files 1 4 16
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchlib import ROOT

from northstar_lab.data import cells as engine_cells
from northstar_lab.data.aggregate import per_user_frame
from northstar_lab.data.load import load_inputs

DATA = ROOT / "bench" / "out" / "events_100m"  # written by bench_engines.py
OUT = ROOT / "bench" / "out" / "bench_cells.json"


def measure(engine: str, files: int, data: Path = DATA) -> dict:
    paths = sorted(data.glob("part-*.parquet"))[:files]
    if len(paths) < files:
        raise SystemExit(
            f"{data} holds {len(paths)} part files, {files} asked: write the log with "
            "bench/bench_engines.py first (--users N for another size)"
        )
    folder = ROOT / "bench" / "out" / f"cells_{data.name}_{files}files"
    folder.mkdir(parents=True, exist_ok=True)
    for p in paths:
        link = folder / p.name
        if not link.exists():
            link.hardlink_to(p)
    pattern = str((folder / "*.parquet").relative_to(ROOT))
    source = pattern if engine == "duckdb" else "spark://local[2]"
    table = None if engine == "duckdb" else pattern
    t0 = time.perf_counter()
    loaded = load_inputs(source, events_table=table)
    uf = per_user_frame(loaded.events, loaded.check, window_days=14, horizon_days=90,
                        gaps=(30,), revenue_event="payment", max_users=1000)  # fmt: skip
    t_agg = time.perf_counter() - t0
    t = time.perf_counter()
    rows = engine_cells.landmark_rows(uf.population, gap=30, window_days=14).cache()
    n_users = int(uf.population.count().to_pandas())
    t_rows = time.perf_counter() - t
    out = {"engine": engine, "files": files, "users": n_users, "events": loaded.check.n_rows,
           "aggregate_seconds": t_agg, "per_user_table_seconds": t_rows,
           "candidates": []}  # fmt: skip
    for col, name in list(uf.event_columns.items())[:6:2]:
        t = time.perf_counter()
        cells = engine_cells.engine_cells(rows, col)
        seconds = time.perf_counter() - t
        figures = engine_cells.engine_figures(cells, col, col, 90)
        out["candidates"].append(
            {
                "name": name,
                "rows_left_engine": figures.cells,
                "landmark_users": figures.n,
                "engine_seconds": seconds,
                "c_index": figures.c_index,
                "hazard_ratio": figures.hazard_ratio,
            }  # fmt: skip
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=("duckdb", "spark"), default="spark")
    p.add_argument("--files", type=int, nargs="+", default=[1, 4])
    p.add_argument("--data", type=Path, default=DATA,
                   help="folder of part-*.parquet written by bench_engines.py (default: the "
                   "2M-user log; e.g. bench/out/events_500000users)")  # fmt: skip
    args = p.parse_args()
    runs = [measure(args.engine, f, args.data.resolve()) for f in args.files]
    print(f"{'engine':<8}{'users':>10}{'events':>12}{'candidate':>28}{'cells out':>11}"
          f"{'users':>10}{'seconds':>9}")  # fmt: skip
    for r in runs:
        print(
            f"{r['engine']}, {r['users']:,} users: aggregation {r['aggregate_seconds']:.1f} s, "
            f"per-user table in the engine {r['per_user_table_seconds']:.1f} s"
        )
    for r in runs:
        for c in r["candidates"]:
            print(f"{r['engine']:<8}{r['users']:>10,}{r['events']:>12,}{c['name'][:26]:>28}"
                  f"{c['rows_left_engine']:>11,}{c['landmark_users']:>10,}"
                  f"{c['engine_seconds']:>9.2f}")  # fmt: skip
    OUT.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
