"""The charts that carry a decision's argument: which stored charts, their captions, and the
Altair charts rebuilt from the record's stored chart data (`evidence.snapshot`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..decisions.model import Decision
from ..evidence.snapshot import chart_from_snapshot, split_chart_name
from .safe import cleaned

log = logging.getLogger(__name__)


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
    """Altair charts of `argument_chart_names`, rebuilt from the stored data (its strings
    made safe: the app's page and the export draw the same, harmless names).

    A chart whose stored data its builder cannot draw (an older record) is left out, with a
    log line: the exports then show that chart's data as a table, the page shows the rest.
    """
    stored = cleaned(decision.evidence.charts)  # names as the record holds them, made safe
    out = {}
    for name in argument_chart_names(decision):
        try:
            chart = chart_from_snapshot(stored, name)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("chart %s could not be built (%s: %s)", name, type(exc).__name__, exc)
            continue
        if chart is not None:
            out[name] = chart
    return out


def chart_caption(name: str, candidate_names: Mapping[str, str]) -> str:
    """What the stored chart `name` shows, in a sentence that names its candidate
    (candidate_names: key → name, from the ranking)."""
    kind, key = split_chart_name(name)
    label = candidate_names.get(key, key)
    if kind == "forest":
        return "Hazard ratio of churn per SD of every candidate, with 95% CI (below 1 = users stay)"
    if kind == "km":
        return f"Retention of held-out users who reached the threshold vs not: {label}"
    if kind == "revenue":
        return f"Revenue per user, reached the threshold vs not: {label}"
    return name
