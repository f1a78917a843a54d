"""Drawing charts for the export: a renderer crash or hang costs one chart, never the process;
specs are made safe before drawing; the SVG holds nothing active."""

from __future__ import annotations

import os

from northstar_lab.report import render

from .records import CONTROLS, simple_chart


def bar(label: str) -> dict:
    return {
        "data": {"values": [{"a": label, "b": 1}]},
        "mark": "bar",
        "encoding": {
            "y": {"field": "a", "type": "nominal"},
            "x": {"field": "b", "type": "quantitative"},
        },
    }


def test_a_renderer_crash_costs_only_its_chart():
    """vl-convert aborts its process (SIGABRT) on a control character in a label; drawn
    without the cleaning, that chart is lost and the ones around it are drawn."""
    before = os.getpid()
    out = render.render_isolated({"a": bar("ok"), "bad": bar("x\x01y"), "c": bar("ok")}, 120)
    assert os.getpid() == before
    assert out["a"].svg.startswith("<svg") and out["c"].svg.startswith("<svg")
    assert out["bad"].svg is None
    assert out["bad"].problem == "the chart renderer crashed (SIGABRT)"


def test_every_string_of_a_spec_is_made_safe_before_drawing():
    spec = render.export_spec(bar(f"name {CONTROLS}"))
    label = spec["data"]["values"][0]["a"]
    assert "\x01" not in label and "\ufffd" in label
    drawn = render.render_svgs({"named": bar(f"name {CONTROLS}")})
    assert drawn["named"].svg.startswith("<svg")


def test_a_renderer_that_takes_too_long_is_stopped():
    drawn = render.render_svgs({"slow": simple_chart("x")}, timeout=0.01)
    assert drawn["slow"].svg is None
    assert drawn["slow"].problem == "drawing it took longer than 0.01 s"


def test_active_content_is_found_and_ids_are_scoped():
    svg = '<svg><a href="https://x"><text onclick="f()">t</text></a></svg>'
    assert render.ActiveContent(svg).problems == ["<a>", "href=https://x", "onclick=f()"]
    assert render.ActiveContent('<svg aria-label="onload=x href=y">t</svg>').problems == []
    scoped = render.scoped_ids('<clipPath id="c1"/><g clip-path="url(#c1)"/>', "chart2")
    assert scoped == '<clipPath id="chart2-c1"/><g clip-path="url(#chart2-c1)"/>'


def test_one_chart_as_svg_or_why_not():
    assert render.chart_svg(bar("ok")).startswith("<svg")
    broken = {"mark": "point", "data": {"url": "http://x/y"}}
    try:
        render.chart_svg(broken)
    except ValueError as exc:
        assert str(exc) == "the chart could not be drawn: the renderer refused it"
    else:
        raise AssertionError("a chart that loads data from the network must not be drawn")
