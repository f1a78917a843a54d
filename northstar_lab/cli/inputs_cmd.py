"""`python -m northstar_lab inputs`: the evidence that each input metric leads the North Star.

    python -m northstar_lab inputs --events E --users U --north-star count:lesson_completed \\
        [--inputs count:goal_set,share:lesson_completed/lesson_started] \\
        [--inputs-file inputs.csv] [--experiments assignments.csv] [--json out.json] \\
        [--svg tree.svg]
    python -m northstar_lab inputs --decision ID --events E [--users U] [...]

With --decision the North Star, the input metrics (kind, owner, targets) and the settings come
from the record; only the as-of date moves (latest in the data, or --as-of). The ranking's rank
stability is not needed here, so the analysis runs without its bootstrap.
"""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

from ..errors import InputError
from ..text import num, plain
from .args import add_data_arguments, add_settings_arguments, load_from, progress_printer


def add_inputs_parser(sub) -> None:
    p = sub.add_parser(
        "inputs",
        help="check that input metrics lead the North Star (user level, weekly, experiments)",
    )
    add_data_arguments(p)
    add_settings_arguments(p)
    g = p.add_argument_group("input metrics")
    g.add_argument(
        "--north-star", help="the North Star's candidate key, e.g. count:lesson_completed"
    )
    g.add_argument(
        "--inputs",
        help="comma-separated input keys: count:E, days:E, reached:E, share:NUM/DEN, "
        "baseline:active_days (default: every candidate but the North Star)",
    )
    g.add_argument(
        "--inputs-file",
        help="CSV with columns key and optionally kind, owner, definition, target_low, target_high",
    )
    g.add_argument(
        "--experiments", help="assignments table: user, experiment, variant, assigned_at"
    )
    g.add_argument("--decision", help="take the North Star, inputs and settings from this record")
    g.add_argument("--db", help="decision database (default: $NORTHSTAR_DB or user data dir)")
    p.add_argument("--json", dest="json_out", help="write the result as JSON here")
    p.add_argument("--svg", help="write the tree picture as SVG here")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def _split(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _inputs_file(path: str) -> list[dict]:
    from ..data.users import read_table

    df = read_table(path)
    if "key" not in df.columns:
        raise InputError(
            f"{Path(path).name}: needs a 'key' column (count:E, share:NUM/DEN, …); found "
            f"{', '.join(map(str, df.columns[:10]))}."
        )
    return df.to_dict("records")


def _from_decision(args):
    """(North Star key, inputs, settings) of a recorded decision."""
    from ..decisions.store import DecisionStore
    from ..settings import AnalysisSettings

    decision = DecisionStore(args.db, create=False).get(args.decision)
    inputs = []
    for m in decision.input_metrics:
        item = {k: getattr(m, k) for k in ("kind", "owner", "definition")}
        item |= {"target_low": m.target_low, "target_high": m.target_high}
        inputs.append({**item, "key": m.key or m.name, "name": m.name})
    if not inputs:
        raise InputError(
            f"Decision #{decision.id} records no input metrics; name them with --inputs and "
            "--north-star instead."
        )
    settings = AnalysisSettings.from_dict(decision.evidence.settings)
    settings = dataclasses.replace(settings, as_of=args.as_of, n_bootstrap=0)
    return decision.chosen_key, inputs, settings


def cmd_inputs(args) -> int:
    """`inputs`: print one row per input, optionally write JSON and the tree as SVG."""
    from ..analysis import analyse
    from ..inputs.analyse import analyse_inputs
    from ..inputs.tree import tree_rows, tree_svg
    from .args import settings_from

    progress = progress_printer(args.quiet)
    if args.decision:
        north_star, inputs, settings = _from_decision(args)
    else:
        if not args.north_star:
            raise InputError(
                "Give --north-star KEY (e.g. count:lesson_completed) or --decision ID."
            )
        north_star = args.north_star
        inputs = (_inputs_file(args.inputs_file) if args.inputs_file else []) + _split(args.inputs)
        inputs = inputs or None
        settings = dataclasses.replace(settings_from(args), n_bootstrap=0)
    loaded = load_from(args, progress)
    analysis = analyse(loaded, settings, progress)
    result = analyse_inputs(
        analysis, loaded, north_star, inputs, assignments=args.experiments, progress=progress
    )
    print(format_inputs(result))
    if args.json_out:
        Path(args.json_out).write_text(result.to_json(indent=2), encoding="utf-8")
        print(f"\nJSON written to {args.json_out}")
    if args.svg:
        rows = tree_rows(result.north_star_name, result.inputs)
        Path(args.svg).write_text(tree_svg(rows), encoding="utf-8")
        print(f"Tree written to {args.svg}")
    return 0


def format_inputs(result) -> str:
    """One fixed-width row per input: kind, owner, lead [CI], q, cohorts, lag, experiments."""
    ns = plain(result.north_star_name, one_line=True)
    w, h = result.window_days, result.horizon_days
    lines = [
        f"Input metrics of the North Star {ns}: {result.n_users:,} users with {w + h} days of "
        f"follow-up; the North Star per user {num(result.north_star_early_mean, '.2f')} in days "
        f"0–{w - 1}, {num(result.north_star_later_mean, '.2f')} in days {w}–{w + h - 1}.",
        "",
        f"{'input':<44} {'kind':<10} {'owner':<12} {'lead/SD [95% CI]':>22} {'q':>8} "
        f"{'I²':>5} {'same±':>5} {'lag1 ρ':>6} {'exp ρ (n)':>10}  verdict",
    ]
    for e in result.inputs:
        lo, hi = num(e.lead_ci_low, "+.3f"), num(e.lead_ci_high, "+.3f")
        lead = f"{num(e.lead_effect, '+.3f')} [{lo}, {hi}]"
        exp = (
            "—" if not e.experiments_n else f"{num(e.experiment_corr, '+.2f')} ({e.experiments_n})"
        )
        lines.append(
            f"{plain(e.name, 44, one_line=True):<44} {e.kind:<10} "
            f"{plain(e.owner or '—', 12, one_line=True):<12} {lead:>22} {num(e.q_value, '.2g'):>8} "
            f"{num(e.cohort_i2, '.2f'):>5} {num(e.same_sign_share, '.0%'):>5} "
            f"{num(e.lag_corr, '+.2f'):>6} {exp:>10}  {e.verdict}/{e.experiment_verdict}"
        )
    for note in result.notes:
        lines += textwrap.wrap(plain(note), 100, initial_indent="  - ", subsequent_indent="    ")
    lines += [
        "",
        *textwrap.wrap(
            "lead/SD: change in log(1 + North Star later) per SD of the input in the first "
            f"{w} days, among users with the same early North Star (HC1 95% CI); q: BH over all "
            "inputs; I² and same±: across signup-month cohorts; lag1 ρ: weekly, this week's "
            "change in the input vs next week's in the North Star; exp ρ: correlation of "
            "experiment effects, noise removed (n arms).",
            100,
        ),
        "Association, not causation, except where experiments speak.",
    ]
    return "\n".join(lines)
