"""The benchmarks still run against today's library (tiny sizes; no figure is judged here).

A benchmark is only read when someone needs its figures, so a library change that breaks one
(a result that became a typed object, a renamed field) went unseen until then: bench_engines and
bench_rank_targets both still called `RankingResult.data.get(...)` after `DataInfo` was typed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture()
def bench_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import bench_cells
    import bench_rank
    import bench_rank_targets

    yield bench_rank, bench_rank_targets, bench_cells
    for name in ("bench_cells", "bench_rank", "bench_rank_targets", "benchlib"):
        sys.modules.pop(name, None)


def test_rank_targets_run_on_a_small_population(bench_modules):
    bench_rank, targets, _ = bench_modules
    settings = bench_rank.AnalysisSettings(n_bootstrap=10)
    fig = targets.events_target(bench_rank.make_data, bench_rank.ranking, settings, n=3000, k=4)
    assert fig["users"] == 3000 and fig["results"] >= 4
    assert "bootstrap" in fig["stability"]  # the method the ranking reports it used
    assert fig["seconds"] > 0 and "total" in fig["timings"]


def test_cells_benchmark_runs_on_the_sample_log(bench_modules, tmp_path):
    """bench_cells slices a folder of part files: here one file, the bundled sample's log."""
    *_, cells = bench_modules
    (tmp_path / "part-0000.parquet").symlink_to(BENCH.parent / "sample_data" / "events.parquet")
    try:
        run = cells.measure("duckdb", 1, tmp_path)
    finally:  # the benchmark links the slice under bench/out/: leave nothing behind
        shutil.rmtree(BENCH / "out" / f"cells_{tmp_path.name}_1files", ignore_errors=True)
    assert run["users"] > 1000 and run["events"] > 100_000
    assert len(run["candidates"]) == 3
    for c in run["candidates"]:
        assert 0 < c["rows_left_engine"] < c["landmark_users"]  # cells, not one row per user
        assert 0.5 < c["c_index"] < 1
