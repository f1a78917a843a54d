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


def tree_rows(north_star_name: str, inputs: Iterable[InputEvidence | Mapping]) -> dict:
    """Nodes, edges and legend rows of the tree, laid out in pixels (see the module docstring).

    inputs: InputEvidence objects or their dicts (a record's `InputMetric.evidence`, or any
    mapping with at least name, kind and owner; without `n_users` the edge is "not measured").
    Inputs are ordered by kind (breadth, depth, frequency, efficiency), then as given.
    """
    items = [e.to_dict() if isinstance(e, InputEvidence) else dict(e) for e in inputs]
    order = {k: i for i, k in enumerate(INPUT_KINDS)}
    items = sorted(items, key=lambda e: order.get(str(e.get("kind")), len(order)))
    span = max(SLOT * max(len(items), 1), NS_W + 40)
    width = MARGIN + span + LABEL_ROOM
    ns_x, ns_y = MARGIN + span / 2, TOP
    y = TOP + NS_H + GAP
    nodes = [
        {
            "role": "north_star",
            "x": ns_x - NS_W / 2,
            "x2": ns_x + NS_W / 2,
            "y": ns_y,
            "y2": ns_y + NS_H,
            "cx": ns_x,
            "cy": ns_y + NS_H / 2,
            "fill": "#fff7d6",
            "label": "North Star\n" + plain(north_star_name, 44, 2),
            "key": "",
        }
    ]
    edges = []
    for i, e in enumerate(items):
        cx = MARGIN + SLOT * (i + 0.5) + (span - SLOT * len(items)) / 2
        edge = e.get("edge") if e.get("n_users") else "unmeasured"
        style = EDGE_STYLE.get(edge or "none", EDGE_STYLE["none"])
        nodes.append(
            {
                "role": "input",
                "x": cx - NODE_W / 2,
                "x2": cx + NODE_W / 2,
                "y": y,
                "y2": y + NODE_H,
                "cx": cx,
                "cy": y + NODE_H / 2,
                "fill": KIND_FILL.get(str(e.get("kind")), "#f5f5f5"),
                "label": _node_label(e),
                "key": str(e.get("key") or ""),
            }
        )
        bus = ns_y + NS_H + GAP / 3
        edges.append(
            {
                "x": cx,
                "y": bus,
                "x2": cx,
                "y2": y,
                "edge": edge or "none",
                "color": style["color"],
                "width": style["width"],
                "dash": style["dash"],
                "lx": cx + 8,
                "ly": (bus + y) / 2,
                "label": _edge_label(e),
                "key": str(e.get("key") or ""),
                "verdict": str(e.get("verdict_text") or ""),
            }
        )
    # the neutral part of an org-chart tree: the North Star's trunk and the bus to every drop
    bus = ns_y + NS_H + GAP / 3
    xs = [e["x"] for e in edges] or [ns_x]
    trunk = [
        {"x": ns_x, "y": ns_y + NS_H, "x2": ns_x, "y2": bus},
        {"x": min(xs + [ns_x]), "y": bus, "x2": max(xs + [ns_x]), "y2": bus},
    ]
    used = list(dict.fromkeys(e["edge"] for e in edges)) or ["none"]
    ly = y + NODE_H + 30
    legend = [
        {
            "x": 10 + 210 * i,
            "x2": 50 + 210 * i,
            "y": ly,
            "edge": k,
            "color": EDGE_STYLE[k]["color"],
            "width": EDGE_STYLE[k]["width"],
            "dash": EDGE_STYLE[k]["dash"],
            "label": EDGE_STYLE[k]["label"],
        }
        for i, k in enumerate(used)
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "trunk": trunk,
        "legend": legend,
        "width": width,
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


def tree_spec(rows: dict, title: str = "") -> dict:
    """A Vega-Lite spec of `tree_rows` (pixel positions; no axes; colours from the rows)."""
    w, h = rows["width"], rows["height"]

    def enc(*parts: dict, **extra) -> dict:
        out = {}
        for p in parts:
            out.update(p)
        return {**out, **extra}

    x, y = (lambda f, f2=None: _xy(f, f2, "x", w)), (lambda f, f2=None: _xy(f, f2, "y", h))
    raw = {"scale": None}
    layers = [
        {
            "data": {"values": rows.get("trunk", [])},
            "mark": {"type": "rule", "color": "#757575", "strokeWidth": 1.5},
            "encoding": enc(x("x", "x2"), y("y", "y2")),
        },
        {
            "data": {"values": rows["edges"]},
            "mark": {"type": "rule"},
            "encoding": enc(
                x("x", "x2"),
                y("y", "y2"),
                color={"field": "color", **raw},
                strokeWidth={"field": "width", **raw},
                strokeDash={"field": "dash", **raw},
                tooltip=[{"field": "verdict"}],
            ),
        },
        {
            "data": {"values": rows["nodes"]},
            "mark": {"type": "rect", "stroke": "#616161", "cornerRadius": 6},
            "encoding": enc(x("x", "x2"), y("y", "y2"), fill={"field": "fill", **raw}),
        },
        {
            "data": {"values": rows["nodes"]},
            "mark": {
                "type": "text",
                "lineBreak": "\n",
                "fontSize": 11,
                "align": "center",
                "baseline": "middle",
                "color": "#212121",
            },
            "encoding": enc(x("cx"), y("cy"), text={"field": "label"}),
        },
        {
            "data": {"values": rows["edges"]},
            "mark": {
                "type": "text",
                "lineBreak": "\n",
                "fontSize": 10,
                "align": "left",
                "baseline": "middle",
                "color": "#424242",
            },
            "encoding": enc(x("lx"), y("ly"), text={"field": "label"}),
        },
        {
            "data": {"values": rows["legend"]},
            "mark": {"type": "rule"},
            "encoding": enc(
                x("x", "x2"),
                y("y"),
                color={"field": "color", **raw},
                strokeWidth={"field": "width", **raw},
                strokeDash={"field": "dash", **raw},
            ),
        },
        {
            "data": {"values": rows["legend"]},
            "mark": {
                "type": "text",
                "align": "left",
                "baseline": "middle",
                "dx": 6,
                "fontSize": 10,
                "color": "#424242",
            },
            "encoding": enc(x("x2"), y("y"), text={"field": "label"}),
        },
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
