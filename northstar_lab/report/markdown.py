"""The rationale page as Markdown: the same facts in the same order as the HTML, charts named
only. Everything from the record renders inert (no links, images or HTML).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..decisions.model import Decision, Revalidation
from ..text import utc_now, when
from .facts import SECTIONS, RationaleFacts, rationale_facts
from .tables import Table

_URLISH = re.compile(
    r"(?:\b(?:https?|ftp|mailto|javascript|data|file|vbscript):|\bwww\.)"
    r"[^\s<>`|\\]*",
    re.IGNORECASE,
)


_MD_PUNCT = re.compile(r"([\\`\[\]|])")


def md_escape(text: Any, cell: bool = False) -> str:
    """User text as inert Markdown: HTML characters become entities, brackets (link and image
    syntax), backticks, pipes and backslashes are backslash-escaped, and URL-like text becomes a
    code span (no autolink).

    cell=True also folds newlines, for table cells.
    """
    s = "" if text is None else str(text)
    if cell:
        s = " ".join(s.split())
    out, pos = [], 0
    for m in _URLISH.finditer(s):
        url = m.group(0).rstrip(".,;:!?)'\"")
        out.append(_md_text(s[pos : m.start()]))
        out.append(f"`{url}`" if url else "")
        pos = m.start() + len(url)
    out.append(_md_text(s[pos:]))
    return "".join(out)


def _md_text(s: str) -> str:
    s = _MD_PUNCT.sub(r"\\\1", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _paragraph(text: str) -> str:
    return "  \n".join(md_escape(line) for line in text.splitlines())


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(md_escape(h, True) for h in header) + " |",
        "|" + "---|" * len(header),
    ]
    return lines + ["| " + " | ".join(md_escape(v, True) for v in r) + " |" for r in rows]


def _h2(section: str) -> str:
    return f"## {SECTIONS[section]}"


def _table_or(t: Table) -> list[str]:
    if not t.rows:
        return [f"_{md_escape(t.empty)}_"] if t.empty else []
    return _table(t.header, t.rows) + (["", md_escape(t.note, True)] if t.note else [])


def _items(lines: Sequence[str]) -> list[str]:
    return [f"- {md_escape(line, True)}" for line in lines]


def rationale_markdown(
    decision: Decision,
    revalidations: Sequence[Revalidation] = (),
    *,
    history: Sequence[Decision] = (),
    integrity: Any = None,
) -> str:
    """The rationale page as Markdown (same content and order as the HTML, charts named only)."""
    return facts_markdown(rationale_facts(decision, revalidations, history, integrity))


def facts_markdown(facts: RationaleFacts) -> str:
    out: list[str] = []
    for section in SECTIONS:
        lines = SECTION_WRITERS[section](facts)
        out += [*lines, ""] if lines else []
    out += [f"_Exported by North Star Lab on {when(utc_now())}._", ""]
    return "\n".join(out)


def _header(f: RationaleFacts) -> list[str]:
    out = [f"# {md_escape(f.title, True)}", "", f"_{md_escape(f.record_line)}_", ""]
    if f.integrity:
        out += [f"> {md_escape(f.integrity.message, True)}", ""]
    if f.superseded:
        out += [f"> **{md_escape(f.superseded, True)}**", ""]
    out += [f"**North Star: {md_escape(f.north_star, True)}**", ""]
    out += [f"- **{label}**: {md_escape(value, True)}" for label, value in f.definition]
    if f.amendment:
        out += ["", f"> {md_escape(f.amendment, True)}"]
    return out


def _why(f: RationaleFacts) -> list[str]:
    out = [_h2("why"), ""]
    for p in f.rationale:
        out += [_paragraph(p), ""]
    if f.charts:
        names = "; ".join(md_escape(c.caption, True) for c in f.charts)
        out += [f"_Charts (in the HTML export; their data is in the record): {names}._", ""]
    if f.rubric:
        out += ["### Workshop rubric", "", *_table_or(f.rubric)]
    return out


def _alternatives(f: RationaleFacts) -> list[str]:
    rows = [
        [
            a.role,
            a.name + (f" ({a.candidate})" if a.candidate else "") + f" — {a.standing}",
            a.reason,
            *a.numbers,
        ]
        for a in f.alternatives
    ]
    out = [_h2("alternatives"), "", *_table(["", "Metric", "Why", *f.number_columns], rows)]
    return out + (["", f"_{md_escape(f.alternatives_note)}_"] if f.alternatives_note else [])


def _confidence(f: RationaleFacts) -> list[str]:
    figures = [
        f"{md_escape(h.label)}: **{md_escape(h.value)}**"
        + (f" ({md_escape(h.detail)})" if h.detail else "")
        for h in f.headline
    ]
    out = [_h2("confidence"), ""]
    out += [" · ".join(figures), ""] if figures else []
    return out + [*_items(f.confidence), "", "### Caveats", "", *_items(f.caveats)]


def _inputs(f: RationaleFacts) -> list[str]:
    out = [_h2("inputs"), "", *_table_or(f.inputs)]
    if f.tree:
        out += ["", f"_Tree (in the HTML export): {md_escape(f.tree_caption, True)}_"]
    return out


def _data(f: RationaleFacts) -> list[str]:
    out = [_h2("data"), ""]
    out += [md_escape(f.population), ""] if f.population else []
    out += ["### Data fingerprint", "", *_table_or(f.fingerprint), ""]
    return out + ["### Analysis settings", "", *_table_or(f.settings)]


def _revalidations(f: RationaleFacts) -> list[str]:
    out = [_h2("revalidations"), ""]
    if not f.revalidations:
        return out + ["_Not re-validated yet._"]
    for r in f.revalidations:
        out += [f"### {r.run_at}: {md_escape(r.verdict_words, True)}", ""]
        out += [f"{md_escape(r.summary, True)} _(judged {md_escape(r.judged)})_", ""]
        out += [*_table_or(r.then_now), ""]
    return out + [f"_Rule: {md_escape(f.revalidation_rule, True)}_"]


def _versions(f: RationaleFacts) -> list[str]:
    if not f.versions:
        return []
    header = ["Version", "Decision", "Recorded", "What changed", "Status"]
    rows = [
        [str(v.version), f"#{v.decision_id}", v.recorded + (f" by {v.by}" if v.by else ""),
         v.note, v.status]
        for v in f.versions
    ]  # fmt: skip
    return [_h2("versions"), "", *_table(header, rows)]


def _section_table(section: str, field: str):
    return lambda f: [_h2(section), "", *_table_or(getattr(f, field))]


SECTION_WRITERS = {
    "header": _header,
    "why": _why,
    "alternatives": _alternatives,
    "guardrails": _section_table("guardrails", "guardrails"),
    "gaps": _section_table("gaps", "gaps"),
    "confidence": _confidence,
    "inputs": _inputs,
    "signoffs": _section_table("signoffs", "signoffs"),
    "data": _data,
    "revalidations": _revalidations,
    "versions": _versions,
}
