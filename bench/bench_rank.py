"""Benchmark: rank all candidates vs one lifelines Cox fit of one candidate (the speed issue).

Requirement: ranking 50 candidates on 200k users, bootstrap and PH check included, takes less
time than lifelines' `CoxPHFitter().fit` of one candidate on the same users. Both are timed in
the same run on the same synthetic data, so the ratio depends far less on the machine than
either time does. The HR of the planted candidate is checked against lifelines too: a fast
ranking that is wrong is worthless.

    python bench/bench_rank.py                     # 200,000 users × 50 candidates
    python bench/bench_rank.py --users 20000 --bootstrap 50 --profile

Prints a table and writes the figures to bench/out/bench_rank.json (git-ignored).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import json
import os
import platform
import pstats
import time

import lifelines
import numpy as np
import pandas as pd
from benchlib import ROOT, git_commit
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index

from northstar_lab.candidates import LOG1P, Candidate
from northstar_lab.outcomes import Outcomes, landmark_outcomes
from northstar_lab.ranking import flags
from northstar_lab.ranking import rank as ranking
from northstar_lab.settings import AnalysisSettings
from northstar_lab.stats.cox import cox_univariate
from northstar_lab.stats.grid import SurvivalData

OUT = ROOT / "bench" / "out" / "bench_rank.json"
PROFILE_OUT = OUT.with_suffix(".prof")
HR_TOLERANCE = 1e-6
TARGET_CENSORED = 0.35
MAX_FOLLOW_UP = 410  # days after the landmark; follow-up is uniform on [10, 410]
N_GROUPS = 5  # candidates load on one of these correlated-behaviour factors
PLANTED = {"event_01": -0.35, "event_02": -0.15}  # log-HR per SD of log1p(count)
BASELINE_KEY = "count:event_01"
WARM_UP_USERS = 3000


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------


def make_counts(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """(n, k) window counts: Poisson and negative-binomial rates driven by shared factors.

    Every candidate loads a little on general engagement and more on one of N_GROUPS factors,
    so candidates in a group are correlated; event_03 is a thinned copy of event_01 (a
    near-duplicate the redundancy check should group).
    """
    engagement = rng.standard_normal(n)
    groups = rng.standard_normal((n, N_GROUPS))
    counts = np.empty((n, k))
    for j in range(k):
        log_rate = (
            np.log(rng.uniform(0.2, 20.0))
            + 0.4 * engagement
            + 0.6 * groups[:, j % N_GROUPS]
            + 0.5 * rng.standard_normal(n)
            - 0.5 * (0.4**2 + 0.6**2 + 0.5**2)  # keeps the mean rate near its base
        )
        rate = np.exp(log_rate)
        if j % 2:  # negative binomial: a gamma-mixed Poisson
            shape = rng.uniform(0.5, 2.0)
            rate = rate * rng.gamma(shape, 1.0 / shape, n)
        counts[:, j] = rng.poisson(rate)
    if k >= 3:
        counts[:, 2] = rng.binomial(counts[:, 0].astype(np.int64), 0.9) + rng.poisson(0.1, n)
    return counts


def _standardised_log1p(c: np.ndarray) -> np.ndarray:
    x = np.log1p(c)
    return (x - x.mean()) / x.std()


def churn_times(rng: np.random.Generator, counts: np.ndarray, follow_up: np.ndarray):
    """Latent days to churn from a Weibull (shape 0.8) proportional-hazards model.

    Only the PLANTED candidates move the hazard. The Weibull scale is set by bisection so that
    TARGET_CENSORED of users are still active when their follow-up ends.
    """
    lp = np.zeros(len(counts))
    for j, name in enumerate(_event_names(counts.shape[1])):
        if name in PLANTED:
            lp += PLANTED[name] * _standardised_log1p(counts[:, j])
    unit = (rng.exponential(size=len(counts)) / np.exp(lp)) ** (1 / 0.8)
    lo, hi = 1.0, 10_000.0
    for _ in range(60):
        scale = np.sqrt(lo * hi)
        censored = np.mean(scale * unit > follow_up)
        lo, hi = (lo, scale) if censored > TARGET_CENSORED else (scale, hi)
    return scale * unit


def make_revenue(rng: np.random.Generator, counts: np.ndarray, t_latent: np.ndarray, horizon):
    """Revenue in (W, W+H]: ~40% payers, more likely with event_02 and event_04, pro rata."""
    n, k = counts.shape
    push = sum(0.5 * _standardised_log1p(counts[:, j]) for j in (1, 3) if j < k)
    payer = rng.random(n) < 1 / (1 + np.exp(0.5 - push))
    amount = rng.lognormal(3.0, 1.0, n) * np.minimum(t_latent, horizon) / horizon
    return np.where(payer, np.round(amount, 2), 0.0)


def _event_names(k: int) -> list[str]:
    return [f"event_{j + 1:02d}" for j in range(k)]


def make_data(n: int, k: int, seed: int, settings: AnalysisSettings):
    """Candidates (kind 'count', log1p) and landmark outcomes for n synthetic users, seeded."""
    w, h = settings.window_days, settings.horizon_days
    rng = np.random.default_rng(seed)
    counts = make_counts(rng, n, k)
    follow_up = rng.integers(10, MAX_FOLLOW_UP + 1, n).astype(float)  # days after landmark
    t_latent = churn_times(rng, counts, follow_up)
    event = (t_latent <= follow_up).astype(float)
    days = np.floor(np.minimum(t_latent, follow_up))
    revenue = make_revenue(rng, counts, t_latent, h)
    frame = pd.DataFrame({"a_days": w + follow_up})
    outcomes = landmark_outcomes(
        frame,
        w + days,
        event,
        "synthetic duration and churn flag",
        window_days=w,
        horizon_days=h,
        revenue=revenue,
        revenue_source=f"synthetic revenue in days {w}–{w + h}",
    )
    candidates = [
        Candidate(
            key=f"count:{name}",
            name=f"{name}: count in first {w} days",
            kind="count",
            event=name,
            column=None,
            transform=LOG1P,
            raw=counts[:, j],
        )
        for j, name in enumerate(_event_names(k))
    ]
    return candidates, outcomes


def describe_data(candidates: list[Candidate], outcomes: Outcomes) -> dict:
    t = outcomes.duration
    x = np.column_stack([np.log1p(c.raw[outcomes.retention_mask]) for c in candidates])
    rho = pd.DataFrame(x).rank().corr().to_numpy()
    off = np.abs(rho[~np.eye(len(candidates), dtype=bool)])
    return {
        "users": int(outcomes.n_users),
        "candidates": len(candidates),
        "censored_share": float(1 - outcomes.event.mean()),
        "revenue_share": float(outcomes.revenue_mask.mean()),
        "duration_days": [float(t.min()), float(t.max())],
        "distinct_durations": int(np.unique(t).size),
        "max_distinct_counts": int(max(np.unique(c.raw).size for c in candidates)),
        "median_abs_spearman_between_candidates": float(np.median(off)),
        "max_abs_spearman_between_candidates": float(off.max()),
        "planted_log_hr_per_sd": PLANTED,
    }


# --------------------------------------------------------------------------------------------
# Timings
# --------------------------------------------------------------------------------------------


def timed(repeat: int, fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds), the fastest of `repeat` calls.

    CPU time (this process, all threads) is reported beside wall time because the machine may
    be shared: other processes stretch the wall clock far more than this process's CPU time.
    """
    best_wall = best_cpu = np.inf
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        best_wall = min(best_wall, time.perf_counter() - wall0)
        best_cpu = min(best_cpu, time.process_time() - cpu0)
    return out, best_wall, best_cpu


def lifelines_frame(cand: Candidate, outcomes: Outcomes) -> pd.DataFrame:
    """The data one lifelines fit sees: the candidate's log1p counts and the landmark outcome."""
    return pd.DataFrame(
        {
            "x": cand.modelled[outcomes.retention_mask],
            "T": outcomes.duration,
            "E": outcomes.event,
        }
    )


def warm_up(candidates, outcomes: Outcomes, df: pd.DataFrame, settings) -> None:
    """Run every timed call once on a few thousand users, so that one-off costs (lazy imports,
    caches) are not charged to whichever call happens to come first."""
    few = np.zeros(outcomes.retention_mask.size, dtype=bool)
    few[np.flatnonzero(outcomes.retention_mask)[:WARM_UP_USERS]] = True
    small = dataclasses.replace(
        outcomes, retention_mask=few, revenue_mask=outcomes.revenue_mask & few
    )
    head = df.iloc[:WARM_UP_USERS]
    CoxPHFitter().fit(head, "T", "E")
    CoxPHFitter().fit(head, "T", "E", batch_mode=True)
    sd = SurvivalData.from_arrays(head["T"], head["E"])
    cox_univariate(sd, head["x"].to_numpy())
    ranking.rank_candidates(candidates[:2], small, settings=settings, bootstrap_resamples=2)


def accuracy(result, cph: CoxPHFitter, df: pd.DataFrame) -> dict:
    """Absolute differences between our figures for one candidate and lifelines' fit."""
    beta, se = float(cph.params_["x"]), float(cph.standard_errors_["x"])
    sd_x = float(np.std(df["x"], ddof=1))
    c_ll = concordance_index(df["T"], -beta * df["x"], df["E"])
    diffs = {
        "hr_per_unit": abs(np.exp(result.coef_per_unit) - np.exp(beta)),
        "hr_per_sd": abs(result.hazard_ratio - np.exp(beta * sd_x)),
        "hr_per_sd_ci_low": abs(
            result.hr_ci_low - np.exp(float(cph.confidence_intervals_.iloc[0, 0]) * sd_x)
        ),
        "hr_per_sd_ci_high": abs(
            result.hr_ci_high - np.exp(float(cph.confidence_intervals_.iloc[0, 1]) * sd_x)
        ),
        "coef_per_unit": abs(result.coef_per_unit - beta),
        "coef_se": abs(result.coef_se - se),
        "c_index": abs(result.c_index - c_ll),
    }
    diffs = {k: float(v) for k, v in diffs.items()}
    hr_keys = ("hr_per_unit", "hr_per_sd", "hr_per_sd_ci_low", "hr_per_sd_ci_high")
    return {
        "diffs": diffs,
        "max_abs_diff_hr": max(diffs[k] for k in hr_keys),
        "ours_hr_per_unit": float(np.exp(result.coef_per_unit)),
        "lifelines_hr_per_unit": float(np.exp(beta)),
    }


def profile_ranking(candidates, outcomes, settings, top: int) -> str:
    """A second ranking under cProfile (not the timed one): top entries by cumulative time."""
    prof = cProfile.Profile()
    prof.enable()
    ranking.rank_candidates(candidates, outcomes, settings=settings)
    prof.disable()
    PROFILE_OUT.parent.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(PROFILE_OUT)
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def print_table(fig: dict) -> None:
    d, t, c = fig["data"], fig["seconds"], fig["cpu_seconds"]
    r, a = fig["ratios"], fig["accuracy_vs_lifelines"]
    b = fig["config"]["bootstrap"]
    rows = [
        ("(a)  lifelines CoxPHFitter().fit, 1 candidate", "lifelines_fit_one"),
        ("(a') lifelines fit(batch_mode=True), 1 candidate", "lifelines_batch_fit_one"),
        ("     northstar cox_univariate, 1 candidate", "northstar_cox_one"),
        (f"(b)  rank_candidates, all {d['candidates']} (B={b}, PH check)", "rank_all"),
        ("(c)    fit: Cox, C, ρ, thresholds, held-out", "rank_fit"),
        (f"(c)    bootstrap: {b} resamples", "rank_bootstrap"),
        ("(c)    rest: q-values, redundancy, PH check", "rank_other"),
    ]
    w, line = 54, "-" * 78
    print(
        f"\nNorth Star Lab ranking benchmark: {d['users']:,} users × {d['candidates']} "
        f"candidates, seed {fig['config']['seed']}, {fig['env']['cpus']} CPUs, "
        f"load {fig['env']['load_before']:.1f}"
    )
    print(
        f"data: {d['censored_share']:.1%} censored, {d['revenue_share']:.1%} with revenue, "
        f"durations {d['duration_days'][0]:g}–{d['duration_days'][1]:g} days; "
        f"{fig['ranked_results']} results ranked (candidates + held-out thresholds)"
    )
    print(line)
    print(f"{'figure':<{w}}{'wall s':>12}{'CPU s':>12}")
    print(line)
    for label, key in rows:
        cpu = f"{c[key]:>12.3f}" if key in c else f"{'':>12}"
        print(f"{label:<{w}}{t[key]:>12.3f}{cpu}")
    print(line)
    verdict = "PASS" if fig["target_met"] else "FAIL"
    for label, key, mark in (
        ("ratio (b) / (a)  (target < 1)", "rank_all_over_lifelines_fit", verdict),
        ("ratio (b) / (a') batch_mode", "rank_all_over_lifelines_batch_fit", ""),
        ("one fit: lifelines (a) / northstar", "lifelines_fit_over_northstar_cox", ""),
    ):
        print(f"{label:<{w}}{r[key]:>12.3f}{r[key + '_cpu']:>12.3f}  {mark}")
    print(line)
    print(f"accuracy on {BASELINE_KEY}: |ours − lifelines (a)|")
    for key in a["diffs"]:
        print(f"     {key:<{w - 5}}{a['diffs'][key]:>12.2e}")
    ok = "PASS" if fig["hr_within_tolerance"] else "FAIL"
    print(f"{'max |ΔHR| (target ≤ 1e-6)':<{w}}{a['max_abs_diff_hr']:>12.2e}  {ok}")
    ab = fig["accuracy_vs_lifelines_batch"]["max_abs_diff_hr"]
    print(f"{'max |ΔHR| vs (a′) batch_mode':<{w}}{ab:>12.2e}")
    print(
        f"HR per log1p unit: ours {a['ours_hr_per_unit']:.10f}, "
        f"lifelines {a['lifelines_hr_per_unit']:.10f}"
    )
    planted = ", ".join(f"{k} #{v}" for k, v in fig["planted_ranks"].items())
    print(
        f"leader {fig['leader']['key']} (C {fig['leader']['c_index']:.3f}); "
        f"planted effects ranked: {planted}"
    )


def parse_args(argv: list[str] | None, defaults: AnalysisSettings) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=200_000)
    p.add_argument("--candidates", type=int, default=50)
    p.add_argument(
        "--bootstrap",
        type=int,
        default=defaults.n_bootstrap,
        help=f"resamples (default: AnalysisSettings().n_bootstrap = {defaults.n_bootstrap})",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic data")
    p.add_argument(
        "--repeat", type=int, default=1, help="time each call this many times, keep the fastest"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="after the timed run, rank again under cProfile and print the top entries",
    )
    p.add_argument("--profile-top", type=int, default=30)
    p.add_argument(
        "--targets",
        action="store_true",
        help="also measure issue 14's targets: 50 users-table candidates × 100k users (whole CLI "
        "vs whole lifelines process) and 50 event candidates × 1M users (bench_rank_targets.py)",
    )
    p.add_argument("--targets-only", action="store_true", help="only the issue 14 targets")
    args = p.parse_args(argv)
    if args.candidates < 1 or args.users < 1000 or args.repeat < 1 or args.bootstrap < 0:
        p.error("need ≥ 1 candidate, ≥ 1000 users, ≥ 1 repeat and ≥ 0 resamples")
    return args


def main(argv: list[str] | None = None) -> dict:
    defaults = AnalysisSettings()
    args = parse_args(argv, defaults)
    settings = AnalysisSettings(n_bootstrap=args.bootstrap)
    if args.targets or args.targets_only:
        import bench_rank_targets as targets

        fig = {"users_table": targets.users_target()}
        fig["events"] = targets.events_target(make_data, ranking, settings)
        targets.print_targets(fig)
        (OUT.parent / "bench_rank_targets.json").write_text(json.dumps(fig, indent=2) + "\n")
        if args.targets_only:
            return fig
    load_before = os.getloadavg()[0]
    candidates, outcomes = make_data(args.users, args.candidates, args.seed, settings)
    df = lifelines_frame(candidates[0], outcomes)
    sd = SurvivalData.from_arrays(outcomes.duration, outcomes.event)
    warm_up(candidates, outcomes, df, settings)

    rep = args.repeat
    cph, t_ll, c_ll = timed(rep, CoxPHFitter().fit, df, "T", "E")
    cph_batch, t_llb, c_llb = timed(rep, CoxPHFitter().fit, df, "T", "E", batch_mode=True)
    _, t_one, c_one = timed(rep, cox_univariate, sd, df["x"].to_numpy())
    result, t_rank, c_rank = timed(
        rep, ranking.rank_candidates, candidates, outcomes, settings=settings
    )
    tim = result.timings
    ours = result.candidate(BASELINE_KEY)

    fig = {
        "benchmark": "bench_rank",
        "config": {
            "users": args.users,
            "candidates": args.candidates,
            "bootstrap": settings.n_bootstrap,
            "bootstrap_default": defaults.n_bootstrap,
            "ph_check": True,
            "ph_check_top": flags.PH_TOP,
            "seed": args.seed,
            "settings_seed": settings.seed,
            "repeat": rep,
        },
        "data": describe_data(candidates, outcomes),
        "ranked_results": len(result.candidates),
        "seconds": {
            "lifelines_fit_one": t_ll,
            "lifelines_batch_fit_one": t_llb,
            "northstar_cox_one": t_one,
            "rank_all": t_rank,
            "rank_fit": tim["fit"],
            "rank_bootstrap": tim["stability"],
            "rank_other": tim["total"] - tim["fit"] - tim["stability"],
            "rank_total_internal": tim["total"],
        },
        "cpu_seconds": {
            "lifelines_fit_one": c_ll,
            "lifelines_batch_fit_one": c_llb,
            "northstar_cox_one": c_one,
            "rank_all": c_rank,
        },
        "ratios": {
            "rank_all_over_lifelines_fit": t_rank / t_ll,
            "rank_all_over_lifelines_fit_cpu": c_rank / c_ll,
            "rank_all_over_lifelines_batch_fit": t_rank / t_llb,
            "rank_all_over_lifelines_batch_fit_cpu": c_rank / c_llb,
            "lifelines_fit_over_northstar_cox": t_ll / t_one,
            "lifelines_fit_over_northstar_cox_cpu": c_ll / max(c_one, 1e-9),
        },
        "target_met": t_rank < t_ll,
        "accuracy_vs_lifelines": accuracy(ours, cph, df),
        "accuracy_vs_lifelines_batch": accuracy(ours, cph_batch, df),
        "leader": {"key": result.leader.key, "c_index": result.leader.c_index},
        "planted_ranks": {
            f"count:{name}": result.candidate(f"count:{name}").rank
            for name in PLANTED
            if name in {c.event for c in candidates}
        },
        "env": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "lifelines": lifelines.__version__,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "git_commit": git_commit(),
        },
    }
    fig["hr_within_tolerance"] = fig["accuracy_vs_lifelines"]["max_abs_diff_hr"] <= HR_TOLERANCE
    print_table(fig)

    if args.profile:
        print(f"\nProfiling a second rank_candidates run (cProfile; stats in {PROFILE_OUT.name})")
        print(profile_ranking(candidates, outcomes, settings, args.profile_top))

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fig, indent=2, ensure_ascii=False) + "\n")
    print(f"figures written to {OUT.relative_to(ROOT)}")
    return fig


if __name__ == "__main__":
    main()
