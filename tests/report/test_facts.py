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

from .records import (
    CONFIRMED,
    CONTROLS,
    MOVES_WITH,
    Verified,
    control_decision,
    make_decision,
    measured_decision,
    revalidations,
)


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


# --- input metrics (issue 13): their evidence in words, and the tree -------------------------

EVIDENCE_COLUMNS = ("lead per SD [95% CI]", "q", "experiments ρ (arms)")


def input_table(f) -> list[dict]:
    return [dict(zip(f.inputs.header, row, strict=True)) for row in f.inputs.rows]


def test_the_inputs_carry_their_evidence_and_the_tree():
    f = rationale_facts(measured_decision())
    assert f.inputs.header[0] == "name" and f.inputs.header[-1] == "verdict"
    rows = input_table(f)
    names = ["Invite prompt reach", "Invites per inviting team", "Teacher NPS"]
    assert [r["name"] for r in rows] == names
    assert [r["verdict"] for r in rows] == [CONFIRMED, MOVES_WITH, "not measured"]
    prompt = rows[0]
    assert (prompt["kind"], prompt["owner"], prompt["target"]) == (
        "breadth", "Onboarding squad", "0.5–0.6"
    )  # fmt: skip
    assert prompt["lead per SD [95% CI]"] == "+0.21 [+0.15, +0.27]"
    assert prompt["experiments ρ (arms)"] == "+0.81 (6)" and prompt["q"] == "2e-06"
    assert rows[1]["experiments ρ (arms)"] == "", "no experiments spoke for it"
    words = rows[2]
    assert words["definition"] == "Asked each term" and words["owner"] == "Schools team"
    assert [words[c] for c in (*EVIDENCE_COLUMNS, "target")] == ["", "", "", ""]
    assert [f.inputs.header[i] for i in f.inputs.numeric] == list(EVIDENCE_COLUMNS)
    # the tree: the North Star above the three inputs, each edge drawn by its evidence
    nodes = f.tree["layer"][2]["data"]["values"]
    assert nodes[0]["label"].startswith("North Star\nTeams inviting a colleague")
    assert [n["label"].split("\n")[0] for n in nodes[1:]] == names
    edges = {e["key"]: e["edge"] for e in f.tree["layer"][1]["data"]["values"]}
    assert edges == {
        "count:invite_prompt_seen": "confirmed",
        "count:invite_sent": "weak",
        "": "unmeasured",
    }
    assert f.tree_caption.startswith("The North Star above its input metrics")
    assert json.loads(json.dumps(f.to_dict()))["tree"]["layer"], "plain JSON values"


def test_inputs_written_in_words_only_are_listed_not_drawn():
    f = rationale_facts(make_decision())
    rows = input_table(f)
    assert [r["name"] for r in rows] == ["Invite prompt reach", "Invites per inviting team"]
    assert [r["verdict"] for r in rows] == ["not measured", "not measured"]
    assert all(r[c] == "" for r in rows for c in EVIDENCE_COLUMNS)
    assert f.tree is None and f.tree_caption == ""
    none = rationale_facts(make_decision(input_metrics=[]))
    assert none.inputs.rows == () and none.inputs.empty == "None recorded."


def test_every_renderer_shows_the_inputs_with_their_evidence():
    d = measured_decision()
    f = rationale_facts(d)
    page = rationale_html(d, charts={})
    md = rationale_markdown(d)
    text = " ".join(rationale_text(d).split())
    for words in (CONFIRMED, MOVES_WITH, "not measured", "+0.21 [+0.15, +0.27]", "+0.81 (6)",
                  "Teacher NPS", "Asked each term", "0.5–0.6"):  # fmt: skip
        assert str(escape(words)) in page, words
        assert md_escape(words, True) in md, words
        assert words in text, words
    assert str(escape(f.tree_caption)) in page and page.count("<svg") == 1
    assert f"_Tree (in the HTML export): {md_escape(f.tree_caption, True)}_" in md
    assert f"tree (in the HTML export): {f.tree_caption}" in text
    assert "verdict: " + CONFIRMED in text, "each evidence cell says what it is"
    section = md[md.index("## Input metrics and owners") : md.index("## Sign-offs")]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    assert len(lines) == 1 + 1 + 3, "header, rule, one row per input"
