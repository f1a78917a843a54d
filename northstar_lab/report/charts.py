"""The charts of a rationale page: rebuilt from the record's stored chart data and rendered offline
to inline SVG by vl-convert (no JavaScript, no network), with anything active refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from ..decisions.model import Decision
from .facts import candidates_by_key

log = logging.getLogger(__name__)


#: chart kind (the part of a stored chart's name before '/' or ':') → builder in charts.py
CHART_BUILDERS = {"forest": "forest_chart", "km": "km_chart", "revenue": "revenue_chart"}


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
        from ..evidence import charts as builders
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
    label = candidates_by_key(decision).get(key, {}).get("name", key)
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
