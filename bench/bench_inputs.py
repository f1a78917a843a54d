"""Benchmark: the input-metrics analysis for 200,000 users × 10 inputs (issue 13).

Target: `northstar_lab.inputs.analyse_inputs` (the later North Star measured in the engine, the
user-level lead with cohorts, the weekly series with block-bootstrap CIs, eight past experiments)
takes under 10 s for 200k users and 10 inputs. The ranking the inputs analysis starts from is timed
too, for scale, but is not part of the target. Baseline in the same run: the same ten lead
regressions fitted one by one with statsmodels (OLS, HC1), whose coefficients and SEs must equal
ours — a fast fit that is wrong is worthless.

    python bench/bench_inputs.py                    # 200,000 users (the data is cached)
    python bench/bench_inputs.py --users 20000      # a quick look

Data: the Lumen Learn generator (`northstar_lab.sample`), written once to
bench/out/inputs_<n>users/ (events in Parquet parts, users.csv, assignments.csv). Prints a table
and writes bench/out/bench_inputs.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from benchlib import ROOT, git_commit

sys.path.insert(0, str(ROOT))

from northstar_lab.analysis import analyse  # noqa: E402
from northstar_lab.data.load import load_inputs  # noqa: E402
from northstar_lab.inputs import measure  # noqa: E402
from northstar_lab.inputs.analyse import analyse_inputs, resolve_inputs  # noqa: E402
from northstar_lab.inputs.define import north_star_spec  # noqa: E402
from northstar_lab.inputs.lead import group_indicators, level_controls  # noqa: E402
from northstar_lab.sample.simulate import events_frame, simulate_block  # noqa: E402
from northstar_lab.sample.spec import make_spec  # noqa: E402
from northstar_lab.settings import AnalysisSettings  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_SECONDS = 10.0
NORTH_STAR = "count:lesson_completed"
INPUTS = [
    "count:goal_set",
    "count:streak_viewed",
    "count:lesson_started",
    "count:video_watched",
    "count:quiz_taken",
    "count:note_created",
    "days:login",
    "reached:invite_sent",
    "share:lesson_completed/lesson_started",
    "baseline:active_days",
]
FORMAT = 1


def write_data(n_users: int, seed: int) -> Path:
    """Lumen Learn for n users, block by block (cached by a manifest written last)."""
    folder = OUT / f"inputs_{n_users}users"
    manifest = folder / "manifest.json"
    want = {"format": FORMAT, "n_users": n_users, "seed": seed}
    if manifest.exists() and json.loads(manifest.read_text()) == want:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    spec = make_spec(n_users, seed, "2025-01-01", 365, "2026-03-31", False, 0)
    users, assignments = [], []
    t0 = time.perf_counter()
    for b in range(spec.n_blocks):
        block = simulate_block(spec, b)
        lo, hi = b * spec.block_users, min((b + 1) * spec.block_users, n_users)
        events = events_frame(spec, [block], lo, hi)
        pq.write_table(
            pa.Table.from_pandas(events, preserve_index=False),
            folder / f"part-{b:04d}.parquet",
            compression="zstd",
            use_dictionary=["user_id", "event"],
            coerce_timestamps="us",
        )
        users.append(block.users)
        assignments.append(block.assignments)
    pd.concat(users).to_csv(folder / "users.csv", index=False)
    pd.concat(assignments).to_csv(folder / "assignments.csv", index=False)
    manifest.write_text(json.dumps(want))
    print(f"wrote {folder} in {time.perf_counter() - t0:.0f} s")
    return folder


def statsmodels_baseline(analysis, loaded, later_all: np.ndarray) -> tuple[float, pd.DataFrame]:
    """The ten lead regressions one by one with statsmodels OLS (HC1) on the same design as the
    lead model (early North Star level groups and signup-month indicators): seconds, results."""
    import statsmodels.api as sm

    w = analysis.settings.window_days
    names = measure.event_names(analysis)
    ns = north_star_spec(NORTH_STAR, w, names)
    specs, _ = resolve_inputs(INPUTS, ns, names, w)
    mask = analysis.outcomes.retention_mask & (
        analysis.frame["a_days"].to_numpy(float) >= w + analysis.settings.horizon_days
    )
    y = np.log1p(later_all[mask])
    months = pd.to_datetime(analysis.frame["signup_sec"], unit="s").dt.strftime("%Y-%m")
    Z = level_controls(measure.window_values(analysis, ns)[mask])
    Z = np.column_stack([Z, group_indicators(months.to_numpy()[mask])])  # as the lead model
    rows, t0 = [], time.perf_counter()
    for s in specs:
        x = s.modelled(measure.window_values(analysis, s)[mask])
        ok = np.isfinite(x)
        z = (x[ok] - x[ok].mean()) / x[ok].std()
        fit = sm.OLS(y[ok], np.column_stack([Z[ok], z])).fit(cov_type="HC1")
        rows.append({"key": s.key, "effect": fit.params[-1], "se": fit.bse[-1]})
    return time.perf_counter() - t0, pd.DataFrame(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=200_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-experiments", action="store_true")
    args = p.parse_args()
    folder = write_data(args.users, args.seed)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    loaded = load_inputs(str(folder / "part-*.parquet"), str(folder / "users.csv"))
    analysis = analyse(loaded, AnalysisSettings(n_bootstrap=0, revenue_event="payment"))
    timings["ranking (context, not in the target)"] = time.perf_counter() - t0

    marks = [("start", time.perf_counter(), time.process_time())]

    def progress(msg: str, _f: float) -> None:
        marks.append((msg, time.perf_counter(), time.process_time()))

    assignments = None if args.no_experiments else str(folder / "assignments.csv")
    t0, c0 = time.perf_counter(), time.process_time()
    result = analyse_inputs(
        analysis, loaded, NORTH_STAR, INPUTS, assignments=assignments, progress=progress
    )
    total = time.perf_counter() - t0
    cpu: dict[str, float] = {}  # process CPU seconds (every thread), next to the wall times
    for (name, t, c), (_, t_next, c_next) in zip(marks[1:], marks[2:], strict=False):
        timings[f"  {name}"], cpu[f"  {name}"] = t_next - t, c_next - c
    timings["input analysis (the target)"] = total
    cpu["input analysis (the target)"] = time.process_time() - c0

    later_all = measure.later_values(
        analysis, loaded, north_star_spec(NORTH_STAR, 14, measure.event_names(analysis)), 90
    )
    sm_seconds, sm_rows = statsmodels_baseline(analysis, loaded, later_all)
    ours = pd.DataFrame([{"key": e.key, "effect": e.lead_effect, "se": e.lead_se}
                         for e in result.inputs])  # fmt: skip
    both = ours.merge(sm_rows, on="key", suffixes=("", "_sm"))
    diff_effect = float((both["effect"] - both["effect_sm"]).abs().max())
    diff_se = float((both["se"] - both["se_sm"]).abs().max())

    print(f"\nNorth Star Lab inputs benchmark — {args.users:,} users, {len(INPUTS)} inputs, "
          f"{result.n_users:,} analysed, {os.cpu_count()} CPUs (shared), load "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  {'':<62} {'wall':>8}   {'CPU':>8}")
    for name, sec in timings.items():
        cpu_text = f"{cpu[name]:8.2f} s" if name in cpu else ""
        print(f"  {name:<62} {sec:8.2f} s {cpu_text}")
    print(f"  {'statsmodels OLS HC1, 10 fits (baseline)':<62} {sm_seconds:8.2f} s")
    print(f"  max |Δ effect| {diff_effect:.2e}, max |Δ SE| {diff_se:.2e} vs statsmodels")
    verdict = "PASS" if total < TARGET_SECONDS else "FAIL"
    print(f"  target: input analysis < {TARGET_SECONDS:.0f} s → {verdict}")
    for e in result.inputs:
        print(f"    {e.key:<40} {e.lead_effect:+.3f} [{e.lead_ci_low:+.3f}, {e.lead_ci_high:+.3f}]"
              f"  q {e.q_value:.2g}  exp ρ {e.experiment_corr}  {e.verdict}/{e.edge}")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    record = {
        "users": args.users, "inputs": len(INPUTS), "analysed": result.n_users,
        "timings": timings, "cpu_seconds": cpu, "statsmodels_seconds": sm_seconds,
        "max_diff_effect": diff_effect, "max_diff_se": diff_se, "target_seconds": TARGET_SECONDS,
        "pass": total < TARGET_SECONDS,
        "commit": git_commit(), "machine": platform.platform(), "cpus": os.cpu_count(),
        "load": os.getloadavg(),
    }  # fmt: skip
    (OUT / "bench_inputs.json").write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
