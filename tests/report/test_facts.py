"""The facts of a rationale page: built once from the record, read through the typed ranking,
the same words in every renderer."""

from __future__ import annotations

import dataclasses
import json

from markupsafe import escape

from northstar_lab.report.facts import rationale_facts
from northstar_lab.report.html import rationale_html
from northstar_lab.report.markdown import md_escape, rationale_markdown
from northstar_lab.report.text import rationale_text

from .records import CONTROLS, Verified, control_decision, make_decision, revalidations


def test_a_score_of_zero_is_zero_not_missing():
    d = make_decision()
    d.evidence.ranking["candidates"][3]["score"] = 0.0
    logins = next(a for a in rationale_facts(d).alternatives if a.name == "Logins")
    assert logins.numbers[0] == "0.000"


def test_a_rejected_alternative_missing_from_the_ranking_uses_its_own_numbers():
    d = make_decision()
    d.evidence.ranking["candidates"] = d.evidence.ranking["candidates"][:3]
    logins = next(a for a in rationale_facts(d).alternatives if a.name == "Logins")
    assert logins.numbers[0] == "0.120" and logins.standing == "Not ranked"
    assert logins.numbers[1] == "—", "no C recorded with it"


def test_headline_and_confidence_come_from_the_typed_ranking():
    f = rationale_facts(make_decision())
    assert [(h.label, h.value) for h in f.headline] == [
        ("Ranked first in bootstrap", "71%"),
        ("Hazard ratio per SD", "0.62"),
        ("Concordance C", "0.683"),
        ("Revenue ρ", "+0.31"),
    ]
    assert f.confidence[0].startswith("It ranked 1st of 4 candidates and first in 71% of 200")
    assert f.alternatives[0].standing == "Ranked 1st of 4 · threshold ≥ 2"


def test_every_renderer_says_the_same_facts():
    d = make_decision()
    f = rationale_facts(d, revalidations())
    page = rationale_html(d, revalidations(), charts={})
    md = rationale_markdown(d, revalidations())
    text = " ".join(rationale_text(d, revalidations()).split())
    for line in [*f.confidence, *f.caveats, f.population]:
        assert str(escape(line)) in page, line
        assert md_escape(line, True) in md, line
        assert " ".join(line.split()) in text, line


def test_guardrails_and_gap_sensitivity_are_their_own_sections():
    d = make_decision()
    r = d.evidence.ranking
    r["candidates"][3].update(is_guardrail=True, name="support_ticket count in first 14 days")
    r["gap_sensitivity"] = [
        {"gap_days": g, "n_users": 4000, "n_churned": n, "top": top, "top_names": top}
        for g, n, top in (
            (7, 2100, ["days_active", "count:invite_sent", "count:lesson_completed"]),
            (14, 1700, ["count:invite_sent", "count:lesson_completed", "days_active"]),
            (28, 1200, ["count:invite_sent", "count:login", "days_active"]),
        )
    ]
    f = rationale_facts(d)
    assert [row[0] for row in f.guardrails.rows] == ["support_ticket count in first 14 days"]
    assert f.guardrails.note == "More of it goes with more churn: watch it, don't grow it."
    assert f.gaps.header[1:] == ("As decided (30-day gap)", "7-day gap", "14-day gap", "28-day gap")
    first, second = f.gaps.rows[0], f.gaps.rows[1]
    assert first[1] == "invite_sent count", "names without the window they all share"
    assert first[2] == "active days (↑ from 3rd)" and first[3] == "invite_sent count"
    assert second[4] == "support_ticket count (↑ from 4th)"
    assert f.gaps.rows[-1][2] == "2,100 of 4,000"
    assert "2nd at 7 days, 1st at 14 days, 1st at 28 days" in f.gaps.note
    for out in (rationale_html(d, charts={}), rationale_markdown(d), rationale_text(d)):
        out = " ".join(out.split())  # the terminal text is wrapped
        assert "support_ticket count in first 14 days" in out
        assert "watch it, don" in out and "active days (↑ from 3rd)" in out


def test_versions_and_integrity():
    v1, v2 = make_decision(id=3), make_decision(id=5, version=2, supersedes=3)
    f = rationale_facts(v1, history=[v1, v2], integrity=Verified("verified", "All as recorded."))
    assert f.superseded.startswith("Superseded: this is version 1; the current version is 2")
    assert f.latest_id == 5
    assert [(v.decision_id, v.status) for v in f.versions] == [
        (3, "superseded by version 2, shown here"),
        (5, "latest"),
    ]
    assert (f.integrity.status, f.integrity.message) == ("verified", "All as recorded.")
    latest = rationale_facts(v2, history=[v1, v2])
    assert latest.superseded == "" and latest.latest_id is None and latest.integrity is None


def test_every_string_is_made_safe_once():
    f = rationale_facts(control_decision())
    text = json.dumps(f.to_dict(), ensure_ascii=False)
    assert not (set(CONTROLS) - {"\t", "\n", "\r"}) & set(json.loads(json.dumps(text)))
    assert f.north_star.startswith("Invites \ufffd")


def test_facts_are_plain_typed_values():
    f = rationale_facts(make_decision(), revalidations())
    assert dataclasses.is_dataclass(f)
    assert json.loads(json.dumps(f.to_dict()))["north_star"] == f.north_star


def test_every_renderer_writes_every_section():
    from northstar_lab.report import markdown, text
    from northstar_lab.report.facts import SECTIONS
    from northstar_lab.report.html import environment

    assert list(markdown.SECTION_WRITERS) == list(SECTIONS) == list(text.SECTION_WRITERS)
    assert {f"section_{s}.html.j2" for s in SECTIONS} <= set(environment().list_templates())
