"""The rationale page as Markdown: the same facts in the same order as the HTML, charts named only.
Everything a user typed renders inert (no links, images or HTML).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..decisions.model import Decision, Revalidation
from ..text import utc_now, when
from .charts import argument_chart_names, chart_caption
from .facts import (
    COMPARISON_COLUMNS,
    FALLBACK_ROWS,
    caveats,
    cell_text,
    compact,
    comparison_rows,
    confidence_lines,
    definition_rows,
    input_table,
    population_line,
    record_line,
    revalidation_table,
    rubric_table,
    signoff_table,
)

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


def _md_paragraphs(text: str) -> str:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text or "") if b.strip()]
    return "\n\n".join("  \n".join(md_escape(line) for line in b.splitlines()) for b in blocks)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(md_escape(h, True) for h in header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(md_escape(v, True) for v in r) + " |" for r in rows]
    return lines


def _md_kv(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [
            f"- **{md_escape(k, True)}**: {md_escape(compact(v), True)}" for k, v in value.items()
        ]
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        cols = list(dict.fromkeys(k for r in value for k in r))
        return _md_table(cols, [[cell_text(r.get(c)) for c in cols] for r in value[:FALLBACK_ROWS]])
    return [md_escape(compact(value))]


def rationale_markdown(decision: Decision, revalidations: Sequence[Revalidation] = ()) -> str:
    """The rationale page as Markdown (same content and order as the HTML, charts named only)."""
    comparison = [
        [
            r["role"],
            r["name"] + (f" ({r['candidate']})" if r["candidate"] else ""),
            r["reason"],
            *r["numbers"].values(),
        ]
        for r in comparison_rows(decision)
    ]
    out = [
        *_md_header(decision),
        *_md_why(decision),
        "## Alternatives considered",
        "",
        *_md_table(["", "Metric", "Why", *[c for c, _ in COMPARISON_COLUMNS]], comparison),
        "",
        "## How confident we are",
        "",
        *[f"- {md_escape(line, True)}" for line in confidence_lines(decision)],
        "",
        "### Caveats",
        "",
        *[f"- {md_escape(line, True)}" for line in caveats(decision)],
        "",
        "## Input metrics and owners",
        "",
        *_md_table_or(*input_table(decision)),
        "",
        "## Sign-offs",
        "",
        *_md_table_or(*signoff_table(decision)),
        "",
        *_md_data(decision),
        "## Re-validation history",
        "",
        *_md_table_or(*revalidation_table(revalidations)),
        "",
        f"_Exported by North Star Lab on {when(utc_now())}._",
        "",
    ]
    return "\n".join(out)


def _md_table_or(header: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> list[str]:
    return _md_table(header, rows) if rows else [f"_{md_escape(empty)}_"]


def _md_header(decision: Decision) -> list[str]:
    out = [
        f"# {md_escape(decision.title, True)}",
        "",
        f"_{md_escape(record_line(decision))}_",
        "",
        f"**North Star: {md_escape(decision.definition.name, True)}**",
        "",
        *[f"- **{label}**: {md_escape(value, True)}" for label, value in definition_rows(decision)],
        "",
    ]
    if decision.supersedes:
        note = md_escape(decision.amendment_note, True)
        out += [f"> Amends decision #{decision.supersedes}: {note}", ""]
    return out


def _md_why(decision: Decision) -> list[str]:
    out = ["## Why it won", "", _md_paragraphs(decision.rationale), ""]
    names = argument_chart_names(decision)
    if names:
        charts = "; ".join(md_escape(chart_caption(decision, n), True) for n in names)
        out += [f"_Charts (in the HTML export; their data is in the record): {charts}._", ""]
    if decision.evidence.rubric:
        header, rows, note = rubric_table(decision.evidence.rubric)
        out += ["### Workshop rubric", "", *_md_table(header, rows), "", md_escape(note, True), ""]
    return out


def _md_data(decision: Decision) -> list[str]:
    ev, population = decision.evidence, population_line(decision)
    out = ["## Data and settings", ""]
    if population:
        out += [md_escape(population), ""]
    out += ["### Data fingerprint", "", *_md_kv(ev.fingerprint), ""]
    return out + ["### Analysis settings", "", *_md_kv(ev.settings), ""]
