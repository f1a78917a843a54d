"""The rationale page as one self-contained HTML file: inline CSS (with print rules) and charts as
inline SVG; no JavaScript, no network, nothing to load. Everything a person typed, and every name
that came from their data, is escaped: text stays text.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..decisions.model import VERDICTS, Decision, Revalidation
from ..text import utc_now, when
from .charts import argument_chart_names, chart_caption, chart_svg, charts_for
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

log = logging.getLogger(__name__)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text or "") if b.strip()]
    return "".join(f"<p>{_e(b).replace(chr(10), '<br>')}</p>" for b in blocks)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv_table(pairs: Sequence[tuple[str, Any]], cls: str = "kv") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)
    return f'<table class="{cls}"><tbody>{body}</tbody></table>'


def _rows_table(rows: Sequence[Mapping]) -> str:
    """A list of row dicts as a table (the first FALLBACK_ROWS rows)."""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    shown = [[cell_text(r.get(c)) for c in cols] for r in rows[:FALLBACK_ROWS]]
    more = len(rows) - FALLBACK_ROWS
    note = f'<p class="note">… {more} more rows in the record.</p>' if more > 0 else ""
    return _table(cols, shown, "data") + note


def _figure(decision: Decision, name: str, chart: Any, index: int) -> str:
    caption = f"<figcaption>{_e(chart_caption(decision, name))}</figcaption>"
    problem = "no chart builder is available"
    if chart is not None:
        try:
            return f'<figure class="chart">{chart_svg(chart, f"chart{index}")}{caption}</figure>'
        except Exception as exc:  # fall back to the data, never fail the export
            problem = f"the chart could not be drawn ({type(exc).__name__})"
            log.warning("chart %s not rendered: %s", name, exc)
    rows = decision.evidence.charts.get(name)
    if not rows or not isinstance(rows, list):
        return ""
    return (
        f'<figure class="chart fallback">{caption}<p class="note">Shown as data: {_e(problem)}.'
        f"</p>{_rows_table([r for r in rows if isinstance(r, Mapping)])}</figure>"
    )


def _generic_html(value: Any, depth: int = 0) -> str:
    """A stored dict/list (settings, fingerprint, rubric) as tables: one level of nested dicts
    as nested tables, anything deeper as compact JSON."""
    if isinstance(value, Mapping):
        nest = depth < 1
        cells = {
            k: _generic_html(v, depth + 1) if nest and isinstance(v, Mapping) else _e(compact(v))
            for k, v in value.items()
        }
        body = "".join(f"<tr><th>{_e(k)}</th><td>{cell}</td></tr>" for k, cell in cells.items())
        return f'<table class="kv"><tbody>{body}</tbody></table>'
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        return _rows_table(value)
    return f"<p>{_e(compact(value))}</p>"


def _verdict_class(verdict: str) -> str:
    return verdict if verdict in VERDICTS else "unknown"


def rationale_html(
    decision: Decision,
    revalidations: Sequence[Revalidation] = (),
    charts: Mapping[str, Any] | None = None,
) -> str:
    """The rationale page as one self-contained HTML document (inline CSS and SVG, no scripts).

    charts: chart name → Altair chart or Vega-Lite dict; None builds them with `charts_for`.
    Charts that are missing or fail to render are shown as their stored data.
    """
    charts = charts_for(decision) if charts is None else dict(charts)
    sections = [
        _header_html(decision),
        _why_html(decision, charts),
        _section("rejected", "Alternatives considered", _comparison_html(decision)),
        _confidence_html(decision),
        _section("inputs", "Input metrics and owners", _table_or(*input_table(decision))),
        _section("signoffs", "Sign-offs", _table_or(*signoff_table(decision))),
        _data_html(decision),
        _section("revalidations", "Re-validation history", _revalidations_html(revalidations)),
        f"<footer>Exported by North Star Lab on {_e(when(utc_now()))}. This file is "
        "self-contained: it opens offline and prints on A4 or Letter.</footer>",
    ]
    title = f"{decision.title} — North Star decision"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    )


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(heading)}</h2>{body}</section>'


def _table_or(header: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> str:
    return _table(header, rows) if rows else f'<p class="note">{_e(empty)}</p>'


def _header_html(decision: Decision) -> str:
    parts = [
        f'<header><p class="eyebrow">{_e(record_line(decision))}</p>',
        f"<h1>{_e(decision.title)}</h1>",
        f'<p class="northstar"><span>North Star</span> {_e(decision.definition.name)}</p>',
        _kv_table(definition_rows(decision), "kv definition"),
    ]
    if decision.supersedes:
        parts.append(
            f'<p class="amended">Amends decision #{_e(decision.supersedes)}: '
            f"{_e(decision.amendment_note)}</p>"
        )
    return "".join(parts) + "</header>"


def _why_html(decision: Decision, charts: Mapping[str, Any]) -> str:
    names = list(dict.fromkeys([*charts, *argument_chart_names(decision)]))
    figures = "".join(_figure(decision, n, charts.get(n), i) for i, n in enumerate(names, start=1))
    body = _paragraphs(decision.rationale)
    if figures:
        body += f'<div class="charts">{figures}</div>'
    if decision.evidence.rubric:
        header, rows, note = rubric_table(decision.evidence.rubric)
        body += f'<h3>Workshop rubric</h3>{_table(header, rows)}<p class="note">{_e(note)}</p>'
    return _section("why", "Why it won", body)


def _comparison_html(decision: Decision) -> str:
    rows = comparison_rows(decision)
    header = ["", "Metric", "Why", *[label for label, _ in COMPARISON_COLUMNS]]
    body = "".join(
        f'<tr class="{r["role"]}"><td class="role">{_e(r["role"])}</td>'
        f"<td><strong>{_e(r['name'])}</strong>"
        + (f'<br><span class="note">{_e(r["candidate"])}</span>' if r["candidate"] else "")
        + f"</td><td>{_e(r['reason'])}</td>"
        + "".join(f'<td class="n">{_e(v)}</td>' for v in r["numbers"].values())
        + "</tr>"
        for r in rows
    )
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    table = f'<table class="comparison"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    if len(rows) == 1:
        table += '<p class="note">No rejected alternatives were recorded.</p>'
    return table


def _confidence_html(decision: Decision) -> str:
    facts = "".join(f"<li>{_e(line)}</li>" for line in confidence_lines(decision))
    warns = "".join(f"<li>{_e(line)}</li>" for line in caveats(decision))
    body = f"<ul>{facts}</ul><h3>Caveats</h3><ul>{warns}</ul>"
    return _section("confidence", "How confident we are", body)


def _data_html(decision: Decision) -> str:
    ev, population = decision.evidence, population_line(decision)
    body = (
        (f"<p>{_e(population)}</p>" if population else "")
        + "<h3>Data fingerprint</h3>"
        + _generic_html(ev.fingerprint)
        + "<h3>Analysis settings</h3>"
        + _generic_html(ev.settings)
    )
    return _section("data", "Data and settings", body)


def _revalidations_html(revalidations: Sequence[Revalidation]) -> str:
    header, rows, empty = revalidation_table(revalidations)
    if not rows:
        return f'<p class="note">{_e(empty)}</p>'
    body = "".join(
        "<tr>"
        + "".join(
            f'<td><span class="verdict {_verdict_class(r.verdict)}">{_e(v)}</span></td>'
            if col == "Verdict"
            else f"<td>{_e(v)}</td>"
            for col, v in zip(header, row, strict=True)
        )
        + "</tr>"
        for r, row in zip(revalidations, rows, strict=True)
    )
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
:root { --ink:#1d2430; --muted:#5b6472; --line:#d8dde5; --accent:#2f5fb3; --soft:#f3f6fb; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1 { font-size: 1.8rem; margin: .2rem 0 .6rem; line-height: 1.2; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
p { margin: .4rem 0 .7rem; }
.eyebrow, .note, footer { color: var(--muted); font-size: .85rem; }
.northstar { font-size: 1.35rem; font-weight: 600; background: var(--soft);
  border-left: 5px solid var(--accent); padding: .6rem .9rem; margin: .8rem 0; }
.northstar span { display: block; font-size: .75rem; text-transform: uppercase;
  letter-spacing: .08em; color: var(--accent); }
.amended { background: #fff7e0; border-left: 5px solid #d9a400; padding: .4rem .8rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
thead th { background: var(--soft); }
table.kv th { width: 12rem; background: var(--soft); font-weight: 600; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.chosen td { background: #eef8ee; }
td.role { text-transform: uppercase; font-size: .7rem; letter-spacing: .05em; color: var(--muted); }
table.data { font-size: .78rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
figure.chart { margin: 0; flex: 1 1 28rem; border: 1px solid var(--line); padding: .6rem; }
figure.chart svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .3rem; }
.verdict { font-weight: 700; padding: 0 .35rem; border-radius: 3px; }
.verdict.holds { background: #dff3e0; color: #1e6b24; }
.verdict.weakened { background: #fff1cc; color: #7a5600; }
.verdict.overtaken { background: #fbdada; color: #8b1a1a; }
footer { margin-top: 2.5rem; border-top: 1px solid var(--line); padding-top: .6rem; }
@media print {
  @page { size: auto; margin: 15mm 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure.chart, tr, .northstar { break-inside: avoid; page-break-inside: avoid; }
  .charts { display: block; }
  figure.chart { margin-bottom: 8mm; border: none; padding: 0; }
  thead { display: table-header-group; }
  tr.chosen td, thead th, table.kv th, .northstar, .verdict {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
