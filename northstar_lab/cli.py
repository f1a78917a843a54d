"""Command line: `python -m northstar_lab rank|revalidate|decisions|sample`.

A stable contract for scripts and scheduled pipelines. Bad input prints one paragraph on
stderr and exits 2 (never a traceback); re-validation exits 0 holds, 3 weakened, 4 overtaken.
Set NORTHSTAR_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import textwrap
import time
from pathlib import Path

from .errors import InputError

EXIT_INPUT = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-31, got {text!r}") from exc


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """Where the data is and what its columns mean (shared by rank and revalidate)."""
    g = p.add_argument_group("data")
    g.add_argument("--events", help="event log: CSV, CSV.gz, Parquet or a glob of Parquet files")
    g.add_argument("--users", help="one-row-per-user table: CSV, CSV.gz or Parquet")
    g.add_argument(
        "--source",
        help="engine holding the tables: a file/glob, duckdb:///path.db, spark://local[2], "
        "spark://host:7077 or sc://host:port (Spark Connect)",
    )
    g.add_argument("--events-table", help="event table name in --source")
    g.add_argument("--users-table", help="users table name in --source")
    m = p.add_argument_group("column mapping (recognised from common names when omitted)")
    m.add_argument("--user-col", help="user id column (both tables)")
    m.add_argument("--timestamp-col", help="event time column")
    m.add_argument("--event-name-col", help="event name column")
    m.add_argument("--value-col", help="numeric event value column (e.g. payment amount)")
    m.add_argument("--signup-col", help="users: signup time")
    m.add_argument("--churn-col", help="users: churn/cancellation time (empty = still active)")
    m.add_argument("--last-active-col", help="users: last active time")
    m.add_argument("--duration-col", help="users: tenure (see --duration-unit)")
    m.add_argument("--duration-unit", default="days", choices=["days", "weeks", "months"])
    m.add_argument("--event-col", help="users: churn flag for --duration-col (0/1, yes/no)")
    m.add_argument("--behaviour-cols", help="users: comma-separated candidate columns")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m northstar_lab",
        description="Choose a North Star metric from evidence: rank candidate metrics by how "
        "well early behaviour predicts retention (survival analysis) and revenue.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    rank = sub.add_parser("rank", help="rank candidate metrics and print a leaderboard")
    add_data_arguments(rank)
    add_settings_arguments(rank)
    rank.add_argument("--json", dest="json_out", help="write the full result as JSON here")
    rank.add_argument("--top", type=int, default=15, help="rows of the printed leaderboard")
    rank.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    rev = sub.add_parser("revalidate", help="re-run a recorded decision on newer data")
    rev.add_argument("--decision", required=True, help="decision id")
    add_data_arguments(rev)
    rev.add_argument("--as-of", type=_date, help="data end for the new run (default: latest)")
    rev.add_argument("--json", dest="json_out")
    rev.add_argument("--db", help="decision database (default: $NORTHSTAR_DB or user data dir)")
    rev.add_argument("--no-save", action="store_true", help="do not record the re-validation")
    rev.add_argument("--quiet", action="store_true")

    dec = sub.add_parser("decisions", help="list, show or export recorded decisions")
    dec.add_argument("action", choices=["list", "show", "export"])
    dec.add_argument("id", nargs="?", help="decision id (show, export)")
    dec.add_argument("--html", help="export: write a self-contained HTML file here")
    dec.add_argument("--markdown", help="export: write Markdown here")
    dec.add_argument("--db", help="decision database (default: $NORTHSTAR_DB or user data dir)")

    smp = sub.add_parser("sample", help="regenerate the bundled sample data")
    smp.add_argument("--out", default="sample_data")
    smp.add_argument("--users", type=int, default=None)
    smp.add_argument("--seed", type=int, default=None)
    return parser


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("analysis settings")
    g.add_argument("--window-days", type=int, default=14, help="observation window W (days)")
    g.add_argument("--inactivity-days", type=int, default=30, help="silence that means churn")
    g.add_argument("--as-of", type=_date, help="data end, YYYY-MM-DD (default: latest in data)")
    rev = g.add_mutually_exclusive_group()
    rev.add_argument("--revenue-event", help="event whose value is revenue (e.g. payment)")
    rev.add_argument("--revenue-col", help="users-table revenue column")
    g.add_argument("--horizon-days", type=int, default=90, help="retention/revenue horizon H")
    g.add_argument("--candidates", help="comma-separated candidates (event names or columns)")
    g.add_argument("--bootstrap", type=int, default=200, help="resamples for rank stability")
    g.add_argument("--split", choices=["random", "cohort"], default="random",
                   help="threshold training split")  # fmt: skip
    g.add_argument("--weights", default="0.6,0.4", help="score weights retention,revenue")
    g.add_argument("--max-users", type=int, default=2_000_000)
    g.add_argument("--seed", type=int, default=20261125)


def settings_from(args):
    """AnalysisSettings from parsed arguments (validated there)."""
    from .settings import AnalysisSettings

    try:
        weights = tuple(float(x) for x in args.weights.split(","))
    except ValueError as exc:
        raise InputError(f"--weights must be two numbers like 0.6,0.4, got {args.weights}") from exc
    cands = tuple(c.strip() for c in args.candidates.split(",") if c.strip()) if args.candidates \
        else None  # fmt: skip
    return AnalysisSettings(
        window_days=args.window_days,
        inactivity_days=args.inactivity_days,
        as_of=args.as_of,
        horizon_days=args.horizon_days,
        revenue_event=args.revenue_event,
        revenue_col=args.revenue_col,
        score_weights=weights,
        n_bootstrap=args.bootstrap,
        threshold_split=args.split,
        candidates=cands,
        max_users=args.max_users,
        seed=args.seed,
    )


def load_from(args, progress):
    """LoadedData from the data arguments."""
    from .pipeline import load_inputs

    if not (args.events or args.users or args.source):
        raise InputError("Give --events FILE, --users FILE, or --source with --events-table.")
    events = args.events
    if args.source:
        if args.events:
            raise InputError("Give either --events FILE or --source with --events-table, not both.")
        is_file = "://" not in args.source
        if not (args.events_table or args.users_table or is_file):
            raise InputError("--source needs --events-table NAME (and optionally --users-table).")
        events = args.source if (args.events_table or is_file) else None
    event_cols = {
        "user": args.user_col,
        "timestamp": args.timestamp_col,
        "event": args.event_name_col,
        "value": args.value_col,
    }
    user_cols = {
        "user": args.user_col,
        "signup": args.signup_col,
        "cancel": args.churn_col,
        "last_active": args.last_active_col,
        "duration": args.duration_col,
        "churn": args.event_col,
        "duration_unit": args.duration_unit,
    }
    if getattr(args, "revenue_col", None):
        user_cols["revenue"] = args.revenue_col
    if args.behaviour_cols:
        user_cols["behaviour"] = tuple(c.strip() for c in args.behaviour_cols.split(","))
    return load_inputs(
        events,
        args.users,
        events_table=args.events_table,
        users_table=args.users_table,
        event_columns={k: v for k, v in event_cols.items() if v},
        user_columns={k: v for k, v in user_cols.items() if v},
        progress=progress,
    )


def progress_printer(quiet: bool):
    """One line per step on stderr, with elapsed seconds."""
    start = time.perf_counter()
    last = [""]

    def report(message: str, _fraction: float = 0.0) -> None:
        if quiet or message == last[0]:
            return
        last[0] = message
        print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return report


def cmd_rank(args) -> int:
    from .pipeline import analyse

    progress = progress_printer(args.quiet)
    settings = settings_from(args)
    loaded = load_from(args, progress)
    analysis = analyse(loaded, settings, progress)
    print(format_leaderboard(analysis.ranking, top=args.top))
    if args.json_out:
        Path(args.json_out).write_text(analysis.ranking.to_json(indent=2), encoding="utf-8")
        print(f"\nJSON written to {args.json_out}")
    return 0


def format_leaderboard(ranking, top: int = 15) -> str:
    """A readable leaderboard for a terminal (fixed-width, plain text)."""
    lines = [
        f"North Star Lab — {ranking.n_users:,} users in the retention analysis, "
        f"{ranking.n_churned:,} churned; excluded: "
        + (
            ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in ranking.excluded.items() if v)
            or "none"
        ),  # fmt: skip
        "",
        f"{'#':>3}  {'candidate':<52} {'score':>6} {'HR/SD [95% CI]':>20} {'C':>6} "
        f"{'q':>8} {'rev ρ':>6} {'P(1st)':>6}  flags",
    ]
    for c in ranking.candidates[:top]:
        hr = f"{c.hazard_ratio:.2f} [{c.hr_ci_low:.2f}–{c.hr_ci_high:.2f}]"
        rho = "—" if c.revenue_rho is None else f"{c.revenue_rho:+.2f}"
        flags = []
        if c.noise_level:
            flags.append("noise")
        if not c.window_verifiable:
            flags.append("window?")
        if c.tenure_rho is not None and abs(c.tenure_rho) >= 0.7:
            flags.append("LIFETIME")
        if c.redundancy_group:
            flags.append(f"dup#{c.redundancy_group}")
        if c.ph_test_p is not None and c.ph_test_p < 0.01:
            flags.append("non-PH")
        name = c.name if len(c.name) <= 52 else c.name[:51] + "…"
        lines.append(
            f"{c.rank:>3}  {name:<52} {c.score:>6.3f} {hr:>20} {c.c_index:>6.3f} "
            f"{c.q_value:>8.2g} {rho:>6} {_share(c.p_first):>6}  {' '.join(flags)}"
        )
    if len(ranking.candidates) > top:
        lines.append(f"     … {len(ranking.candidates) - top} more (see --json)")
    pop = ranking.data.get("population")
    if pop:
        lines += [
            "",
            f"Statistics use a {pop['sample_fraction']:.1%} hash sample of users; on all "
            f"{pop['n_users']:,} users (counted in the engine) {pop['n_churned']:,} churned and "
            f"{pop['retention_at_horizon']:.1%} were retained at the horizon.",
        ]
        for b in pop["by_threshold"]:
            lines.append(
                f"  all users, {b['key']} ≥ {b['k']:g}: {b['retention_above']:.1%} retained vs "
                f"{b['retention_below']:.1%} ({b['n_above']:,} users at/above)"
            )
    lead = ranking.candidates[0]
    if lead.threshold_figures:
        f = lead.threshold_figures
        lines += [
            "",
            f"Leader: {lead.name}. On held-out users, those reaching ≥ {f['k']:g} "
            f"({f['share_above']:.0%}) kept {f['retention_above']:.0%} vs "
            f"{f['retention_below']:.0%} at day {f['horizon_days']:g} after the window "
            f"(log-rank p {f['logrank_p']:.2g}).",
        ]
    if ranking.warnings:
        lines += ["", "Warnings:"] + [
            textwrap.fill(w, 100, initial_indent="  - ", subsequent_indent="    ")
            for w in ranking.warnings
        ]
    lines += ["", "Association, not causation: these metrics predict retention; test levers."]
    return "\n".join(lines)


def _share(x: float) -> str:
    return "—" if x is None or x != x else f"{x:.2f}"


def cmd_revalidate(args) -> int:
    from .revalidate import revalidate_cli

    return revalidate_cli(args, load_from, progress_printer(args.quiet))


def cmd_decisions(args) -> int:
    from .store import decisions_cli

    return decisions_cli(args)


def cmd_sample(args) -> int:
    from .sample import write_sample

    kw = {k: v for k, v in (("n_users", args.users), ("seed", args.seed)) if v is not None}
    paths = write_sample(args.out, **kw)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


COMMANDS = {
    "rank": cmd_rank,
    "revalidate": cmd_revalidate,
    "decisions": cmd_decisions,
    "sample": cmd_sample,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("NORTHSTAR_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in North Star Lab, "
            "not in your data; rerun with NORTHSTAR_DEBUG=1 for details and report it.",
            file=sys.stderr,
        )
        return 1
