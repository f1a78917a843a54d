"""Rationale exports: self-contained, inert HTML and Markdown with the whole argument, in order."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import altair as alt
import pandas as pd
import pytest

from northstar_lab.decisions.model import (
    Decision,
    EvidenceSnapshot,
    InputMetric,
    MetricDefinition,
    RejectedAlternative,
    Revalidation,
    SignOff,
)
from northstar_lab.report.charts import argument_chart_names
from northstar_lab.report.html import rationale_html
from northstar_lab.report.markdown import md_escape, rationale_markdown
from northstar_lab.report.text import rationale_text

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


#: The key numbers of a candidate, in the order of the strings given to `candidate`.
NUMBERS = ("rank", "score", "c_index", "hazard_ratio", "hr_ci_low", "hr_ci_high", "revenue_rho",
           "q_value", "p_first")  # fmt: skip


def candidate(key: str, name: str, numbers: str, **extra) -> dict:
    """A candidate as `CandidateResult.to_dict()` writes it; numbers in NUMBERS order."""
    values = dict(zip(NUMBERS, map(float, numbers.split()), strict=True))
    base = {
        "key": key, "name": name, "kind": "count", "event": key.split(":")[-1], "column": None,
        "transform": "log1p", **values, "rank": int(values["rank"]),
        "median_rank": values["rank"], "revenue_rho_ci_low": None, "revenue_rho_ci_high": None,
        "tied_with_leader": False, "threshold": None, "threshold_figures": None,
        "evaluated_on": "all users", "n": 4000, "n_events": 1310, "n_revenue": 3900,
        "noise_level": values["q_value"] >= 0.05, "window_verifiable": True, "warnings": [],
    }  # fmt: skip
    return {**base, **extra}


def ranking() -> dict:
    """A ranking snapshot as `RankingResult.to_dict()` writes it: four candidates, one noise."""
    figures = {
        "k": 2.0,
        "n_test": 2000,
        "n_above": 640,
        "share_above": 0.32,
        "retention_above": 0.81,
        "retention_above_ci": [0.77, 0.84],
        "retention_below": 0.58,
        "retention_below_ci": [0.55, 0.61],
        "retention_difference": 0.23,
        "retention_difference_p": 1e-12,
        "logrank_p": 3e-14,
        "rmst_above": 80.2,
        "rmst_below": 69.9,
        "rmst_difference": 10.3,
        "rmst_difference_se": 1.4,
        "revenue_above": 61.0,
        "revenue_below": 35.5,
        "horizon_days": 90.0,
    }
    return {
        "n_users": 4000,
        "n_churned": 1310,
        "excluded": {"signed_up_too_late": 212, "no_events": 0},
        "settings": {"window_days": 14, "horizon_days": 90, "n_bootstrap": 200},
        "data": {},
        "candidates": [  # numbers: rank, score, C, HR [lo, hi], revenue ρ, q, P(first)
            candidate(
                "count:invite_sent",
                "invite_sent count in first 14 days",
                "1 0.612 0.683 0.62 0.57 0.68 0.31 2e-11 0.71",
                revenue_rho_ci_low=0.27,
                revenue_rho_ci_high=0.35,
                threshold=2.0,
                threshold_figures=figures,
                evaluated_on="held-out half (random split)",
                warnings=[
                    "Hazard ratio drifts over follow-up (PH test p 0.004): read "
                    "ΔRMST at day 90 instead."
                ],
            ),
            candidate(
                "count:lesson_completed",
                "lesson_completed count in first 14 days",
                "2 0.548 0.655 0.70 0.65 0.76 0.24 4e-8 0.26",
            ),
            candidate(
                "days_active",
                "active days in first 14 days",
                "3 0.43 0.61 0.78 0.72 0.84 0.18 1e-4 0.03",
            ),
            candidate(
                "count:login",
                "login count in first 14 days",
                "4 0.12 0.53 0.96 0.89 1.04 0.02 0.31 0.0",
            ),
        ],
        "warnings": ["212 users signed up less than 14 days before the data ends."],
    }


def chart_data() -> dict:
    """Chart rows as `evidence.snapshot_charts` stores them (names 'forest', 'km/<key>', …)."""
    forest = [
        {
            k: c[k]
            for k in (
                "key",
                "name",
                "rank",
                "hazard_ratio",
                "hr_ci_low",
                "hr_ci_high",
                "q_value",
                "noise_level",
            )
        }
        | {"label": c["name"][:20]}
        for c in ranking()["candidates"]
    ]
    km = [
        {"group": g, "time": t, "survival": s, "ci_low": s - 0.03, "ci_high": min(1, s + 0.03)}
        for g, drop in (("reached 2", 0.002), ("below 2", 0.005))
        for t, s in ((0, 1.0), (30, 1 - 30 * drop), (60, 1 - 60 * drop), (90, 1 - 90 * drop))
    ]
    revenue = [
        {"group": "reached 2", "n": 640, "mean_revenue": 61.0, "ci_low": 55.0, "ci_high": 67.0},
        {"group": "below 2", "n": 1360, "mean_revenue": 35.5, "ci_low": 32.0, "ci_high": 39.0},
    ]
    return {
        "meta": [{"window_days": 14, "horizon_days": 90, "keys": ["count:invite_sent"]}],
        "forest": forest,
        "km/count:invite_sent": km,
        "revenue/count:invite_sent": revenue,
        "threshold/count:invite_sent": [{"k": 1, "gain": 0.1}, {"k": 2, "gain": 0.23}],
    }


def make_decision(**changes) -> Decision:
    d = Decision(
        title="North Star for 2027",
        chosen_key="count:invite_sent",
        definition=MetricDefinition(
            name="Teams inviting a colleague in week 1",
            meaning="Share of new teams where someone invites a colleague within 14 days.",
            numerator="New teams with at least 2 invites sent in their first 14 days",
            denominator="New teams that signed up at least 14 days ago",
            time_window="First 14 days after signup, reported weekly by signup week",
            exclusions="Test and internal accounts",
            owner="Growth PM",
            baseline="32%",
            target="40% by Q4",
        ),
        rationale="Invites predict retention best and lead revenue.\n\nThe team can move them.",
        rejected=[
            RejectedAlternative(
                "count:lesson_completed",
                "Lessons completed",
                "Weaker retention signal: C 0.66 vs 0.68",
            ),
            RejectedAlternative(
                "days_active",
                "Active days",
                "Redundant with invites and a weaker revenue association (ρ 0.18 vs 0.31)",
            ),
            RejectedAlternative(
                "count:login", "Logins", "Not distinguishable from noise (q 0.31)", {"score": 0.12}
            ),
        ],
        evidence=EvidenceSnapshot(
            settings={
                "window_days": 14,
                "horizon_days": 90,
                "n_bootstrap": 200,
                "threshold_split": "random",
                "seed": 20261125,
            },
            fingerprint={
                "events": {"file": "events.csv.gz", "sha256": "9f" * 32, "rows": 1_204_311}
            },
            ranking=ranking(),
            charts=chart_data(),
        ),
        input_metrics=[
            InputMetric("Invite prompt reach", "breadth", "Onboarding squad", "Share shown"),
            InputMetric("Invites per inviting team", "depth", "Collaboration squad"),
        ],
        sign_offs=[SignOff("Ada Lovelace", "CEO"), SignOff("Grace Hopper", "VP Product")],
        created_by="workshop facilitator",
        id=3,
        version=1,
        created_at="2026-11-20T10:15:00+00:00",
    )
    for k, v in changes.items():
        setattr(d, k, v)
    return d


def revalidations() -> list[Revalidation]:
    return [
        Revalidation(
            decision_id=3,
            verdict="weakened",
            rule="Weakened: the HR CI includes 1 …",
            summary="Weakened: its score fell from 0.612 to 0.420.",
            comparison=[],
            fingerprint={},
            settings={},
            ranking={},
            id=2,
            run_at="2027-02-01T09:00:00+00:00",
        ),
        Revalidation(
            decision_id=3,
            verdict="holds",
            rule="Weakened: the HR CI includes 1 …",
            summary="Holds: ranks 1 (score 0.600).",
            comparison=[],
            fingerprint={},
            settings={},
            ranking={},
            id=1,
            run_at="2026-12-20T09:00:00+00:00",
        ),
    ]


def evil_decision() -> Decision:
    """Every field a person types carries markup, a link and an image."""
    typed = EVIL + " [click](javascript:alert(3)) ![x](https://evil.example/x.png)"
    d = make_decision(title=f"Title {EVIL}", rationale=f"Rationale {typed}\n\n{typed}")
    d.created_by, d.amendment_note, d.supersedes, d.version = EVIL, f"Note {EVIL}", 2, 2
    for field in (
        "name",
        "meaning",
        "numerator",
        "denominator",
        "time_window",
        "exclusions",
        "owner",
        "baseline",
        "target",
    ):
        setattr(d.definition, field, f"{field} {typed}")
    d.rejected[0].name = f"Lessons {EVIL}"
    d.rejected[0].reason = f"Reason {typed}"
    d.input_metrics[0].name = f"Input {EVIL}"
    d.input_metrics[0].owner = f"Owner {EVIL}"
    d.input_metrics[0].definition = f"Def {typed}"
    d.sign_offs[0].name = f"Signer {EVIL}"
    d.sign_offs[0].role = f"Role {EVIL}"
    return d


class Tags(HTMLParser):
    """Every element and attribute the browser would build from a document."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def simple_chart(title: str) -> alt.Chart:
    df = pd.DataFrame({"name": ["a", "b"], "hr": [0.6, 0.9]})
    return (
        alt.Chart(df, title=title)
        .mark_bar(clip=True)
        .encode(x="hr:Q", y="name:N", color=alt.Color("hr:Q"))
    )


@pytest.fixture
def no_chart_module(monkeypatch):
    """Exports when no chart could be built: every chart falls back to its data table."""
    import northstar_lab.report.html as html_mod

    monkeypatch.setattr(html_mod, "charts_for", lambda decision: {})


# --- escaping ---------------------------------------------------------------------------------


def test_html_export_of_user_text_is_inert(no_chart_module):
    page = rationale_html(evil_decision(), revalidations())
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    parsed = Tags(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "a" not in parsed.tags
    assert not [k for k, _ in parsed.attrs if k.startswith("on")]
    assert not [v for _, v in parsed.attrs if "javascript:" in v.lower() or "evil" in v]


def test_html_export_with_rendered_charts_is_inert(monkeypatch):
    d = evil_decision()
    page = rationale_html(d, charts={"forest": simple_chart(EVIL)})
    assert page.count("<svg") == 1
    assert "<script" not in page.lower()
    assert not [k for k, _ in Tags(page).attrs if k.startswith("on")]


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


# --- self-contained and complete --------------------------------------------------------------


def test_html_is_self_contained_and_prints(no_chart_module):
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


def test_html_has_the_whole_argument_in_order(no_chart_module):
    d = make_decision()
    page = rationale_html(d, revalidations(), charts={})
    headings = [
        "Teams inviting a colleague in week 1",
        "Why it won",
        "Alternatives considered",
        "How confident we are",
        "Input metrics and owners",
        "Sign-offs",
        "Data and settings",
        "Re-validation history",
    ]
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
        "4e-08",  # its q
        "71%",  # P(first) of the chosen metric
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
        "threshold_split",
        "4,000 users",
        "weakened",
        "Weakened: its score fell from 0.612 to 0.420.",
        "2027-02-01 09:00 UTC",
    ):
        assert text in page, text
    assert page.index("2027-02-01") < page.index("2026-12-20"), "newest re-validation first"
    assert '<tr class="chosen">' in page


def test_amendment_is_shown():
    d = make_decision(version=2, supersedes=1, amendment_note="Target raised to 45%")
    assert "Amends decision #1: Target raised to 45%" in rationale_html(d, charts={})
    assert "Amends decision #1: Target raised to 45%" in rationale_markdown(d)


def test_markdown_has_the_same_content():
    d = make_decision()
    md = rationale_markdown(d, revalidations())
    assert md.startswith("# North Star for 2027")
    assert "**North Star: Teams inviting a colleague in week 1**" in md
    for r in d.rejected:
        assert md_escape(r.name, True) in md
        assert md_escape(r.reason, True) in md
    for text in (
        "## Why it won",
        "## Alternatives considered",
        "## How confident we are",
        "Association, not causation",
        "Ada Lovelace",
        "Collaboration squad",
        "| weakened |",
        "71%",
    ):
        assert text in md, text


def test_plain_text_for_the_terminal():
    text = rationale_text(make_decision(title="A\x1b[31m red"), revalidations())
    assert "\x1b" not in text
    assert "NORTH STAR: Teams inviting a colleague in week 1" in text
    assert "Not distinguishable from noise (q 0.31)" in text


def test_missing_chosen_candidate_and_empty_lists_still_render():
    d = make_decision(chosen_key="gone", rejected=[], input_metrics=[], sign_offs=[])
    d.evidence.charts = {}
    page = rationale_html(d, charts={})
    assert "not in the recorded ranking" in page and "No rejected alternatives" in page
    assert "No sign-offs recorded" in rationale_html(d, charts={})
    assert "_No sign-offs recorded._" in rationale_markdown(d)


# --- charts -----------------------------------------------------------------------------------


def test_chart_that_fails_to_render_falls_back_to_its_data(no_chart_module):
    broken = {"mark": "point", "encoding": {"x": {"field": "hr"}}, "data": {"url": "http://x/y"}}
    page = rationale_html(make_decision(), charts={"forest": broken})
    assert "<svg" not in page
    assert "Shown as data: the chart could not be drawn" in page
    assert "lesson_completed count in first 14 days" in page  # a forest row in the table
    assert "http://x/y" not in page


def test_argument_charts_are_the_chosen_ones():
    d = make_decision()
    assert argument_chart_names(d) == [
        "forest",
        "km/count:invite_sent",
        "revenue/count:invite_sent",
    ]
    d.evidence.charts = {"forest": [], "km:count:invite_sent": [], "km:count:login": []}
    assert argument_chart_names(d) == ["forest", "km:count:invite_sent"]
