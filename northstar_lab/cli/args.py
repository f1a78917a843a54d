"""The command line's shared arguments: where the data is, what its columns mean, the analysis
settings; and the progress lines printed on stderr."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from ..durations import DURATION_UNITS
from ..errors import InputError
from ..redact import redact_secrets
from ..text import plain

EXPORT_FORMATS = ("amplitude", "mixpanel", "posthog", "segment", "ga4", "plain")


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-03-31, got {text!r}") from exc


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """Where the data is and what its columns mean (shared by rank and revalidate)."""
    g = p.add_argument_group("data")
    g.add_argument(
        "--events",
        help="event log: CSV, CSV.gz, Parquet, a glob of Parquet files, JSON lines, or a "
        "vendor export (see --format)",
    )
    g.add_argument("--users", help="one-row-per-user table: CSV, CSV.gz or Parquet")
    g.add_argument(
        "--source",
        help="engine holding the tables: a file/glob, duckdb:///path.db, spark://local[2], "
        "spark://host:7077 or sc://host:port (Spark Connect)",
    )
    g.add_argument("--events-table", help="event table name in --source")
    g.add_argument("--users-table", help="users table name in --source")
    g.add_argument(
        "--format",
        dest="event_format",
        choices=EXPORT_FORMATS,
        help="the event log is a vendor export: Amplitude (zip of gzipped JSON lines), Mixpanel "
        "(JSON lines), PostHog (CSV/Parquet), Segment/RudderStack tracks, GA4 BigQuery export; "
        "recognised from its columns when omitted; 'plain' reads it as it is",
    )
    m = p.add_argument_group("column mapping (recognised from common names when omitted)")
    m.add_argument("--user-col", help="user id column (both tables)")
    m.add_argument("--timestamp-col", help="event time column")
    m.add_argument("--event-name-col", help="event name column")
    m.add_argument(
        "--one-event",
        metavar="NAME",
        help="the log has no event column: every row is one event called NAME (an order or "
        "purchase log, e.g. --one-event purchase)",
    )
    m.add_argument("--value-col", help="numeric event value column (e.g. payment amount)")
    m.add_argument(
        "--count-col",
        help="events per row, for a log rolled up per user, day and event (each row counts "
        "as that many events)",
    )
    m.add_argument("--signup-col", help="users: signup time")
    m.add_argument("--churn-col", help="users: churn/cancellation time (empty = still active)")
    m.add_argument("--last-active-col", help="users: last active time")
    m.add_argument("--duration-col", help="users: tenure (see --duration-unit)")
    m.add_argument(
        "--duration-unit",
        choices=list(DURATION_UNITS),
        help="unit of --duration-col; required when its name does not say (tenure_months does)",
    )
    m.add_argument("--event-col", help="users: churn flag for --duration-col (0/1, yes/no)")
    m.add_argument("--behaviour-cols", help="users: comma-separated candidate columns")


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("analysis settings")
    g.add_argument(
        "--window-days",
        type=int,
        default=14,
        help="observation window W (days; ≥ 1 for an event log, 0 allowed for a users table "
        "whose columns describe users at the start)",
    )
    g.add_argument("--inactivity-days", type=int, default=30, help="silence that means churn")
    g.add_argument(
        "--churn-event",
        help="event that is the cancellation itself (e.g. 'Cancellation Confirmation'): a "
        "user's first one is their churn, instead of --inactivity-days of silence",
    )
    g.add_argument(
        "--as-of", type=parse_date, help="data end, YYYY-MM-DD (default: latest in data)"
    )
    rev = g.add_mutually_exclusive_group()
    rev.add_argument("--revenue-event", help="event whose value is revenue (e.g. payment)")
    rev.add_argument("--revenue-col", help="users-table revenue column")
    g.add_argument("--horizon-days", type=int, default=90, help="retention/revenue horizon H")
    g.add_argument(
        "--include-revenue-event",
        action="store_true",
        help="offer the revenue event's early counts as candidates (labelled transactions); "
        "automatic when the log has no other behaviour",
    )
    g.add_argument("--candidates", help="comma-separated candidates (event names or columns)")
    g.add_argument("--bootstrap", type=int, default=200, help="resamples for rank stability")
    g.add_argument("--split", choices=["random", "cohort"], default="random",
                   help="threshold training split")  # fmt: skip
    g.add_argument("--weights", default="0.6,0.4", help="score weights retention,revenue")
    g.add_argument("--max-users", type=int, default=2_000_000)
    g.add_argument(
        "--drop-duplicate-events",
        action="store_true",
        help="count exact duplicate events once (rows with the same user, event, time and value)",
    )
    g.add_argument("--seed", type=int, default=20261125)


def settings_from(args):
    """AnalysisSettings from parsed arguments (validated there)."""
    from ..settings import AnalysisSettings

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
        include_revenue_event=getattr(args, "include_revenue_event", False),
        drop_duplicate_events=getattr(args, "drop_duplicate_events", False),
        churn_event=getattr(args, "churn_event", None),
    )


def load_from(args, progress, recorded: dict | None = None):
    """LoadedData from the data arguments (over a decision's recorded mapping, if given)."""
    from ..data.load import load_inputs

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
        "count": getattr(args, "count_col", None),
        "one_event": getattr(args, "one_event", None),
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
        event_format=getattr(args, "event_format", None),
        progress=progress,
        recorded_columns=recorded,
    )


def progress_printer(quiet: bool):
    """One line per step on stderr, with elapsed seconds (credentials redacted, terminal
    control characters removed)."""
    start = time.perf_counter()
    last = [""]

    def report(message: str, _fraction: float = 0.0) -> None:
        if quiet or message == last[0]:
            return
        last[0] = message
        line = plain(redact_secrets(message), one_line=True)  # names from data: no escapes
        print(f"[{time.perf_counter() - start:6.1f}s] {line}", file=sys.stderr, flush=True)

    return report
