"""The command line's commands: rank, revalidate, decisions list|show|export|copy, sample.

Each takes parsed arguments, calls the library, prints, and returns the exit code
(0 success; re-validation 0 holds, 3 weakened, 4 overtaken). Bad input raises InputError,
which `main` turns into one paragraph on stderr and exit 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..decisions.model import Decision, Revalidation
from ..errors import InputError
from ..text import plain
from .args import load_from, progress_printer, settings_from
from .format import format_decision_list, format_history, format_leaderboard, format_revalidation

EXIT_CODES = {"holds": 0, "weakened": 3, "overtaken": 4}


def cmd_revalidate(args) -> int:
    """`revalidate`: print then-vs-now, save it to the decision's history, exit 0/3/4."""
    from ..decisions.revalidate import recorded_mapping, revalidate
    from ..decisions.store import DecisionStore

    progress = progress_printer(args.quiet)
    store = DecisionStore(args.db)
    try:
        decision = store.get(int(args.decision))
    except ValueError as exc:
        raise InputError(f"--decision must be a number, got {args.decision!r}") from exc
    loaded = load_from(args, progress, recorded=recorded_mapping(decision.evidence.fingerprint))
    reval, _analysis = revalidate(decision, loaded, as_of=args.as_of, progress=progress)
    if not args.no_save:
        reval = store.add_revalidation(decision.id, reval)
    print(format_revalidation(decision, reval))
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(reval.to_dict(), indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
    sys.stdout.flush()
    return EXIT_CODES[reval.verdict]


def cmd_decisions(args) -> int:
    """list / show ID / export ID --html OUT [--markdown OUT] / copy --from DB --to DB."""
    from ..decisions.store import DecisionStore

    if args.action == "copy":
        return _copy(getattr(args, "copy_from", None), getattr(args, "copy_to", None))
    store = DecisionStore(args.db, create=False)
    if args.action == "list":
        print(format_decision_list(store.list_decisions(), store.location))
        return 0
    if not args.id:
        raise InputError(
            f"`decisions {args.action}` needs a decision id; `decisions list` shows them."
        )
    decision = store.get(args.id)
    revals = store.revalidations(decision.id)
    if args.action == "show":
        from ..report.text import rationale_text

        print(plain(store.verify(decision.id).message), end="\n\n")
        print(rationale_text(decision, revals))
        print(format_history(store.history(decision.id), decision.id))
        return 0
    if args.action == "export":
        return _export(store, decision, revals, args.html, args.markdown)
    raise InputError(f"Unknown action {args.action!r}; use list, show, export or copy.")


def _copy(source: str | None, target: str | None) -> int:
    """`decisions copy --from DB --to DB`: one transaction on the target; print what moved."""
    from ..decisions.store import DecisionStore
    from ..decisions.transfer import copy_store

    if not (source and target):
        raise InputError(
            "`decisions copy` needs --from DB (the database to copy, e.g. decisions.sqlite3) "
            "and --to DB (e.g. postgresql://USER:PASSWORD@HOST/DATABASE)."
        )
    report = copy_store(DecisionStore(source, create=False), DecisionStore(target))
    print(report.message)
    return 0


def _export(store, decision: Decision, revals: list[Revalidation], html_out, md_out) -> int:
    from ..report.html import rationale_html
    from ..report.markdown import rationale_markdown

    if not (html_out or md_out):
        raise InputError("`decisions export` needs --html OUT.html and/or --markdown OUT.md.")
    record = {"history": store.history(decision.id), "integrity": store.verify(decision.id)}
    outputs = []
    if html_out:
        outputs.append((html_out, rationale_html(decision, revals, **record)))
    if md_out:
        outputs.append((md_out, rationale_markdown(decision, revals, **record)))
    for path, text in outputs:
        written = _write_text(Path(path), text)
        print(f"wrote {written}")
    return 0


def _write_text(path: Path, text: str) -> Path:
    """Write via a temporary file and rename, so an interrupted export leaves no half file."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(
            f"Cannot write {path}: {exc.strerror or exc}. Check the folder exists and is writable."
        ) from exc
    return path.resolve()


def cmd_rank(args) -> int:
    """`rank`: print the leaderboard, optionally write the whole ranking as JSON."""
    from ..analysis import analyse

    progress = progress_printer(args.quiet)
    settings = settings_from(args)
    loaded = load_from(args, progress)
    analysis = analyse(loaded, settings, progress)
    print(format_leaderboard(analysis.ranking, top=args.top))
    if args.json_out:
        Path(args.json_out).write_text(analysis.ranking.to_json(indent=2), encoding="utf-8")
        print(f"\nJSON written to {args.json_out}")
    return 0


def cmd_sample(args) -> int:
    """`sample`: regenerate the bundled sample data."""
    from ..sample import write_sample

    kw = {k: v for k, v in (("n_users", args.users), ("seed", args.seed)) if v is not None}
    paths = write_sample(args.out, **kw)
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
