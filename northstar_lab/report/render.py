"""Charts as inline SVG for the HTML export, drawn so that nothing in a chart can take the
process down or put anything active into the page.

- Every string of a spec is made safe (`safe.cleaned`: control and XML-invalid characters
  become U+FFFD) and non-finite numbers become null before it is drawn, whatever chart it is.
- vl-convert runs in a subprocess (`svg_worker.py`) with a timeout: if it crashes or hangs, that
  chart is reported as not drawn (the export shows its data as a table with a note) and the
  others are drawn by a fresh worker. The app's server and the CLI never go down with it.
- The SVG is refused if it holds anything that could run or load (scripts, event handlers,
  links out), and its element ids are scoped so several charts share one page.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .safe import cleaned

log = logging.getLogger(__name__)

#: Fonts with Arial's widths, which vl-convert measures text with; a viewer without them draws
#: wider text (DejaVu Sans), so the drawing keeps a margin and the page lets text overflow it.
EXPORT_FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
EXPORT_PADDING = {"left": 48, "right": 48, "top": 8, "bottom": 8}

#: Seconds one worker may take for all the charts it is given (the first chart also starts
#: vl-convert's JavaScript engine: ~1 s on an idle machine).
RENDER_TIMEOUT = 60.0


@dataclass(frozen=True)
class RenderedChart:
    """An SVG, or None and why it could not be drawn (words for the note under its data)."""

    svg: str | None
    problem: str = ""


def chart_spec(chart: Any) -> dict:
    """The chart's Vega-Lite dict with its data inlined (an Altair chart or a dict)."""
    if isinstance(chart, Mapping):
        return dict(chart)
    import altair as alt

    with alt.data_transformers.enable("default", max_rows=None):
        return chart.to_dict()


def export_spec(chart: Any) -> dict:
    """The chart's spec as the export draws it: made safe (`safe.cleaned`), in `EXPORT_FONT`,
    with `EXPORT_PADDING` around it."""
    spec = cleaned(chart_spec(chart))
    spec["config"] = {**spec.get("config", {}), "font": EXPORT_FONT}
    spec["padding"] = EXPORT_PADDING
    return spec


def render_svgs(
    charts: Mapping[str, Any], timeout: float = RENDER_TIMEOUT
) -> dict[str, RenderedChart]:
    """Each chart (name → Altair chart or Vega-Lite dict) drawn as inline SVG, or why not."""
    specs = {name: export_spec(chart) for name, chart in charts.items()}
    out = {}
    for i, (name, drawn) in enumerate(render_isolated(specs, timeout).items(), start=1):
        if drawn.svg is None:
            out[name] = drawn
            continue
        problems = ActiveContent(drawn.svg).problems
        if problems:
            log.warning("chart %s refused: active content %s", name, ", ".join(problems[:3]))
            out[name] = RenderedChart(None, "the drawing held active content")
        else:
            out[name] = RenderedChart(scoped_ids(drawn.svg, f"chart{i}"))
    return out


def chart_svg(chart: Any, timeout: float = RENDER_TIMEOUT) -> str:
    """One chart as inline SVG, drawn like the export draws it (`render_svgs`); ValueError
    with the reason when it could not be drawn."""
    drawn = render_svgs({"chart": chart}, timeout)["chart"]
    if drawn.svg is None:
        raise ValueError(f"the chart could not be drawn: {drawn.problem}")
    return drawn.svg


def render_isolated(specs: Mapping[str, dict], timeout: float) -> dict[str, RenderedChart]:
    """Vega-Lite specs drawn by `svg_worker.py` subprocesses, in order. When a worker stops
    early (a crash or the timeout), the chart it was drawing is marked not drawn and a fresh
    worker draws the rest, so one bad chart costs only itself."""
    pending = list(specs.items())
    done: dict[str, RenderedChart] = {}
    while pending:
        drawn, failure = _run_worker(pending, timeout)
        done.update(drawn)
        pending = [(name, spec) for name, spec in pending if name not in done]
        if pending:
            name = pending.pop(0)[0]
            log.warning("chart %s not drawn: %s", name, failure)
            done[name] = RenderedChart(None, failure)
    return {name: done[name] for name in specs}


def _run_worker(
    specs: list[tuple[str, dict]], timeout: float
) -> tuple[dict[str, RenderedChart], str]:
    """({name: drawn chart} for what the worker wrote, words for why it stopped early)."""
    request = json.dumps({"specs": specs}, ensure_ascii=False)
    source = Path(__file__).with_name("svg_worker.py").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="northstar-svg-") as empty:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", source],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=empty,  # nothing on sys.path[0] can shadow a module
                text=True,
                encoding="utf-8",
            )
        except OSError as exc:
            return {}, f"the chart renderer could not start ({exc.strerror or exc})"
        try:
            out, err = proc.communicate(request, timeout=timeout)
            failure = _stopped_words(proc.returncode)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            failure = f"drawing it took longer than {timeout:g} s"
    if err.strip():
        log.info("chart renderer said: %s", err.strip()[-500:])
    return dict(_parse_lines(out)), failure


def _parse_lines(out: str):
    for line in out.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:  # the last line of a worker killed mid-write
            continue
        if "svg" in item:
            yield item["name"], RenderedChart(item["svg"][item["svg"].find("<svg") :])
        else:  # the error may quote the spec: it goes to the log, not into the page
            log.warning("chart %s refused by the renderer: %s", item["name"], item["error"])
            yield item["name"], RenderedChart(None, "the renderer refused it")


def _stopped_words(returncode: int) -> str:
    if returncode == 0:
        return "the chart renderer stopped before drawing it"
    if returncode < 0:
        try:
            return f"the chart renderer crashed ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return f"the chart renderer crashed (exit {returncode})"


class ActiveContent(HTMLParser):
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


def scoped_ids(svg: str, prefix: str) -> str:
    """The SVG with its element ids (and references to them) prefixed, so several charts in
    one page keep their own clip paths and gradients."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def scoped(m: re.Match) -> str:
        return f"{m.group(1)}{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(0)

    return re.sub(r'(\bid="|url\(#|href="#)([^")]+)', scoped, svg)
