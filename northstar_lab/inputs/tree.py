"""The metric tree as a picture: the North Star at the top, its inputs below, one edge each with
the input's lead (effect and 95% CI) and, where experiments speak, their verdict (METHODS §9.5).

`tree_rows` lays the tree out (plain rows: nodes, edges, legend — what a record keeps and what a
template can draw as a table); `tree_spec` turns them into a Vega-Lite spec (rendered in the app
by `st.vega_lite_chart`, in exports to inline SVG by vl-convert, see `tree_svg`). Edge styles:
*confirmed* by experiments thick solid; *leads* (association) solid; *weak* dashed; *none*
dotted grey; inputs recorded without evidence dashed grey ("not measured").

Every name is data: it is drawn as text (Vega renders it into SVG text nodes, escaped), with
control characters removed and long names wrapped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping

from ..decisions.model import INPUT_KINDS
from ..text import plain as safe_text
from .result import InputEvidence

SLOT = 240  # px per input
NODE_W, NODE_H = 210, 84
NS_W, NS_H = 300, 56
TOP, GAP = 10, 150
MARGIN, LABEL_ROOM = 10, 120  # px left of the tree; right of it, for the last edge label
EDGE_STYLE = {
    "confirmed": {
        "color": "#1b7837",
        "width": 4.0,
        "dash": [1, 0],
        "label": "confirmed by experiments",
    },
    "leads": {"color": "#2166ac", "width": 2.5, "dash": [1, 0], "label": "leads (association)"},
    "weak": {"color": "#d6604d", "width": 1.8, "dash": [7, 4], "label": "weak or unconfirmed"},
    "none": {"color": "#9e9e9e", "width": 1.2, "dash": [2, 4], "label": "no detectable lead"},
    "unmeasured": {"color": "#bdbdbd", "width": 1.2, "dash": [4, 4], "label": "not measured"},
}
KIND_FILL = {
    "breadth": "#eef4fb",
    "depth": "#eef8f0",
    "frequency": "#fdf4e7",
    "efficiency": "#f5eefa",
}


def plain(text, width: int = 30, lines: int = 3) -> str:
    """Text for a node: control characters removed (`text.plain`), wrapped to `lines` lines."""
    clean = safe_text(text, one_line=True).strip()
    wrapped = textwrap.wrap(clean, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1] + "…"
    return "\n".join(wrapped)


def _num(x, fmt: str = "+.2f") -> str:
    return "n/a" if x is None or x != x else format(x, fmt)


SHORT = {
    "leads": "leads",
    "inconsistent": "leads, not in every cohort",
    "negative": "goes against it",
    "moves_with": "moves with it, does not lead",
    "not_linked": "no detectable link",
}
SHORT_EXPERIMENTS = {"confirmed": "experiments agree", "not_confirmed": "experiments disagree"}


def _edge_label(e: Mapping) -> str:
    """Short verdict; lead per SD [95% CI]; experiments, when they speak."""
    if not e.get("n_users"):
        return "not measured"
    lo, hi = _num(e.get("lead_ci_low")), _num(e.get("lead_ci_high"))
    lines = [SHORT.get(str(e.get("verdict")), ""), f"{_num(e.get('lead_effect'))} [{lo}, {hi}]"]
    said = SHORT_EXPERIMENTS.get(str(e.get("experiment_verdict")))
    if said:
        lines.append(f"{said}: ρ {_num(e.get('experiment_corr'))}, {e.get('experiments_n')} arms")
    return "\n".join(x for x in lines if x)


def _node_label(e: Mapping) -> str:
    who = " · ".join(x for x in (str(e.get("kind") or ""), plain(e.get("owner"), 24, 1)) if x)
    level = ""
    if e.get("n_users") and e.get("measure") in ("reached", "share"):
        level = f"now {_num(e.get('baseline_mean'), '.1%')}"
    elif e.get("n_users"):
        level = f"now {_num(e.get('baseline_mean'), '.3g')} per user"
    lo, hi = e.get("target_low"), e.get("target_high")
    if lo is not None or hi is not None:
        level += f"{'; ' if level else ''}target {_num(lo, '.3g')}–{_num(hi, '.3g')}"
    return "\n".join(x for x in (plain(e.get("name"), 30, 2), who, level) if x)


def _box(role: str, cx: float, top: float, w: float, h: float, fill: str, label: str, key: str):
    return {
        "role": role,
        "x": cx - w / 2,
        "x2": cx + w / 2,
        "y": top,
        "y2": top + h,
        "cx": cx,
        "cy": top + h / 2,
        "fill": fill,
        "label": label,
        "key": key,
    }


def _style(edge: str) -> dict:
    style = EDGE_STYLE.get(edge, EDGE_STYLE["none"])
    return {"edge": edge, "color": style["color"], "width": style["width"], "dash": style["dash"]}


def _drop(e: Mapping, cx: float, bus: float, top: float) -> dict:
    """The styled vertical edge from the bus down to an input, with its label beside it."""
    edge = (e.get("edge") or "none") if e.get("n_users") else "unmeasured"
    return {
        "x": cx,
        "y": bus,
        "x2": cx,
        "y2": top,
        **_style(edge),
        "lx": cx + 8,
        "ly": (bus + top) / 2,
        "label": _edge_label(e),
        "key": str(e.get("key") or ""),
        "verdict": str(e.get("verdict_text") or ""),
    }


def tree_rows(north_star_name: str, inputs: Iterable[InputEvidence | Mapping]) -> dict:
    """Nodes, edges and legend rows of the tree, laid out in pixels (see the module docstring).

    inputs: InputEvidence objects or their dicts (a record's `InputMetric.evidence`, or any
    mapping with at least name, kind and owner; without `n_users` the edge is "not measured").
    Inputs are ordered by kind (breadth, depth, frequency, efficiency), then as given. An
    org-chart layout: a neutral trunk from the North Star to a bus, one styled drop per input.
    """
    items = [e.to_dict() if isinstance(e, InputEvidence) else dict(e) for e in inputs]
    order = {k: i for i, k in enumerate(INPUT_KINDS)}
    items = sorted(items, key=lambda e: order.get(str(e.get("kind")), len(order)))
    span = max(SLOT * max(len(items), 1), NS_W + 40)
    ns_x, top, bus = MARGIN + span / 2, TOP + NS_H + GAP, TOP + NS_H + GAP / 3
    label = "North Star\n" + plain(north_star_name, 44, 2)
    nodes = [_box("north_star", ns_x, TOP, NS_W, NS_H, "#fff7d6", label, "")]
    edges = []
    for i, e in enumerate(items):
        cx = MARGIN + SLOT * (i + 0.5) + (span - SLOT * len(items)) / 2
        fill = KIND_FILL.get(str(e.get("kind")), "#f5f5f5")
        nodes.append(
            _box("input", cx, top, NODE_W, NODE_H, fill, _node_label(e), str(e.get("key") or ""))
        )
        edges.append(_drop(e, cx, bus, top))
    xs = [ns_x] + [e["x"] for e in edges]
    trunk = [
        {"x": ns_x, "y": TOP + NS_H, "x2": ns_x, "y2": bus},
        {"x": min(xs), "y": bus, "x2": max(xs), "y2": bus},
    ]
    ly = top + NODE_H + 30
    used = list(dict.fromkeys(e["edge"] for e in edges)) or ["none"]
    legend = [
        {
            "x": 10 + 210 * i,
            "x2": 50 + 210 * i,
            "y": ly,
            **_style(k),
            "label": EDGE_STYLE[k]["label"],
        }
        for i, k in enumerate(used)
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "trunk": trunk,
        "legend": legend,
        "width": MARGIN + span + LABEL_ROOM,
        "height": ly + 20,
    }


def _xy(field: str, field2: str | None = None, axis: str = "x", top: float = 0.0) -> dict:
    scale = {"domain": [0, top], "nice": False, "zero": False}
    if axis == "y":
        scale["reverse"] = True  # pixel rows run downwards
    enc = {axis: {"field": field, "type": "quantitative", "scale": scale, "axis": None}}
    if field2:
        enc[f"{axis}2"] = {"field": field2}
    return enc


_RAW = {"scale": None}  # colours, widths and dashes are given in the rows
_STYLED = {
    "color": {"field": "color", **_RAW},
    "strokeWidth": {"field": "width", **_RAW},
    "strokeDash": {"field": "dash", **_RAW},
}


def _layer(values: list, mark: dict, *encodings: dict) -> dict:
    encoding = {}
    for part in encodings:
        encoding.update(part)
    return {"data": {"values": values}, "mark": mark, "encoding": encoding}


def _text(size: int, align: str, color: str, **extra) -> dict:
    return {
        "type": "text",
        "lineBreak": "\n",
        "fontSize": size,
        "align": align,
        "baseline": "middle",
        "color": color,
        **extra,
    }


def tree_spec(rows: dict, title: str = "") -> dict:
    """A Vega-Lite spec of `tree_rows` (pixel positions; no axes; colours from the rows)."""
    w, h = rows["width"], rows["height"]

    def x(f, f2=None):
        return _xy(f, f2, "x", w)

    def y(f, f2=None):
        return _xy(f, f2, "y", h)

    label = {"text": {"field": "label"}}
    layers = [
        _layer(
            rows.get("trunk", []),
            {"type": "rule", "color": "#757575", "strokeWidth": 1.5},
            x("x", "x2"),
            y("y", "y2"),
        ),
        _layer(
            rows["edges"],
            {"type": "rule"},
            x("x", "x2"),
            y("y", "y2"),
            _STYLED,
            {"tooltip": [{"field": "verdict"}]},
        ),
        _layer(
            rows["nodes"],
            {"type": "rect", "stroke": "#616161", "cornerRadius": 6},
            x("x", "x2"),
            y("y", "y2"),
            {"fill": {"field": "fill", **_RAW}},
        ),
        _layer(rows["nodes"], _text(11, "center", "#212121"), x("cx"), y("cy"), label),
        _layer(rows["edges"], _text(10, "left", "#424242"), x("lx"), y("ly"), label),
        _layer(rows["legend"], {"type": "rule"}, x("x", "x2"), y("y"), _STYLED),
        _layer(rows["legend"], _text(10, "left", "#424242", dx=6), x("x2"), y("y"), label),
    ]
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": w,
        "height": h,
        "layer": layers,
        "config": {"view": {"stroke": None}},
    }
    if title:
        spec["title"] = plain(title, 120, 1)
    return spec


def tree_svg(rows: dict, title: str = "") -> str:
    """The tree as SVG, rendered offline by vl-convert (no network, no JavaScript)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(tree_spec(rows, title), allowed_base_urls=[])
    return svg[svg.find("<svg") :]


def decision_tree_rows(decision) -> dict:
    """`tree_rows` of a recorded decision: its North Star and its input metrics with the
    evidence recorded for each (inputs written in words only are drawn as "not measured")."""
    items = []
    for m in decision.input_metrics:
        e = dict(m.evidence or {})
        e.update(
            name=m.name,
            kind=m.kind,
            owner=m.owner,
            key=m.key or e.get("key", ""),
            target_low=m.target_low,
            target_high=m.target_high,
        )
        items.append(e)
    return tree_rows(decision.definition.name or decision.chosen_key, items)


def decision_tree_spec(decision) -> dict | None:
    """The Vega-Lite tree of a record, or None when no input metric was measured (inputs
    written in words only are listed, not drawn)."""
    if not any(m.evidence for m in decision.input_metrics):
        return None
    return tree_spec(decision_tree_rows(decision))


def decision_tree_svg(decision) -> str | None:
    """The tree of a record as inline SVG (for exports), or None when no input was measured."""
    if not any(m.evidence for m in decision.input_metrics):
        return None
    return tree_svg(decision_tree_rows(decision))


def input_rows(decision) -> list[dict]:
    """One plain row per recorded input: name, kind, owner, definition, target, and the
    evidence in words (what a table in the page or an export shows beside the tree)."""
    out = []
    for m in decision.input_metrics:
        e = InputEvidence.from_dict(m.evidence) if m.evidence else None
        target = ""
        if m.target_low is not None or m.target_high is not None:
            target = f"{_num(m.target_low, '.3g')}–{_num(m.target_high, '.3g')}"
        lead = ""
        if e is not None:
            lead = f"{_num(e.lead_effect)} [{_num(e.lead_ci_low)}, {_num(e.lead_ci_high)}]"
        out.append(
            {
                "name": m.name,
                "kind": m.kind,
                "owner": m.owner,
                "definition": m.definition,
                "target": target,
                "lead per SD [95% CI]": lead,
                "q": _num(e.q_value, ".2g") if e else "",
                "experiments ρ (arms)": f"{_num(e.experiment_corr)} ({e.experiments_n})"
                if e and e.experiments_n
                else "",
                "verdict": e.verdict_text if e else "not measured",
            }
        )
    return out
