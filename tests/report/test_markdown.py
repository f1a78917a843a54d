"""The Markdown export: the same facts as the HTML, everything from the record inert."""

from __future__ import annotations

import pytest

from northstar_lab.report.facts import SECTIONS
from northstar_lab.report.markdown import md_escape, rationale_markdown

from .records import Tags, Verified, evil_decision, make_decision, revalidations, with_comparison


def test_markdown_export_of_user_text_is_inert():
    md = rationale_markdown(evil_decision(), revalidations())
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "](" not in md.replace("\\](", ""), "no live link or image syntax from user text"
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    parsed = Tags(rendered)
    assert {"script", "img", "a"}.isdisjoint(parsed.tags)
    assert not [k for k, _ in parsed.attrs if k.startswith("on")]
    assert "`https://evil.example/x.png`" in md, "bare URLs become code, not autolinks"


def test_markdown_escape_rules():
    assert md_escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert md_escape("[x](y)") == "\\[x\\](y)"
    assert md_escape("see https://a.example/p.") == "see `https://a.example/p`."
    assert md_escape("x | y\nz", cell=True) == "x \\| y z"
    assert md_escape("`code`") == "\\`code\\`"


def test_markdown_has_the_same_content_in_the_same_order():
    d = make_decision()
    reval = with_comparison(revalidations()[0])
    md = rationale_markdown(d, [reval], integrity=Verified("verified", "Hash ok."))
    assert md.startswith("# North Star for 2027")
    assert "**North Star: Teams inviting a colleague in week 1**" in md
    headings = [f"## {title}" for title in list(SECTIONS.values())[1:-1]]
    positions = [md.index(h) for h in headings]
    assert positions == sorted(positions)
    for r in d.rejected:
        assert md_escape(r.name, True) in md
        assert md_escape(r.reason, True) in md
    for text in (
        "> Hash ok.",
        "Association, not causation",
        "Ada Lovelace",
        "Collaboration squad",
        "Ranked 1st of 4 · threshold ≥ 2",
        "Hazard ratio per SD: **0.62** (95% CI 0.57–0.68)",
        "### 2027-02-01 09:00 UTC: weakened",
        "| 0.612 → 0.420 ↓ |",
        "| 1st → 2nd ↓ |",
        "71%",
    ):
        assert text in md, text


def test_amendment_is_shown():
    d = make_decision(version=2, supersedes=1, amendment_note="Target raised to 45%")
    assert "> Amends decision #1: Target raised to 45%" in rationale_markdown(d)


def test_empty_lists_say_so():
    d = make_decision(chosen_key="gone", rejected=[], input_metrics=[], sign_offs=[])
    md = rationale_markdown(d)
    assert "_No sign-offs recorded._" in md and "_No rejected alternatives were recorded._" in md
