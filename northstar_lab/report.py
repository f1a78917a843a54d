"""The rationale page of a decision: one self-contained HTML file, Markdown, and plain text.

Everything is drawn from the decision record (its evidence snapshot), so a page renders years
later without the original data. The HTML has inline CSS (with print rules) and charts as
inline SVG made offline by vl-convert: no JavaScript, no network, nothing to load. Everything
a person typed — and every name that came from their data — is escaped: text stays text.

Order of the page: the North Star and its definition; why it won (rationale and the charts
that carry the argument); rejected alternatives with reasons and key numbers; how confident we
are, with caveats; input metrics; sign-offs; data fingerprint and settings; re-validations.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

from .decision import VERDICTS, Decision, Revalidation

log = logging.getLogger(__name__)

#: chart kind (the part of a stored chart's name before '/' or ':') → builder in charts.py
CHART_BUILDERS = {"forest": "forest_chart", "km": "km_chart", "revenue": "revenue_chart"}
FALLBACK_ROWS = 40
CAUSATION_CAVEAT = (
    "Association, not causation: users who reach more of this metric stay longer and pay more, "
    "but that does not prove that pushing the metric up causes retention. Confirm the levers "
    "(onboarding, prompts, features) by experiment before setting targets on it."
)


# ---------------------------------------------------------------------------------------------
# Facts shared by the three renderers (plain strings; each renderer escapes for its format)


def _candidates(decision: Decision) -> dict[str, dict]:
    return {c.get("key"): c for c in decision.evidence.ranking.get("candidates", []) or []}


def _chosen(decision: Decision) -> dict:
    return _candidates(decision).get(decision.chosen_key, {})


def _num(value: Any, spec: str = ".3f") -> str:
    """A number in `spec`, or '—' when missing or not finite."""
    if value is None or isinstance(value, bool):
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return "—"
    return format(x, spec)


def _hr(c: Mapping) -> str:
    if c.get("hazard_ratio") is None:
        return "—"
    hr, lo, hi = (_num(c.get(k), ".2f") for k in ("hazard_ratio", "hr_ci_low", "hr_ci_high"))
    return f"{hr} [{lo}–{hi}]"


def _when(iso: str | None) -> str:
    return (iso or "—")[:16].replace("T", " ") + (" UTC" if iso else "")


def definition_rows(decision: Decision) -> list[tuple[str, str]]:
    """(label, value) of the metric definition, empty fields left out."""
    d = decision.definition
    cadence = d.review_cadence + (f" ({d.milestone})" if d.milestone else "")
    rows = [
        ("Meaning", d.meaning),
        ("Numerator", d.numerator),
        ("Denominator", d.denominator),
        ("Time window", d.time_window),
        ("Exclusions", d.exclusions),
        ("Owner", d.owner),
        ("Baseline", d.baseline),
        ("Target", d.target),
        ("Review cadence", cadence),
        ("Candidate key", decision.chosen_key),
    ]
    return [(label, value) for label, value in rows if value and str(value).strip()]


def record_line(decision: Decision) -> str:
    by = f" by {decision.created_by}" if decision.created_by else ""
    when = _when(decision.created_at)
    return f"Decision #{decision.id or '—'}, version {decision.version}, recorded {when}{by}"


COMPARISON_COLUMNS = (
    ("Rank", lambda c: _num(c.get("rank"), ".0f")),
    ("Score", lambda c: _num(c.get("score"), ".3f")),
    ("C", lambda c: _num(c.get("c_index"), ".3f")),
    ("HR per SD [95% CI]", _hr),
    ("Revenue ρ", lambda c: _num(c.get("revenue_rho"), "+.2f")),
    ("q", lambda c: _num(c.get("q_value"), ".2g")),
    ("P(first)", lambda c: _num(c.get("p_first"), ".0%")),
)


def comparison_rows(decision: Decision) -> list[dict]:
    """The chosen metric, then each rejected alternative: name, role, reason, key numbers.

    `candidate` is the ranking's technical name when it differs from the name given (else "").
    Numbers come from the evidence snapshot's ranking; those missing there from the
    alternative's own stored evidence.
    """
    cands = _candidates(decision)
    chosen = cands.get(decision.chosen_key, {})
    rows = [
        {
            "role": "chosen",
            "name": decision.definition.name,
            "candidate": _other(chosen.get("name", decision.chosen_key), decision.definition.name),
            "reason": "Chosen North Star",
            "numbers": {label: f(chosen) for label, f in COMPARISON_COLUMNS},
        }
    ]
    for r in decision.rejected:
        known = {k: v for k, v in cands.get(r.key, {}).items() if v is not None}
        c = {**(r.evidence or {}), **known}
        rows.append(
            {
                "role": "rejected",
                "name": r.name,
                "candidate": _other(c.get("name", r.key), r.name),
                "reason": r.reason,
                "numbers": {label: f(c) for label, f in COMPARISON_COLUMNS},
            }
        )
    return rows


def _other(candidate_name: str, given_name: str) -> str:
    return "" if str(candidate_name).strip() == str(given_name).strip() else str(candidate_name)


def confidence_lines(decision: Decision) -> list[str]:
    """How sure we are about the chosen metric, in sentences with the numbers."""
    c = _chosen(decision)
    if not c:
        return [
            f"The chosen metric ({decision.chosen_key}) is not in the recorded ranking, so "
            "there are no figures to report."
        ]
    ranking = decision.evidence.ranking
    n_boot = decision.evidence.settings.get("n_bootstrap") or ranking.get("settings", {}).get(
        "n_bootstrap"
    )
    resamples = f"{n_boot} bootstrap resamples" if n_boot else "the bootstrap resamples"
    median = c.get("median_rank")
    lines = [
        f"It ranked first in {_num(c.get('p_first'), '.0%')} of {resamples}"
        + (f" (median rank {_num(median, '.1f')})" if median is not None else "")
        + (
            "; it is statistically tied with the leader."
            if c.get("tied_with_leader") and c.get("rank") != 1
            else "."
        )
    ]
    n, events = c.get("n") or ranking.get("n_users"), c.get("n_events") or ranking.get("n_churned")
    lines.append(
        f"Retention: hazard ratio {_hr(c)} per standard deviation (below 1 = fewer churns), "
        f"concordance C {_num(c.get('c_index'))}, q {_num(c.get('q_value'), '.2g')}"
        + (f", among {int(n):,} users of whom {int(events):,} churned." if n and events else ".")
    )
    if c.get("revenue_rho") is not None:
        ci = ""
        if c.get("revenue_rho_ci_low") is not None:
            lo, hi = (_num(c.get(k), ".2f") for k in ("revenue_rho_ci_low", "revenue_rho_ci_high"))
            ci = f" (95% CI {lo}–{hi})"
        users = f" over {int(c['n_revenue']):,} users" if c.get("n_revenue") else ""
        lines.append(f"Revenue: Spearman ρ {_num(c['revenue_rho'], '+.2f')}{ci}{users}.")
    f = c.get("threshold_figures")
    if f:
        lines.append(
            "Threshold, judged on held-out users: "
            f"those reaching ≥ {_num(f.get('k'), 'g')} ({_num(f.get('share_above'), '.0%')} of "
            f"them) were retained {_num(f.get('retention_above'), '.0%')} "
            f"{_ci_pct(f.get('retention_above_ci'))} vs {_num(f.get('retention_below'), '.0%')} "
            f"{_ci_pct(f.get('retention_below_ci'))} at day {_num(f.get('horizon_days'), 'g')} "
            f"after the window (log-rank p {_num(f.get('logrank_p'), '.2g')}); they stayed "
            f"{_num(f.get('rmst_difference'), '.1f')} ± {_num(f.get('rmst_difference_se'), '.1f')}"
            " more days on average (ΔRMST)."
        )
    return lines


def _ci_pct(ci) -> str:
    if not ci or len(ci) != 2:
        return ""
    return f"[{_num(ci[0], '.0%')}–{_num(ci[1], '.0%')}]"


def caveats(decision: Decision) -> list[str]:
    """Standing caveats, then every warning stored on the chosen candidate and the ranking."""
    c = _chosen(decision)
    split = decision.evidence.settings.get("threshold_split")
    out = [
        CAUSATION_CAVEAT,
        "Thresholds were chosen on training users and judged on held-out ones"
        + (f" ({split} split)" if split else "")
        + "; the threshold figures above are the held-out ones, so they are not flattered by "
        "the choice.",
    ]
    out += [str(w) for w in c.get("warnings", []) or []]
    out += [f"Analysis: {w}" for w in decision.evidence.ranking.get("warnings", []) or []]
    return out


def population_line(decision: Decision) -> str:
    r = decision.evidence.ranking
    if not r.get("n_users"):
        return ""
    excluded = ", ".join(
        f"{k.replace('_', ' ')} {v:,}" for k, v in (r.get("excluded") or {}).items() if v
    )
    churned = r.get("n_churned") or 0
    return (
        f"{r['n_users']:,} users in the retention analysis, {churned:,} churned; "
        f"excluded: {excluded or 'none'}."
    )


def input_table(decision: Decision) -> tuple[list[str], list[tuple], str]:
    """(header, rows, text when empty) of the input metrics and their owners."""
    rows = [(m.name, m.kind, m.owner, m.definition) for m in decision.input_metrics]
    return ["Input metric", "Kind", "Owner", "Definition"], rows, "None recorded."


def signoff_table(decision: Decision) -> tuple[list[str], list[tuple], str]:
    rows = [(s.name, s.role) for s in decision.sign_offs]
    return ["Name", "Role"], rows, "No sign-offs recorded."


def revalidation_table(revalidations: Sequence[Revalidation]) -> tuple[list[str], list, str]:
    """(header, rows, text when empty) of the re-validations, in the order given."""
    rows = [
        (
            _when(r.run_at),
            r.verdict + (f" by {r.overtaken_by}" if r.overtaken_by else ""),
            f"#{r.decision_id}",
            r.summary,
            r.rule,
        )
        for r in revalidations
    ]
    return ["Run", "Verdict", "Decision judged", "Summary", "Rule"], rows, "Not re-validated yet."


def _compact(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "—" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# Charts


def split_chart_name(name: str) -> tuple[str, str | None]:
    """('km', 'count:invite_sent') from 'km/count:invite_sent' or 'km:count:invite_sent';
    ('forest', None) from 'forest'. Both spellings of a per-candidate chart are accepted."""
    m = re.match(r"^(\w+)[/:](.+)$", name)
    return (m.group(1), m.group(2)) if m else (name, None)


def argument_chart_names(decision: Decision) -> list[str]:
    """The (up to three) stored charts that carry the argument: the forest plot, the chosen
    metric's retention curves and its revenue chart; else the first three stored charts."""
    stored = [n for n in decision.evidence.charts or {} if n != "meta"]
    parsed = {split_chart_name(n): n for n in stored}
    key = decision.chosen_key
    wanted = [("forest", None), ("km", key), ("revenue", key)]
    preferred = [parsed[w] for w in wanted if w in parsed]
    return preferred or [n for n in stored if not split_chart_name(n)[0].endswith("_summary")][:3]


def charts_for(decision: Decision) -> dict[str, Any]:
    """Altair charts of `argument_chart_names`, rebuilt from the stored data by `charts.py`.

    Uses `charts.charts_from_snapshot` when the snapshot is complete enough for it, else one
    builder per chart (`forest_chart`, `km_chart`, `revenue_chart`) on a DataFrame of its rows.
    Skips (with a log line) any chart whose builder is missing or fails: the page then shows
    that chart's data as a table instead.
    """
    try:
        from . import charts as builders
    except ImportError as exc:
        log.info("charts.py not available (%s); exporting chart data as tables", exc)
        return {}
    names = argument_chart_names(decision)
    stored = decision.evidence.charts or {}
    if hasattr(builders, "charts_from_snapshot"):
        try:
            built = builders.charts_from_snapshot(stored)
            return {n: built[n] for n in names if n in built}
        except Exception as exc:  # an older or partial snapshot: try chart by chart
            log.info(
                "charts_from_snapshot failed (%s: %s); building one by one", type(exc).__name__, exc
            )
    import pandas as pd

    out = {}
    for name in names:
        fn = getattr(builders, CHART_BUILDERS.get(split_chart_name(name)[0], ""), None)
        if fn is None:
            continue
        try:
            out[name] = fn(pd.DataFrame(stored[name]), **_builder_settings(fn, decision))
        except Exception as exc:  # a broken chart must not stop the export: its data is shown
            log.warning("chart %s could not be built (%s: %s)", name, type(exc).__name__, exc)
    return out


def _builder_settings(fn, decision: Decision) -> dict:
    """window_days / horizon_days from the recorded settings, for builders that take them."""
    import inspect

    settings = decision.evidence.settings
    params = inspect.signature(fn).parameters
    return {
        k: int(settings[k])
        for k in ("window_days", "horizon_days")
        if k in params and settings.get(k) is not None
    }


def chart_caption(decision: Decision, name: str) -> str:
    kind, key = split_chart_name(name)
    label = _candidates(decision).get(key, {}).get("name", key)
    if kind == "forest":
        return "Hazard ratio of churn per SD of every candidate, with 95% CI (below 1 = users stay)"
    if kind == "km":
        return f"Retention of held-out users who reached the threshold vs not: {label}"
    if kind == "revenue":
        return f"Revenue per user, reached the threshold vs not: {label}"
    return name


class _ActiveContent(HTMLParser):
    """Finds anything in an SVG that could run or load: script-like elements, event-handler
    attributes, links that are not to the document itself. Attribute values are read as the
    browser reads them, so text inside an aria-label is never mistaken for an attribute."""

    BLOCKED = {"script", "foreignobject", "iframe", "object", "embed", "image", "use", "a"}

    def __init__(self, svg: str) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.feed(svg)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKED:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            v = (value or "").strip().lower()
            external_link = name in ("href", "xlink:href", "src") and not v.startswith("#")
            active_value = re.match(r"^(javascript|vbscript|data):", v) or "url(http" in v
            if name.startswith("on") or external_link or active_value:
                self.problems.append(f"{name}={v[:40]}")


def chart_svg(chart: Any, prefix: str = "c") -> str:
    """Inline SVG of an Altair chart or Vega-Lite dict, rendered offline (no external data).

    Element ids get `prefix` so that several charts in one page keep their own clip paths and
    gradients. Raises if the chart cannot be rendered or the SVG holds anything active.
    """
    import vl_convert as vlc

    spec = chart if isinstance(chart, Mapping) else _altair_spec(chart)
    svg = vlc.vegalite_to_svg(spec, vl_version=_vl_version(spec), allowed_base_urls=[])
    problems = _ActiveContent(svg).problems
    if problems:
        raise ValueError(f"rendered SVG has active content ({', '.join(problems[:3])})")
    svg = svg[svg.find("<svg") :]
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def scoped(m: re.Match) -> str:
        return f"{m.group(1)}{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(0)

    return re.sub(r'(\bid="|url\(#|href="#)([^")]+)', scoped, svg)


def _altair_spec(chart: Any) -> dict:
    """The chart's Vega-Lite dict with its data inlined (whatever transformer is active)."""
    import altair as alt

    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()


def _vl_version(spec: Mapping) -> str | None:
    """The Vega-Lite version the spec was written for, if vl-convert bundles it."""
    import vl_convert as vlc

    m = re.search(r"/v(\d+)\.(\d+)", str(spec.get("$schema", "")))
    if not m:
        return None
    version = f"{m.group(1)}.{m.group(2)}"
    return version if version in vlc.get_vegalite_versions() else None


# ---------------------------------------------------------------------------------------------
# HTML


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
    shown = [[_cell(r.get(c)) for c in cols] for r in rows[:FALLBACK_ROWS]]
    more = len(rows) - FALLBACK_ROWS
    note = f'<p class="note">… {more} more rows in the record.</p>' if more > 0 else ""
    return _table(cols, shown, "data") + note


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return _num(v, ".4g")
    return _compact(v)


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
            k: _generic_html(v, depth + 1) if nest and isinstance(v, Mapping) else _e(_compact(v))
            for k, v in value.items()
        }
        body = "".join(f"<tr><th>{_e(k)}</th><td>{cell}</td></tr>" for k, cell in cells.items())
        return f'<table class="kv"><tbody>{body}</tbody></table>'
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        return _rows_table(value)
    return f"<p>{_e(_compact(value))}</p>"


def rubric_table(rubric: Mapping[str, Any]) -> tuple[list[str], list[list[Any]], str]:
    """The workshop's 1–5 scores and the combined ordering as one table, plus the weights."""
    from .workshop import CRITERIA

    combined = {r.get("key"): r for r in rubric.get("ordering", [])}
    header = ["Candidate", *(label for label, _ in CRITERIA.values()), "Evidence", "Combined"]
    scores = sorted(
        rubric.get("scores", []),
        key=lambda s: -float(combined.get(s.get("key"), {}).get("combined", 0.0)),
    )
    rows = []
    for s in scores:
        o = combined.get(s.get("key"), {})
        rows.append(
            [
                s.get("candidate", s.get("key", "")),
                *(s.get(c, "") for c in CRITERIA),
                f"{o['evidence']:.2f}" if "evidence" in o else "",
                f"{o['combined']:.2f}" if "combined" in o else "",
            ]
        )
    weights = rubric.get("criteria_weights", {})
    w_text = ", ".join(f"{CRITERIA[k][0]} ×{v:g}" for k, v in weights.items() if k in CRITERIA)
    ev = rubric.get("evidence_weight")
    note = (
        f"Scores 1–5. Combined = {ev:g}·evidence + {1 - ev:g}·rubric (weights: {w_text})."
        if ev is not None
        else ""
    )
    return header, rows, note


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
        f"<footer>Exported by North Star Lab on {_e(_when(_now()))}. This file is "
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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


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


# ---------------------------------------------------------------------------------------------
# Markdown


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
            f"- **{md_escape(k, True)}**: {md_escape(_compact(v), True)}" for k, v in value.items()
        ]
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        cols = list(dict.fromkeys(k for r in value for k in r))
        return _md_table(cols, [[_cell(r.get(c)) for c in cols] for r in value[:FALLBACK_ROWS]])
    return [md_escape(_compact(value))]


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
        f"_Exported by North Star Lab on {_when(_now())}._",
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


# ---------------------------------------------------------------------------------------------
# Plain text (the CLI's `decisions show`)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _t(text: Any) -> str:
    """User text safe for a terminal: control characters (escape sequences) become spaces."""
    return _CONTROL.sub(" ", "" if text is None else str(text))


def rationale_text(decision: Decision, revalidations: Sequence[Revalidation] = ()) -> str:
    """The record as readable terminal text, in the same order as the page."""
    d = decision.definition
    out = [_t(decision.title), _t(record_line(decision)), "", f"NORTH STAR: {_t(d.name)}"]
    out += [f"  {label + ':':<16}{_t(value)}" for label, value in definition_rows(decision)]
    if decision.supersedes:
        out += _wrap(f"Amends #{decision.supersedes}: {decision.amendment_note}")
    out += ["", "WHY IT WON", *_wrap(decision.rationale), "", "REJECTED ALTERNATIVES"]
    for r in comparison_rows(decision)[1:]:
        nums = ", ".join(f"{k} {v}" for k, v in r["numbers"].items())
        out += [f"  - {_t(r['name'])}", *_wrap(f"why: {r['reason']}", "      ")]
        out += _wrap(nums, "      ")
    if not decision.rejected:
        out.append("  (none recorded)")
    out += ["", "CONFIDENCE"]
    for line in confidence_lines(decision) + caveats(decision):
        out += _wrap(f"- {line}")
    for heading, table in (("INPUT METRICS", input_table), ("SIGN-OFFS", signoff_table)):
        _header, rows, empty = table(decision)
        out += ["", heading, *[_t("  - " + " · ".join(v for v in r if v)) for r in rows]]
        out += [] if rows else [f"  ({empty.rstrip('.').lower()})"]
    out += ["", "DATA AND SETTINGS", *_wrap(population_line(decision))]
    out += _wrap(f"fingerprint: {_compact(decision.evidence.fingerprint)}")
    out += _wrap(f"settings: {_compact(decision.evidence.settings)}")
    return "\n".join(out + ["", "RE-VALIDATIONS", *_revalidations_text(revalidations)])


def _wrap(text: str, indent: str = "  ") -> list[str]:
    """Wrapped at 96 columns; a '- ' bullet's continuation lines are indented under its text."""
    import textwrap

    lines, hang = [], indent + ("  " if text.startswith("- ") else "")
    for para in _t(text).split("\n") if text else []:
        lines += textwrap.wrap(para, 96, initial_indent=indent, subsequent_indent=hang) or [""]
    return lines


def _revalidations_text(revalidations: Sequence[Revalidation]) -> list[str]:
    if not revalidations:
        return ["  (not re-validated yet)"]
    out = []
    for r in revalidations:
        by = f" by {r.overtaken_by}" if r.overtaken_by else ""
        out += [_t(f"  {_when(r.run_at)}  {r.verdict.upper()}{by}  (judged #{r.decision_id})")]
        out += _wrap(r.summary, "      ")
    return out + _wrap(f"rule: {revalidations[0].rule}")
