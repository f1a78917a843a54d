"""Command line: `python -m northstar_lab rank|revalidate|decisions|sample|inputs`.

A stable contract for scripts and scheduled pipelines. Bad input prints one paragraph on
stderr and exits 2 (never a traceback); re-validation exits 0 holds, 3 weakened, 4 overtaken.
Set NORTHSTAR_DEBUG=1 to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import InputError
from ..redact import redact_secrets
from ..text import plain
from .args import add_data_arguments, add_settings_arguments, parse_date
from .commands import cmd_decisions, cmd_rank, cmd_revalidate, cmd_sample
from .inputs_cmd import add_inputs_parser, cmd_inputs

EXIT_INPUT = 2


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
    rev.add_argument("--as-of", type=parse_date, help="data end for the new run (default: latest)")
    rev.add_argument("--json", dest="json_out")
    rev.add_argument(
        "--db",
        help="decision database: a SQLite file or a postgresql:// URL "
        "(default: $NORTHSTAR_DB or the user data dir)",
    )
    rev.add_argument("--no-save", action="store_true", help="do not record the re-validation")
    rev.add_argument("--quiet", action="store_true")

    dec = sub.add_parser("decisions", help="list, show, export or copy recorded decisions")
    dec.add_argument("action", choices=["list", "show", "export", "copy"])
    dec.add_argument("id", nargs="?", help="decision id (show, export)")
    dec.add_argument("--html", help="export: write a self-contained HTML file here")
    dec.add_argument("--markdown", help="export: write Markdown here")
    dec.add_argument(
        "--db",
        help="decision database: a SQLite file or a postgresql:// URL "
        "(default: $NORTHSTAR_DB or the user data dir)",
    )
    dec.add_argument(
        "--from", dest="copy_from", metavar="DB", help="copy: the database to copy from"
    )
    dec.add_argument(
        "--to",
        dest="copy_to",
        metavar="DB",
        help="copy: the database to copy into (e.g. postgresql://USER:PASSWORD@HOST/DATABASE)",
    )

    smp = sub.add_parser("sample", help="regenerate the bundled sample data")
    smp.add_argument("--out", default="sample_data")
    smp.add_argument("--users", type=int, default=None)
    smp.add_argument("--seed", type=int, default=None)

    add_inputs_parser(sub)
    return parser


COMMANDS = {
    "rank": cmd_rank,
    "revalidate": cmd_revalidate,
    "decisions": cmd_decisions,
    "sample": cmd_sample,
    "inputs": cmd_inputs,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {plain(redact_secrets(exc.for_cli()))}", file=sys.stderr)
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
            f"internal error: {type(exc).__name__}: {redact_secrets(exc)}. This is a bug in North "
            "Star Lab, not in your data; rerun with NORTHSTAR_DEBUG=1 for details and report it.",
            file=sys.stderr,
        )
        return 1
