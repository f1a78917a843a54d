"""The rationale page as terminal text (the CLI's `decisions show`): the same facts in the same
order, with every control character removed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from ..decisions.model import Decision, Revalidation
from ..text import plain
from .facts import SECTIONS, RationaleFacts, rationale_facts
from .tables import Table

WIDTH = 96


def rationale_text(
    decision: Decision,
    revalidations: Sequence[Revalidation] = (),
    *,
    history: Sequence[Decision] = (),
    integrity: Any = None,
) -> str:
    """The record as readable terminal text, in the same order as the page."""
    return facts_text(rationale_facts(decision, revalidations, history, integrity))


def facts_text(facts: RationaleFacts) -> str:
    out: list[str] = []
    for section in SECTIONS:
        lines = SECTION_WRITERS[section](facts)
        out += [*lines, ""] if lines else []
    return "\n".join(out).rstrip() + "\n"


def _wrap(text: str, indent: str = "  ") -> list[str]:
    """Wrapped at `WIDTH` columns; a '- ' bullet's continuation lines are indented under it."""
    lines, hang = [], indent + ("  " if text.startswith("- ") else "")
    for para in plain(text).split("\n") if text else []:
        lines += textwrap.wrap(para, WIDTH, initial_indent=indent, subsequent_indent=hang) or [""]
    return lines


def _heading(section: str) -> str:
    return SECTIONS[section].upper()


def _table(t: Table, indent: str = "  ", labelled: bool = True) -> list[str]:
    """A table as one line per row, its cells joined by ' · ' ('header: value' when
    labelled; a list of names and roles reads without)."""
    if not t.rows:
        return [f"{indent}({t.empty.rstrip('.').lower()})"] if t.empty else []
    out = []
    for row in t.rows:
        pairs = zip(t.header, row, strict=True)
        cells = [f"{h}: {v}" if h and labelled else v for h, v in pairs if v]
        out += _wrap("- " + " · ".join(cells), indent)
    return out + (_wrap(t.note, indent) if t.note else [])


def _header(f: RationaleFacts) -> list[str]:
    out = [plain(f.title), plain(f.record_line)]
    out += _wrap(f.integrity.message, "") if f.integrity else []
    out += _wrap(f.superseded, "") if f.superseded else []
    out += ["", f"NORTH STAR: {plain(f.north_star)}"]
    out += [f"  {label + ':':<16}{plain(value, one_line=True)}" for label, value in f.definition]
    return out + (_wrap(f.amendment) if f.amendment else [])


def _why(f: RationaleFacts) -> list[str]:
    out = [_heading("why")]
    for p in f.rationale:
        out += _wrap(p)
    return out + (["", "  Workshop rubric", *_table(f.rubric)] if f.rubric else [])


def _alternatives(f: RationaleFacts) -> list[str]:
    out = [_heading("alternatives")]
    for a in f.alternatives:
        nums = ", ".join(f"{k} {v}" for k, v in zip(f.number_columns, a.numbers, strict=True))
        out += [f"  - {plain(a.name, one_line=True)} ({a.role})"]
        out += _wrap(a.standing, "      ") + _wrap(f"why: {a.reason}", "      ")
        out += _wrap(nums, "      ")
    return out + ([f"  ({f.alternatives_note.rstrip('.').lower()})"] if f.alternatives_note else [])


def _confidence(f: RationaleFacts) -> list[str]:
    out = [_heading("confidence")]
    for line in [*f.confidence, *f.caveats]:
        out += _wrap(f"- {line}")
    return out


def _inputs(f: RationaleFacts) -> list[str]:
    out = [_heading("inputs"), *_table(f.inputs)]
    return out + (_wrap(f"tree (in the HTML export): {f.tree_caption}") if f.tree else [])


def _data(f: RationaleFacts) -> list[str]:
    out = [_heading("data"), *_wrap(f.population)]
    out += _wrap("fingerprint: " + "; ".join(f"{k} {v}" for k, v in f.fingerprint.rows))
    return out + _wrap("settings: " + "; ".join(f"{k} {v}" for k, v in f.settings.rows))


def _revalidations(f: RationaleFacts) -> list[str]:
    out = [_heading("revalidations")]
    if not f.revalidations:
        return out + ["  (not re-validated yet)"]
    for r in f.revalidations:
        out += [plain(f"  {r.run_at}  {r.verdict_words.upper()}  (judged {r.judged})")]
        out += _wrap(r.summary, "      ") + _table(r.then_now, "      ")
    return out + _wrap(f"rule: {f.revalidation_rule}")


def _versions(f: RationaleFacts) -> list[str]:
    if not f.versions:
        return []
    return [_heading("versions")] + [
        plain(f"  v{v.version} #{v.decision_id}  {v.recorded}  {v.status}: {v.note}", one_line=True)
        for v in f.versions
    ]


SECTION_WRITERS = {
    "header": _header,
    "why": _why,
    "alternatives": _alternatives,
    "guardrails": lambda f: [_heading("guardrails"), *_table(f.guardrails)],
    "gaps": lambda f: [_heading("gaps"), *_table(f.gaps)],
    "confidence": _confidence,
    "inputs": _inputs,
    "signoffs": lambda f: [_heading("signoffs"), *_table(f.signoffs, labelled=False)],
    "data": _data,
    "revalidations": _revalidations,
    "versions": _versions,
}
