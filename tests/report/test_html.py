"""The HTML export: self-contained, inert, strict CSP, the whole argument in order, from
templates with autoescape; charts drawn safely whatever the names hold."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from northstar_lab.decisions.store import DecisionStore
from northstar_lab.report import html as html_export
from northstar_lab.report.facts import SECTIONS, TREE_CAPTION
from northstar_lab.report.html import environment, rationale_html, stylesheet
from northstar_lab.report.render import RenderedChart

from .records import (
    CONTROLS,
    EVIL,
    Tags,
    Verified,
    control_decision,
    evil_decision,
    make_decision,
    measured_decision,
    revalidations,
    simple_chart,
)

REPO = Path(__file__).resolve().parents[2]
UNSAFE = set(CONTROLS) - {"\t", "\n", "\r"}


# --- escaping ---------------------------------------------------------------------------------


def test_html_export_of_user_text_is_inert():
    page = rationale_html(evil_decision(), revalidations(), charts={})
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    parsed = Tags(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "a" not in parsed.tags
    assert not [k for k, _ in parsed.attrs if k.startswith("on")]
    assert not [v for _, v in parsed.attrs if "javascript:" in v.lower() or "evil" in v]


def test_html_export_with_rendered_charts_is_inert():
    page = rationale_html(evil_decision(), charts={"forest": simple_chart(EVIL)})
    assert page.count("<svg") == 1
    assert "<script" not in page.lower()
    assert not [k for k, _ in Tags(page).attrs if k.startswith("on")]


def test_templates_are_files_with_autoescape():
    env = environment()
    assert env.autoescape is True
    names = set(env.list_templates())
    assert {f"section_{s}.html.j2" for s in SECTIONS} <= names, "one partial per section"
    assert "rationale.css" in names and "@media print" in stylesheet()


# --- self-contained, strict, complete ---------------------------------------------------------


def csp_of(page: str) -> str:
    [csp] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    return html.unescape(csp)


def test_html_carries_a_strict_content_security_policy():
    assert_strict_csp(rationale_html(make_decision(), charts={}))


def assert_strict_csp(page: str) -> None:
    """Nothing may run; only the page's own stylesheet, allowed by its hash, applies."""
    csp = csp_of(page)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert "unsafe-inline" not in csp and "script-src" not in csp, "nothing may run"
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'", "only our own stylesheet applies"
    assert page.index("Content-Security-Policy") < page.index("<style>")


def test_html_is_self_contained_and_prints():
    charts = {"forest": simple_chart("Forest"), "km/count:invite_sent": simple_chart("KM")}
    page = rationale_html(make_decision(), revalidations(), charts=charts)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"<link|<iframe|<object|<embed|@import|url\(\s*['\"]?https?:", page)
    assert "<style>" in page and "@media print" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids of the two SVGs must not collide"
    for ref in re.findall(r"url\(#([^)]+)\)", page):
        assert ref in ids
    # revenue/… was not given as a chart: its stored data is shown as a table instead
    assert "Shown as data" in page and "55" in page


def test_html_has_the_whole_argument_in_order():
    d = make_decision()
    page = rationale_html(d, revalidations(), charts={})
    headings = ["Teams inviting a colleague in week 1", *list(SECTIONS.values())[1:-1]]
    positions = [page.index(h) for h in headings]
    assert positions == sorted(positions)
    for text in (
        "New teams with at least 2 invites sent in their first 14 days",
        "40% by Q4",
        "Invites predict retention best and lead revenue.",
        *[r.name for r in d.rejected],
        *[r.reason for r in d.rejected],
        "0.70 [0.65–0.76]",  # HR with CI of an alternative
        "+0.24",  # its revenue ρ
        "&lt; 0.0001",  # its q, in words
        "71%",  # P(first) of the chosen metric
        "Ranked 1st of 4",
        "threshold ≥ 2",
        "200 bootstrap resamples",
        "0.62 [0.57–0.68]",
        "95% CI 0.27–0.35",
        "81% [77%–84%] vs 58% [55%–61%]",
        "Association, not causation",
        "training users and judged on held-out ones",
        "Hazard ratio drifts over follow-up",
        "Invite prompt reach",
        "Collaboration squad",
        "Ada Lovelace",
        "VP Product",
        "9f9f9f",
        "events.csv.gz",
        "Threshold split (train / held-out)",
        "4,000 users",
        "weakened",
        "Weakened: its score fell from 0.612 to 0.420.",
        "2027-02-01 09:00 UTC",
    ):
        assert text in page, text
    assert page.index("2027-02-01") < page.index("2026-12-20"), "newest re-validation first"
    assert '<tr class="chosen">' in page


def test_amendment_versions_and_integrity_are_shown():
    v1 = make_decision(id=3)
    v2 = make_decision(id=5, version=2, supersedes=3, amendment_note="Target raised to 45%")
    page = rationale_html(v1, charts={}, history=[v1, v2], integrity=Verified("altered", "Edited!"))
    assert "Superseded: this is version 1; the current version is 2 (decision #5" in page
    assert '<p class="integrity altered">Edited!</p>' in page
    assert '<tr class="shown">' in page and "superseded by version 2, shown here" in page
    page = rationale_html(v2, charts={}, history=[v1, v2])
    assert "Amends decision #3: Target raised to 45%" in page and "Superseded" not in page


def test_missing_chosen_candidate_and_empty_lists_still_render():
    d = make_decision(chosen_key="gone", rejected=[], input_metrics=[], sign_offs=[])
    d.evidence.charts = {}
    page = rationale_html(d, charts={})
    assert "not in the recorded ranking" in page and "No rejected alternatives" in page
    assert "No sign-offs recorded" in page


# --- the input metric tree (issue 13) --------------------------------------------------------


def inputs_section(page: str) -> str:
    start = page.index('<section id="inputs">')
    return page[start : page.index("</section>", start)]


def test_the_inputs_section_draws_the_tree_inert_under_the_csp():
    d = measured_decision(owner=f"Growth {EVIL}")
    page = rationale_html(d, charts={"forest": simple_chart("Forest")})
    section = inputs_section(page)
    assert page.count("<svg") == 2 and section.count("<svg") == 1, "the forest and the tree"
    assert '<figure class="chart tree"><svg' in section
    assert f"<figcaption>{html.escape(TREE_CAPTION)}</figcaption>" in section
    assert section.index("<table") < section.index("<svg"), "the table, then the tree"
    assert "verdict" in section and "leads the North Star, and past experiments agree" in section
    # the owner's markup is text in the table and in the drawing (its node label, shortened)
    assert "Growth &lt;script&gt;alert(1)&lt;/script&gt;&lt;img" in section
    assert re.search(r"<tspan[^>]*>breadth · Growth &lt;script&gt;alert\(1\)…</tspan>", section)
    assert "<script" not in page.lower()
    parsed = Tags(page)
    assert {"script", "img", "a", "foreignobject", "image", "use"}.isdisjoint(parsed.tags)
    assert not [k for k, _ in parsed.attrs if k.startswith("on")]
    assert not [k for k, _ in parsed.attrs if k == "style"], "the CSP allows no inline style"
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "the tree's ids do not collide with the chart's"
    for ref in re.findall(r"url\(#([^)]+)\)", page):
        assert ref in ids
    assert_strict_csp(page)


def test_inputs_written_in_words_only_are_listed_without_a_tree():
    section = inputs_section(rationale_html(make_decision(), charts={}))
    assert "<svg" not in section and "<figure" not in section
    assert "Invite prompt reach" in section and "not measured" in section


def test_a_tree_that_cannot_be_drawn_says_so_under_its_table(monkeypatch):
    def refuse(specs):
        return {name: RenderedChart(None, "the renderer refused it") for name in specs}

    monkeypatch.setattr(html_export, "render_svgs", refuse)
    section = inputs_section(rationale_html(measured_decision(), charts={}))
    assert "<svg" not in section and "Teacher NPS" in section
    assert "The tree of the input metrics is not drawn: the renderer refused it." in section


# --- charts -----------------------------------------------------------------------------------


def test_chart_that_cannot_be_drawn_falls_back_to_its_data():
    broken = {"mark": "point", "encoding": {"x": {"field": "hr"}}, "data": {"url": "http://x/y"}}
    page = rationale_html(make_decision(), charts={"forest": broken})
    assert "<svg" not in page
    assert "Shown as data: the renderer refused it" in page
    assert "lesson_completed count in first 14 days" in page  # a forest row in the table
    assert "http://x/y" not in page


def test_names_with_control_characters_are_drawn_and_shown_safely():
    """vl-convert aborts the process on these: the export still draws every chart."""
    page = rationale_html(control_decision(), revalidations())
    assert page.count("<svg") == 3, "forest, retention curves and revenue, all drawn"
    assert not UNSAFE & set(page)
    assert "Invites \ufffd" in page


def test_export_from_the_command_line_survives_control_characters(tmp_path):
    """End to end in a fresh interpreter: exit 0, the HTML written, every chart drawn or its
    data shown with a note."""
    db = tmp_path / "decisions.sqlite3"
    d = control_decision()
    d.id = d.created_at = None
    recorded = DecisionStore(db).record(d)
    out = tmp_path / "decision.html"
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run(
        [sys.executable, "-m", "northstar_lab", "decisions", "export", str(recorded.id),
         "--html", str(out), "--db", str(db)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    drawn, shown = page.count("<svg"), page.count("Shown as data:")
    assert drawn + shown == 3 and drawn == 3, (drawn, shown)
    assert "Content hash verified" in page
    assert not UNSAFE & set(page)


@pytest.mark.browser
def evil_measured_decision():
    """`evil_decision` whose inputs carry their evidence: the tree is drawn as well."""
    d = evil_decision()
    d.input_metrics = measured_decision(owner=f"Owner {EVIL}").input_metrics
    return d


@pytest.mark.parametrize(
    ("record", "drawn"), [(evil_decision, 3), (evil_measured_decision, 4)], ids=["charts", "tree"]
)
def test_export_in_chromium_runs_nothing_and_applies_its_style(tmp_path, record, drawn):
    """In a real browser: no request, no console message (no CSP violation), styles applied;
    the three charts drawn, and the input metric tree when the inputs were measured."""
    playwright = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "decision.html"
    path.write_text(rationale_html(record(), revalidations()), encoding="utf-8")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        seen = []
        page.on("console", lambda m: seen.append(m.text))
        page.on("dialog", lambda d: (seen.append("dialog"), d.dismiss()))
        page.on("request", lambda r: seen.append(r.url) if r.url != path.as_uri() else None)
        page.goto(path.as_uri())
        border = page.evaluate("getComputedStyle(document.querySelector('h2')).borderBottomWidth")
        svgs = page.locator("figure.chart svg").count()
        browser.close()
    assert seen == []
    assert border == "2px", "the stylesheet applies under the CSP"
    assert svgs == drawn
