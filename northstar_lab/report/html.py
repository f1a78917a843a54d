"""The rationale page as one self-contained HTML file, from Jinja2 templates with autoescape
(templates/: one partial per section of `facts.SECTIONS`, the stylesheet beside them).

No JavaScript, no network, nothing to load: inline CSS (with print rules) allowed by its hash in
a strict Content-Security-Policy, charts and the input metric tree as inline SVG drawn in a
subprocess (`render.py`). Everything a person typed and every name from their data is
autoescaped: text stays text. The only markup not escaped is the stylesheet and the checked SVG
of each chart and of the tree.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from ..decisions.model import Decision, Revalidation
from ..text import utc_now, when
from .charts import charts_for
from .facts import SECTIONS, ChartFact, RationaleFacts, rationale_facts
from .render import RenderedChart, render_svgs
from .tables import Table

INTEGRITY_CLASSES = ("verified", "altered", "unverifiable")
#: the name the tree is drawn under, beside the charts (named "chart:<name>": no clash)
TREE = "tree"


@dataclass(frozen=True)
class FigureView:
    """A chart as the template shows it: its SVG, or its data with why it is not drawn."""

    caption: str
    svg: Markup | None
    problem: str
    data: Table


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("northstar_lab.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def stylesheet() -> str:
    """The export's CSS (templates/rationale.css)."""
    source, _, _ = environment().loader.get_source(environment(), "rationale.css")
    return source


def content_security_policy(css: str) -> str:
    """Nothing may run or load; only the one inline stylesheet, allowed by its SHA-256."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; font-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def rationale_html(
    decision: Decision,
    revalidations: Sequence[Revalidation] = (),
    charts: Mapping[str, Any] | None = None,
    *,
    history: Sequence[Decision] = (),
    integrity: Any = None,
) -> str:
    """The rationale page as one self-contained HTML document (see `facts.rationale_facts` for
    revalidations, history and integrity).

    charts: chart name → Altair chart or Vega-Lite dict; None rebuilds them from the record
    (`charts_for`). A chart that is missing or cannot be drawn is shown as its stored data.
    """
    facts = rationale_facts(decision, revalidations, history, integrity)
    return facts_html(facts, charts_for(decision) if charts is None else charts)


def facts_html(facts: RationaleFacts, charts: Mapping[str, Any]) -> str:
    """The HTML document of `facts`, with the given charts (name → chart) and the input metric
    tree (`facts.tree`) drawn in it, all by one renderer subprocess."""
    wanted = {f"chart:{c.name}": charts[c.name] for c in facts.charts if c.name in charts}
    if facts.tree:
        wanted[TREE] = facts.tree
    drawn = render_svgs(wanted) if wanted else {}
    figures = [_figure(c, drawn.get(f"chart:{c.name}")) for c in facts.charts]
    css = stylesheet()
    status = facts.integrity.status if facts.integrity else ""
    return (
        environment()
        .get_template("rationale.html.j2")
        .render(
            facts=facts,
            figures=[f for f in figures if f is not None],
            tree=_tree(facts, drawn.get(TREE)),
            sections=list(SECTIONS),
            titles=SECTIONS,
            css=Markup(css),
            csp=content_security_policy(css),
            integrity_class=status if status in INTEGRITY_CLASSES else "unknown",
            exported=when(utc_now()),
        )
    )


def _figure(chart: ChartFact, drawn: RenderedChart | None) -> FigureView | None:
    if drawn is not None and drawn.svg is not None:
        return FigureView(chart.caption, Markup(drawn.svg), "", chart.data)
    if not chart.data.rows:
        return None
    problem = drawn.problem if drawn is not None else "no chart could be built from it"
    return FigureView(chart.caption, None, problem, chart.data)


def _tree(facts: RationaleFacts, drawn: RenderedChart | None) -> FigureView | None:
    """The tree as the template shows it: its SVG, or why not (its inputs are in the table)."""
    if not facts.tree:
        return None
    if drawn is not None and drawn.svg is not None:
        return FigureView(facts.tree_caption, Markup(drawn.svg), "", facts.inputs)
    problem = drawn.problem if drawn is not None else "it was not drawn"
    return FigureView(facts.tree_caption, None, problem, facts.inputs)
