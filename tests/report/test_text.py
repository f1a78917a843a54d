"""The terminal text of `decisions show`: the same facts, no control character."""

from __future__ import annotations

from northstar_lab.report.text import rationale_text

from .records import CONTROLS, control_decision, make_decision, revalidations, with_comparison


def test_plain_text_for_the_terminal():
    text = rationale_text(make_decision(title="A\x1b[31m red"), revalidations())
    assert "\x1b" not in text
    assert "NORTH STAR: Teams inviting a colleague in week 1" in text
    assert "Not distinguishable from noise (q 0.31)" in text
    assert "Ranked 1st of 4 · threshold ≥ 2" in text
    assert "GUARDRAILS: COUNTER-METRICS TO WATCH\n  (no candidate goes with more churn)" in text


def test_then_vs_now_and_names_with_control_characters():
    text = rationale_text(control_decision(), [with_comparison(revalidations()[0])])
    assert not (set(CONTROLS) - {"\t", "\n"}) & set(text), "tab and newline are harmless"
    words = " ".join(text.split())  # unwrapped
    assert "Score: 0.612 → 0.420 ↓" in words and "Rank: 1st → 2nd ↓" in words
